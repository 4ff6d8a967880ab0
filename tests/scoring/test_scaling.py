"""Tests for scoring.scaling: scale specification, conversion tables, rounding, JSON."""

from __future__ import annotations

import doctest
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import scoring.scaling
from scoring.scaling import (
    FORMAT_VERSION,
    ConversionTable,
    ScaleSpec,
    equated_conversion,
    linear_conversion,
    rasch_conversion,
    round_half_up,
)

SCALE = ScaleSpec(minimum=200, maximum=800, passing=500)


def test_doctests() -> None:
    result = doctest.testmod(scoring.scaling, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------


@st.composite
def scales(draw: st.DrawFn) -> ScaleSpec:
    minimum = draw(st.integers(-1000, 1000))
    increment = draw(st.sampled_from([1.0, 0.5, 0.1, 0.25, 5.0, 10.0]))
    n_steps = draw(st.integers(1, 800))
    passing_step = draw(st.integers(1, n_steps))
    return ScaleSpec(
        minimum=minimum,
        maximum=minimum + n_steps * increment,
        passing=minimum + passing_step * increment,
        increment=increment,
    )


@st.composite
def linear_tables(draw: st.DrawFn) -> ConversionTable:
    scale = draw(scales())
    k = draw(st.integers(1, 250))
    if draw(st.booleans()):
        cut: float = draw(st.integers(0, k))
    else:
        # Three decimals, like a standard-setting result (a cut 1e-300 below K
        # overflows the slope; that error is tested separately).
        cut = round(draw(st.floats(0, k, allow_nan=False)), 3)
    if cut == 0 and scale.passing == scale.maximum:
        cut = k  # the default anchors need a slope (tested separately)
    return linear_conversion(k, cut, scale)


@st.composite
def equating_functions(draw: st.DrawFn, kx: int) -> np.ndarray:
    """Non-decreasing e_Y(x), x = 0..kx, roughly spanning [-0.5, Ky + 0.5]."""
    steps = draw(st.lists(st.floats(0, 3, allow_nan=False), min_size=kx, max_size=kx))
    start = draw(st.floats(-3, 5, allow_nan=False))
    return start + np.concatenate([[0.0], np.cumsum(steps)])


def check_table(table: ConversionTable) -> None:
    """The invariants every table must satisfy (also checked by the constructor)."""
    scale, scaled, x_c = table.scale, table.scaled, table.passing_raw
    assert np.all(np.diff(scaled) >= 0), "scaled must be monotone"
    assert np.all(np.diff(table.unrounded) >= 0), "unrounded must be monotone"
    assert scaled.min() >= scale.minimum and scaled.max() <= scale.maximum
    steps = (scaled - scale.minimum) / scale.increment
    assert_allclose(steps, np.rint(steps), atol=1e-6)
    # The cut rule: the raw passing score reports exactly the passing score.
    assert scaled[x_c] == scale.passing
    assert np.all(scaled[x_c:] >= scale.passing)
    assert np.all(scaled[:x_c] <= scale.passing - scale.increment + 1e-9)
    # Away from the cut rule, the reported score is the rounded, clipped unrounded one.
    rounded = scale.round(table.unrounded)
    expected = rounded.copy()
    expected[:x_c] = np.minimum(rounded[:x_c], scale.passing - scale.increment)
    expected[x_c] = scale.passing
    expected[x_c + 1:] = np.maximum(rounded[x_c + 1:], scale.passing)
    assert_allclose(scaled, expected, rtol=0, atol=1e-9)
    assert np.all(np.abs(rounded - np.clip(table.unrounded, scale.minimum, scale.maximum))
                  <= scale.increment / 2 + 1e-9)


# ---------------------------------------------------------------------------
# Rounding and ScaleSpec
# ---------------------------------------------------------------------------


def test_round_half_up_is_not_bankers_rounding() -> None:
    values = [0.5, 1.5, 2.5, 3.5, -0.5, -1.5, 2.4999, 2.5001]
    assert_array_equal(round_half_up(values), [1, 2, 3, 4, 0, -1, 2, 3])
    # numpy rounds halves to even; this is the difference the module exists for.
    assert_array_equal(np.round([0.5, 2.5]), [0, 2])


def test_round_half_up_absorbs_binary_error() -> None:
    # 0.1 * 3 = 0.30000000000000004 and 2.675 is stored as 2.67499999999999982...:
    # both must still round as the decimal value written.
    assert round_half_up(0.1 * 3 + 0.05, increment=0.1)[()] == pytest.approx(0.4)
    assert round_half_up(2.675, increment=0.01)[()] == pytest.approx(2.68)
    assert_array_equal(round_half_up([502.5, 507.5, 497.4], 5.0, 200.0), [505, 510, 495])


@given(st.integers(-10_000, 10_000))
def test_round_half_up_property(n: int) -> None:
    assert round_half_up(n + 0.5)[()] == n + 1
    assert round_half_up(n + 0.4999)[()] == n
    assert round_half_up(n)[()] == n


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"increment": 0.0}, "increment must be positive"),
        ({"increment": -1.0}, "increment must be positive"),
        ({"increment": math.inf}, "increment must be finite"),
        ({"origin": math.nan}, "origin must be finite"),
    ],
)
def test_round_half_up_bad_input(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        round_half_up([1.0], **kwargs)


def test_round_half_up_rejects_nan() -> None:
    with pytest.raises(ValueError, match="values must be finite"):
        round_half_up([1.0, math.nan])


def test_scale_spec_properties() -> None:
    scale = ScaleSpec(100, 200, 150, increment=5)
    assert (scale.minimum, scale.maximum, scale.passing, scale.increment) == (100, 200, 150, 5)
    assert isinstance(scale.minimum, float)
    assert (scale.n_steps, scale.passing_step) == (20, 10)
    assert_array_equal(scale.round([90, 102.4, 102.5, 147.5, 199, 250]),
                       [100, 100, 105, 150, 200, 200])
    assert scale == ScaleSpec(100.0, 200.0, 150.0, 5.0)
    with pytest.raises(AttributeError):
        scale.passing = 160  # type: ignore[misc]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((800, 800, 800), r"minimum \(800\) must be less than ScaleSpec.maximum \(800\)"),
        ((900, 800, 850), "minimum .* must be less than"),
        ((200, 800, 900), "passing .* must lie in the scale"),
        ((200, 800, 100), "passing .* must lie in the scale"),
        ((200, 800, 200), "passing .* must lie in the scale"),
        ((200, 800, 500, 0), "increment must be positive"),
        ((200, 800, 500, -1), "increment must be positive"),
        ((200, 800, 500, 7), "maximum .* must lie on the reporting grid"),
        ((200, 800, 505, 10), "passing .* must lie on the reporting grid"),
        ((math.nan, 800, 500), "minimum must be finite"),
        ((200, math.inf, 500), "maximum must be finite"),
        ((200, 800, "500"), "passing must be a real number"),
        ((200, 800, True), "passing must be a real number"),
    ],
)
def test_scale_spec_bad_input(args: tuple[object, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScaleSpec(*args)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Linear conversion
# ---------------------------------------------------------------------------


def test_linear_hand_example() -> None:
    # 40 items, cut 30 -> 500, 40 -> 800: slope 30 scale points per raw point.
    table = linear_conversion(40, cut=30, scale=SCALE, version="X-2026", metadata={"form": "X"})
    assert_allclose(table.unrounded, 500 + 30 * (np.arange(41) - 30), rtol=0, atol=1e-12)
    expected = np.clip(500 + 30 * (np.arange(41) - 30), 200, 800)
    assert_array_equal(table.scaled, expected)
    assert table.scaled[30] == 500 and table.scaled[29] == 470
    assert table.cut_raw == 30.0 and table.passing_raw == 30 and table.n_items == 40
    assert_array_equal(table.raw, np.arange(41))
    assert table.version == "X-2026" and table.metadata["form"] == "X"
    assert "linear" in table.method and table.csem is None
    check_table(table)


def test_linear_custom_anchor_and_rounding() -> None:
    # Cut 20 -> 500 and raw 0 -> 200: slope 15; raw 40 -> 800.
    table = linear_conversion(40, cut=20, scale=SCALE, anchor=(0, 200))
    assert_array_equal(table.scaled, 200 + 15 * np.arange(41))
    # Slope 7 per raw point on an increment-10 scale: 500 + 7 * (x - 20), halves up.
    scale10 = ScaleSpec(200, 800, 500, increment=10)
    table = linear_conversion(40, cut=20, scale=scale10, anchor=(30, 570))
    unrounded = 500 + 7 * (np.arange(41) - 20.0)
    assert_allclose(table.unrounded, unrounded, rtol=0, atol=1e-12)
    # x = 25: 535 -> 540 (half up; banker's rounding would also give 540, but
    # x = 15: 465 -> 470, where round-half-even gives 460).
    assert table.scaled[25] == 540 and table.scaled[15] == 470
    check_table(table)


def test_linear_fractional_cut() -> None:
    # Angoff cut 107.4 on 180 items: 108 is the raw passing score and reports 500.
    table = linear_conversion(180, cut=107.4, scale=SCALE)
    assert table.passing_raw == 108
    slope = 300 / (180 - 107.4)
    assert table.unrounded[108] == pytest.approx(500 + 0.6 * slope)
    assert table.scaled[108] == 500 and table.scaled[107] <= 499
    assert table.scaled[107] == round(500 - 0.4 * slope)
    check_table(table)


def test_linear_cut_rule_forces_score_below_cut_down() -> None:
    # Cut 2.9 with slope 10: raw 2 is 491 unrounded, raw 3 is 501. On an increment-20
    # grid 491 rounds to 500, which the cut rule must bring back to 480 (passing -
    # increment), because raw 2 is below the cut.
    scale = ScaleSpec(0, 1000, 500, increment=20)
    table = linear_conversion(10, cut=2.9, scale=scale, anchor=(12.9, 600))
    assert table.unrounded[2] == pytest.approx(491)
    assert scale.round([491.0])[0] == 500
    assert table.scaled[2] == 480 and table.scaled[3] == 500
    check_table(table)


def test_linear_cut_at_ends() -> None:
    top = linear_conversion(10, cut=10, scale=SCALE)  # only a perfect score passes
    assert top.scaled[10] == 500 and top.scaled[9] <= 499
    assert top.scaled[0] == 200
    bottom = linear_conversion(10, cut=0, scale=SCALE)  # everyone passes
    assert np.all(bottom.scaled >= 500) and bottom.scaled[0] == 500
    at_max = linear_conversion(10, cut=6, scale=ScaleSpec(200, 500, 500))
    assert_array_equal(at_max.scaled[6:], 500)
    check_table(top)
    check_table(bottom)
    check_table(at_max)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((40, 41, SCALE), {}, r"cut must lie in \[0, 40\]"),
        ((40, -1, SCALE), {}, r"cut must lie in \[0, 40\]"),
        ((40, math.nan, SCALE), {}, "cut must be finite"),
        ((0, 0, SCALE), {}, "n_items .* must be an integer >= 1"),
        ((40.0, 20, SCALE), {}, "n_items .* must be an integer >= 1"),
        ((40, 20, SCALE), {"anchor": (20, 800)}, "anchor's raw score must differ"),
        ((40, 20, SCALE), {"anchor": (30, 400)}, "the conversion must increase"),
        ((40, 20, SCALE), {"anchor": (30,)}, "anchor must be a pair"),
        ((10, 5e-324, SCALE), {"anchor": (0, 200)}, "too close to the cut"),
        ((40, 20, SCALE), {"anchor": (30, math.nan)}, r"anchor\[1\] must be finite"),
        ((10, 0, ScaleSpec(200, 500, 500)), {}, "anchor is required"),
        ((40, 20, SCALE), {"csem": np.ones(40)}, "csem must have one value per raw score"),
        ((40, 20, SCALE), {"csem": -np.ones(41)}, "csem must be non-negative"),
        ((40, 20, SCALE), {"csem": np.full(41, np.nan)}, "csem must be finite"),
        ((40, 20, SCALE), {"metadata": {"a": [1]}}, r"metadata\['a'\] must be a str"),
        ((40, 20, SCALE), {"metadata": {1: "x"}}, "metadata keys must be str"),
        ((40, 20, SCALE), {"metadata": {"x": math.inf}}, r"metadata\['x'\] must be finite"),
        ((40, 20, SCALE), {"version": 3}, "version must be a str"),
    ],
)
def test_linear_bad_input(args: tuple, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        linear_conversion(*args, **kwargs)


@given(linear_tables())
@settings(max_examples=150, deadline=None)
def test_linear_properties(table: ConversionTable) -> None:
    check_table(table)
    # The unrounded conversion maps the (possibly fractional) cut onto passing.
    slope = np.diff(table.unrounded).mean()
    at_cut = table.unrounded[0] + slope * table.cut_raw
    assert at_cut == pytest.approx(table.scale.passing, abs=1e-6 * (1 + abs(slope)))


# ---------------------------------------------------------------------------
# Rasch conversion
# ---------------------------------------------------------------------------


def test_rasch_hand_example() -> None:
    theta = np.array([-3.1, -1.9, -1.0, -0.3, 0.05, 0.6, 1.4, 2.5])
    table = rasch_conversion(theta, theta_cut=0.0, scale=SCALE, anchor=(2.0, 700))
    # slope 100 per logit; raw 4 (theta 0.05) is the first at or above the theta cut.
    assert_allclose(table.unrounded, 500 + 100 * theta, rtol=0, atol=1e-12)
    assert table.cut_raw == pytest.approx(3 + 0.3 / 0.35) and table.passing_raw == 4
    assert_array_equal(table.scaled, [200, 310, 400, 470, 500, 560, 640, 750])
    check_table(table)


def test_rasch_default_anchor_and_theta_cut_on_a_raw_score() -> None:
    theta = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    table = rasch_conversion(theta, theta_cut=0.0, scale=SCALE)  # (2.0, 800): 150/logit
    assert_array_equal(table.scaled, [200, 350, 500, 650, 800])
    # A cut at theta[K] uses (theta[0], minimum) as the second anchor.
    top = rasch_conversion(theta, theta_cut=2.0, scale=SCALE)
    assert top.passing_raw == 4
    assert_array_equal(top.scaled, [200, 275, 350, 425, 500])
    # Everyone at or above the cut when it is below theta[0].
    low = rasch_conversion(theta, theta_cut=-5.0, scale=SCALE)
    assert low.passing_raw == 0 and low.scaled[0] == 500


@pytest.mark.parametrize(
    ("theta", "cut", "kwargs", "message"),
    [
        ([-1.0, 1.0, 0.5], 0.0, {}, r"theta must be non-decreasing.*theta\[2\]"),
        ([-1.0, np.nan, 1.0], 0.0, {}, "theta must be finite"),
        ([-1.0, np.inf], 0.0, {}, "theta must be finite"),
        ([0.0], 0.0, {}, "theta must give one ability per raw score"),
        ([[0.0, 1.0]], 0.0, {}, "theta must be one-dimensional"),
        ([-1.0, 0.0, 1.0], 1.5, {}, "nobody could pass"),
        ([-1.0, 0.0, 1.0], 0.0, {"anchor": (0.0, 800)}, "anchor's theta must differ"),
        ([-1.0, 0.0, 1.0], 0.0, {"anchor": (1.0, 300)}, "the conversion must increase"),
        ([-1.0, 0.0, 1.0], math.nan, {}, "theta_cut must be finite"),
    ],
)
def test_rasch_bad_input(theta: list, cut: float, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rasch_conversion(theta, cut, SCALE, **kwargs)


@given(
    st.lists(st.floats(-6, 6, allow_nan=False), min_size=2, max_size=120),
    st.floats(0, 1),
    scales(),
)
@settings(max_examples=150, deadline=None)
def test_rasch_properties(values: list[float], where: float, scale: ScaleSpec) -> None:
    theta = np.sort(np.asarray(values))
    cut = theta[0] + where * (theta[-1] - theta[0])
    try:
        table = rasch_conversion(theta, cut, scale)
    except ValueError as exc:
        # Only the degenerate cases where no default anchor gives a slope.
        assert "anchor is required" in str(exc) or "must differ" in str(exc)
        return
    check_table(table)
    assert table.passing_raw == int(np.argmax(theta >= cut - 1e-9))


# ---------------------------------------------------------------------------
# Equated conversion
# ---------------------------------------------------------------------------


def test_equated_kolen_brennan_table_2_2() -> None:
    # K&B (2014) table 2.2 hypothetical example, published e_Y(x) = 0.5, 1.75, 2.8333,
    # 3.5, 4.25 (README). Base form Y: 4 items, cut 2, 0-100 by 10, passing 60,
    # sc_Y(y) = 20 + 20 y. Composition by hand: sc(e_Y(x)) = 20 + 20 e_Y(x).
    e_y = np.array([0.5, 1.75, 2.8333, 3.5, 4.25])
    base = linear_conversion(4, cut=2, scale=ScaleSpec(0, 100, 60, 10))
    table = equated_conversion(e_y, base, version="X")
    assert_allclose(table.unrounded, 20 + 20 * e_y, rtol=0, atol=1e-12)
    # Rounded: 30, 55 -> 60, 76.67 -> 80, 90, 105 -> clipped 100. The raw passing
    # score of X is 2 (first e_Y(x) >= 2): it reports 60, and raw 1 (e_Y = 1.75,
    # which rounding would carry up to 60) is held at 50.
    assert table.passing_raw == 2
    assert table.cut_raw == pytest.approx(1 + 0.25 / (2.8333 - 1.75))  # e_Y(x*) = 2
    assert_array_equal(table.scaled, [30, 50, 60, 90, 100])
    check_table(table)


def test_equated_act_math_linear() -> None:
    # K&B (2014) ch. 2 published linear equating of ACT Math X to Y (ACTmath.csv):
    # l_Y(x) = 1.0886 x - 2.6319. Base Y: 40 items, cut 27 -> 500, 40 -> 800.
    def l_y(x: np.ndarray) -> np.ndarray:
        return 1.0886 * x - 2.6319

    base = linear_conversion(40, cut=27, scale=SCALE)
    table = equated_conversion(l_y, base, n_items=40)
    x = np.arange(41.0)
    # A linear base extrapolates linearly, so the composition is linear everywhere.
    assert_allclose(table.unrounded, 500 + 300 / 13 * (l_y(x) - 27), rtol=0, atol=1e-9)
    # 1.0886 x - 2.6319 >= 27  <=>  x >= 27.2202: raw 28 is X's passing score.
    assert table.cut_raw == pytest.approx(29.6319 / 1.0886, abs=1e-12)
    assert table.passing_raw == 28
    assert table.scaled[28] == 500  # 519.6 unrounded, reported exactly at passing
    assert table.scaled[27] == 494  # 494.47 unrounded
    assert table.scaled[40] == 800 and table.scaled[0] == 200
    check_table(table)


def test_equated_holds_score_just_below_cut_down() -> None:
    # e_Y(26) = 26.99 on a base with cut 27: 499.77 would round to 500.
    base = linear_conversion(40, cut=27, scale=SCALE)
    e_y = np.arange(41.0)
    e_y[26] = 26.99
    table = equated_conversion(e_y, base)
    assert table.unrounded[26] == pytest.approx(500 - 0.01 * 300 / 13)
    assert table.scaled[26] == 499 and table.scaled[27] == 500
    check_table(table)


def test_equated_interpolates_and_extrapolates_base() -> None:
    theta = np.array([-2.0, -1.2, -0.1, 0.3, 1.6, 2.4])
    base = rasch_conversion(theta, theta_cut=0.3, scale=SCALE, anchor=(1.3, 600))
    sc = base.unrounded  # 100 points per logit through (0.3, 500)
    e_y = np.array([-0.5, 0.0, 2.25, 3.0, 4.9, 5.5])
    table = equated_conversion(e_y, base)
    expected = [
        sc[0] - 0.5 * (sc[1] - sc[0]),  # below 0: first segment extended
        sc[0],
        0.75 * sc[2] + 0.25 * sc[3],  # linear interpolation between integers
        sc[3],
        0.1 * sc[4] + 0.9 * sc[5],
        sc[5] + 0.5 * (sc[5] - sc[4]),  # above Ky: last segment extended
    ]
    assert_allclose(table.unrounded, expected, rtol=0, atol=1e-12)
    assert table.passing_raw == 3
    check_table(table)


def test_equating_a_form_to_itself_reproduces_the_base_table() -> None:
    for base in (linear_conversion(60, 41, SCALE),
                 linear_conversion(60, 40.5, ScaleSpec(0, 100, 70, 0.5)),
                 rasch_conversion(np.linspace(-4, 4, 31), 0.7, SCALE)):
        identity = equated_conversion(np.arange(base.n_items + 1), base)
        assert_array_equal(identity.unrounded, base.unrounded)
        assert_array_equal(identity.scaled, base.scaled)
        assert identity.passing_raw == base.passing_raw


def test_equated_chain_of_forms() -> None:
    base = linear_conversion(50, 30, SCALE)
    second = equated_conversion(np.arange(51) + 0.6, base)  # easier form: X = Y - 0.6
    third = equated_conversion(np.arange(51) - 0.6, second)  # back again
    assert_allclose(third.unrounded[1:-1], base.unrounded[1:-1], rtol=0, atol=1e-9)
    assert third.passing_raw == base.passing_raw
    check_table(third)


@pytest.mark.parametrize(
    ("equated", "kwargs", "message"),
    [
        ([0.0, 2.0, 1.5, 3.0], {}, r"non-decreasing \(monotone\).*equated\[2\]"),
        ([0.0, np.nan, 1.5, 3.0], {}, "equated must be finite"),
        ([0.0], {}, "one score per raw score"),
        ([0.0, 1.0, 2.0], {"n_items": 3}, "equated has 3 scores but n_items = 3"),
        ([0.0, 0.5, 1.0], {}, "nobody could pass"),
        (lambda x: x, {}, "n_items is required"),
        (lambda x: x[:-1], {"n_items": 4}, "must return one score per raw score"),
        (lambda x: 4 - x, {"n_items": 4}, "non-decreasing"),
        ([0.0, 1.0, 2.0, 3.0], {"csem": [1.0, 2.0]}, "csem must have one value"),
    ],
)
def test_equated_bad_input(equated: object, kwargs: dict, message: str) -> None:
    base = linear_conversion(4, cut=2, scale=ScaleSpec(0, 100, 60, 10))
    with pytest.raises(ValueError, match=message):
        equated_conversion(equated, base, **kwargs)  # type: ignore[arg-type]


def test_equated_base_must_be_a_table() -> None:
    with pytest.raises(ValueError, match="base must be a ConversionTable"):
        equated_conversion([0.0, 1.0], {"scaled": [1, 2]})  # type: ignore[arg-type]


@given(st.data())
@settings(max_examples=150, deadline=None)
def test_equated_properties(data: st.DataObject) -> None:
    base = data.draw(linear_tables())
    kx = data.draw(st.integers(1, 120))
    e_y = data.draw(equating_functions(kx))
    if e_y[-1] < base.cut_raw - 1e-9:
        with pytest.raises(ValueError, match="nobody could pass"):
            equated_conversion(e_y, base)
        return
    table = equated_conversion(e_y, base)
    check_table(table)
    # Pass on X exactly when the equated score passes on Y.
    assert_array_equal(table.passed(np.arange(kx + 1)), e_y >= base.cut_raw - 1e-9)
    assert table.scale == base.scale


# ---------------------------------------------------------------------------
# ConversionTable: constructor, lookup
# ---------------------------------------------------------------------------


def test_table_is_frozen_and_read_only() -> None:
    table = linear_conversion(10, 6, SCALE, csem=np.full(11, 12.5))
    with pytest.raises(AttributeError):
        table.version = "2"  # type: ignore[misc]
    for array in (table.raw, table.unrounded, table.scaled, table.csem):
        assert array is not None
        with pytest.raises(ValueError):
            array[0] = 1
    with pytest.raises(TypeError):
        table.metadata["x"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        hash(table)


def test_table_constructor_validates() -> None:
    good = linear_conversion(4, cut=2, scale=ScaleSpec(0, 100, 60, 10))
    fields = dict(raw=good.raw, unrounded=good.unrounded, scaled=good.scaled, cut_raw=2.0,
                  scale=good.scale, version="1", method="m")
    assert ConversionTable(**fields) == ConversionTable(**fields)
    cases = [
        ({"raw": np.arange(1, 6)}, "raw must be the integers 0, 1, ..., 4"),
        ({"raw": np.arange(5.0)}, "raw must be the integers"),
        ({"raw": np.arange(1)}, "K >= 1"),
        ({"scaled": good.scaled[:-1]}, "scaled must have one value per raw score"),
        ({"scaled": np.array([20, 50, 60, 55, 100.0])}, r"scaled must be non-decreasing"),
        ({"unrounded": np.array([20, 40, 60, 80, 70.0])}, r"unrounded\[4\]"),
        ({"scaled": np.array([20, 50, 60, 80, 110.0])}, "within the scale"),
        ({"scaled": np.array([20, 45, 60, 80, 100.0])}, "on the reporting grid"),
        ({"scaled": np.array([20, 40, 70, 80, 100.0])}, "cut rule"),
        ({"scaled": np.array([20, 60, 60, 80, 100.0])}, "cut rule"),
        ({"cut_raw": 4.5}, r"cut_raw must lie in \[0, 4\]"),
        ({"cut_raw": -0.1}, r"cut_raw must lie in \[0, 4\]"),
        ({"scale": (0, 100, 60, 10)}, "scale must be a ScaleSpec"),
        ({"method": None}, "method must be a str"),
    ]
    for change, message in cases:
        with pytest.raises(ValueError, match=message):
            ConversionTable(**{**fields, **change})


def test_lookup_is_vectorised_over_100000_candidates() -> None:
    table = linear_conversion(180, 117, SCALE)
    rng = np.random.default_rng(20260401)
    raw = rng.integers(0, 181, size=100_000)
    assert_array_equal(table.lookup(raw), table.scaled[raw])
    assert_array_equal(table.lookup(raw.astype(np.int16), rounded=False), table.unrounded[raw])
    assert_array_equal(table.lookup(raw.astype(float)), table.scaled[raw])
    assert_array_equal(table.passed(raw), table.lookup(raw) >= 500)
    assert table.lookup(raw.reshape(1000, 100)).shape == (1000, 100)
    assert table.lookup(np.array([], dtype=np.int64)).shape == (0,)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([0, 181], r"raw must lie in 0..180, but raw\[1\] is 181"),
        (-1, "raw must lie in 0..180, but raw is -1"),
        ([[0, 1], [2, 999]], r"raw\[1, 1\] is 999"),
        ([1.5], "fractional"),
        ([np.nan], "raw must be finite"),
        ([True, False], "dtype bool"),
        (["12"], "raw must hold integer raw scores"),
    ],
)
def test_lookup_bad_input(raw: object, message: str) -> None:
    table = linear_conversion(180, 117, SCALE)
    with pytest.raises(ValueError, match=message):
        table.lookup(raw)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------


def test_json_layout_and_round_trip(tmp_path: Path) -> None:
    table = equated_conversion(
        lambda x: 1.0886 * x - 2.6319, linear_conversion(40, 27, SCALE), n_items=40,
        csem=np.linspace(30, 20, 41), version="X-2026-03",
        metadata={"form": "X", "window": 3, "equating": "linear", "w1": 0.5, "pilot": False,
                  "note": None},
    )
    document = json.loads(table.to_json())
    assert document["format"] == "scoring.ConversionTable"
    assert document["format_version"] == FORMAT_VERSION == 1
    assert document["scale"] == {"minimum": 200.0, "maximum": 800.0, "passing": 500.0,
                                 "increment": 1.0}
    assert document["cut_raw"] == table.cut_raw and document["raw"] == list(range(41))
    loaded = ConversionTable.from_json(table.to_json())
    assert loaded == table
    assert loaded.unrounded.tobytes() == table.unrounded.tobytes()  # bit-for-bit
    assert ConversionTable.from_json(table.to_json(indent=None).encode()) == table
    path = tmp_path / "table.json"
    table.save(path)
    assert ConversionTable.load(path) == table
    assert loaded != linear_conversion(40, 27, SCALE)
    assert (loaded == "table") is False


@given(st.data())
@settings(max_examples=100, deadline=None)
def test_json_round_trip_is_lossless(data: st.DataObject) -> None:
    base = data.draw(linear_tables())
    k = base.n_items
    kind = data.draw(st.sampled_from(["linear", "rasch", "equated"]))
    csem = data.draw(st.none() | st.lists(st.floats(0, 1e6), min_size=k + 1,
                                          max_size=k + 1))
    metadata = data.draw(st.dictionaries(
        st.text(max_size=10),
        st.none() | st.booleans() | st.integers() | st.text(max_size=20)
        | st.floats(allow_nan=False, allow_infinity=False),
        max_size=5,
    ))
    version = data.draw(st.text(max_size=20))
    if kind == "linear":
        table = linear_conversion(k, base.cut_raw, base.scale, csem=csem, version=version,
                                  metadata=metadata)
    elif kind == "rasch":
        theta = np.sort(data.draw(st.lists(st.floats(-5, 5), min_size=k + 1, max_size=k + 1)))
        try:
            table = rasch_conversion(theta, theta[k // 2] + 1e-3, base.scale, csem=csem,
                                     version=version, metadata=metadata)
        except ValueError:
            return  # degenerate theta tables are covered by the Rasch tests
    else:
        e_y = np.arange(k + 1) + data.draw(st.floats(-0.5, 0.5))
        e_y[-1] = k + 0.5
        table = equated_conversion(e_y, base, csem=csem, version=version, metadata=metadata)
    text = table.to_json()
    loaded = ConversionTable.from_json(text)
    assert loaded == table
    assert loaded.to_json() == text


def _document() -> dict:
    table = linear_conversion(4, cut=2, scale=ScaleSpec(0, 100, 60, 10), csem=[1, 2, 3, 2, 1])
    return json.loads(table.to_json())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format_version": 2}, "field 'format_version' is 2; .* reads format_version 1"),
        ({"format_version": "1"}, "field 'format_version' is '1'"),
        ({"format_version": True}, "field 'format_version' is True"),
        ({"format_version": None}, "field 'format_version' is None"),
        ({"format": "something.else"}, "field 'format' must be 'scoring.ConversionTable'"),
        ({"scaled": "20,40"}, "field 'scaled' must be a list of numbers"),
        ({"scaled": [20, 40, 60, 80, None]}, "field 'scaled' must be a list of numbers"),
        ({"raw": [0.0, 1.0, 2.0, 3.0, 4.0]}, "field 'raw' must be a list of integers"),
        ({"unrounded": [20, 40, 60, 80, True]}, "field 'unrounded' must be a list"),
        ({"csem": {"0": 1}}, "field 'csem' must be a list of numbers"),
        ({"cut_raw": "2"}, "field 'cut_raw' must be a number"),
        ({"version": 1}, "field 'version' must be a string"),
        ({"method": None}, "field 'method' must be a string"),
        ({"metadata": []}, "field 'metadata' must be an object"),
        ({"metadata": {"a": {"b": 1}}}, r"metadata\['a'\] must be a str"),
        ({"scale": [0, 100, 60, 10]}, "field 'scale' must be an object"),
        ({"scale": {"minimum": 0, "maximum": 100, "passing": 60}}, "field 'scale' must be"),
        ({"scale": {"minimum": 0, "maximum": 100, "passing": 60, "increment": "10"}},
         "field 'scale.increment' must be a number"),
        ({"scale": {"minimum": 0, "maximum": 100, "passing": 160, "increment": 10}},
         "field 'scale' is invalid: ScaleSpec.passing"),
        ({"scaled": [20, 40, 70, 80, 100]}, "invalid: scaled violates the cut rule"),
        ({"scaled": [20, 40, 60, 80]}, "invalid: scaled must have one value per raw score"),
        ({"cut_raw": 9}, r"invalid: cut_raw must lie in \[0, 4\]"),
        ({"extra": 1}, "unknown field 'extra'"),
    ],
)
def test_from_json_bad_field(change: dict, message: str) -> None:
    document = {**_document(), **change}
    with pytest.raises(ValueError, match=message):
        ConversionTable.from_json(json.dumps(document))


@pytest.mark.parametrize("name", ["format", "format_version", "scaled", "csem", "metadata",
                                  "scale", "cut_raw", "raw", "unrounded", "version", "method"])
def test_from_json_missing_field(name: str) -> None:
    document = _document()
    del document[name]
    with pytest.raises(ValueError, match=f"missing field '{name}'"):
        ConversionTable.from_json(json.dumps(document))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "malformed"),
        ("", "malformed"),
        ("[1, 2]", "must be an object, got list"),
        ('{"format_version": NaN}', "contains NaN"),
        (b"\xff\xfe\x00", "could not be read|malformed"),
    ],
)
def test_from_json_malformed(text: str | bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ConversionTable.from_json(text)


def test_from_json_unknown_version_checked_before_other_fields() -> None:
    # A future layout may rename everything: the version is what must be reported.
    with pytest.raises(ValueError, match="field 'format_version' is 3"):
        ConversionTable.from_json(json.dumps({"format": "scoring.ConversionTable",
                                              "format_version": 3, "rows": []}))
