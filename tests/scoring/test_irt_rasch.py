"""Tests for scoring.irt.rasch: Rasch estimation by CML, MML and JML."""

from __future__ import annotations

import dataclasses
import doctest
import itertools
import time
from decimal import Decimal, localcontext
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import scoring.irt
import scoring.irt.rasch
import scoring.irt.simulate
from scoring.irt import (
    ItemParameters,
    RaschFit,
    elementary_symmetric_functions,
    fit_rasch,
    mml,
    simulate_responses,
)
from scoring.irt._data import validate_responses
from scoring.irt.rasch import _cell_conditionals, _cml_cells, _cml_evaluate

DATA = Path(__file__).resolve().parents[3] / "shared" / "psychometrics-data"


@pytest.fixture(scope="module")
def lsat() -> np.ndarray:
    return np.loadtxt(DATA / "LSAT.csv", delimiter=",", skiprows=1, dtype=np.int8)


def _simulate(n_persons: int, n_items: int, seed: int, omit_rate: float = 0.0) -> tuple:
    rng = np.random.default_rng(seed)
    b = rng.normal(0.0, 1.0, n_items)
    theta = rng.normal(0.0, 1.0, n_persons)
    x = simulate_responses(ItemParameters.create(b=b), theta, seed=rng, omit_rate=omit_rate)
    return x, b


# ---------------------------------------------------------------------------
# Surface
# ---------------------------------------------------------------------------


def test_doctests() -> None:
    for module in (scoring.irt.rasch, scoring.irt.simulate):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted > 0
        assert result.failed == 0


def test_package_exports() -> None:
    for name in scoring.irt.rasch.__all__:
        assert getattr(scoring.irt, name) is getattr(scoring.irt.rasch, name)


def test_result_is_frozen_with_read_only_arrays(lsat: np.ndarray) -> None:
    fit = fit_rasch(lsat, "cml")
    assert isinstance(fit, RaschFit)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.loglik = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        fit.difficulty[0] = 1.0


# ---------------------------------------------------------------------------
# Published values: ltm::rasch on LSAT (README of the reference data)
# ---------------------------------------------------------------------------

# ltm prints 4 decimals for b and a and 3 for the log-likelihood; the brief allows
# 1e-3. We hold b and a to 2e-4 (rounding of the published digits plus ltm's own
# optimiser tolerance) and the log-likelihood to 1e-3 (3 published decimals).
LTM_B_FIXED = [-2.8720, -1.0630, -0.2576, -1.3881, -2.2188]
LTM_LOGLIK_FIXED = -2473.054
LTM_B_COMMON = [-3.6153, -1.3224, -0.3176, -1.7301, -2.7802]
LTM_A_COMMON = 0.7551
LTM_LOGLIK_COMMON = -2466.938


def test_lsat_mml_discrimination_fixed_at_one(lsat: np.ndarray) -> None:
    fit = fit_rasch(lsat, "mml", discrimination=1.0)
    assert fit.converged
    assert_allclose(fit.difficulty, LTM_B_FIXED, atol=2e-4, rtol=0)
    assert fit.loglik == pytest.approx(LTM_LOGLIK_FIXED, abs=1e-3)
    assert fit.discrimination == 1.0 and fit.discrimination_se == 0.0
    assert fit.n_candidates_used == 1000
    assert np.all(np.isfinite(fit.difficulty_se)) and np.all(fit.difficulty_se > 0)


def test_lsat_mml_common_discrimination(lsat: np.ndarray) -> None:
    fit = fit_rasch(lsat, "mml", discrimination=None)
    assert fit.converged
    assert_allclose(fit.difficulty, LTM_B_COMMON, atol=2e-4, rtol=0)
    assert fit.discrimination == pytest.approx(LTM_A_COMMON, abs=2e-4)
    assert fit.loglik == pytest.approx(LTM_LOGLIK_COMMON, abs=1e-3)
    assert 0 < fit.discrimination_se < 0.2


def test_lsat_mml_stable_in_quadrature_points(lsat: np.ndarray) -> None:
    # README: the estimates move by < 1e-4 between 11 and 61 points.
    fits = [fit_rasch(lsat, "mml", None, n_quadrature=q) for q in (11, 21, 61)]
    for other in fits[::2]:
        assert_allclose(other.difficulty, fits[1].difficulty, atol=1e-4)
        assert other.discrimination == pytest.approx(fits[1].discrimination, abs=1e-4)


