"""Tests for random-groups equating: mean, linear, equipercentile, standard errors."""

from __future__ import annotations

import dataclasses
import doctest
import functools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal

import scoring.equating
import scoring.equating._common
import scoring.equating.bootstrap
import scoring.equating.random_groups
from scoring.equating import (
    BootstrapSE,
    LinearEquating,
    bootstrap_se,
    equipercentile,
    frequency_moments,
    linear,
    mean_equating,
    se_equipercentile,
    se_linear,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "psychometrics-data"


def _actmath() -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(DATA / "ACTmath.csv", delimiter=",", skiprows=1, dtype=np.int64)
    assert_array_equal(table[:, 0], np.arange(41))
    return table[:, 1], table[:, 2]


counts = hnp.arrays(np.int64, st.integers(2, 30), elements=st.integers(0, 50))


def _varied(freq: np.ndarray) -> bool:
    """At least two distinct observed scores (positive variance)."""
    return int((freq > 0).sum()) >= 2


@pytest.mark.parametrize(
    "module",
    [scoring.equating._common, scoring.equating.random_groups, scoring.equating.bootstrap],
)
def test_doctests(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_api_contract_names() -> None:
    for name in scoring.equating.__all__:
        assert hasattr(scoring.equating, name), name
    for name in (
        "LinearEquating", "linear", "equipercentile", "tucker", "levine_observed",
        "levine_true", "chained_linear", "chained_equipercentile", "frequency_estimation",
    ):  # fmt: skip
        assert name in scoring.equating.__all__


# ---------------------------------------------------------------------------
# Published values: ACT Mathematics (Kolen & Brennan 2014, ch. 2)
# ---------------------------------------------------------------------------


def test_actmath_moments() -> None:
    fx, fy = _actmath()
    mx, my = frequency_moments(fx), frequency_moments(fy)
    assert (mx.n, my.n) == (4329, 4152)
    # Published to 4 decimals: agreement to half a unit in the last digit.
    assert mx.mean == pytest.approx(19.8524, abs=5e-5)
    assert mx.sd == pytest.approx(8.2116, abs=5e-5)
    assert my.mean == pytest.approx(18.9798, abs=5e-5)
    assert my.sd == pytest.approx(8.9393, abs=5e-5)


def test_actmath_linear() -> None:
    fx, fy = _actmath()
    result = linear(fx, fy)
    assert isinstance(result, LinearEquating)
    # Published to 4 decimals (K&B ch. 2).
    assert result.slope == pytest.approx(1.0886, abs=5e-5)
    assert result.intercept == pytest.approx(-2.6319, abs=5e-5)
    assert result(20.0) == pytest.approx(result.slope * 20 + result.intercept)


def test_actmath_equipercentile() -> None:
    fx, fy = _actmath()
    e = equipercentile(fx, fy)
    assert e.shape == (41,)
    # Published to 4 decimals (K&B ch. 2, unsmoothed).
    assert e[10] == pytest.approx(8.1607, abs=5e-5)
    assert e[20] == pytest.approx(19.1647, abs=5e-5)
    assert e[30] == pytest.approx(30.1305, abs=5e-5)
    moments = frequency_moments(fx, scores=e)
    assert moments.mean == pytest.approx(18.9799, abs=5e-5)
    assert moments.sd == pytest.approx(8.9352, abs=5e-5)


def test_kolen_brennan_hypothetical_equipercentile() -> None:
    # K&B table 2.2, published e_Y(x) = .5, 1.75, 2.8333, 3.5, 4.25 (4 decimals).
    e = equipercentile([2, 3, 2, 2, 1], [1, 2, 2, 3, 2])
    assert_allclose(e, [0.5, 1.75, 2.8333, 3.5, 4.25], atol=5e-5)
    # The same with relative frequencies instead of counts.
    assert_allclose(equipercentile([0.2, 0.3, 0.2, 0.2, 0.1], [0.1, 0.2, 0.2, 0.3, 0.2]), e)


def test_mean_equating() -> None:
    fx, fy = _actmath()
    m = mean_equating(fx, fy)
    assert m.slope == 1.0
    assert m.intercept == pytest.approx(18.97976878612716 - 19.85239085239085, abs=1e-12)


# ---------------------------------------------------------------------------
# Conventions and edge cases
# ---------------------------------------------------------------------------


def test_equipercentile_end_conventions() -> None:
    # X scores 0 and 4 unobserved: PR(0) = 0 and PR(4) = 100.
    fx = [0, 2, 5, 3, 0]
    fy = [0, 0, 3, 4, 3, 0]
    e = equipercentile(fx, fy)
    assert e[0] == pytest.approx(2 - 0.5)  # lowest observed Y score - .5 (K&B formula)
    assert e[4] == pytest.approx(5 + 0.5)  # K_Y + .5 (K&B)
    assert np.all(np.diff(e) >= 0)


def test_equipercentile_upper_solution_at_empty_y_scores() -> None:
    # G(1) = .5 exactly and nobody scored y = 2: for P* = .5 the smallest
    # y with G(y) > .5 is 3, so e = 3 - .5 (K&B eq. 2.18).
    e = equipercentile([1, 0, 1], [2, 3, 0, 5])
    assert e[1] == pytest.approx(2.5)


def test_single_candidate_each() -> None:
    e = equipercentile([0, 1, 0], [0, 0, 1, 0])
    assert_allclose(e, [1.5, 2.0, 3.5])
    with pytest.raises(ValueError, match="fx has zero variance"):
        linear([0, 1, 0], [0, 0, 1, 0])


def test_all_right_candidates() -> None:
    # Everybody has the maximum score on both forms: a finite, documented result.
    e = equipercentile([0, 0, 0, 5], [0, 0, 7])
    assert_allclose(e, [1.5, 1.5, 1.5, 2.0])
    assert mean_equating([0, 0, 0, 5], [0, 0, 7]).intercept == pytest.approx(-1.0)


def test_linear_equating_object() -> None:
    eq_fn = LinearEquating(2.0, 1.0)
    assert_allclose(eq_fn(np.array([[0.0, 1.0]])), [[1.0, 3.0]])
    inverse = eq_fn.inverse()
    assert inverse.slope == 0.5 and inverse.intercept == -0.5
    with pytest.raises(dataclasses.FrozenInstanceError):
        eq_fn.slope = 3.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="non-zero"):
        LinearEquating(0.0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        LinearEquating(np.nan, 1.0)


# ---------------------------------------------------------------------------
# Standard errors
# ---------------------------------------------------------------------------


def test_se_linear_normal_formula() -> None:
    fx, fy = _actmath()
    mx, my = frequency_moments(fx), frequency_moments(fy)
    z = (np.arange(41) - mx.mean) / mx.sd
    # K&B normal-theory formula: var = sigma_Y^2 (1/N_X + 1/N_Y)(1 + z^2 / 2).
    expected = np.sqrt(my.sd**2 * (1 / mx.n + 1 / my.n) * (1 + z**2 / 2))
    assert_allclose(se_linear(fx, fy, normal=True), expected, rtol=1e-12)


def test_bootstrap_agrees_with_delta_method() -> None:
    fx, fy = _actmath()
    boot_lin = bootstrap_se(linear, fx, fy, n_boot=1000, seed=20240501)
    # With 1000 replicates a bootstrap SE has a relative Monte Carlo error of
    # about 1/sqrt(2 * 1000) = 2.2%; 8% is a loose bound for the linear case.
    assert_allclose(boot_lin.se, se_linear(fx, fy), rtol=0.08)
    boot_eq = bootstrap_se(equipercentile, fx, fy, n_boot=1000, seed=20240501)
    analytic = se_equipercentile(fx, fy)
    interior = slice(8, 38)  # PR between about 4 and 98; sparse tails are rougher
    ratio = boot_eq.se[interior] / analytic[interior]
    # The delta method is a large-sample approximation of a non-smooth
    # function: allow 20% at each score and 5% on average.
    assert np.all(np.abs(ratio - 1) < 0.2)
    assert abs(ratio.mean() - 1) < 0.05


def test_bootstrap_result_and_reproducibility() -> None:
    fx, fy = _actmath()
    a = bootstrap_se(equipercentile, fx, fy, n_boot=50, seed=7)
    b = bootstrap_se(equipercentile, fx, fy, n_boot=50, seed=np.random.default_rng(7))
    c = bootstrap_se(equipercentile, fx, fy, n_boot=50, seed=8)
    assert isinstance(a, BootstrapSE)
    assert a.n_boot == 50 and a.replicates.shape == (50, 41)
    assert_array_equal(a.se, b.se)
    assert not np.array_equal(a.se, c.se)
    assert_allclose(a.estimate, equipercentile(fx, fy))
    assert_allclose(a.se, a.replicates.std(axis=0, ddof=1))
    with pytest.raises(ValueError):
        a.se[0] = 0.0


def test_bootstrap_with_presmoothing() -> None:
    fx, fy = _actmath()
    smoothed = functools.partial(equipercentile, presmooth=6)
    raw = bootstrap_se(equipercentile, fx, fy, n_boot=100, seed=1)
    smooth = bootstrap_se(smoothed, fx, fy, n_boot=100, seed=1)
    # Smoothing reduces random error (K&B ch. 3); compare on average over the
    # interior scores.
    assert smooth.se[8:38].mean() < raw.se[8:38].mean()


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(counts)
def test_equipercentile_of_form_to_itself_is_identity(freq: np.ndarray) -> None:
    assume(freq.sum() > 0)
    e = equipercentile(freq, freq)
    observed = freq > 0
    assert_allclose(e[observed], np.arange(freq.size)[observed], atol=1e-9)


@settings(max_examples=150, deadline=None)
@given(counts)
def test_linear_of_form_to_itself_is_identity(freq: np.ndarray) -> None:
    assume(_varied(freq))
    eq_fn = linear(freq, freq)
    assert eq_fn.slope == pytest.approx(1.0, abs=1e-12)
    assert eq_fn.intercept == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(counts, counts)
def test_linear_y_to_x_inverts_x_to_y(fx: np.ndarray, fy: np.ndarray) -> None:
    assume(_varied(fx) and _varied(fy))
    forward = linear(fx, fy)
    backward = linear(fy, fx)
    inverse = forward.inverse()
    assert backward.slope == pytest.approx(inverse.slope, rel=1e-10)
    assert backward.intercept == pytest.approx(inverse.intercept, rel=1e-9, abs=1e-9)
    x = np.arange(fx.size, dtype=float)
    assert_allclose(backward(forward(x)), x, atol=1e-9)


@settings(max_examples=150, deadline=None)
@given(counts, counts)
def test_equipercentile_non_decreasing_and_in_range(fx: np.ndarray, fy: np.ndarray) -> None:
    assume(fx.sum() > 0 and fy.sum() > 0)
    e = equipercentile(fx, fy)
    assert np.all(np.diff(e) >= -1e-12)
    assert np.all((e >= -0.5) & (e <= fy.size - 0.5))


@settings(max_examples=100, deadline=None)
@given(counts, counts, st.sampled_from([0.01, 0.5, 3.0, 1e4]))
def test_invariant_to_scaling_all_counts(fx: np.ndarray, fy: np.ndarray, c: float) -> None:
    assume(fx.sum() > 0 and fy.sum() > 0)
    assert_allclose(equipercentile(c * fx, c * fy), equipercentile(fx, fy), atol=1e-9)
    assert mean_equating(c * fx, c * fy).intercept == pytest.approx(
        mean_equating(fx, fy).intercept, abs=1e-9
    )
    if _varied(fx) and _varied(fy):
        a, b = linear(c * fx, c * fy), linear(fx, fy)
        assert a.slope == pytest.approx(b.slope, rel=1e-9)
        assert a.intercept == pytest.approx(b.intercept, abs=1e-8)


@settings(max_examples=60, deadline=None)
@given(counts, counts)
def test_analytic_se_finite_inside(fx: np.ndarray, fy: np.ndarray) -> None:
    assume(_varied(fx) and _varied(fy))
    se = se_equipercentile(fx, fy)
    ranks = scoring.percentiles.percentile_ranks(fx)
    inside = (ranks > 0) & (ranks < 100)
    assert np.all(np.isfinite(se[inside]) & (se[inside] >= 0))
    assert np.all(np.isnan(se[~inside]))


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("function", [linear, mean_equating, equipercentile, se_equipercentile])
@pytest.mark.parametrize(
    ("fx", "fy", "message"),
    [
        ([], [1, 2], "fx is empty"),
        ([1, 2], [[1, 2]], "fy must be 1-D"),
        ([1, np.nan], [1, 2], r"fx\[1\] is nan"),
        ([1, 2], [3, -1], r"fy\[1\] is -1.0; counts must not be negative"),
        ([0, 0], [1, 2], "fx has no candidates"),
        (["x", "y"], [1, 2], "fx must hold numeric counts"),
    ],
)
def test_bad_frequencies(function, fx, fy, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        function(fx, fy)


def test_zero_variance_y() -> None:
    with pytest.raises(ValueError, match="fy has zero variance"):
        linear([1, 2, 3], [0, 4, 0])
    with pytest.raises(ValueError, match="fy has zero variance"):
        se_linear([1, 2, 3], [0, 4, 0])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"presmooth": 9}, "degree must be an integer between 0 and K=4"),
        ({"presmooth": (2, 3, 4)}, "presmooth must be a degree or a pair"),
        ({"presmooth": -1}, "degree"),
        ({"presmooth": "2"}, "degree"),
        ({"presmooth": 2.0}, "degree"),
        ({"postsmooth": -0.1}, "s must be a non-negative"),
        ({"postsmooth": float("nan")}, "s must be a non-negative"),
    ],
)
def test_bad_smoothing_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        equipercentile([2, 3, 2, 2, 1], [1, 2, 2, 3, 2], **kwargs)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((linear, [1.5, 2], [1, 2]), {}, "integer counts"),
        ((linear, [1, 2], [[1, 2]]), {}, "both be 1-D"),
        ((linear, [1, 2], [1, 2]), {"n_boot": 1}, "n_boot"),
        ((linear, [1, 2], [1, 2]), {"n_boot": 2.5}, "n_boot"),
        (("linear", [1, 2], [1, 2]), {}, "callable"),
        ((lambda a, b: np.zeros(3), [1, 2], [1, 2]), {}, r"shape \(2,\)"),
        ((linear, [0, 3], [1, 2]), {}, "fx has zero variance"),
        ((linear, [1, 2], [1, 2]), {"seed": None}, "seed must be an integer"),
        ((linear, [1, 2], [1, 2]), {"seed": 1.5}, "seed must be an integer"),
    ],
)
def test_bootstrap_bad_input(args: tuple, kwargs: dict, message: str) -> None:
    kwargs = {"seed": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        bootstrap_se(*args, **kwargs)


def test_bootstrap_failure_on_replicate_is_reported() -> None:
    # With 2 candidates, some replicates draw the same score twice: zero variance.
    with pytest.raises(ValueError, match="bootstrap replicate"):
        bootstrap_se(linear, [1, 1], [1, 1], n_boot=200, seed=0)
