"""Tests for scoring.irt.linking: mean/mean, mean/sigma, Haebara and Stocking-Lord linking."""

from __future__ import annotations

import dataclasses
import doctest
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

import scoring.irt.linking
from scoring.irt.linking import (
    LINK_METHODS,
    ScaleLinking,
    as_item_parameters,
    link,
    transform_parameters,
)
from scoring.irt.model import ItemParameters

# ---------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------
# The 12 common items of the ACT Mathematics example of Kolen & Brennan (2014, ch. 6,
# table 6.5; CIPE/KB36 data), 3PL with D = 1.7, as entered in example 1 of Kolen's STUIRT
# program (four decimals). Form X is the new form, form Y the old one. The STUIRT results
# are quoted by J. P. Meyer's jMetrik library (github.com/meyerjp3/psychometrics,
# IrtScaleLinkingTest.linkingTest3PL), which reproduces them; STUIRT's example was run
# with the symmetric criterion and the two groups' posterior ability distributions below.
KB_X = np.array(
    [
        [0.4551, -0.7101, 0.2087], [0.5839, -0.8567, 0.2038], [0.7544, 0.0212, 0.1600],
        [0.6633, 0.0506, 0.1240], [1.0690, 0.9610, 0.2986], [0.9672, 0.1950, 0.0535],
        [0.3479, 2.2768, 0.1489], [1.4579, 1.0241, 0.2453], [1.8811, 1.4062, 0.1992],
        [0.7020, 2.2401, 0.0853], [1.4080, 1.5556, 0.0789], [1.2993, 2.1589, 0.1075],
    ]
)
KB_Y = np.array(
    [
        [0.4416, -1.3349, 0.1559], [0.5730, -1.3210, 0.1913], [0.5987, -0.7098, 0.1177],
        [0.6041, -0.3539, 0.0818], [0.9902, 0.5320, 0.3024], [0.8081, -0.1156, 0.0648],
        [0.4140, 2.5538, 0.2410], [1.3554, 0.5811, 0.2243], [1.0417, 0.9392, 0.1651],
        [0.6336, 1.8960, 0.0794], [1.1347, 1.0790, 0.0630], [0.9255, 2.1337, 0.1259],
    ]
)
STUIRT_POINTS = [-4.0, -3.111, -2.222, -1.333, -0.4444, 0.4444, 1.333, 2.222, 3.111, 4.0]
STUIRT_X_DENSITY = [
    0.0001008, 0.002760, 0.03021, 0.1420, 0.3149, 0.3158, 0.1542, 0.03596, 0.003925, 0.0001862
]
STUIRT_Y_DENSITY = [
    0.0001173, 0.003242, 0.03449, 0.1471, 0.3148, 0.3110, 0.1526, 0.03406, 0.002510, 0.0001116
]

# The same common items with six decimals, without item 27 (the 9th common item), which
# Kolen & Brennan drop from the common-item set (their tables 6.6 and 6.8 use 11 items).
# Their mean/sigma constants A = 1.1761, B = -0.5042 are the ones that turn form X of
# table 6.5 into the rescaled form X of table 6.8. Values for these 11 items are
# asserted to 4 decimals by the jMetrik test suite (MeanSigmaMethodTest, MeanMeanEquatingTest,
# HaebaraMethodTest, StockingLordMethodTest).
KB11_X = (
    [0.455118, 0.583871, 0.754398, 0.663274, 1.068977, 0.967194, 0.347868, 1.457918, 0.701952,
     1.407967, 1.299285],
    [-0.710086, -0.856669, 0.021221, 0.050618, 0.961047, 0.194976, 2.276794, 1.024128,
     2.240131, 1.555634, 2.158933],
    [0.208748, 0.203834, 0.159961, 0.123961, 0.298628, 0.053538, 0.148927, 0.24527, 0.08529,
     0.078897, 0.10753],
)
KB11_Y = (
    [0.441595, 0.572995, 0.598719, 0.604125, 0.990164, 0.808079, 0.413973, 1.355437, 0.633562,
     1.134661, 0.925521],
    [-1.334933, -1.321004, -0.709831, -0.353942, 0.531956, -0.115649, 2.553812, 0.581109,
     1.896027, 1.079013, 2.133706],
    [0.155883, 0.191298, 0.117663, 0.081759, 0.302443, 0.064791, 0.240967, 0.224322, 0.079396,
     0.063009, 0.125873],
)


