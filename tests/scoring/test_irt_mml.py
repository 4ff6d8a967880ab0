"""Tests for scoring.irt.mml: 2PL and 3PL marginal maximum likelihood."""

from __future__ import annotations

import dataclasses
import doctest
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import scoring.irt
import scoring.irt.mml
from scoring.irt import (
    ItemParameters,
    MarginalFit,
    fit_2pl,
    fit_3pl,
    fit_rasch,
    normal_quadrature,
    probability,
    simulate_responses,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "psychometrics-data"


@pytest.fixture(scope="module")
def lsat() -> np.ndarray:
    return np.loadtxt(DATA / "LSAT.csv", delimiter=",", skiprows=1, dtype=np.int8)


@pytest.fixture(scope="module")
def lsat_2pl(lsat: np.ndarray) -> MarginalFit:
    return fit_2pl(lsat)


def _marginal_loglik(x: np.ndarray, items: ItemParameters, n_points: int = 21) -> float:
    """Independent marginal log-likelihood: a loop over candidates, straight from the formula."""
    nodes, weights = normal_quadrature(n_points)
    p = probability(nodes, items)  # (Q, I)
    total = 0.0
    for row in x:
        m = row >= 0
        lik = np.prod(np.where(row[m] == 1, p[:, m], 1 - p[:, m]), axis=1)
        total += np.log(weights @ lik)
    return float(total)


def test_doctests() -> None:
    result = doctest.testmod(scoring.irt.mml, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_package_exports() -> None:
    for name in scoring.irt.mml.__all__:
        assert getattr(scoring.irt, name) is getattr(scoring.irt.mml, name)


# ---------------------------------------------------------------------------
# LSAT
# ---------------------------------------------------------------------------


def test_lsat_2pl_likelihood_nests_the_rasch_models(
    lsat: np.ndarray, lsat_2pl: MarginalFit
) -> None:
    common = fit_rasch(lsat, "mml", discrimination=None)
    fixed = fit_rasch(lsat, "mml", discrimination=1.0)
    assert lsat_2pl.converged
    assert lsat_2pl.loglik >= common.loglik >= fixed.loglik
    # ltm::ltm(LSAT ~ z1) reports log-likelihood -2466.653 (Rizopoulos 2006). Not in
    # the reference README, so held only to its 3 printed decimals.
    assert lsat_2pl.loglik == pytest.approx(-2466.653, abs=1e-3)
    # The likelihood-ratio statistic of the common slope is small (LSAT fits the
    # Rasch model with one slope; Bock & Lieberman 1970).
    assert 2 * (lsat_2pl.loglik - common.loglik) < 9.49  # chi^2_4, 5 %


def test_lsat_2pl_is_a_maximum_of_the_independent_likelihood(
    lsat: np.ndarray, lsat_2pl: MarginalFit
) -> None:
    items = lsat_2pl.items
    reference = _marginal_loglik(lsat, items)
    assert lsat_2pl.loglik == pytest.approx(reference, abs=1e-8)
    # Central differences of the independent likelihood vanish at the estimates.
    h = 1e-5
    for k in range(5):
        for field in ("a", "b"):
            up = {"a": items.a.copy(), "b": items.b.copy()}
            down = {"a": items.a.copy(), "b": items.b.copy()}
            up[field][k] += h
            down[field][k] -= h
            diff = _marginal_loglik(lsat, ItemParameters.create(**up)) - _marginal_loglik(
                lsat, ItemParameters.create(**down)
            )
            assert abs(diff / (2 * h)) < 1e-3
    assert np.all(lsat_2pl.a_se > 0) and np.all(lsat_2pl.b_se > 0)
    assert np.all(lsat_2pl.c_se == 0) and np.all(lsat_2pl.items.c == 0)


def test_standard_errors_scale_with_sample_size(lsat: np.ndarray, lsat_2pl: MarginalFit) -> None:
    # Four copies of the data: same estimates, information x 4, SEs / 2.
    big = fit_2pl(np.tile(lsat, (4, 1)))
    assert_allclose(big.items.b, lsat_2pl.items.b, atol=1e-6)
    assert_allclose(big.b_se * 2, lsat_2pl.b_se, rtol=1e-4)
    assert_allclose(big.a_se * 2, lsat_2pl.a_se, rtol=1e-4)
    assert big.loglik == pytest.approx(4 * lsat_2pl.loglik, rel=1e-10)


# ---------------------------------------------------------------------------
# Simulated recovery
# ---------------------------------------------------------------------------


def test_2pl_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(11)
    items = ItemParameters.create(b=rng.normal(0, 1, 10), a=rng.uniform(0.6, 2.0, 10))
    x = simulate_responses(items, rng.normal(size=3000), seed=rng)
    fit = fit_2pl(x)
    assert fit.converged
    # Sampling SDs at N = 3000 are about 0.03-0.1; the tolerances allow ~2 SD.
    assert np.sqrt(np.mean((fit.items.b - items.b) ** 2)) < 0.15
    assert np.sqrt(np.mean((fit.items.a - items.a) ** 2)) < 0.15
    # The SEs match the size of the errors.
    z = (fit.items.b - items.b) / fit.b_se
    assert np.sqrt(np.mean(z**2)) < 2.0


def test_2pl_with_omissions() -> None:
    rng = np.random.default_rng(12)
    items = ItemParameters.create(b=rng.normal(0, 1, 8), a=rng.uniform(0.7, 1.8, 8))
    x = simulate_responses(items, rng.normal(size=3000), seed=rng, omit_rate=0.2)
    fit = fit_2pl(x)
    assert fit.converged
    assert np.sqrt(np.mean((fit.items.b - items.b) ** 2)) < 0.15
    assert fit.loglik == pytest.approx(_marginal_loglik(x, fit.items), abs=1e-6)


def test_3pl_recovers_item_characteristic_curves() -> None:
    rng = np.random.default_rng(13)
    items = ItemParameters.create(
        b=rng.normal(0, 1, 12), a=rng.uniform(0.8, 2.0, 12), c=rng.uniform(0.1, 0.25, 12)
    )
    x = simulate_responses(items, rng.normal(size=3000), seed=rng)
    fit = fit_3pl(x)
    assert fit.converged
    # Individual 3PL parameters trade off against each other; the curves are what is
    # identified. Over theta in [-3, 3] they are within 0.03 of the truth on average.
    grid = np.linspace(-3, 3, 61)
    gap = np.abs(probability(grid, fit.items) - probability(grid, items))
    assert gap.mean() < 0.03 and gap.max() < 0.15
    assert np.sqrt(np.mean((fit.items.c - items.c) ** 2)) < 0.08
    # The maximised function is loglik + sum log Beta(5, 17) kernel of c.
    c = fit.items.c
    kernel = float(np.sum(4 * np.log(c) + 16 * np.log1p(-c)))
    assert fit.log_posterior == pytest.approx(fit.loglik + kernel, abs=1e-8)
    assert fit.loglik == pytest.approx(_marginal_loglik(x, fit.items), abs=1e-6)
    assert np.all(fit.c_se > 0)


def test_3pl_on_lsat_and_without_prior(lsat: np.ndarray, lsat_2pl: MarginalFit) -> None:
    with_prior = fit_3pl(lsat)
    assert with_prior.converged
    assert np.all((with_prior.items.c > 0) & (with_prior.items.c < 0.5))
    plain = fit_3pl(lsat[:400], c_prior=None)
    assert plain.log_posterior == plain.loglik
    # Without a prior the 3PL likelihood is at least that of the nested 2PL.
    assert plain.loglik >= fit_2pl(lsat[:400]).loglik - 1e-6


# ---------------------------------------------------------------------------
# Properties and bad input
# ---------------------------------------------------------------------------


_SUBSET = np.loadtxt(DATA / "LSAT.csv", delimiter=",", skiprows=1, dtype=np.int8)[::4]


@settings(max_examples=5, deadline=None)
@given(st.permutations(list(range(_SUBSET.shape[0]))))
def test_invariant_to_candidate_order(order: list[int]) -> None:
    base = fit_2pl(_SUBSET)
    shuffled = fit_2pl(_SUBSET[order])
    assert_allclose(shuffled.items.b, base.items.b, atol=1e-7)
    assert_allclose(shuffled.items.a, base.items.a, atol=1e-7)
    assert shuffled.loglik == pytest.approx(base.loglik, rel=1e-12)


def test_result_is_frozen(lsat_2pl: MarginalFit) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        lsat_2pl.loglik = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        lsat_2pl.b_se[0] = 0.0


def test_bad_input(lsat: np.ndarray) -> None:
    x = lsat.copy()
    x[:, 3] = 1
    with pytest.raises(ValueError, match=r"items \[3\].*right by everyone"):
        fit_2pl(x)
    with pytest.raises(ValueError, match="NaN"):
        fit_2pl(np.where(lsat == 1, np.nan, 0.0))
    with pytest.raises(ValueError, match="at least 2 item"):
        fit_3pl(lsat[:, :1])
    with pytest.raises(ValueError, match="c_prior"):
        fit_3pl(lsat, c_prior=(0.5, 17.0))
    with pytest.raises(ValueError, match="n_quadrature"):
        fit_2pl(lsat, n_quadrature=1)
    with pytest.raises(ValueError, match="D must be"):
        fit_2pl(lsat, D=0.0)