def test_lsat_cml_matches_mml_after_centring(lsat: np.ndarray) -> None:
    cml = fit_rasch(lsat, "cml")
    assert cml.converged
    assert abs(cml.difficulty.sum()) < 1e-10
    # CML is free of the ability distribution; the MML model with a common slope
    # estimates the same item locations on the a * b scale (here within 0.003).
    common = fit_rasch(lsat, "mml", None)
    ab = common.discrimination * common.difficulty
    assert_allclose(cml.difficulty, ab - ab.mean(), atol=0.005)
    fixed = fit_rasch(lsat, "mml", 1.0)
    assert_allclose(cml.difficulty, fixed.difficulty - fixed.difficulty.mean(), atol=0.1)
    # The conditional log-likelihood excludes the score distribution, so it is
    # larger than the marginal one.
    assert cml.loglik > fixed.loglik


# ---------------------------------------------------------------------------
# Elementary symmetric functions
# ---------------------------------------------------------------------------


def _brute_esf(eps: np.ndarray) -> np.ndarray:
    n = eps.shape[0]
    subsets = [itertools.combinations(range(n), r) for r in range(n + 1)]
    return np.array([sum(np.prod(eps[list(s)]) for s in sets) for sets in subsets])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-4, 4, allow_nan=False), min_size=1, max_size=8))
def test_esf_equals_brute_force(b: list[float]) -> None:
    b_arr = np.array(b)
    esf = elementary_symmetric_functions(b_arr)
    eps = np.exp(-b_arr)
    assert_allclose(np.exp(esf.log_gamma), _brute_esf(eps), rtol=1e-11)
    for i in range(b_arr.size):
        assert_allclose(
            np.exp(esf.log_gamma_without[i]), _brute_esf(np.delete(eps, i)), rtol=1e-11
        )


def _decimal_esf(eps: list[Decimal]) -> list[Decimal]:
    gamma = [Decimal(1)]
    for e in eps:
        gamma = [
            (gamma[r] if r < len(gamma) else 0) + (e * gamma[r - 1] if r > 0 else 0)
            for r in range(len(gamma) + 1)
        ]
    return gamma


def _naive_leave_one_out(gamma: np.ndarray, eps_i: float) -> np.ndarray:
    """The classical subtraction recursion gamma_r^(i) = gamma_r - eps_i gamma_{r-1}^(i)."""
    out = np.empty(gamma.shape[0] - 1)
    out[0] = 1.0
    for r in range(1, out.shape[0]):
        out[r] = gamma[r] - eps_i * out[r - 1]
    return out


@pytest.mark.parametrize("n_items", [30, 180])
def test_esf_accurate_near_the_maximum_score_where_subtraction_fails(n_items: int) -> None:
    rng = np.random.default_rng(5)
    b = rng.normal(0.0, 1.0, n_items)
    esf = elementary_symmetric_functions(b)
    eps = [Decimal(float(e)) for e in np.exp(-b)]  # exact binary values
    easiest = int(np.argmin(b))
    with localcontext() as ctx:
        ctx.prec = 60  # 60 significant digits: an independent high-precision reference
        exact = _decimal_esf(eps)
        exact_loo = _decimal_esf(eps[:easiest] + eps[easiest + 1 :])
        log_exact = np.array([float(g.ln()) for g in exact])
        log_exact_loo = np.array([float(g.ln()) for g in exact_loo])
    # Relative error ~1e-12 at every score, including r = n - 1.
    assert_allclose(esf.log_gamma, log_exact, atol=1e-11, rtol=0)
    assert_allclose(esf.log_gamma_without[easiest], log_exact_loo, atol=1e-11, rtol=0)
    if n_items == 30:
        # The subtraction recursion, even from exact gamma, is off by orders of
        # magnitude near the maximum score (30 items fit in a double here).
        naive = _naive_leave_one_out(np.exp(log_exact), float(eps[easiest]))
        rel = np.abs(naive[-3:] / np.exp(log_exact_loo[-3:]) - 1.0)
        assert np.all(rel > 1.0)