def test_doctests() -> None:
    result = doctest.testmod(scoring.irt.linking, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# ---------------------------------------------------------------------------
# Published values
# ---------------------------------------------------------------------------


def test_stuirt_example1_moment_methods() -> None:
    # Closed-form constants from four-decimal inputs; STUIRT prints six decimals, so the
    # only error is its rounding (<= 5e-7).
    ms = link(KB_Y, KB_X, method="mean_sigma")
    assert ms.A == pytest.approx(1.168891, abs=1e-6)
    assert ms.B == pytest.approx(-0.515543, abs=1e-6)
    mm = link(KB_Y, KB_X, method="mean_mean")
    assert mm.A == pytest.approx(1.217266, abs=1e-6)
    assert mm.B == pytest.approx(-0.557156, abs=1e-6)
    assert np.isnan(mm.criterion) and mm.converged


def test_stuirt_example1_characteristic_curve_methods() -> None:
    # Symmetric criteria with the two groups' ability distributions, as in STUIRT's
    # example. STUIRT's optimiser stops at its own tolerance and prints six decimals;
    # our optimum agrees to 2e-6, so 5e-6 is asserted.
    kwargs = dict(
        theta=STUIRT_POINTS, weights=STUIRT_Y_DENSITY, symmetric=True,
        theta_new=STUIRT_POINTS, weights_new=STUIRT_X_DENSITY,
    )
    hb = link(KB_Y, KB_X, method="haebara", D=1.7, **kwargs)
    assert hb.A == pytest.approx(1.067800, abs=5e-6)
    assert hb.B == pytest.approx(-0.471281, abs=5e-6)
    # STUIRT reports the Haebara criterion averaged over items (standardised).
    assert hb.criterion / hb.n_items == pytest.approx(0.001506, abs=1e-6)
    sl = link(KB_Y, KB_X, method="stocking_lord", D=1.7, **kwargs)
    assert sl.A == pytest.approx(1.083417, abs=5e-6)
    assert sl.B == pytest.approx(-0.487619, abs=5e-6)
    assert sl.criterion == pytest.approx(0.009666, abs=1e-6)
    assert hb.converged and sl.converged and hb.symmetric


def test_kolen_brennan_eleven_common_items_moment_methods() -> None:
    # K&B (2014) mean/sigma A = 1.1761, B = -0.5042 (four decimals, hence 5e-5).
    ms = link(KB11_Y, KB11_X, method="mean_sigma")
    assert (ms.A, ms.B) == (pytest.approx(1.1761, abs=5e-5), pytest.approx(-0.5042, abs=5e-5))
    mm = link(KB11_Y, KB11_X, method="mean_mean")
    assert (mm.A, mm.B) == (pytest.approx(1.1449, abs=5e-5), pytest.approx(-0.4790, abs=5e-5))


@pytest.mark.parametrize(
    ("method", "symmetric", "grid", "expected"),
    [
        # jMetrik, criterion on the old scale only, STUIRT's form-Y distribution.
        ("haebara", False, "actual", (1.0798, -0.4710)),
        ("stocking_lord", False, "actual", (1.0967, -0.4834)),
        # jMetrik, symmetric, both distributions / 10 equally spaced points with equal weights.
        ("stocking_lord", True, "actual", (1.0911, -0.4788)),
        ("haebara", True, "uniform", (1.0894, -0.4303)),
        ("stocking_lord", True, "uniform", (1.0962, -0.4532)),
    ],
)
def test_agrees_with_jmetrik_on_eleven_common_items(
    method: str, symmetric: bool, grid: str, expected: tuple[float, float]
) -> None:
    # Cross-implementation check (jMetrik asserts these to 4 decimals, D = 1).
    if grid == "actual":
        kwargs: dict[str, object] = dict(theta=STUIRT_POINTS, weights=STUIRT_Y_DENSITY)
        if symmetric:
            kwargs.update(theta_new=STUIRT_POINTS, weights_new=STUIRT_X_DENSITY)
    else:
        kwargs = dict(theta=np.linspace(-4, 4, 10))
    res = link(KB11_Y, KB11_X, method=method, D=1.0, symmetric=symmetric, **kwargs)
    assert res.A == pytest.approx(expected[0], abs=1e-4)
    assert res.B == pytest.approx(expected[1], abs=1e-4)


def test_default_grid_is_40_points_on_old_scale() -> None:
    explicit = link(
        KB_Y, KB_X, method="stocking_lord", theta=np.linspace(-4, 4, 40), weights=np.ones(40)
    )
    default = link(KB_Y, KB_X, method="stocking_lord")
    assert default.A == pytest.approx(explicit.A, abs=1e-12)
    assert default.B == pytest.approx(explicit.B, abs=1e-12)
    assert not default.symmetric
    # The scale of the weights does not matter (they are normalised).
    scaled = link(KB_Y, KB_X, method="haebara", weights=np.full(40, 7.0))
    assert scaled.A == pytest.approx(link(KB_Y, KB_X, method="haebara").A, abs=1e-12)


# ---------------------------------------------------------------------------
# Optimality and robustness
# ---------------------------------------------------------------------------


def _criterion(old: np.ndarray, new: np.ndarray, A: float, B: float, tcc: bool) -> float:
    theta = np.linspace(-4, 4, 40)[:, None]
    a_o, b_o, c_o = old.T
    a_n, b_n, c_n = new.T
    p_old = c_o + (1 - c_o) / (1 + np.exp(-1.7 * a_o * (theta - b_o)))
    p_new = c_n + (1 - c_n) / (1 + np.exp(-1.7 * (a_n / A) * (theta - (A * b_n + B))))
    diff = p_old - p_new
    return float(np.mean(diff.sum(axis=1) ** 2) if tcc else np.mean((diff**2).sum(axis=1)))


@pytest.mark.parametrize("method", ["haebara", "stocking_lord"])
def test_minimum_matches_independent_optimiser(method: str) -> None:
    # The criterion written out directly, minimised by Nelder-Mead from several starts:
    # no start finds a lower value, and the optimum agrees.
    tcc = method == "stocking_lord"
    res = link(KB_Y, KB_X, method=method)
    ours = _criterion(KB_Y, KB_X, res.A, res.B, tcc)
    assert ours == pytest.approx(res.criterion, rel=1e-10)
    for start in [(1.0, 0.0), (0.7, 0.5), (1.5, -1.0)]:
        nm = minimize(
            lambda x: _criterion(KB_Y, KB_X, x[0], x[1], tcc), start, method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 5000},
        )
        assert ours <= nm.fun + 1e-12
        assert res.A == pytest.approx(nm.x[0], abs=1e-5)
        assert res.B == pytest.approx(nm.x[1], abs=1e-5)


