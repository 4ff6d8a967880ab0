"""Tests for scoring.irt.persons: MLE, WLE and EAP ability estimates."""

from __future__ import annotations

import dataclasses
import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy.integrate import quad
from scipy.optimize import brentq
from scipy.stats import norm

import scoring.irt
import scoring.irt.persons
from scoring.irt import (
    AbilityEstimates,
    ItemParameters,
    estimate_abilities,
    information,
    probability,
    simulate_responses,
)

RNG = np.random.default_rng(2024)
ITEMS_3PL = ItemParameters.create(
    b=RNG.normal(0, 1, 12), a=RNG.uniform(0.6, 2.0, 12), c=RNG.uniform(0.05, 0.3, 12), D=1.7
)
ITEMS_2PL = ItemParameters.create(b=RNG.normal(0, 1, 12), a=RNG.uniform(0.6, 2.0, 12))
ITEMS_RASCH = ItemParameters.create(b=np.linspace(-2, 2, 9))


def test_doctests() -> None:
    result = doctest.testmod(scoring.irt.persons, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_package_exports() -> None:
    for name in scoring.irt.persons.__all__:
        assert getattr(scoring.irt, name) is getattr(scoring.irt.persons, name)


# ---------------------------------------------------------------------------
# Independent reference implementations (scalar, straight from the formulas)
# ---------------------------------------------------------------------------


def _derivatives(t: float, items: ItemParameters) -> tuple[np.ndarray, ...]:
    p = probability([t], items)[0]
    s = (p - items.c) / (1 - items.c)
    da = items.D * items.a
    d1 = da * (1 - items.c) * s * (1 - s)
    d2 = da**2 * (1 - items.c) * s * (1 - s) * (1 - 2 * s)
    return p, d1, d2


def _score(t: float, x: np.ndarray, items: ItemParameters, weighted: bool) -> float:
    p, d1, d2 = _derivatives(t, items)
    m = x >= 0
    q = 1 - p
    s = np.sum(((x - p) * d1 / (p * q))[m])
    if not weighted:
        return float(s)
    i = np.sum((d1**2 / (p * q))[m])
    j = np.sum((d1 * d2 / (p * q))[m])
    return float(s + j / (2 * i))


def _eap_reference(x: np.ndarray, items: ItemParameters) -> tuple[float, float]:
    def lik(t: float) -> float:
        p = probability([t], items)[0]
        m = x >= 0
        return float(np.prod(np.where(x[m] == 1, p[m], 1 - p[m])) * norm.pdf(t))

    z = quad(lik, -10, 10, limit=200)[0]
    mean = quad(lambda t: t * lik(t), -10, 10, limit=200)[0] / z
    second = quad(lambda t: t * t * lik(t), -10, 10, limit=200)[0] / z
    return mean, float(np.sqrt(second - mean**2))


# ---------------------------------------------------------------------------
# MLE
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("items", [ITEMS_RASCH, ITEMS_2PL], ids=["rasch", "2pl"])
def test_mle_solves_the_likelihood_equation(items: ItemParameters) -> None:
    x = simulate_responses(items, np.linspace(-2, 2, 40), seed=1)
    est = estimate_abilities(x, items, "mle")
    assert est.converged
    for row, theta, extreme in zip(x, est.theta, est.extreme, strict=True):
        if extreme:
            continue
        root = brentq(_score, -6, 6, args=(row, items, False), xtol=1e-13)
        assert theta == pytest.approx(root, abs=1e-8)
    # SE = 1 / sqrt(test information at the estimate) (Lord 1980, eq. 5-9).
    info = information(est.theta, items).sum(axis=1)
    assert_allclose(est.se, 1 / np.sqrt(info), rtol=1e-10)


def test_mle_extreme_scores_go_to_the_bounds() -> None:
    x = np.array([[1] * 9, [0] * 9, [1, 1, 1, 1, 0, 0, 0, 0, 0], [1, -1, 1, 1, 1, 1, 1, 1, 1]])
    est = estimate_abilities(x, ITEMS_RASCH, "mle", bounds=(-5.0, 5.0))
    assert est.theta[0] == 5.0 and est.theta[1] == -5.0 and est.theta[3] == 5.0
    assert est.extreme.tolist() == [True, True, False, True]
    assert np.all(np.isfinite(est.se))


def test_mle_3pl_maximises_on_the_interval() -> None:
    x = simulate_responses(ITEMS_3PL, np.linspace(-2, 2, 30), seed=2)
    est = estimate_abilities(x, ITEMS_3PL, "mle")
    grid = np.linspace(-6, 6, 4801)
    p = probability(grid, ITEMS_3PL)
    loglik = x @ np.log(p).T + (1 - x) @ np.log(1 - p).T
    best = grid[loglik.argmax(axis=1)]
    # The grid maximum is within one grid step (0.0025) of the estimate.
    assert np.max(np.abs(est.theta - best)) < 0.003


# ---------------------------------------------------------------------------
# WLE
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "items", [ITEMS_RASCH, ITEMS_2PL, ITEMS_3PL], ids=["rasch", "2pl", "3pl"]
)
def test_wle_solves_warms_equation(items: ItemParameters) -> None:
    x = simulate_responses(items, np.linspace(-2.5, 2.5, 30), seed=3)
    x = np.vstack([x, np.ones(items.n_items, np.int8), np.zeros(items.n_items, np.int8)])
    est = estimate_abilities(x, items, "wle")
    assert est.converged
    assert np.all(np.isfinite(est.theta)) and np.all(np.abs(est.theta) < 6)
    for row, theta in zip(x, est.theta, strict=True):
        assert _score(theta, row, items, True) == pytest.approx(0.0, abs=1e-7)