def test_esf_no_overflow_on_long_tests() -> None:
    b = np.linspace(-6, 6, 400)
    esf = elementary_symmetric_functions(b)
    assert np.all(np.isfinite(esf.log_gamma))
    assert np.all(np.isfinite(esf.log_gamma_without))
    # gamma_n = prod eps = exp(-sum b)
    assert esf.log_gamma[-1] == pytest.approx(-b.sum(), abs=1e-9)


def test_esf_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="non-empty 1-D"):
        elementary_symmetric_functions([])
    with pytest.raises(ValueError, match="finite"):
        elementary_symmetric_functions([0.0, np.nan])


# ---------------------------------------------------------------------------
# CML
# ---------------------------------------------------------------------------


def _decimal_cml_gradient(x: np.ndarray, b: np.ndarray, items: list[int]) -> list[float]:
    """d log L_c / d b_i = -s_i + sum_r n_r eps_i gamma_{r-1}^(i) / gamma_r, to 60 digits."""
    scores = x.sum(axis=1)
    used = (scores > 0) & (scores < x.shape[1])
    counts = np.bincount(scores[used], minlength=x.shape[1] + 1)
    eps = [Decimal(float(e)) for e in np.exp(-b)]
    out = []
    with localcontext() as ctx:
        ctx.prec = 60
        gamma = _decimal_esf(eps)
        for i in items:
            loo = _decimal_esf(eps[:i] + eps[i + 1 :])
            expected = sum(
                int(counts[r]) * eps[i] * loo[r - 1] / gamma[r]
                for r in range(1, x.shape[1])
                if counts[r]
            )
            out.append(float(expected - int(x[used, i].sum())))
    return out


@pytest.mark.parametrize(
    ("n_persons", "n_items", "checked"), [(600, 30, list(range(30))), (300, 180, [0, 1, 2])]
)
def test_cml_reaches_the_exact_maximum(n_persons: int, n_items: int, checked: list[int]) -> None:
    x, _ = _simulate(n_persons, n_items, seed=21)
    fit = fit_rasch(x, "cml")
    assert fit.converged and fit.n_iterations < 20
    # The score equations hold when evaluated independently in 60-digit arithmetic.
    grad = _decimal_cml_gradient(x, fit.difficulty, checked)
    assert np.max(np.abs(grad)) < 1e-6
    assert abs(fit.difficulty.sum()) < 1e-9
    if n_items == 30:
        # With the subtraction recursion the gradient at the true maximum is badly
        # wrong for the easiest item, so an optimiser using it stops elsewhere.
        eps = np.exp(-fit.difficulty)
        esf = elementary_symmetric_functions(fit.difficulty)
        easiest = int(np.argmin(fit.difficulty))
        naive = _naive_leave_one_out(np.exp(esf.log_gamma), eps[easiest])
        scores = x.sum(axis=1)
        counts = np.bincount(scores[(scores > 0) & (scores < n_items)], minlength=n_items + 1)
        r = np.arange(1, n_items)
        expected = np.sum(counts[r] * eps[easiest] * naive[r - 1] / np.exp(esf.log_gamma[r]))
        observed = x[(scores > 0) & (scores < n_items), easiest].sum()
        assert abs(expected - observed) > 1.0


def test_cml_recovers_simulated_difficulties() -> None:
    x, b = _simulate(2000, 30, seed=3)
    fit = fit_rasch(x, "cml")
    rmse = np.sqrt(np.mean((fit.difficulty - (b - b.mean())) ** 2))
    assert rmse < 0.1
    # The standard errors describe the spread of the errors (about 0.05 here).
    assert np.all((fit.difficulty_se > 0.03) & (fit.difficulty_se < 0.1))


def test_cml_excludes_extreme_scores_and_reports_them() -> None:
    x, _ = _simulate(300, 10, seed=4)
    extra = np.vstack([x, np.ones((5, 10), np.int8), np.zeros((7, 10), np.int8)])
    fit, fit_extra = fit_rasch(x, "cml"), fit_rasch(extra, "cml")
    assert_allclose(fit_extra.difficulty, fit.difficulty, atol=1e-12)
    assert fit_extra.loglik == pytest.approx(fit.loglik)
    scores = x.sum(axis=1)
    assert fit.n_candidates_used == int(((scores > 0) & (scores < 10)).sum())