@pytest.mark.parametrize("method", LINK_METHODS)
def test_noise_robustness(method: str) -> None:
    rng = np.random.default_rng(20240501)
    n = 20
    a = rng.uniform(0.6, 1.8, n)
    b = rng.normal(0.0, 1.0, n)
    c = rng.uniform(0.05, 0.25, n)
    A, B = 1.3, -0.4
    # New-scale parameters with estimation noise.
    new = (a * A * np.exp(rng.normal(0, 0.03, n)), (b - B) / A + rng.normal(0, 0.03, n), c)
    res = link((a, b, c), new, method=method)
    assert res.A == pytest.approx(A, abs=0.08)
    assert res.B == pytest.approx(B, abs=0.08)


def test_mean_mean_equals_mean_sigma_when_ratios_agree() -> None:
    # Equal discriminations and equal SDs of difficulty on both forms: A = 1 for both.
    b_old = np.array([-1.2, -0.3, 0.4, 1.5])
    new = {"b": b_old - 0.3, "a": np.full(4, 0.9)}
    old = {"b": b_old, "a": np.full(4, 0.9)}
    mm = link(old, new, method="mean_mean")
    ms = link(old, new, method="mean_sigma")
    assert (mm.A, mm.B) == (pytest.approx(1.0), pytest.approx(0.3))
    assert (ms.A, ms.B) == (pytest.approx(mm.A, abs=1e-12), pytest.approx(mm.B, abs=1e-12))


def test_fixed_slope_for_rasch_items() -> None:
    b_old = np.array([-1.5, -0.5, 0.2, 0.9, 1.7])
    new = {"b": b_old - 0.25}
    for method in LINK_METHODS:
        res = link({"b": b_old}, new, method=method, D=1.0, slope=1.0)
        assert res.A == 1.0
        assert res.B == pytest.approx(0.25, abs=1e-9)


def test_d_matters_only_for_characteristic_curves() -> None:
    assert link(KB_Y, KB_X, "mean_sigma", D=1.0).A == link(KB_Y, KB_X, "mean_sigma", D=1.7).A
    assert link(KB_Y, KB_X, "haebara", D=1.0).A != pytest.approx(
        link(KB_Y, KB_X, "haebara", D=1.7).A, abs=1e-3
    )
    # D of ItemParameters inputs is overridden by the D argument.
    old = ItemParameters.create(a=KB_Y[:, 0], b=KB_Y[:, 1], c=KB_Y[:, 2], D=1.0)
    new = ItemParameters.create(a=KB_X[:, 0], b=KB_X[:, 1], c=KB_X[:, 2], D=1.0)
    assert link(old, new, "stocking_lord").A == pytest.approx(
        link(KB_Y, KB_X, "stocking_lord", D=1.7).A, abs=1e-12
    )