def test_wle_rasch_symmetry_and_published_pattern() -> None:
    # Symmetric difficulties: the WLE of score r is minus that of score n - r.
    items = ITEMS_RASCH
    x = np.tril(np.ones((10, 9), np.int8), -1)[:, ::-1]  # scores 0..9
    est = estimate_abilities(x, items, "wle")
    assert_allclose(est.theta, -est.theta[::-1], atol=1e-9)
    assert np.all(np.diff(est.theta) > 0)
    # Every candidate with the same score gets the same estimate under Rasch.
    y = np.array([[1, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 1]])
    assert np.ptp(estimate_abilities(y, items, "wle").theta) == 0


# ---------------------------------------------------------------------------
# EAP
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("items", [ITEMS_2PL, ITEMS_3PL], ids=["2pl", "3pl"])
def test_eap_matches_numerical_integration(items: ItemParameters) -> None:
    x = simulate_responses(items, np.array([-2.0, 0.0, 1.5]), seed=4, omit_rate=0.2)
    x = np.vstack([x, np.ones(items.n_items, np.int8)])
    est = estimate_abilities(x, items, "eap")
    for row, theta, se in zip(x, est.theta, est.se, strict=True):
        mean, sd = _eap_reference(row, items)
        # 121 points at spacing 0.1 against adaptive quadrature: agree to 1e-6.
        assert theta == pytest.approx(mean, abs=1e-6)
        assert se == pytest.approx(sd, abs=1e-6)


def test_eap_no_responses_returns_prior() -> None:
    est = estimate_abilities([[-1] * 9], ITEMS_RASCH, "eap", prior_mean=0.5, prior_sd=2.0)
    assert est.theta[0] == pytest.approx(0.5, abs=1e-9)
    assert est.se[0] == pytest.approx(2.0, abs=1e-6)
    assert est.extreme[0]


def test_eap_shrinks_towards_prior() -> None:
    x = np.array([[1] * 9, [0] * 9])
    eap = estimate_abilities(x, ITEMS_RASCH, "eap")
    wle = estimate_abilities(x, ITEMS_RASCH, "wle")
    assert np.all(np.abs(eap.theta) < np.abs(wle.theta))