def test_cml_fixed_discrimination_rescales() -> None:
    x, _ = _simulate(300, 8, seed=5)
    one, two = fit_rasch(x, "cml", 1.0), fit_rasch(x, "cml", 2.0)
    assert_allclose(two.difficulty, one.difficulty / 2.0, atol=1e-12)
    assert_allclose(two.difficulty_se, one.difficulty_se / 2.0, atol=1e-12)
    assert two.loglik == pytest.approx(one.loglik)


def test_missing_responses_are_missing_not_wrong() -> None:
    x, b = _simulate(3000, 12, seed=6, omit_rate=0.15)
    truth = b - b.mean()
    for method in ("cml", "mml"):
        fit = fit_rasch(x, method)
        est = fit.difficulty - fit.difficulty.mean()
        assert np.sqrt(np.mean((est - truth) ** 2)) < 0.1, method
    # Scoring the omissions as wrong is a different (biased) data set.
    as_wrong = fit_rasch(np.where(x < 0, 0, x), "cml")
    assert np.max(np.abs(as_wrong.difficulty - fit_rasch(x, "cml").difficulty)) > 0.01


def test_cml_incomplete_design_with_anchor() -> None:
    # Two forms of 6 items sharing items 4-5; each candidate sees one form.
    x, b = _simulate(3000, 10, seed=7)
    x[:1500, 6:] = -1
    x[1500:, :4] = -1
    fit = fit_rasch(x, "cml")
    assert fit.converged
    assert np.sqrt(np.mean((fit.difficulty - (b - b.mean())) ** 2)) < 0.12


@pytest.mark.parametrize("method", ["cml", "jml"])
def test_disconnected_design_is_rejected(method: str) -> None:
    x, _ = _simulate(600, 6, seed=8)
    x[:300, 3:] = -1
    x[300:, :3] = -1
    with pytest.raises(ValueError, match=r"not finite \(Fischer 1981\).*disconnected design"):
        fit_rasch(x, method)


@pytest.mark.parametrize("method", ["cml", "jml"])
def test_guttman_ordered_item_is_rejected(method: str) -> None:
    # Everyone who answered item 0 or 1 right answered items 2-5 right: items 0 and 1
    # are infinitely harder than the rest (no candidate links them the other way).
    x, _ = _simulate(400, 6, seed=17)
    x[(x[:, 0] == 1) | (x[:, 1] == 1), 2:] = 1
    with pytest.raises(ValueError, match=r"not finite .*items \[0, 1\]"):
        fit_rasch(x, method)
    assert fit_rasch(x, "mml").converged  # the normal prior keeps MML finite


# ---------------------------------------------------------------------------
# JML and MML
# ---------------------------------------------------------------------------


def test_jml_bias_correction_ratio() -> None:
    x, _ = _simulate(400, 12, seed=9)
    corrected = fit_rasch(x, "jml")
    raw = fit_rasch(x, "jml", correct_bias=False)
    assert corrected.correction == pytest.approx(11 / 12)
    assert_allclose(corrected.difficulty / raw.difficulty, 11 / 12, rtol=1e-12)
    assert_allclose(corrected.difficulty_se, raw.difficulty_se * 11 / 12, rtol=1e-12)
    assert corrected.loglik == raw.loglik


def test_jml_and_mml_recover_simulated_difficulties() -> None:
    x, b = _simulate(2000, 30, seed=3)
    truth = b - b.mean()
    for method in ("jml", "mml"):
        fit = fit_rasch(x, method)
        assert fit.converged
        est = fit.difficulty - fit.difficulty.mean()
        assert np.sqrt(np.mean((est - truth) ** 2)) < 0.1, method
    # JML without the correction spreads the difficulties by about I / (I - 1).
    raw = fit_rasch(x, "jml", correct_bias=False)
    cml = fit_rasch(x, "cml")
    assert np.std(raw.difficulty) > np.std(cml.difficulty)


def test_mml_estimates_common_slope_on_simulated_data() -> None:
    rng = np.random.default_rng(10)
    b = rng.normal(0, 1, 15)
    x = simulate_responses(ItemParameters.create(b=b, a=1.6), rng.normal(size=3000), seed=rng)
    fit = fit_rasch(x, "mml", None)
    assert fit.discrimination == pytest.approx(1.6, abs=0.1)
    assert np.sqrt(np.mean((fit.difficulty - b) ** 2)) < 0.1


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------