def test_input_layouts_agree() -> None:
    a, b, c = KB_X.T
    layouts = [
        KB_X,
        (a, b, c),
        [a.tolist(), b.tolist(), c.tolist()],
        {"a": a, "b": b, "c": c},
        SimpleNamespace(a=a, b=b, c=c),
        ItemParameters.create(b=b, a=a, c=c, D=1.7),
    ]
    results = [link(KB_Y, layout, method="haebara") for layout in layouts]
    for res in results[1:]:
        assert res.A == pytest.approx(results[0].A, abs=1e-12)
        assert res.B == pytest.approx(results[0].B, abs=1e-12)


def test_method_spelling_variants() -> None:
    ref = link(KB_Y, KB_X, "stocking_lord")
    assert link(KB_Y, KB_X, "Stocking-Lord").A == ref.A
    assert link(KB_Y, KB_X, "mean/sigma").A == link(KB_Y, KB_X, "mean_sigma").A


def test_result_is_frozen_and_transforms() -> None:
    res = link(KB_Y, KB_X, method="mean_sigma")
    assert isinstance(res, ScaleLinking)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.A = 2.0  # type: ignore[misc]
    on_old = res.transform(KB_X)
    assert isinstance(on_old, ItemParameters)
    np.testing.assert_allclose(on_old.b, res.A * KB_X[:, 1] + res.B)
    np.testing.assert_allclose(on_old.a, KB_X[:, 0] / res.A)
    np.testing.assert_array_equal(on_old.c, KB_X[:, 2])
    # Mean/sigma makes the transformed difficulties match the old mean and SD.
    assert on_old.b.mean() == pytest.approx(KB_Y[:, 1].mean(), abs=1e-12)
    assert on_old.b.std() == pytest.approx(KB_Y[:, 1].std(), abs=1e-12)
    np.testing.assert_allclose(res.to_old_scale([0.0, 1.0]), [res.B, res.A + res.B])


def test_transform_parameters_round_trip() -> None:
    there = transform_parameters(KB_X, 1.3, 0.4)
    back = transform_parameters(there, 1 / 1.3, -0.4 / 1.3)
    np.testing.assert_allclose(back.a, KB_X[:, 0], rtol=1e-12)
    np.testing.assert_allclose(back.b, KB_X[:, 1], atol=1e-12)


# ---------------------------------------------------------------------------
# Hypothesis properties
# ---------------------------------------------------------------------------


@st.composite
def item_sets(draw: st.DrawFn, min_items: int = 2, max_items: int = 12) -> np.ndarray:
    n = draw(st.integers(min_items, max_items))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.4, 2.0, n)
    b = rng.uniform(-2.5, 2.5, n)
    c = rng.uniform(0.0, 0.3, n)
    return np.column_stack([a, b, c])


@settings(max_examples=30, deadline=None)
@given(items=item_sets(), method=st.sampled_from(LINK_METHODS), symmetric=st.booleans())
def test_linking_a_form_to_itself_is_identity(
    items: np.ndarray, method: str, symmetric: bool
) -> None:
    res = link(items, items, method=method, symmetric=symmetric)
    assert res.A == pytest.approx(1.0, abs=1e-9)
    assert res.B == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    items=item_sets(),
    A=st.floats(0.5, 2.0),
    B=st.floats(-1.5, 1.5),
    method=st.sampled_from(LINK_METHODS),
    symmetric=st.booleans(),
)
def test_linking_recovers_exact_transformation(
    items: np.ndarray, A: float, B: float, method: str, symmetric: bool
) -> None:
    a, b, c = items.T
    new = (a * A, (b - B) / A, c)  # the same items expressed on a scale with old = A new + B
    res = link(items, new, method=method, symmetric=symmetric)
    assert res.A == pytest.approx(A, abs=1e-6)
    assert res.B == pytest.approx(B, abs=1e-6)


@settings(max_examples=25, deadline=None)
@given(items=item_sets(min_items=3), seed=st.integers(0, 2**32 - 1),
       method=st.sampled_from(LINK_METHODS))
def test_linking_invariant_to_item_order(items: np.ndarray, seed: int, method: str) -> None:
    rng = np.random.default_rng(seed)
    noisy = items.copy()
    noisy[:, 1] += rng.normal(0, 0.2, items.shape[0])
    order = rng.permutation(items.shape[0])
    res = link(items, noisy, method=method)
    perm = link(items[order], noisy[order], method=method)
    assert perm.A == pytest.approx(res.A, abs=1e-7)
    assert perm.B == pytest.approx(res.B, abs=1e-7)


