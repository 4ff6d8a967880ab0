"""Tests for NEAT (common-item nonequivalent groups) equating."""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal

import scoring.equating.neat
from scoring.equating import (
    LinearEquating,
    SyntheticLinear,
    bivariate_frequencies,
    bootstrap_se,
    chained_equipercentile,
    chained_linear,
    equipercentile,
    frequency_estimation,
    frequency_moments,
    levine_observed,
    levine_true,
    synthetic_distributions,
    synthetic_linear,
    tucker,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "psychometrics-data"

# Half a unit in the 4th decimal: the published values are rounded to 4 decimals.
PUBLISHED_4 = 5e-5


def _kbneat() -> tuple[np.ndarray, np.ndarray]:
    x = np.loadtxt(DATA / "KBneat_x.csv", delimiter=",", skiprows=1, dtype=np.int64)
    y = np.loadtxt(DATA / "KBneat_y.csv", delimiter=",", skiprows=1, dtype=np.int64)
    assert x.shape == (1655, 2) and y.shape == (1638, 2)
    fxv = bivariate_frequencies(x[:, 0], x[:, 1], max_total=36, max_anchor=12)
    fyv = bivariate_frequencies(y[:, 0], y[:, 1], max_total=36, max_anchor=12)
    return fxv, fyv


# K&B ch. 5 hypothetical frequency-estimation example (joint proportions x 100).
FE_P = np.array(
    [[4, 4, 2, 0], [4, 8, 2, 1], [6, 12, 5, 2], [3, 12, 5, 5], [2, 3, 4, 6], [1, 1, 2, 6]]
)
FE_Q = np.array(
    [[4, 3, 1, 0], [7, 5, 7, 1], [3, 5, 12, 2], [3, 4, 13, 5], [2, 2, 5, 6], [1, 1, 2, 6]]
)


def test_doctests() -> None:
    result = doctest.testmod(scoring.equating.neat, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# ---------------------------------------------------------------------------
# Published values: KBneat (Kolen & Brennan 2014, ch. 4 and 5)
# ---------------------------------------------------------------------------


def test_kbneat_tables_and_summary() -> None:
    fxv, fyv = _kbneat()
    assert fxv.shape == fyv.shape == (37, 13)
    assert fxv.sum() == 1655 and fyv.sum() == 1638
    # Summary statistics of the README (population SDs, 4 decimals).
    for table, axis, mean, sd in (
        (fxv, 1, 15.8205, 6.5278),
        (fxv, 0, 5.1063, 2.3760),
        (fyv, 1, 18.6728, 6.8784),
        (fyv, 0, 5.8626, 2.4515),
    ):
        m = frequency_moments(table.sum(axis=axis))
        assert m.mean == pytest.approx(mean, abs=PUBLISHED_4)
        assert m.sd == pytest.approx(sd, abs=PUBLISHED_4)


@pytest.mark.parametrize(
    ("method", "w1", "slope", "intercept"),
    [
        (tucker, 1.0, 1.0289, 0.5368),
        (tucker, None, 1.0292, 0.5378),
        (levine_observed, 1.0, 1.0112, 0.2513),
        (levine_observed, None, 1.0110, 0.2514),
    ],
)
def test_kbneat_synthetic_linear_methods(method, w1, slope, intercept) -> None:
    fxv, fyv = _kbneat()
    result = method(fxv, fyv, w1=w1)
    assert isinstance(result, LinearEquating)
    assert result.slope == pytest.approx(slope, abs=PUBLISHED_4)
    assert result.intercept == pytest.approx(intercept, abs=PUBLISHED_4)


def test_kbneat_levine_true_and_chained_linear() -> None:
    fxv, fyv = _kbneat()
    levine = levine_true(fxv, fyv)
    assert levine.slope == pytest.approx(1.0086, abs=PUBLISHED_4)
    assert levine.intercept == pytest.approx(0.2912, abs=PUBLISHED_4)
    chained = chained_linear(fxv, fyv)
    assert chained.slope == pytest.approx(1.0213, abs=PUBLISHED_4)
    assert chained.intercept == pytest.approx(0.3937, abs=PUBLISHED_4)


def test_kbneat_external_anchor_levine() -> None:
    # Values from the test suite of Equate.jl, reproduced independently (README).
    fxv, fyv = _kbneat()
    observed = levine_observed(fxv, fyv, anchor="external")
    assert observed.slope == pytest.approx(1.0168, abs=PUBLISHED_4)
    assert observed.intercept == pytest.approx(0.3257, abs=PUBLISHED_4)
    true = levine_true(fxv, fyv, anchor="external")
    assert true.slope == pytest.approx(1.0165, abs=PUBLISHED_4)
    assert true.intercept == pytest.approx(0.3310, abs=PUBLISHED_4)


def test_kbneat_chained_equipercentile() -> None:
    fxv, fyv = _kbneat()
    e = chained_equipercentile(fxv, fyv)
    assert e.shape == (37,)
    assert_allclose(e[34:], [34.3125, 35.4125, 36.0938], atol=PUBLISHED_4)
    assert np.all(np.diff(e) >= 0)


def test_proportional_weight_and_synthetic_details() -> None:
    fxv, fyv = _kbneat()
    details = synthetic_linear(fxv, fyv, "tucker")
    assert isinstance(details, SyntheticLinear)
    assert details.w1 == pytest.approx(1655 / 3293, abs=1e-15)  # 0.50258 in the README
    assert details.equating == tucker(fxv, fyv)
    # The slope is the ratio of the synthetic SDs, and the synthetic means map.
    assert details.equating.slope == pytest.approx(details.sd_y / details.sd_x)
    assert details.equating(details.mean_x) == pytest.approx(details.mean_y)
    # With w1 = 1 the synthetic population is P: X keeps its moments.
    p_only = synthetic_linear(fxv, fyv, "levine", w1=1.0)
    mx = frequency_moments(fxv.sum(axis=1))
    assert p_only.mean_x == pytest.approx(mx.mean) and p_only.sd_x == pytest.approx(mx.sd)


def test_frequency_estimation_hypothetical_example() -> None:
    # K&B ch. 5, w1 = 1, published to two decimals.
    e = frequency_estimation(FE_P, FE_Q, w1=1.0)
    assert_array_equal(np.round(e, 2), [-0.02, 0.83, 1.76, 2.92, 3.98, 5.00])
    assert_allclose(e, [-0.02, 0.83, 1.76, 2.92, 3.98, 5.00], atol=0.005)


def test_frequency_estimation_synthetic_distributions() -> None:
    # With w1 = 1: f_s = f_1 and g_s(y) = sum_v g_2(y | v) h_1(v) (K&B ch. 5).
    synthetic = synthetic_distributions(FE_P, FE_Q, w1=1.0)
    assert_allclose(synthetic.fx, FE_P.sum(axis=1) / 100)
    h1 = FE_P.sum(axis=0) / 100
    conditional = FE_Q / FE_Q.sum(axis=0)
    assert_allclose(synthetic.fy, conditional @ h1)
    assert synthetic.fy.sum() == pytest.approx(1.0)
    assert_allclose(
        frequency_estimation(FE_P, FE_Q, w1=1.0), equipercentile(synthetic.fx, synthetic.fy)
    )


def test_frequency_estimation_zero_anchor_frequency() -> None:
    # Anchor score 3 is never observed in Q: h_2(3) = 0 is harmless; anchor
    # score 0 is never observed in P: Q's anchor probability at 0 is dropped
    # and the rest renormalised when transferring P's conditionals (documented).
    p = FE_P.copy()
    p[:, 0] = 0
    q = FE_Q.copy()
    q[:, 3] = 0
    synthetic = synthetic_distributions(p, q, w1=0.5)
    h2 = q.sum(axis=0) / q.sum()
    seen_in_p = p.sum(axis=0) > 0
    h2_used = np.where(seen_in_p, h2, 0) / h2[seen_in_p].sum()
    f2 = (p / np.maximum(p.sum(axis=0), 1)) @ h2_used
    f1 = p.sum(axis=1) / p.sum()
    assert_allclose(synthetic.fx, 0.5 * f1 + 0.5 * f2)
    assert synthetic.fx.sum() == pytest.approx(1.0)
    assert synthetic.fy.sum() == pytest.approx(1.0)
    e = frequency_estimation(p, q, w1=0.5)
    assert np.all(np.isfinite(e)) and np.all(np.diff(e) >= 0)


def test_kbneat_frequency_estimation_sanity() -> None:
    # No published frequency-estimation values for KBneat are in the README;
    # check the known structure instead (K&B ch. 5): frequency estimation rests
    # on the same conditional-distribution assumption as Tucker and tracks it,
    # chained equipercentile tracks chained linear, and for these groups the
    # frequency-estimation results lie above the chained ones on average.
    fxv, fyv = _kbneat()
    x = np.arange(37)
    fe = frequency_estimation(fxv, fyv)
    ce = chained_equipercentile(fxv, fyv)
    assert fe.shape == (37,) and np.all(np.diff(fe) >= 0)
    middle = slice(10, 30)
    assert abs(np.mean(fe[middle] - tucker(fxv, fyv)(x)[middle])) < 0.1
    assert abs(np.mean(ce[middle] - chained_linear(fxv, fyv)(x)[middle])) < 0.1
    assert np.mean(fe[middle] - ce[middle]) > 0.1


def test_bootstrap_neat() -> None:
    fxv, fyv = _kbneat()
    result = bootstrap_se(tucker, fxv, fyv, n_boot=100, seed=11)
    assert result.se.shape == (37,)
    assert np.all(result.se > 0)
    assert_allclose(result.estimate, tucker(fxv, fyv)(np.arange(37)))
    # A linear method's SE is smallest near the middle of the distribution.
    assert result.se[16] < result.se[0] and result.se[16] < result.se[36]
    fe = bootstrap_se(frequency_estimation, fxv, fyv, n_boot=50, seed=11)
    assert np.all(np.isfinite(fe.se))


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@st.composite
def internal_tables(draw: st.DrawFn, kv: int | None = None) -> np.ndarray:
    """A (total, anchor) table with an internal anchor: total = anchor + unique part."""
    if kv is None:
        kv = draw(st.integers(1, 5))
    ku = draw(st.integers(1, 8))
    parts = draw(hnp.arrays(np.int64, (kv + 1, ku + 1), elements=st.integers(0, 20)))
    table = np.zeros((kv + ku + 1, kv + 1), dtype=np.int64)
    v, u = np.meshgrid(np.arange(kv + 1), np.arange(ku + 1), indexing="ij")
    np.add.at(table, (v + u, v), parts)
    return table


@st.composite
def table_pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Tables of P and Q sharing the same anchor (same number of anchor columns)."""
    kv = draw(st.integers(1, 5))
    return draw(internal_tables(kv)), draw(internal_tables(kv))


def _usable(table: np.ndarray) -> bool:
    """Positive anchor variance, total variance and total-anchor covariance."""
    n = table.sum()
    if n == 0:
        return False
    p = table / n
    x, v = np.arange(table.shape[0]), np.arange(table.shape[1])
    mx, mv = p.sum(1) @ x, p.sum(0) @ v
    var_v = p.sum(0) @ (v - mv) ** 2
    var_x = p.sum(1) @ (x - mx) ** 2
    cov = (x - mx) @ p @ (v - mv)
    return bool(var_v > 1e-6 and var_x > 1e-6 and cov > 1e-6)


LINEAR_METHODS = [tucker, levine_observed, levine_true, chained_linear]


@settings(max_examples=60, deadline=None)
@given(internal_tables(), st.sampled_from(["internal", "external"]))
def test_identical_populations_give_identity(table: np.ndarray, anchor: str) -> None:
    assume(_usable(table))
    for method in (tucker, levine_observed):
        eq_fn = method(table, table, anchor=anchor)
        assert eq_fn.slope == pytest.approx(1.0, abs=1e-9)
        assert eq_fn.intercept == pytest.approx(0.0, abs=1e-8)
    eq_fn = levine_true(table, table, anchor=anchor)
    assert (eq_fn.slope, eq_fn.intercept) == pytest.approx((1.0, 0.0), abs=1e-8)
    eq_fn = chained_linear(table, table)
    assert (eq_fn.slope, eq_fn.intercept) == pytest.approx((1.0, 0.0), abs=1e-8)
    observed = table.sum(axis=1) > 0
    x = np.arange(table.shape[0])
    for method in (frequency_estimation, chained_equipercentile):
        e = method(table, table)
        assert_allclose(e[observed], x[observed], atol=1e-8)


@settings(max_examples=60, deadline=None)
@given(table_pairs(), st.floats(0, 1))
def test_linear_methods_are_symmetric(pair: tuple[np.ndarray, np.ndarray], w1: float) -> None:
    # Equating Y to X with the roles of P and Q swapped (and the weight of P
    # kept) inverts the equating of X to Y.
    p, q = pair
    assume(_usable(p) and _usable(q))
    pairs = [
        (tucker(p, q, w1=w1), tucker(q, p, w1=1 - w1)),
        (chained_linear(p, q), chained_linear(q, p)),
    ]
    try:
        pairs.append((levine_observed(p, q, w1=w1), levine_observed(q, p, w1=1 - w1)))
        pairs.append((levine_true(p, q), levine_true(q, p)))
    except ValueError:
        pass  # synthetic variance not positive for this draw
    for forward, backward in pairs:
        inverse = forward.inverse()
        assert backward.slope == pytest.approx(inverse.slope, rel=1e-8)
        assert backward.intercept == pytest.approx(inverse.intercept, rel=1e-7, abs=1e-7)


@settings(max_examples=60, deadline=None)
@given(table_pairs(), st.sampled_from([0.01, 7.0, 1e3]))
def test_invariant_to_scaling_all_counts(pair: tuple[np.ndarray, np.ndarray], c: float) -> None:
    p, q = pair
    assume(_usable(p) and _usable(q))
    for method in (tucker, chained_linear):
        a, b = method(p, q), method(c * p, c * q)
        assert b.slope == pytest.approx(a.slope, rel=1e-9)
        assert b.intercept == pytest.approx(a.intercept, rel=1e-8, abs=1e-8)
    for method in (frequency_estimation, chained_equipercentile):
        assert_allclose(method(c * p, c * q), method(p, q), atol=1e-8)


@settings(max_examples=60, deadline=None)
@given(table_pairs(), st.floats(0, 1))
def test_equipercentile_methods_non_decreasing(
    pair: tuple[np.ndarray, np.ndarray], w1: float
) -> None:
    p, q = pair
    assume(p.sum() > 0 and q.sum() > 0)
    ky = q.shape[0] - 1
    try:
        fe = frequency_estimation(p, q, w1=w1)
    except ValueError as exc:  # no anchor score observed in both populations
        assert "no anchor score" in str(exc)
    else:
        assert np.all(np.diff(fe) >= -1e-12) and np.all((fe >= -0.5) & (fe <= ky + 0.5))
    ce = chained_equipercentile(p, q)
    assert np.all(np.diff(ce) >= -1e-12) and np.all((ce >= -0.5) & (ce <= ky + 0.5))


@settings(max_examples=30, deadline=None)
@given(
    hnp.arrays(np.int64, st.integers(1, 100), elements=st.integers(0, 10)),
    st.randoms(),
)
def test_tables_invariant_to_candidate_order(anchor: np.ndarray, rnd) -> None:
    total = anchor + 3
    order = list(range(anchor.size))
    rnd.shuffle(order)
    a = bivariate_frequencies(total, anchor, 13, 10)
    b = bivariate_frequencies(total[order], anchor[order], 13, 10)
    assert_array_equal(a, b)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------

ALL_METHODS = [
    tucker, levine_observed, levine_true, chained_linear, chained_equipercentile,
    frequency_estimation,
]  # fmt: skip


@pytest.mark.parametrize("method", ALL_METHODS)
@pytest.mark.parametrize(
    ("p", "q", "message"),
    [
        ([1, 2, 3], [[1, 2]], "fxv must be a 2-D table"),
        ([[1, 2], [3, 4]], [[1, 2, 3], [1, 2, 3]], "same number of anchor-score columns"),
        ([[1, np.nan], [3, 4]], [[1, 2], [3, 4]], r"fxv\[0, 1\] is nan"),
        ([[1, 2], [3, 4]], [[1, -2], [3, 4]], r"fyv\[0, 1\] is -2.0; counts must not be negative"),
        ([[0, 0], [0, 0]], [[1, 2], [3, 4]], "fxv has no candidates"),
        (np.zeros((0, 2)), [[1, 2], [3, 4]], "fxv is empty"),
    ],
)
def test_bad_tables(method, p, q, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        method(p, q)


@pytest.mark.parametrize("method", [tucker, levine_observed, levine_true])
def test_bad_anchor_argument(method) -> None:
    with pytest.raises(ValueError, match="anchor must be 'internal' or 'external'"):
        method(FE_P, FE_Q, anchor="common")


@pytest.mark.parametrize("method", [tucker, levine_observed, frequency_estimation])
@pytest.mark.parametrize("w1", [-0.1, 1.5, float("nan"), "half"])
def test_bad_weight(method, w1) -> None:
    # The hypothetical tables are valid for an external anchor only.
    kwargs = {} if method is frequency_estimation else {"anchor": "external"}
    with pytest.raises(ValueError, match="w1 must be"):
        method(FE_P, FE_Q, w1=w1, **kwargs)


def test_internal_anchor_longer_than_form() -> None:
    p = np.ones((3, 5))  # Kx = 2 < Kv = 4
    with pytest.raises(ValueError, match="internal anchor cannot have more items"):
        tucker(p, p)
    # Fine as an external anchor.
    assert isinstance(tucker(p + np.eye(3, 5), p, anchor="external"), LinearEquating)


def test_internal_anchor_accepts_cells_real_data_cannot_have() -> None:
    # The hypothetical example has anchor scores above totals (x = 0, v = 1), impossible
    # with an internal anchor, yet the formulas are defined: Tucker does not depend on the
    # anchor type, and internal-anchor Levine differs from external-anchor Levine.
    internal, external = tucker(FE_P, FE_Q, w1=1), tucker(FE_P, FE_Q, w1=1, anchor="external")
    assert (internal.slope, internal.intercept) == (external.slope, external.intercept)
    assert levine_observed(FE_P, FE_Q).slope != levine_observed(FE_P, FE_Q, anchor="external").slope


def test_zero_anchor_variance() -> None:
    p = np.array([[0, 3, 0], [0, 5, 0], [0, 2, 0], [0, 0, 0]])
    q = np.array([[0, 1, 0], [0, 4, 1], [0, 2, 3], [0, 1, 2]])
    for method in (tucker, levine_observed, levine_true, chained_linear):
        with pytest.raises(ValueError, match="fxv: the anchor scores have zero variance"):
            method(p, q, anchor="external") if method is not chained_linear else method(p, q)


def test_levine_needs_positive_covariance() -> None:
    # Anchor and total negatively related in P.
    p = np.array([[0, 0, 5], [0, 5, 0], [5, 0, 0]])
    q = np.array([[5, 0, 0], [0, 5, 0], [0, 0, 5]])
    with pytest.raises(ValueError, match="fxv: the Levine methods need a positive covariance"):
        levine_observed(p, q, anchor="external")
    with pytest.raises(ValueError, match="positive covariance"):
        levine_true(p, q, anchor="external")


def test_zero_total_variance() -> None:
    p = np.array([[0, 0], [4, 3], [0, 0]])
    q = np.array([[1, 0], [2, 2], [0, 3]])
    with pytest.raises(ValueError, match="fxv: the total scores have zero variance"):
        tucker(p, q, anchor="external")


def test_unknown_synthetic_method() -> None:
    with pytest.raises(ValueError, match="method must be 'tucker' or 'levine'"):
        synthetic_linear(FE_P, FE_Q, "braun-holland")  # type: ignore[arg-type]


def test_frequency_estimation_without_common_anchor_scores() -> None:
    p = np.array([[3, 0], [2, 0]])
    q = np.array([[0, 3], [0, 2]])
    with pytest.raises(ValueError, match="no anchor score observed in this population"):
        frequency_estimation(p, q)
