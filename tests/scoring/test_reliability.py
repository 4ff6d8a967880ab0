"""Tests for scoring.reliability: KR-20/alpha, SEM, CSEM, decision consistency, PRMSE."""

from __future__ import annotations

import dataclasses
import doctest
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose
from scipy import integrate
from scipy import stats as sps

import scoring.reliability
from scoring.irt.model import ItemParameters, information, probability, score_distribution
from scoring.reliability import (
    ClassificationIndices,
    LivingstonLewis,
    _fit_beta3_lower,
    _fit_beta4,
    binomial_csem,
    cronbach_alpha,
    haberman_prmse,
    irt_classification,
    irt_csem,
    kr20,
    kr21,
    livingston_lewis,
    sem,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "psychometrics-data"


@pytest.fixture(scope="module")
def lsat() -> np.ndarray:
    return np.loadtxt(DATA / "LSAT.csv", delimiter=",", skiprows=1, dtype=np.int8)


def rasch_data(
    n: int, b: np.ndarray, seed: int, mean: float = 0.0, sd: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded Rasch responses; returns (responses, theta, P)."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(mean, sd, n)
    p = 1.0 / (1.0 + np.exp(-(theta[:, None] - b)))
    return (rng.random(p.shape) < p).astype(np.int8), theta, p


# 0/1/-1 matrices whose totals (omitted scored 0) vary.
matrices = hnp.arrays(
    np.int8,
    st.tuples(st.integers(2, 25), st.integers(2, 7)),
    elements=st.integers(-1, 1),
)


def totals_vary(u: np.ndarray) -> bool:
    return bool(np.ptp((u == 1).sum(axis=1)) > 0)


def test_doctests() -> None:
    result = doctest.testmod(scoring.reliability, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# ---------------------------------------------------------------------------
# Published values: LSAT (ltm::cronbach.alpha / ltm::descript)
# ---------------------------------------------------------------------------


def test_lsat_kr20_alpha_sem(lsat: np.ndarray) -> None:
    assert lsat.shape == (1000, 5)
    # Published to 4 decimals: the tolerance is half a unit in the last digit.
    assert kr20(lsat) == pytest.approx(0.2950, abs=5e-5)
    assert cronbach_alpha(lsat) == pytest.approx(0.2950, abs=5e-5)
    # Derived value in the data README, 4 decimals, sample SD (ddof=1).
    assert sem(lsat) == pytest.approx(0.8691, abs=5e-5)
    # ddof = 0 would give 0.8686: make sure the convention is the sample SD.
    total = lsat.sum(axis=1)
    assert sem(lsat) == pytest.approx(total.std(ddof=1) * math.sqrt(1 - kr20(lsat)), rel=1e-12)


def test_kr20_equals_alpha_and_textbook_formula(lsat: np.ndarray) -> None:
    p = lsat.mean(axis=0)
    total = lsat.sum(axis=1)
    textbook = 5 / 4 * (1 - (p * (1 - p)).sum() / total.var())
    assert kr20(lsat) == pytest.approx(textbook, rel=1e-12)
    assert kr20(lsat) == pytest.approx(cronbach_alpha(lsat.astype(float)), rel=1e-12)


# ---------------------------------------------------------------------------
# KR-20 / alpha / KR-21 / SEM: properties and edge cases
# ---------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(u=matrices, seed=st.integers(0, 2**32 - 1))
def test_kr20_properties(u: np.ndarray, seed: int) -> None:
    assume(totals_vary(u))
    value = kr20(u)
    assert math.isfinite(value)
    assert value <= 1.0 + 1e-12
    # Omitted scores 0: identical to recoding -1 as 0.
    assert value == pytest.approx(kr20(np.where(u == -1, 0, u)), abs=1e-12)
    assert value == pytest.approx(cronbach_alpha(np.where(u == 1, 1, 0)), abs=1e-12)
    # Invariant to candidate order and to item order.
    rng = np.random.default_rng(seed)
    assert kr20(u[rng.permutation(u.shape[0])]) == pytest.approx(value, abs=1e-12)
    assert kr20(u[:, rng.permutation(u.shape[1])]) == pytest.approx(value, abs=1e-12)
    # KR-21 (population moments) never exceeds KR-20.
    assert kr21(u) <= value + 1e-12
    assert sem(u) >= 0.0


def test_sem_is_zero_when_every_item_agrees() -> None:
    # KR-20 computes as 1 + 2e-16 here (found by Hypothesis): the SEM is 0, not an error.
    u = np.array([[1, 1], [1, 1], [1, 1], [0, 0], [1, 1]], dtype=np.int8)
    assert kr20(u) == pytest.approx(1.0, abs=1e-12)
    assert sem(u) == pytest.approx(0.0, abs=1e-6)


def test_kr21_equals_kr20_for_equally_difficult_items() -> None:
    # Cyclic design: every item has p = 1/2, so sum p q = K p-bar q-bar.
    u = np.array(
        [[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1], [1, 0, 0, 1], [1, 1, 1, 1], [0, 0, 0, 0]]
    )
    assert kr21(u) == pytest.approx(kr20(u), abs=1e-12)
    assert kr21(u, ddof=1) != pytest.approx(kr21(u))


def test_zero_variance_items_keep_kr20_finite() -> None:
    rng = np.random.default_rng(3)
    u = (rng.random((200, 6)) < 0.6).astype(int)
    u[:, 0] = 1  # everyone right
    u[:, 1] = 0  # everyone wrong
    value = kr20(u)
    assert math.isfinite(value)
    p = u.mean(axis=0)
    assert value == pytest.approx(6 / 5 * (1 - (p * (1 - p)).sum() / u.sum(axis=1).var()))


def test_all_right_candidates_are_fine_but_constant_totals_are_not() -> None:
    u = np.array([[1, 1, 1], [1, 1, 1], [1, 0, 0], [0, 1, 0]])
    assert math.isfinite(kr20(u))
    with pytest.raises(ValueError, match="same raw score"):
        kr20(np.ones((5, 4), dtype=int))
    with pytest.raises(ValueError, match="zero variance"):
        cronbach_alpha(np.ones((5, 4)))


@pytest.mark.parametrize("func", [kr20, sem, kr21])
def test_bad_responses(func) -> None:
    with pytest.raises(ValueError, match="at least 2 candidates"):
        func([[1, 0, 1]])
    with pytest.raises(ValueError, match="2-D"):
        func([1, 0, 1])
    with pytest.raises(ValueError, match=r"responses\[1, 2\] is 2"):
        func([[1, 0, 1], [0, 1, 2]])
    with pytest.raises(ValueError, match="nan"):
        func([[1.0, 0.0], [0.0, float("nan")]])
    with pytest.raises(ValueError, match="at least 2 items"):
        func([[1], [0]])
    with pytest.raises(ValueError, match="non-numeric"):
        func([["a", "b"], ["c", "d"]])


def test_bad_alpha_scores() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        cronbach_alpha([[1, -1], [0, 1], [1, 1]])
    with pytest.raises(ValueError, match="finite"):
        cronbach_alpha([[1, np.nan], [0, 1]])
    with pytest.raises(ValueError, match="at least 2 candidates"):
        cronbach_alpha([[1, 2]])
    with pytest.raises(ValueError, match="ddof"):
        kr21([[1, 0], [0, 1]], ddof=2)


# ---------------------------------------------------------------------------
# Conditional SEM
# ---------------------------------------------------------------------------


def test_binomial_csem_values() -> None:
    csem = binomial_csem(10)
    x = np.arange(11)
    assert_allclose(csem, np.sqrt(x * (10 - x) / 9), rtol=1e-15)
    assert csem[0] == 0.0 and csem[10] == 0.0
    assert_allclose(csem, csem[::-1])
    assert csem.argmax() == 5


@settings(max_examples=60, deadline=None)
@given(u=matrices)
def test_mean_lord_error_variance_is_kr21_error_variance(u: np.ndarray) -> None:
    """Exact identity: E[CSEM^2(X)] = sigma^2 (1 - KR21), population moments."""
    assume(totals_vary(u))
    k = u.shape[1]
    total = (u == 1).sum(axis=1)
    mean_sq = np.mean(binomial_csem(k)[total] ** 2)
    assert mean_sq == pytest.approx(total.var() * (1 - kr21(u)), abs=1e-10)
    # Keats' adjustment makes the mean error variance the KR-20 one.
    assume(kr21(u) < 1)
    keats = binomial_csem(k, reliability=kr20(u), kr21=kr21(u))
    assert np.mean(keats[total] ** 2) == pytest.approx(total.var() * (1 - kr20(u)), abs=1e-10)


def test_binomial_csem_bad_input() -> None:
    for bad in (1, 0, 2.5, True, "10"):
        with pytest.raises(ValueError, match="n_items"):
            binomial_csem(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="both"):
        binomial_csem(10, reliability=0.8)
    with pytest.raises(ValueError, match="kr21"):
        binomial_csem(10, reliability=0.8, kr21=1.0)


def test_irt_csem_matches_lord_wingersky_and_information() -> None:
    items = ItemParameters.create(
        b=[-1.5, -0.5, 0.0, 0.4, 1.2, 2.0], a=[0.8, 1.2, 1.0, 1.5, 0.7, 1.1], c=0.0, D=1.7
    )
    result = irt_csem(items)
    assert np.isneginf(result.theta[0]) and np.isposinf(result.theta[-1])
    inner = result.theta[1:-1]
    assert np.all(np.diff(inner) > 0)
    # theta_x solves TCC(theta) = x.
    assert_allclose(probability(inner, items).sum(axis=1), np.arange(1, 6), atol=1e-9)
    # Raw-scale CSEM = SD of the Lord-Wingersky distribution at theta_x.
    dist = score_distribution(probability(inner, items))
    x = np.arange(7)
    mean = dist @ x
    sd = np.sqrt(dist @ x**2 - mean**2)
    assert_allclose(result.csem[1:-1], sd, rtol=1e-10)
    assert_allclose(result.csem_theta[1:-1], 1 / np.sqrt(information(inner, items).sum(1)))
    assert result.csem[0] == 0.0 and result.csem[-1] == 0.0
    assert np.isinf(result.csem_theta[[0, -1]]).all()


def test_irt_csem_three_parameter_floor_and_symmetry() -> None:
    items = ItemParameters.create(b=[-1.0, 0.0, 1.0, 0.5], c=[0.2, 0.25, 0.2, 0.3])
    result = irt_csem(items)
    # Scores 0 (<= sum c = 0.95) have no finite theta: limit of SD at -inf.
    assert np.isneginf(result.theta[0])
    floor = math.sqrt(float((items.c * (1 - items.c)).sum()))
    assert result.csem[0] == pytest.approx(floor)
    assert np.isfinite(result.theta[1:-1]).all()
    # Symmetric Rasch items: CSEM symmetric about K/2.
    sym = irt_csem(ItemParameters.create(b=[-1.0, -0.3, 0.3, 1.0]))
    assert_allclose(sym.csem, sym.csem[::-1], atol=1e-9)
    assert_allclose(sym.theta[1:-1], -sym.theta[1:-1][::-1], atol=1e-9)
    with pytest.raises(ValueError, match="ItemParameters"):
        irt_csem([0.0, 1.0])  # type: ignore[arg-type]


def test_irt_csem_flat_tcc_widens_bracket() -> None:
    # Very small discriminations need thetas far outside [-8, 8].
    items = ItemParameters.create(b=np.zeros(30), a=0.05)
    result = irt_csem(items)
    assert_allclose(probability(result.theta[1:-1], items).sum(1), np.arange(1, 30), atol=1e-8)


# ---------------------------------------------------------------------------
# Livingston-Lewis
# ---------------------------------------------------------------------------


def beta_moments(dist) -> tuple[float, float, float, float]:
    mean, var, skew, kurt = (float(v) for v in dist.stats(moments="mvsk"))
    return mean, var, skew * var**1.5, (kurt + 3.0) * var**2


def test_four_parameter_beta_recovered_from_its_moments() -> None:
    dist = sps.beta(2.5, 4.0, loc=0.2, scale=0.7)
    fit = _fit_beta4(*beta_moments(dist))
    assert fit is not None
    assert (fit.alpha, fit.beta, fit.lower, fit.upper) == pytest.approx((2.5, 4.0, 0.2, 0.9))
    # Negative skew: alpha > beta.
    fit = _fit_beta4(*beta_moments(sps.beta(5.0, 1.5, loc=0.1, scale=0.85)))
    assert (fit.alpha, fit.beta, fit.lower, fit.upper) == pytest.approx((5.0, 1.5, 0.1, 0.95))


def test_three_parameter_beta_recovered_with_fixed_lower_limit() -> None:
    dist = sps.beta(1.7, 3.2, loc=0.0, scale=0.8)
    mean, var, mu3, _ = beta_moments(dist)
    fit = _fit_beta3_lower(mean, var, mu3, 0.0)
    assert (fit.alpha, fit.beta, fit.lower, fit.upper) == pytest.approx((1.7, 3.2, 0.0, 0.8))


def ll_by_quad(n: int, a: float, b: float, lower: float, upper: float, cut_prop: float):
    """Independent consistency and accuracy by adaptive quadrature on the beta density."""
    k_pass = math.ceil(n * cut_prop - 1e-9)
    g = sps.beta(a, b, loc=lower, scale=upper - lower).pdf

    def pass_prob(t: float) -> float:
        return float(sps.binom.sf(k_pass - 1, n, t))

    opts = {"limit": 200, "epsabs": 1e-12}
    cons = integrate.quad(lambda t: (pass_prob(t) ** 2 + (1 - pass_prob(t)) ** 2) * g(t),
                          lower, upper, **opts)[0]
    fp = integrate.quad(lambda t: pass_prob(t) * g(t), lower, cut_prop, **opts)[0]
    fn = integrate.quad(lambda t: (1 - pass_prob(t)) * g(t), cut_prop, upper, **opts)[0]
    return cons, 1 - fp - fn, fp, fn


def test_livingston_lewis_exact_beta_binomial() -> None:
    """Scores that follow a beta-binomial exactly: the model is recovered exactly."""
    k, a, b = 30, 3.0, 2.0
    x = np.arange(k + 1)
    f = sps.betabinom.pmf(x, k, a, b)
    var_t = a * b / ((a + b) ** 2 * (a + b + 1))
    m = a / (a + b)
    var_x = k**2 * var_t + k * (m * (1 - m) - var_t)
    rho = k**2 * var_t / var_x
    result = livingston_lewis(x, weights=f, cut=18, reliability=rho, max_score=k)
    assert isinstance(result, LivingstonLewis)
    assert result.effective_length == k
    assert result.effective_length_exact == pytest.approx(k, abs=1e-9)
    assert (result.true_alpha, result.true_beta) == pytest.approx((a, b), rel=1e-8)
    assert (result.true_lower, result.true_upper) == pytest.approx((0.0, 1.0), abs=1e-8)
    cons, acc, fp, fn = ll_by_quad(k, a, b, 0.0, 1.0, 18 / k)
    # Gauss-Legendre with 96 nodes per side vs adaptive quadrature: 1e-7.
    assert result.consistency == pytest.approx(cons, abs=1e-7)
    assert result.accuracy == pytest.approx(acc, abs=1e-7)
    assert result.false_positive == pytest.approx(fp, abs=1e-7)
    assert result.false_negative == pytest.approx(fn, abs=1e-7)
    assert result.pass_rate == pytest.approx(f[18:].sum(), abs=1e-7)


def test_livingston_lewis_agrees_with_simulated_parallel_forms() -> None:
    """Two parallel Rasch forms: L-L consistency ~ empirical agreement."""
    rng = np.random.default_rng(11)
    n, k, cut = 20000, 40, 24
    b = rng.normal(0.0, 1.0, k)
    theta = rng.normal(0.3, 1.0, n)
    p = 1.0 / (1.0 + np.exp(-(theta[:, None] - b)))
    form1 = (rng.random(p.shape) < p).astype(np.int8)
    form2 = (rng.random(p.shape) < p).astype(np.int8)
    t1, t2 = form1.sum(axis=1), form2.sum(axis=1)
    empirical = np.mean((t1 >= cut) == (t2 >= cut))
    true_pass = p.sum(axis=1) >= cut
    empirical_accuracy = np.mean((t1 >= cut) == true_pass)
    result = livingston_lewis(t1, cut=cut, reliability=kr20(form1), max_score=k)
    # Sampling SE of the empirical agreement is ~0.0025 at n = 20000 and the
    # beta-binomial model is an approximation to Rasch data: allow 0.015.
    assert result.consistency == pytest.approx(empirical, abs=0.015)
    assert result.accuracy == pytest.approx(empirical_accuracy, abs=0.015)
    assert result.kappa <= result.consistency
    assert result.accuracy >= result.consistency
    # KR-20 > KR-21 here, so the effective length exceeds K (L&L 1995).
    assert result.effective_length_exact > k


@settings(max_examples=25, deadline=None)
@given(
    a=st.floats(0.8, 8.0),
    b=st.floats(0.8, 8.0),
    k=st.integers(8, 60),
    cut_frac=st.floats(0.3, 0.9),
    seed=st.integers(0, 2**32 - 1),
)
def test_livingston_lewis_properties(a: float, b: float, k: int, cut_frac: float, seed: int):
    rng = np.random.default_rng(seed)
    t = rng.beta(a, b, 3000)
    scores = rng.binomial(k, t)
    assume(np.ptp(scores) > 0)
    # Model-consistent reliability from the simulated true scores.
    rho = float(np.clip(np.var(k * t) / np.var(scores), 0.05, 0.98))
    cut = max(1, round(cut_frac * k))
    result = livingston_lewis(scores, cut=cut, reliability=rho, max_score=k)
    values = [getattr(result, f.name) for f in dataclasses.fields(ClassificationIndices)]
    assert all(math.isfinite(v) for v in values)
    assert result.kappa <= result.consistency + 1e-12
    assert 0.5 - 1e-12 <= result.consistency <= 1 + 1e-12
    assert result.accuracy + result.false_positive + result.false_negative == pytest.approx(1)
    assert 0 <= result.true_lower < result.true_upper <= 1
    assert result.n_beta_parameters in (2, 3, 4)
    # Invariant to candidate order.
    shuffled = livingston_lewis(scores[rng.permutation(3000)], cut=cut, reliability=rho,
                                max_score=k)
    assert shuffled.consistency == pytest.approx(result.consistency, abs=1e-10)


def test_livingston_lewis_falls_back_to_fewer_parameters() -> None:
    # A U-shaped score distribution has a kurtosis no four-parameter beta
    # with limits inside [0, 1] can match: a fallback fit is used.
    scores = np.r_[np.zeros(40), np.ones(10), np.full(10, 9), np.full(40, 10)].astype(int)
    result = livingston_lewis(scores, cut=5, reliability=0.9, max_score=10)
    assert result.n_beta_parameters in (2, 3)
    assert 0 <= result.true_lower < result.true_upper <= 1
    assert result.kappa <= result.consistency


def test_livingston_lewis_bad_input() -> None:
    scores = np.array([3, 5, 7, 8, 2])
    with pytest.raises(ValueError, match="reliability"):
        livingston_lewis(scores, cut=5, reliability=1.0, max_score=10)
    with pytest.raises(ValueError, match="reliability"):
        livingston_lewis(scores, cut=5, reliability=0.0, max_score=10)
    with pytest.raises(ValueError, match="cut"):
        livingston_lewis(scores, cut=0, reliability=0.8, max_score=10)
    with pytest.raises(ValueError, match="cut"):
        livingston_lewis(scores, cut=11, reliability=0.8, max_score=10)
    with pytest.raises(ValueError, match=r"\[min_score, max_score\]"):
        livingston_lewis(np.array([3, 12]), cut=5, reliability=0.8, max_score=10)
    with pytest.raises(ValueError, match="at least 2"):
        livingston_lewis([4], cut=5, reliability=0.8, max_score=10)
    with pytest.raises(ValueError, match="finite"):
        livingston_lewis([4, np.nan], cut=5, reliability=0.8, max_score=10)
    with pytest.raises(ValueError, match="zero variance"):
        livingston_lewis([4, 4, 4], cut=5, reliability=0.8, max_score=10)
    with pytest.raises(ValueError, match="weights"):
        livingston_lewis(scores, cut=5, reliability=0.8, max_score=10, weights=[1, 2])
    with pytest.raises(ValueError, match="weights"):
        livingston_lewis(scores, cut=5, reliability=0.8, max_score=10, weights=[1, -1, 1, 1, 1])
    with pytest.raises(ValueError, match="max_score"):
        livingston_lewis(scores, cut=5, reliability=0.8, max_score=0)


# ---------------------------------------------------------------------------
# IRT classification (Lee 2010)
# ---------------------------------------------------------------------------


def test_irt_classification_brute_force_small_test() -> None:
    """Enumerate all response patterns of a 4-item 2PL test at each node."""
    items = ItemParameters.create(b=[-1.0, 0.0, 0.5, 1.0], a=[1.0, 1.5, 0.8, 1.2], D=1.7)
    nodes = np.linspace(-3, 3, 13)
    weights = sps.norm.pdf(nodes)
    cut = 3
    result = irt_classification(items, cut, theta=nodes, weights=weights)
    p = probability(nodes, items)
    pass_prob = np.zeros(nodes.size)
    for pattern in itertools.product([0, 1], repeat=4):
        u = np.array(pattern)
        like = np.prod(np.where(u == 1, p, 1 - p), axis=1)
        if u.sum() >= cut:
            pass_prob += like
    w = weights / weights.sum()
    true_pass = p.sum(axis=1) >= cut
    consistency = np.sum(w * (pass_prob**2 + (1 - pass_prob) ** 2))
    accuracy = np.sum(w * np.where(true_pass, pass_prob, 1 - pass_prob))
    rate = np.sum(w * pass_prob)
    chance = rate**2 + (1 - rate) ** 2
    assert result.consistency == pytest.approx(consistency, abs=1e-12)
    assert result.accuracy == pytest.approx(accuracy, abs=1e-12)
    assert result.kappa == pytest.approx((consistency - chance) / (1 - chance), abs=1e-12)
    assert result.pass_rate == pytest.approx(rate, abs=1e-12)


def test_irt_classification_agrees_with_simulation() -> None:
    rng = np.random.default_rng(5)
    n, k, cut = 20000, 30, 17
    b = rng.normal(0, 1, k)
    items = ItemParameters.create(b=b)
    theta = rng.normal(0, 1, n)
    p = probability(theta, items)
    t1 = (rng.random(p.shape) < p).sum(axis=1)
    t2 = (rng.random(p.shape) < p).sum(axis=1)
    # P method on the true abilities: only the simulation error remains
    # (SE of a proportion ~ 0.003 at n = 20000): allow 0.01.
    by_person = irt_classification(items, cut, theta=theta)
    assert by_person.consistency == pytest.approx(np.mean((t1 >= cut) == (t2 >= cut)), abs=0.01)
    true_pass = p.sum(axis=1) >= cut
    assert by_person.accuracy == pytest.approx(np.mean((t1 >= cut) == true_pass), abs=0.01)
    # D method with the N(0, 1) quadrature agrees with the P method.
    by_dist = irt_classification(items, cut)
    assert by_dist.consistency == pytest.approx(by_person.consistency, abs=0.01)
    assert by_dist.kappa <= by_dist.consistency
    assert by_dist.accuracy >= by_dist.consistency
    # Invariant to candidate order.
    again = irt_classification(items, cut, theta=theta[rng.permutation(n)])
    assert again.consistency == pytest.approx(by_person.consistency, abs=1e-12)


def test_irt_classification_bad_input() -> None:
    items = ItemParameters.create(b=[0.0, 1.0, -1.0])
    with pytest.raises(ValueError, match="cut"):
        irt_classification(items, 0)
    with pytest.raises(ValueError, match="cut"):
        irt_classification(items, 4)
    with pytest.raises(ValueError, match="theta"):
        irt_classification(items, 2, theta=[0.0, np.nan])
    with pytest.raises(ValueError, match="weights"):
        irt_classification(items, 2, theta=[0.0, 1.0], weights=[1.0])
    with pytest.raises(ValueError, match="weights"):
        irt_classification(items, 2, weights=[1.0])
    with pytest.raises(ValueError, match="ItemParameters"):
        irt_classification([0.0, 1.0], 1)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Haberman PRMSE
# ---------------------------------------------------------------------------


def test_prmse_formula_against_direct_computation() -> None:
    x, _, _ = rasch_data(3000, np.linspace(-1.5, 1.5, 12), seed=2)
    domains = ["a"] * 4 + ["b"] * 8
    result = haberman_prmse(x, domains)
    total = x.sum(axis=1)
    for d, cols in enumerate([slice(0, 4), slice(4, 12)]):
        s = x[:, cols].sum(axis=1)
        rho = cronbach_alpha(x[:, cols])
        cov = np.cov(s, total)
        expected = (cov[0, 1] - (1 - rho) * cov[0, 0]) ** 2 / (rho * cov[0, 0] * cov[1, 1])
        assert result.reliability[d] == pytest.approx(rho, rel=1e-12)
        assert result.prmse_subscore[d] == pytest.approx(rho, rel=1e-12)
        assert result.prmse_total[d] == pytest.approx(expected, rel=1e-12)
    # Unidimensional data: subscores never add value over the total.
    assert not result.adds_value.any()
    assert result.domain_labels == ("a", "b")
    assert result.n_items.tolist() == [4, 8]


def test_prmse_identities() -> None:
    x, _, _ = rasch_data(2000, np.linspace(-1, 1, 10), seed=4)
    # A single domain: s = x, so both PRMSEs equal the reliability.
    one = haberman_prmse(x, ["all"] * 10)
    assert one.prmse_total[0] == pytest.approx(one.prmse_subscore[0], rel=1e-12)
    assert not one.adds_value[0]
    # A perfectly reliable subscore: PRMSE_x = corr(s, x)^2.
    domains = ["a"] * 3 + ["b"] * 7
    perfect = haberman_prmse(x, domains, reliabilities=[1.0, 1.0])
    total = x.sum(axis=1)
    for d, cols in enumerate([slice(0, 3), slice(3, 10)]):
        r = np.corrcoef(x[:, cols].sum(axis=1), total)[0, 1]
        assert perfect.prmse_total[d] == pytest.approx(r**2, rel=1e-12)
    assert perfect.adds_value.all()


def test_prmse_distinct_abilities_add_value() -> None:
    """Two nearly independent abilities: long subscores add value."""
    rng = np.random.default_rng(8)
    n = 4000
    cov = [[1.0, 0.1], [0.1, 1.0]]
    theta = rng.multivariate_normal([0, 0], cov, n)
    b = np.linspace(-1, 1, 20)
    ability = np.repeat(theta, 20, axis=1)
    p = 1 / (1 + np.exp(-(ability - np.tile(b, 2))))
    x = (rng.random(p.shape) < p).astype(int)
    result = haberman_prmse(x, ["a"] * 20 + ["b"] * 20)
    assert result.adds_value.all()
    assert (result.value_added_ratio > 1).all()
    # Invariant to candidate order.
    again = haberman_prmse(x[rng.permutation(n)], ["a"] * 20 + ["b"] * 20)
    assert_allclose(again.prmse_total, result.prmse_total, rtol=1e-10)


def test_prmse_single_item_domain_and_bad_input() -> None:
    x, _, _ = rasch_data(500, np.linspace(-1, 1, 6), seed=1)
    result = haberman_prmse(x, ["a"] * 5 + ["b"])
    assert np.isnan(result.reliability[1]) and np.isnan(result.prmse_total[1])
    assert not result.adds_value[1]
    with pytest.raises(ValueError, match="one label per item"):
        haberman_prmse(x, ["a"] * 5)
    with pytest.raises(ValueError, match="not a str"):
        haberman_prmse(x, "aaaaab")
    with pytest.raises(ValueError, match="one value per domain"):
        haberman_prmse(x, ["a"] * 6, reliabilities=[0.5, 0.5])
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        haberman_prmse(x, ["a"] * 6, reliabilities=[0.0])
    with pytest.raises(ValueError, match="at least 2 candidates"):
        haberman_prmse(x[:1], ["a"] * 6)


def test_results_are_frozen() -> None:
    result = irt_csem(ItemParameters.create(b=[0.0, 1.0]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.csem = np.zeros(3)  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        result.csem[0] = 1.0