_SMALL = _simulate(150, 6, seed=11)[0]


@settings(max_examples=10, deadline=None)
@given(st.permutations(list(range(_SMALL.shape[0]))), st.sampled_from(["cml", "mml", "jml"]))
def test_estimates_invariant_to_candidate_order(order: list[int], method: str) -> None:
    base = fit_rasch(_SMALL, method)
    shuffled = fit_rasch(_SMALL[order], method)
    assert_allclose(shuffled.difficulty, base.difficulty, atol=1e-8)
    assert shuffled.loglik == pytest.approx(base.loglik, rel=1e-10)


@settings(max_examples=10, deadline=None)
@given(st.permutations(list(range(_SMALL.shape[1]))))
def test_cml_equivariant_to_item_order(order: list[int]) -> None:
    base = fit_rasch(_SMALL, "cml")
    permuted = fit_rasch(_SMALL[:, order], "cml")
    assert_allclose(permuted.difficulty, base.difficulty[order], atol=1e-8)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["cml", "mml", "jml"])
def test_zero_variance_items_are_named(method: str) -> None:
    x, _ = _simulate(200, 6, seed=12)
    x[:, 2] = 1
    x[:, 4] = 0
    with pytest.raises(ValueError, match=r"items \[2\].*right by everyone.*items \[4\]"):
        fit_rasch(x, method)


def test_cml_item_without_variance_among_non_extreme_candidates() -> None:
    # Item 0 is wrong only for the candidates with score 0, who do not count in CML.
    x = np.array([[1, 1, 0], [1, 0, 1], [1, 0, 0], [0, 0, 0], [1, 1, 0]])
    with pytest.raises(ValueError, match=r"items \[0\].*zero or perfect"):
        fit_rasch(x, "cml")