# ---------------------------------------------------------------------------
# Shared behaviour
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["mle", "wle", "eap"])
def test_omitted_items_are_left_out(method: str) -> None:
    x = simulate_responses(ITEMS_2PL, np.linspace(-1, 1, 8), seed=5)
    x[:, 3] = -1
    full = estimate_abilities(x, ITEMS_2PL, method)
    keep = np.delete(np.arange(12), 3)
    sub = ItemParameters.create(b=ITEMS_2PL.b[keep], a=ITEMS_2PL.a[keep])
    reduced = estimate_abilities(x[:, keep], sub, method)
    assert_allclose(full.theta, reduced.theta, atol=1e-9)
    assert_allclose(full.se, reduced.se, atol=1e-9)


def test_recovers_simulated_abilities() -> None:
    rng = np.random.default_rng(6)
    items = ItemParameters.create(b=rng.normal(0, 1, 60), a=rng.uniform(0.8, 1.8, 60))
    theta = rng.normal(size=500)
    x = simulate_responses(items, theta, seed=rng)
    for method in ("mle", "wle", "eap"):
        est = estimate_abilities(x, items, method)
        assert np.corrcoef(est.theta, theta)[0, 1] > 0.93, method
        # Reported SEs match the actual error spread within 20 %.
        err = np.sqrt(np.mean((est.theta - theta) ** 2))
        assert 0.8 < err / np.sqrt(np.mean(est.se**2)) < 1.2, method


def test_one_dimensional_input_is_one_candidate() -> None:
    one = estimate_abilities([1, 0, 1, 1, 0, 1, 0, 0, 1], ITEMS_RASCH, "wle")
    assert one.theta.shape == (1,)


def test_result_is_frozen() -> None:
    est = estimate_abilities([[1, 0, 1, 1, 0, 1, 0, 0, 1]], ITEMS_RASCH, "wle")
    assert isinstance(est, AbilityEstimates)
    with pytest.raises(dataclasses.FrozenInstanceError):
        est.method = "mle"  # type: ignore[misc]
    with pytest.raises(ValueError):
        est.theta[0] = 0.0


_PATTERNS = simulate_responses(ITEMS_3PL, np.linspace(-2, 2, 25), seed=7, omit_rate=0.1)


@settings(max_examples=15, deadline=None)
@given(st.permutations(list(range(25))), st.sampled_from(["mle", "wle", "eap"]))
def test_invariant_to_candidate_order(order: list[int], method: str) -> None:
    base = estimate_abilities(_PATTERNS, ITEMS_3PL, method)
    shuffled = estimate_abilities(_PATTERNS[order], ITEMS_3PL, method)
    assert_allclose(shuffled.theta, base.theta[order], atol=1e-9)
    assert_allclose(shuffled.se, base.se[order], atol=1e-9)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="9 items .columns. but items has 12"):
        estimate_abilities(np.ones((2, 9)), ITEMS_2PL)
    with pytest.raises(ValueError, match="NaN"):
        estimate_abilities([[1, np.nan] + [0] * 7], ITEMS_RASCH)
    with pytest.raises(ValueError, match="only 1 .right."):
        estimate_abilities([[1, 3] + [0] * 7], ITEMS_RASCH)
    with pytest.raises(ValueError, match=r"candidates \[1\].*answered no item"):
        estimate_abilities([[1] * 9, [-1] * 9], ITEMS_RASCH, "mle")
    with pytest.raises(ValueError, match="method"):
        estimate_abilities([[1] * 9], ITEMS_RASCH, "map")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bounds"):
        estimate_abilities([[1] * 9], ITEMS_RASCH, "mle", bounds=(2.0, -2.0))
    with pytest.raises(ValueError, match="prior_sd"):
        estimate_abilities([[1] * 9], ITEMS_RASCH, "eap", prior_sd=0.0)
    with pytest.raises(ValueError, match="ItemParameters"):
        estimate_abilities([[1] * 9], np.zeros(9))  # type: ignore[arg-type]
