"""Tests for log-linear presmoothing and cubic-spline postsmoothing."""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal
from scipy.interpolate import make_smoothing_spline
from scipy.optimize import brentq

import scoring.equating.smoothing
from scoring.equating import (
    CubicSplinePostsmoothing,
    LogLinearFit,
    cubic_spline_postsmooth,
    equipercentile,
    loglinear_smooth,
    se_equipercentile,
    select_loglinear_degree,
)
from scoring.equating._common import equipercentile_core
from scoring.equating.smoothing import _smoothing_spline_values
from scoring.percentiles import percentile_ranks

DATA = Path(__file__).resolve().parents[3] / "shared" / "psychometrics-data"


def _actmath() -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(DATA / "ACTmath.csv", delimiter=",", skiprows=1, dtype=np.int64)
    return table[:, 1], table[:, 2]


def _raw_moments(freq: np.ndarray, order: int) -> np.ndarray:
    """Mean and central moments 2..order of a distribution on 0..K."""
    p = freq / freq.sum()
    x = np.arange(freq.size, dtype=float)
    mean = p @ x
    return np.array([mean] + [p @ (x - mean) ** c for c in range(2, order + 1)])


def test_doctests() -> None:
    result = doctest.testmod(scoring.equating.smoothing, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# ---------------------------------------------------------------------------
# Log-linear presmoothing
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("degree", [1, 2, 3, 4, 6, 10])
def test_actmath_loglinear_preserves_moments(degree: int) -> None:
    fx, _ = _actmath()
    fit = loglinear_smooth(fx, degree)
    assert isinstance(fit, LogLinearFit)
    assert fit.degree == degree
    assert fit.fitted.sum() == pytest.approx(fx.sum(), rel=1e-10)
    assert np.all(fit.fitted > 0)
    # Holland & Thayer: the first C moments are those of the data. The fit
    # stops when the likelihood equations hold to 1e-12 N, so agreement is
    # to about 1e-10 relative; 1e-7 leaves room for rounding in high moments.
    assert_allclose(_raw_moments(fit.fitted, degree), _raw_moments(fx, degree), rtol=1e-7)
    if degree < 10:
        # ...and only those: the next moment differs.
        nxt = degree + 1
        assert not np.isclose(
            _raw_moments(fit.fitted, nxt)[-1], _raw_moments(fx, nxt)[-1], rtol=1e-4
        )


def test_degree_k_reproduces_data() -> None:
    counts = np.array([3, 8, 15, 30, 42, 37, 22, 11, 5, 2])
    fit = loglinear_smooth(counts, degree=9)
    assert_allclose(fit.fitted, counts, rtol=1e-9)
    assert fit.deviance == pytest.approx(0.0, abs=1e-9)
    # With zero counts the saturated fit approaches them as a limit.
    fx, _ = _actmath()
    assert_allclose(loglinear_smooth(fx, degree=40).fitted, fx, atol=1e-4)


def test_degree_zero_is_uniform() -> None:
    fit = loglinear_smooth([1, 5, 9, 5], 0)
    assert_allclose(fit.fitted, [5, 5, 5, 5])


def test_fit_statistics() -> None:
    counts = np.array([1, 4, 10, 12, 9, 3, 1])
    fits = [loglinear_smooth(counts, c) for c in range(1, 7)]
    # Deviance decreases with the degree; AIC = -2 loglik + 2C.
    assert all(a.deviance >= b.deviance - 1e-9 for a, b in zip(fits, fits[1:], strict=False))
    for fit in fits:
        assert fit.aic == pytest.approx(-2 * fit.loglik + 2 * fit.degree)
        assert fit.bic == pytest.approx(-2 * fit.loglik + fit.degree * np.log(40))
        n = counts[counts > 0]
        saturated = n @ np.log(n / 40)
        assert fit.deviance == pytest.approx(2 * (saturated - fit.loglik), abs=1e-9)


def test_select_degree_minimises_criterion() -> None:
    fx, fy = _actmath()
    for freq in (fx, fy):
        for criterion in ("aic", "bic"):
            best = select_loglinear_degree(freq, 10, criterion=criterion)
            values = [getattr(loglinear_smooth(freq, c), criterion) for c in range(1, 11)]
            assert best.degree == 1 + int(np.argmin(values))


def test_presmoothed_equipercentile() -> None:
    fx, fy = _actmath()
    smoothed = equipercentile(fx, fy, presmooth=6)
    expected = equipercentile_core(
        loglinear_smooth(fx, 6).fitted, loglinear_smooth(fy, 6).fitted
    )
    assert_allclose(smoothed, expected)
    assert np.all(np.diff(smoothed) > 0)
    # Smoothing moves the equivalents only a little in the middle (within the
    # ~.1-.3 sampling standard error of the unsmoothed ones at these scores).
    raw = equipercentile(fx, fy)
    assert np.max(np.abs(smoothed - raw)[10:35]) < 0.3
    # Separate degrees for X and Y.
    both = equipercentile(fx, fy, presmooth=(4, 6))
    assert_allclose(equipercentile(fx, fy, presmooth=[4, 6]), both)
    assert not np.allclose(both, smoothed)


def test_saturated_presmoothing_equals_unsmoothed() -> None:
    rng = np.random.default_rng(5)
    fx = rng.integers(1, 50, size=12)
    fy = rng.integers(1, 50, size=12)
    assert_allclose(
        equipercentile(fx, fy, presmooth=11), equipercentile(fx, fy), atol=1e-7
    )


counts_strategy = hnp.arrays(np.int64, st.integers(3, 30), elements=st.integers(0, 200))


@settings(max_examples=80, deadline=None)
@given(counts_strategy, st.integers(1, 5))
def test_loglinear_preserves_first_c_moments(freq: np.ndarray, degree: int) -> None:
    assume(degree <= freq.size - 1)
    # Enough distinct observed scores for the maximum-likelihood fit to exist.
    assume(int((freq > 0).sum()) >= degree + 1)
    fit = loglinear_smooth(freq, degree)
    assert fit.fitted.sum() == pytest.approx(freq.sum(), rel=1e-9)
    scale = freq.size**np.arange(1, degree + 1)  # moments grow like K^c
    diff = (_raw_moments(fit.fitted, degree) - _raw_moments(freq, degree)) / scale
    assert np.all(np.abs(diff) < 1e-8)


@settings(max_examples=40, deadline=None)
@given(counts_strategy, st.integers(1, 4), st.sampled_from([0.01, 10.0, 1e4]))
def test_loglinear_scales_with_counts(freq: np.ndarray, degree: int, c: float) -> None:
    assume(degree <= freq.size - 1 and int((freq > 0).sum()) >= degree + 1)
    assert_allclose(
        loglinear_smooth(c * freq, degree).fitted,
        c * loglinear_smooth(freq, degree).fitted,
        rtol=1e-6,
        atol=1e-9 * c * freq.sum(),
    )


@settings(max_examples=40, deadline=None)
@given(counts_strategy, counts_strategy, st.integers(1, 4))
def test_presmoothed_equipercentile_monotone(fx: np.ndarray, fy: np.ndarray, c: int) -> None:
    assume(c <= min(fx.size, fy.size) - 1)
    assume(int((fx > 0).sum()) >= c + 1 and int((fy > 0).sum()) >= c + 1)
    e = equipercentile(fx, fy, presmooth=c)
    # Smoothed distributions are positive everywhere: strictly increasing.
    assert np.all(np.diff(e) > 0)


# ---------------------------------------------------------------------------
# Cubic-spline postsmoothing
# ---------------------------------------------------------------------------


def test_actmath_spline_range() -> None:
    fx, fy = _actmath()
    result = cubic_spline_postsmooth(fx, fy, 0.1)
    assert isinstance(result, CubicSplinePostsmoothing)
    # Published ranks: PR(4) = .22 < .5 <= PR(5) = .53, PR(39) = 99.39 <= 99.5 < PR(40).
    assert (result.x_low, result.x_high) == (5, 39)
    ry = percentile_ranks(fy)
    assert ry[result.y_low] >= 0.5 and ry[result.y_low - 1] < 0.5
    assert ry[result.y_high] <= 99.5 and (result.y_high == 40 or ry[result.y_high + 1] > 99.5)


def test_s_zero_reproduces_unsmoothed() -> None:
    fx, fy = _actmath()
    raw = equipercentile(fx, fy)
    result = cubic_spline_postsmooth(fx, fy, 0.0)
    interior = slice(result.x_low, result.x_high + 1)
    # The X-to-Y spline interpolates the unsmoothed equivalents exactly.
    assert_allclose(result.forward[interior], raw[interior], atol=1e-10)
    # The inverse of the interpolating Y-to-X spline is only close to them
    # (it differs from the piecewise-linear inverse between the knots); the
    # ACT data give about .04 at worst, well below the SEs of .1 to .3.
    assert np.max(np.abs(result.equated - raw)[interior]) < 0.06
    assert_allclose(equipercentile(fx, fy, postsmooth=0.0), result.equated)


def test_more_smoothing_departs_more_and_ends_linear() -> None:
    fx, fy = _actmath()
    raw = equipercentile(fx, fy)
    se = se_equipercentile(fx, fy)
    departures = []
    for s in (0.0, 0.05, 0.2, 1.0):
        result = cubic_spline_postsmooth(fx, fy, s)
        interior = slice(result.x_low, result.x_high + 1)
        n = result.x_high - result.x_low + 1
        chi = np.sum(((result.forward - raw) / se)[interior] ** 2) / n
        # Reinsch's constraint is active: the weighted residual equals S.
        assert chi == pytest.approx(s, abs=1e-8)
        departures.append(np.max(np.abs(result.forward - raw)[interior]))
        # Linear from (-.5, -.5) to the first knot (K&B sec. 3.2).
        slope = (result.forward[result.x_low] + 0.5) / (result.x_low + 0.5)
        x = np.arange(result.x_low)
        assert_allclose(result.forward[: result.x_low], -0.5 + slope * (x + 0.5))
        assert np.all(np.diff(result.equated) > 0)
    assert departures == sorted(departures)


def test_huge_s_gives_weighted_line() -> None:
    fx, fy = _actmath()
    result = cubic_spline_postsmooth(fx, fy, 1e6)
    inside = result.forward[result.x_low : result.x_high + 1]
    assert_allclose(np.diff(inside, 2), 0.0, atol=1e-9)


def test_reinsch_spline_matches_scipy_penalised_form() -> None:
    # For the Lagrange multiplier that makes the weighted residual equal S * n,
    # Reinsch's spline is scipy's penalised smoothing spline.
    rng = np.random.default_rng(0)
    x = np.arange(15, dtype=float)
    y = x + np.sin(x) + rng.normal(0, 0.3, 15)
    w = rng.uniform(1, 3, 15)
    values = _smoothing_spline_values(x, y, w, 0.5)
    assert np.sum(w * (y - values) ** 2) / 15 == pytest.approx(0.5, rel=1e-9)

    def excess(log_lam: float) -> float:
        g = make_smoothing_spline(x, y, w, lam=10**log_lam)(x)
        return np.sum(w * (y - g) ** 2) / 15 - 0.5

    log_lam = brentq(excess, -8, 8, xtol=1e-13)
    assert_allclose(make_smoothing_spline(x, y, w, lam=10**log_lam)(x), values, atol=1e-7)


def test_postsmoothing_symmetric_average() -> None:
    fx, fy = _actmath()
    result = cubic_spline_postsmooth(fx, fy, 0.2)
    assert_allclose(result.equated, (result.forward + result.inverse_backward) / 2)
    backward = cubic_spline_postsmooth(fy, fx, 0.2)
    # inverse_backward inverts the Y-to-X spline d_X: d_X(inverse_backward(x)) = x.
    # d_X is known here at integer y only (backward.forward), so it is
    # interpolated linearly, which is accurate to a few hundredths.
    # Scores 0 and 40 map outside the integer grid 0..40 and are left out.
    x = np.arange(1, 40)
    recovered = np.interp(result.inverse_backward[1:40], np.arange(41), backward.forward)
    assert np.max(np.abs(recovered - x)) < 0.05
    with pytest.raises(ValueError):
        result.equated[0] = 0.0


def test_tiny_distributions() -> None:
    # A single candidate in each group: one knot, linear ends only.
    result = cubic_spline_postsmooth([0, 1, 0], [0, 0, 1, 0], 0.5)
    assert (result.x_low, result.x_high) == (1, 1)
    # Linear from (-.5, -.5) to (1, 2.0) and from (1, 2.0) to (Kx + .5, Ky + .5) = (2.5, 3.5).
    assert_allclose(result.forward, [-0.5 + 2.5 * 0.5 / 1.5, 2.0, 3.0], atol=1e-12)
    assert np.all(np.isfinite(result.equated))
    # Two score points.
    result = cubic_spline_postsmooth([5, 5], [3, 7], 0.1)
    assert np.all(np.isfinite(result.equated)) and np.all(np.diff(result.equated) > 0)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([1, 2, 3], 3), "degree must be an integer between 0 and K=2"),
        (([1, 2, 3], 1.5), "degree"),
        (([1, 2, 3], True), "degree"),
        (([1, 2, 3], None), "degree"),
        (([1, np.nan, 3], 1), "nan"),
        (([0, 0, 0], 1), "no candidates"),
    ],
)
def test_loglinear_bad_input(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        loglinear_smooth(*args)


def test_loglinear_non_convergence_is_reported() -> None:
    with pytest.raises(ValueError, match="did not converge in 1 iterations"):
        loglinear_smooth([1, 4, 10, 12, 9, 3, 1], 4, max_iter=1)
    with pytest.raises(ValueError, match="max_iter"):
        loglinear_smooth([1, 4, 10], 1, max_iter=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"freq": [5]}, "at least two score points"),
        ({"freq": [1, 2, 3], "max_degree": 3}, "max_degree"),
        ({"freq": [1, 2, 3], "criterion": "r2"}, "criterion"),
        ({"freq": [1, 2, 3], "max_degree": 1.5}, "max_degree"),
    ],
)
def test_select_degree_bad_input(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        select_loglinear_degree(**kwargs)


@pytest.mark.parametrize("s", [-1.0, float("inf"), float("nan"), "smooth"])
def test_postsmooth_bad_s(s: object) -> None:
    with pytest.raises(ValueError, match="s must be a non-negative"):
        cubic_spline_postsmooth([1, 2, 3], [3, 2, 1], s)  # type: ignore[arg-type]


def test_postsmooth_bad_counts() -> None:
    with pytest.raises(ValueError, match=r"fy\[0\] is -1.0"):
        cubic_spline_postsmooth([1, 2, 3], [-1, 2, 1], 0.1)
    assert_array_equal(cubic_spline_postsmooth([1, 2, 3], [3, 2, 1], 0).s, 0.0)