@pytest.mark.parametrize(
    ("responses", "message"),
    [
        ([[1, 0], [0, np.nan]], "NaN"),
        ([[1, 0], [2, 1]], "only 1 .right., 0 .wrong. or -1"),
        ([[1], [0]], "at least 2 item"),
        ([1, 0, 1], "2-D"),
        (np.zeros((0, 3)), "no candidates"),
        ([["a", "b"], ["c", "d"]], "non-numeric"),
    ],
)
def test_invalid_responses(responses: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fit_rasch(responses, "cml")  # type: ignore[arg-type]


def test_invalid_arguments(lsat: np.ndarray) -> None:
    with pytest.raises(ValueError, match="method"):
        fit_rasch(lsat, "pml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs method='mml'"):
        fit_rasch(lsat, "cml", discrimination=None)
    with pytest.raises(ValueError, match="discrimination must be a positive number"):
        fit_rasch(lsat, "mml", discrimination=-1.0)
    with pytest.raises(ValueError, match="n_quadrature"):
        fit_rasch(lsat, "mml", n_quadrature=1)
    with pytest.raises(ValueError, match="max_iter"):
        fit_rasch(lsat, "cml", max_iter=0)


def test_all_candidates_extreme() -> None:
    x = np.array([[1, 1, 1], [0, 0, 0], [1, 1, 1]])
    with pytest.raises(ValueError):
        fit_rasch(x, "cml")
    with pytest.raises(ValueError, match="zero or perfect"):
        fit_rasch(np.array([[1, 1, 1], [0, 0, 0], [1, 0, -1], [0, 1, -1]])[[0, 1]], "jml")


def test_single_candidate_is_rejected_by_variance_check() -> None:
    with pytest.raises(ValueError, match="everyone"):
        fit_rasch([[1, 0, 1]], "mml")


@pytest.mark.parametrize("omit_rate", [0.0, 0.2])
def test_cml_hessian_matches_numerical_derivatives_with_ties(omit_rate: float) -> None:
    x, _ = _simulate(300, 8, seed=13, omit_rate=omit_rate)
    data = validate_responses(x)
    scores = data.scores()
    cells = _cml_cells(data, (scores > 0) & (scores < data.n_answered()))
    b = np.random.default_rng(14).normal(size=8)
    b[3] = b[5] = b[1]  # exact ties, where the pair formula is 0/0
    b[6] = b[2] + 1e-8  # a near tie
    value, grad, hess = _cml_evaluate(b, cells, hessian=True)
    h = 1e-6
    for i in range(8):
        step = np.eye(8)[i] * h
        up, down = _cml_evaluate(b + step, cells, hessian=False), _cml_evaluate(
            b - step, cells, hessian=False
        )
        # value is -sum n log gamma: its derivative is the expected total E_i.
        assert (up[0] - down[0]) / (2 * h) == pytest.approx(grad[i], abs=1e-5)
        assert hess is not None
        assert_allclose((up[1] - down[1]) / (2 * h), hess[:, i], atol=1e-5)


def test_cml_tied_items_get_equal_estimates_and_finite_errors() -> None:
    x, _ = _simulate(500, 8, seed=15)
    x[:, 5] = x[:, 2]  # two identical items: identical statistics, tied estimates
    fit = fit_rasch(x, "cml")
    assert fit.converged
    assert fit.difficulty[5] == pytest.approx(fit.difficulty[2], abs=1e-10)
    assert fit.difficulty_se[5] == pytest.approx(fit.difficulty_se[2], rel=1e-8)
    assert np.all(np.isfinite(fit.difficulty_se))


@pytest.mark.parametrize("omit_rate", [0.0, 0.2])
@pytest.mark.parametrize("model", ["rasch", "rasch_common"])
def test_mml_analytic_hessian_matches_numerical_derivatives(omit_rate: float, model: str) -> None:
    x, _ = _simulate(400, 7, seed=16, omit_rate=omit_rate)
    _, groups = mml.prepare(x, by_score=True)
    problem = mml._Problem(groups, model, 21, 1.0, 1.3, None)  # type: ignore[arg-type]
    phi = mml._start(problem) + 0.1
    numeric = problem._fd_hessian(phi, np.arange(phi.shape[0]))
    assert_allclose(problem.hessian(phi), numeric, atol=1e-6 * np.abs(numeric).max())


def test_mml_standard_errors_from_the_information(lsat: np.ndarray) -> None:
    # SE^2 = diag of the inverse observed information; doubling the data halves the
    # variance exactly, and the estimates do not move.
    one = fit_rasch(lsat, "mml", None)
    two = fit_rasch(np.vstack([lsat, lsat]), "mml", None)
    assert_allclose(two.difficulty, one.difficulty, atol=1e-7)
    assert_allclose(two.difficulty_se * np.sqrt(2), one.difficulty_se, rtol=1e-5)
    assert two.discrimination_se * np.sqrt(2) == pytest.approx(one.discrimination_se, rel=1e-5)


# ---------------------------------------------------------------------------
# CML cell by cell (scattered omissions): against the former per-pattern route
# and brute force
# ---------------------------------------------------------------------------


def _cells_of(x: np.ndarray) -> scoring.irt.rasch._Cells:
    data = validate_responses(x)
    scores = data.scores()
    return _cml_cells(data, (scores > 0) & (scores < data.n_answered()))


def _brute_conditionals(b: np.ndarray, answered: np.ndarray, r: int) -> tuple[float, np.ndarray]:
    """log gamma_r and P(x_i = 1 | S = r) by enumerating every response pattern."""
    items = np.flatnonzero(answered)
    eps = np.exp(-b[items])
    patterns = np.array(list(itertools.product([0, 1], repeat=items.size)))
    patterns = patterns[patterns.sum(axis=1) == r]
    weights = np.prod(np.where(patterns == 1, eps, 1.0), axis=1)
    gamma = weights.sum()
    pi = np.zeros(b.shape[0])
    pi[items] = weights @ patterns / gamma
    return float(np.log(gamma)), pi


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 7).flatmap(
        lambda n: st.tuples(
            st.lists(st.floats(-6, 6, allow_nan=False), min_size=n, max_size=n),
            st.lists(st.lists(st.booleans(), min_size=n, max_size=n), min_size=1, max_size=5),
            st.randoms(use_true_random=False),
        )
    )
)
def test_cell_conditionals_equal_brute_force(case: tuple) -> None:
    b_list, masks, random = case
    b = np.array(b_list)
    rows = [(m, random.randint(1, sum(m) - 1)) for m in masks if sum(m) >= 2]
    if not rows:
        return
    answered = np.array([m for m, _ in rows], dtype=bool)
    score = np.array([r for _, r in rows], dtype=np.int64)
    log_gamma, pi = _cell_conditionals(b, answered, score)
    for k in range(len(rows)):
        exact_log_gamma, exact_pi = _brute_conditionals(b, answered[k], int(score[k]))
        # Sums of at most 2^7 positive terms: agreement to rounding level.
        assert log_gamma[k] == pytest.approx(exact_log_gamma, rel=1e-12, abs=1e-12)
        assert_allclose(pi[k], exact_pi, rtol=1e-11, atol=1e-300)
        assert pi[k].sum() == pytest.approx(score[k], rel=1e-12)