@settings(max_examples=25, deadline=None)
@given(items=item_sets(min_items=3), seed=st.integers(0, 2**32 - 1),
       method=st.sampled_from(LINK_METHODS))
def test_reverse_linking_is_the_inverse(items: np.ndarray, seed: int, method: str) -> None:
    # Moment methods and the symmetric criteria (same grid on both scales) are symmetric:
    # linking old to new gives theta_new = (theta_old - B) / A.
    rng = np.random.default_rng(seed)
    other = items.copy()
    other[:, 0] *= np.exp(rng.normal(0, 0.1, items.shape[0]))
    other[:, 1] = 0.8 * other[:, 1] + 0.3 + rng.normal(0, 0.2, items.shape[0])
    forward = link(items, other, method=method, symmetric=True)
    backward = link(other, items, method=method, symmetric=True)
    assert backward.A == pytest.approx(1 / forward.A, rel=1e-6)
    assert backward.B == pytest.approx(-forward.B / forward.A, abs=1e-6)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(method="tucker"), "method must be one of"),
        (dict(method=3), "method must be one of"),
        (dict(new=KB_X[:5]), "same common items"),
        (dict(old=KB_Y[:1], new=KB_X[:1]), "at least 2 common items"),
        (dict(new=np.where(np.eye(12, 3, dtype=bool), np.nan, KB_X)), "new: .*finite"),
        (dict(old={"a": -KB_Y[:, 0], "b": KB_Y[:, 1]}), "old: a .*positive"),
        (dict(old={"b": KB_Y[:, 1], "c": np.full(12, 1.2)}), "old: c .*\\[0, 1\\)"),
        (dict(new={"a": KB_X[:, 0]}), "new must contain the difficulties under key 'b'"),
        (dict(new=KB_X.T), "shape \\(n_items, 3\\)"),
        (dict(new="abc"), "new must be ItemParameters"),
        (dict(new=(KB_X[:, 0], KB_X[:4, 1], KB_X[:, 2])), "new: a, b and c must have the same"),
        (dict(D=0.0), "D must be a positive number"),
        (dict(D=float("nan")), "D must be a positive number"),
        (dict(method="haebara", theta=[0.0]), "theta must be one-dimensional"),
        (dict(method="haebara", theta=[0.0, np.inf]), "theta must be finite"),
        (dict(method="haebara", weights=np.ones(5)), "weights must have the same shape"),
        (dict(method="haebara", weights=-np.ones(40)), "non-negative"),
        (dict(method="haebara", weights=np.zeros(40)), "must not all be zero"),
        (dict(method="haebara", theta_new=[0.0, 1.0]), "only with symmetric=True"),
        (dict(method="haebara", symmetric=True, theta_new=[[0.0, 1.0]]), "theta_new"),
        (dict(method="haebara", symmetric="yes"), "symmetric must be True or False"),
        (dict(slope=0.0), "A \\(slope\\) must be a positive"),
    ],
)
def test_bad_input_raises(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = dict(old=KB_Y, new=KB_X, method="mean_mean")
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        link(**args)  # type: ignore[arg-type]


def test_mean_sigma_needs_spread_of_difficulties() -> None:
    flat = {"b": np.zeros(4)}
    spread = {"b": np.array([-1.0, 0.0, 0.5, 1.0])}
    with pytest.raises(ValueError, match="new: mean_sigma .*sd\\(b\\) = 0"):
        link(spread, flat, method="mean_sigma")
    with pytest.raises(ValueError, match="old: mean_sigma .*sd\\(b\\) = 0"):
        link(flat, spread, method="mean_sigma")
    # The characteristic-curve methods still work (started from mean/mean).
    res = link(flat, flat, method="stocking_lord")
    assert (res.A, res.B) == (pytest.approx(1.0, abs=1e-6), pytest.approx(0.0, abs=1e-6))


def test_bad_transformation_constants() -> None:
    with pytest.raises(ValueError, match="A \\(slope\\)"):
        transform_parameters(KB_X, -1.0, 0.0)
    with pytest.raises(ValueError, match="B \\(intercept\\)"):
        transform_parameters(KB_X, 1.0, float("nan"))
    with pytest.raises(ValueError, match="items: "):
        as_item_parameters((KB_X[:, 0], KB_X[:, 1], KB_X[:, 2] + 1.0))