@pytest.mark.parametrize("score", [1, 2, 60, 120, 176, 177])
def test_cell_conditionals_accurate_to_60_digits_on_180_items(score: int) -> None:
    # 180 items, two omitted, scores from 1 to the maximum (178) minus one: pi_{i|r} of the
    # easiest, hardest and a middle item against exact 60-digit ESFs.
    rng = np.random.default_rng(41)
    b = rng.normal(0.0, 1.5, 180)
    answered = np.ones(180, dtype=bool)
    answered[[17, 90]] = False
    log_gamma, pi = _cell_conditionals(b, answered[None, :], np.array([score]))
    items = np.flatnonzero(answered)
    eps = [Decimal(float(e)) for e in np.exp(-b[items])]
    order = np.argsort(b[items])
    with localcontext() as ctx:
        ctx.prec = 60
        gamma = _decimal_esf(eps)
        assert log_gamma[0] == pytest.approx(float(gamma[score].ln()), rel=1e-13)
        for k in (order[0], order[-1], order[len(order) // 2]):
            loo = _decimal_esf(eps[:k] + eps[k + 1 :])
            exact = float(eps[k] * loo[score - 1] / gamma[score])
            # Relative error ~1e-13 even where pi is tiny (hardest item at r = 1).
            assert pi[0, items[k]] == pytest.approx(exact, rel=1e-11)
    assert np.all(pi[0, ~answered] == 0.0)


@pytest.mark.parametrize(
    ("n_persons", "n_items", "omit_rate", "spread"),
    [(300, 40, 0.05, 1.0), (200, 25, 0.3, 3.0), (150, 60, 0.02, 8.0), (100, 12, 0.5, 0.2)],
)
def test_cml_cell_route_equals_pattern_route(
    monkeypatch: pytest.MonkeyPatch, n_persons: int, n_items: int, omit_rate: float, spread: float
) -> None:
    rng = np.random.default_rng(43)
    truth = rng.normal(0.0, spread, n_items)
    x = simulate_responses(
        ItemParameters.create(b=truth), rng.normal(0.0, spread, n_persons), seed=rng,
        omit_rate=omit_rate,
    )
    cells = _cells_of(x)
    b = truth + rng.normal(0.0, 0.1, n_items)
    b[1] = b[0]  # an exact tie, which takes the tie branch of the Hessian
    new = _cml_evaluate(b, cells, hessian=True)
    monkeypatch.setattr(scoring.irt.rasch, "_BY_PATTERN", True)
    old = _cml_evaluate(b, cells, hessian=True)
    # Both routes add positive terms only: values agree to rounding error. The
    # Hessian's pair term divides by 1 - eps_j / eps_i, which amplifies rounding
    # in close (untied) pairs, hence its looser tolerance.
    assert new[0] == pytest.approx(old[0], rel=1e-13)
    assert_allclose(new[1], old[1], rtol=1e-11, atol=1e-12 * np.abs(old[1]).max())
    assert old[2] is not None and new[2] is not None
    assert_allclose(new[2], old[2], rtol=0, atol=1e-8 * np.abs(old[2]).max())


def test_cml_with_scattered_omissions_equals_former_route(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Scattered omissions: nearly every candidate has their own pattern of answered
    # items. The fit is the same as with the former per-pattern route.
    x, _ = _simulate(400, 60, seed=44, omit_rate=0.05)
    cells = _cells_of(x)
    assert cells.answered.shape[0] > 0.7 * x.shape[0]
    new = fit_rasch(x, "cml")
    monkeypatch.setattr(scoring.irt.rasch, "_BY_PATTERN", True)
    old = fit_rasch(x, "cml")
    assert new.converged and old.converged
    assert new.n_iterations == old.n_iterations
    # Same Newton path on the same objective, so the same maximum to rounding error;
    # the standard errors inherit the Hessian tolerance of the test above.
    assert_allclose(new.difficulty, old.difficulty, rtol=0, atol=1e-10)
    assert new.loglik == pytest.approx(old.loglik, rel=1e-13)
    assert_allclose(new.difficulty_se, old.difficulty_se, rtol=1e-8)
    assert new.n_candidates_used == old.n_candidates_used


def test_cml_timing_report_scattered_omissions(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not a timed test: prints how long each route takes, checks only that they agree."""
    x, _ = _simulate(300, 60, seed=45, omit_rate=0.05)
    began = time.perf_counter()
    new = fit_rasch(x, "cml")
    cell_seconds = time.perf_counter() - began
    monkeypatch.setattr(scoring.irt.rasch, "_BY_PATTERN", True)
    began = time.perf_counter()
    old = fit_rasch(x, "cml")
    pattern_seconds = time.perf_counter() - began
    with capsys.disabled():  # shown without -s
        print(
            f"\nCML 300 x 60, 5% scattered omissions ({_cells_of(x).answered.shape[0]} "
            f"patterns): cell by cell {cell_seconds:.3f} s, former per-pattern route "
            f"{pattern_seconds:.3f} s"
        )
    assert_allclose(new.difficulty, old.difficulty, rtol=0, atol=1e-10)


def test_cml_cell_chunks_do_not_change_results(monkeypatch: pytest.MonkeyPatch) -> None:
    # A tiny memory budget splits the cells into many chunks and blocks.
    x, _ = _simulate(200, 15, seed=46, omit_rate=0.1)
    cells = _cells_of(x)
    b = np.linspace(-1.5, 1.5, 15)
    value, expected, hess = _cml_evaluate(b, cells, hessian=True)
    monkeypatch.setattr(scoring.irt.rasch, "_CELL_BYTES", 2_000)
    monkeypatch.setattr(scoring.irt.rasch, "_CELL_BLOCK_BYTES", 1_000)
    small = _cml_evaluate(b, cells, hessian=True)
    assert small[0] == pytest.approx(value, rel=1e-14)
    assert_allclose(small[1], expected, rtol=1e-13)
    assert small[2] is not None and hess is not None
    assert_allclose(small[2], hess, rtol=0, atol=1e-12 * np.abs(hess).max())


# ---------------------------------------------------------------------------
# Progress callback
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["cml", "jml", "mml"])
def test_callback_reports_each_iteration(method: str) -> None:
    x, _ = _simulate(300, 10, seed=47, omit_rate=0.05)
    calls: list[tuple[int, float]] = []
    fit = fit_rasch(x, method, callback=lambda it, change: calls.append((it, change)))
    assert fit.converged
    assert [it for it, _ in calls] == list(range(1, fit.n_iterations + 1))
    assert all(isinstance(change, float) and change >= 0 for _, change in calls)
    if method != "mml":
        # CML/JML stop when the largest change falls below tol (1e-9).
        assert calls[-1][1] < 1e-9 <= calls[0][1]
    # The callback only observes: the estimates are those of a fit without it.
    assert_allclose(fit.difficulty, fit_rasch(x, method).difficulty, rtol=0, atol=1e-12)


def test_callback_exception_stops_the_fit() -> None:
    x, _ = _simulate(200, 8, seed=48)

    class Cancelled(Exception):
        pass

    def cancel(iteration: int, change: float) -> None:
        if iteration == 2:
            raise Cancelled

    for method in ("cml", "jml", "mml"):
        with pytest.raises(Cancelled):
            fit_rasch(x, method, callback=cancel)


def test_callback_must_be_callable() -> None:
    x, _ = _simulate(50, 5, seed=49)
    with pytest.raises(ValueError, match="callback must be callable"):
        fit_rasch(x, "cml", callback=3)  # type: ignore[arg-type]
