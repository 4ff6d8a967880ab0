"""Tests for scoring.irt.equating: IRT true-score and observed-score equating."""

from __future__ import annotations

import dataclasses
import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit, logit

import scoring.irt.equating
from scoring.irt.equating import (
    IRTObservedScoreEquating,
    IRTTrueScoreEquating,
    _equipercentile,
    irt_observed_score_equating,
    irt_true_score_equating,
    theta_for_true_score,
)
from scoring.irt.linking import ScaleLinking, as_item_parameters, link, transform_parameters
from scoring.irt.model import ItemParameters, normal_quadrature, test_characteristic

# ---------------------------------------------------------------------------
# Reference data: Kolen & Brennan (2014), ch. 6, ACT Mathematics forms X and Y (36 items,
# 3PL, D = 1.7); form X already placed on form Y's scale with the mean/sigma constants of
# the 11 common items (A = 1.1761, B = -0.5042; K&B table 6.8). The true-score equivalents
# and thetas are the output of Kolen's POLYEQUATE program as quoted (six decimals) by the
# jMetrik test suite (github.com/meyerjp3/psychometrics, IrtTrueScoreEquatingTest), where
# -99 / 99 mark scores without a finite theta.
# ---------------------------------------------------------------------------
KB_FORM_X = np.array([
    (0.467344, -2.616539, 0.175056), (0.670924, -1.068342, 0.116490),
    (0.386976, -1.339358, 0.208748), (1.228024, 0.064115, 0.282599),
    (0.828161, -0.701780, 0.262510), (0.496452, -1.511753, 0.203834),
    (0.731571, 0.030429, 0.322391), (0.973113, -0.657195, 0.220907),
    (0.641447, -0.479277, 0.159961), (0.779740, 0.688159, 0.364807),
    (0.815589, 0.344648, 0.239862), (0.563967, -0.444704, 0.123961),
    (1.047915, -0.014127, 0.253470), (0.892128, 0.422782, 0.156932),
    (0.908926, 0.626040, 0.298628), (0.781655, 0.213016, 0.252099),
    (0.759750, 0.098919, 0.227257), (0.822383, -0.274926, 0.053538),
    (0.557961, -0.051057, 0.120098), (0.897580, 0.610857, 0.203621),
    (0.295784, 2.173474, 0.148927), (0.716916, 0.742542, 0.233231),
    (0.947343, 0.180908, 0.064409), (1.239634, 0.700229, 0.245270),
    (0.436801, 1.117559, 0.142681), (0.781728, 0.763879, 0.087920),
    (1.599493, 1.149537, 0.199245), (1.279241, 1.270811, 0.164220),
    (0.821706, 1.311960, 0.143102), (0.596854, 2.130355, 0.085290),
    (1.075705, 1.701967, 0.244298), (0.728471, 1.511532, 0.086474),
    (1.197162, 1.325326, 0.078897), (0.493857, 3.580113, 0.139884),
    (0.787070, 3.165387, 0.108961), (1.104752, 2.034859, 0.107530),
])
KB_FORM_Y = np.array([
    (0.870350, -1.450715, 0.157647), (0.462772, -0.406996, 0.109378),
    (0.441595, -1.334933, 0.155883), (0.544796, -0.901734, 0.138071),
    (0.619973, -1.486483, 0.211368), (0.572995, -1.321004, 0.191298),
    (1.175228, 0.069050, 0.294746), (0.445023, 0.232402, 0.272323),
    (0.598719, -0.709831, 0.117663), (0.847924, -0.425342, 0.144462),
    (1.031996, -0.818383, 0.093584), (0.604125, -0.353942, 0.081759),
    (0.829722, -0.019137, 0.128310), (0.725171, -0.315511, 0.085425),
    (0.990164, 0.531956, 0.302443), (0.774935, 0.539442, 0.217930),
    (0.594230, 0.898656, 0.229885), (0.808079, -0.115649, 0.064791),
    (0.964044, -0.194763, 0.163258), (0.783557, 0.350592, 0.129939),
    (0.413973, 2.553812, 0.240967), (0.761758, -0.158110, 0.113708),
    (1.195895, 0.505649, 0.239728), (1.355437, 0.581109, 0.224322),
    (1.186899, 0.622889, 0.257697), (1.029556, 0.389830, 0.185611),
    (1.041731, 0.939158, 0.165121), (1.205473, 1.135046, 0.232287),
    (0.969740, 0.697642, 0.107035), (0.633562, 1.896027, 0.079396),
    (1.082216, 1.386423, 0.185511), (1.019458, 0.919670, 0.102719),
    (1.134661, 1.079013, 0.063009), (1.194845, 1.841148, 0.099913),
    (1.196146, 2.029683, 0.083187), (0.925521, 2.133706, 0.125873),
])
POLYEQUATE_EQUATED = [
    0.000000, 0.888027, 1.776054, 2.66408, 3.552107, 4.440134, 5.328161, 6.134033, 7.185802,
    8.39496, 9.621725, 10.82559, 12.000215, 13.149525, 14.280262, 15.399495, 16.513518,
    17.627108, 18.742944, 19.861174, 20.979305, 22.09259, 23.194994, 24.280626, 25.345249,
    26.387408, 27.408805, 28.413824, 29.408303, 30.397704, 31.384411, 32.363711, 33.317925,
    34.209551, 34.979905, 35.575623, 36.000000,
]
POLYEQUATE_THETA = [-99.0] * 7 + [
    -4.336128, -2.770096, -2.063286, -1.607182, -1.268170, -0.995059, -0.763274, -0.559258,
    -0.374740, -0.204264, -0.044016, 0.108779, 0.256195, 0.399813, 0.540889, 0.680503,
    0.819717, 0.959750, 1.102159, 1.249018, 1.403104, 1.568130, 1.749146, 1.953320, 2.191603,
    2.482434, 2.860365, 3.399176, 4.321431, 99.0,
]


def test_doctests() -> None:
    result = doctest.testmod(scoring.irt.equating, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# ---------------------------------------------------------------------------
# True-score equating
# ---------------------------------------------------------------------------


def test_true_score_equating_reproduces_polyequate() -> None:
    res = irt_true_score_equating(KB_FORM_X, KB_FORM_Y)
    assert isinstance(res, IRTTrueScoreEquating)
    np.testing.assert_array_equal(res.scores, np.arange(37))
    # POLYEQUATE prints six decimals and stops its Newton iterations at its own
    # tolerance; we agree to 1.7e-6, so 5e-6 is asserted.
    np.testing.assert_allclose(res.equated, POLYEQUATE_EQUATED, atol=5e-6)
    theta = np.where(np.isfinite(res.theta), res.theta, np.sign(res.theta) * 99.0)
    np.testing.assert_allclose(theta, POLYEQUATE_THETA, atol=2e-6)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.equated = res.equated  # type: ignore[misc]


def test_true_score_below_chance_follows_kolen_convention() -> None:
    # Scores up to sum(c_X) = 6.527 interpolate linearly between (0, 0) and
    # (sum c_X, sum c_Y) (K&B sec. 6.6; POLYEQUATE above gives the same values).
    res = irt_true_score_equating(KB_FORM_X, KB_FORM_Y)
    ratio = KB_FORM_Y[:, 2].sum() / KB_FORM_X[:, 2].sum()
    np.testing.assert_allclose(res.equated[:7], np.arange(7) * ratio, rtol=1e-14)
    assert np.all(res.theta[:7] == -np.inf) and res.theta[-1] == np.inf
    # The equated score at the chance level joins the curve continuously.
    assert res.equated[6] < res.equated[7]


def test_true_score_rasch_closed_form() -> None:
    # Equal difficulties within each form: tau_X = n expit(D(theta - b_x)), so
    # e_Y(x) = n expit(logit(x / n) + D (b_x - b_y)).
    n, bx, by, D = 8, 0.4, -0.3, 1.0
    res = irt_true_score_equating({"b": np.full(n, bx)}, {"b": np.full(n, by)}, D=D)
    x = np.arange(1, n)
    np.testing.assert_allclose(res.equated[1:-1], n * expit(logit(x / n) + D * (bx - by)),
                               atol=1e-10)
    np.testing.assert_allclose(res.theta[1:-1], bx + logit(x / n) / D, atol=1e-10)
    assert res.equated[0] == 0.0 and res.equated[-1] == n


def test_true_score_with_linking_equals_transformed_form() -> None:
    lk = ScaleLinking(A=1.2, B=-0.3, method="mean_sigma", D=1.7, n_items=12,
                      criterion=float("nan"), symmetric=False, converged=True)
    on_new_scale = transform_parameters(KB_FORM_X, 1 / 1.2, 0.3 / 1.2)
    direct = irt_true_score_equating(KB_FORM_X, KB_FORM_Y)
    via = irt_true_score_equating(on_new_scale, KB_FORM_Y, linking=lk)
    np.testing.assert_allclose(via.equated, direct.equated, atol=1e-9)


def test_harder_form_gets_higher_equivalents() -> None:
    y = {"b": np.linspace(-1.5, 1.5, 10)}
    x = {"b": np.linspace(-1.5, 1.5, 10) + 0.5}
    res = irt_true_score_equating(x, y, D=1.0)
    assert np.all(res.equated[1:-1] > res.scores[1:-1])


def test_theta_for_true_score_inverts_tcc() -> None:
    items = as_item_parameters(KB_FORM_X)
    targets = np.array([7.5, 12.0, 20.25, 35.5])
    theta = theta_for_true_score(items, targets)
    np.testing.assert_allclose(test_characteristic(theta, items), targets, atol=1e-10)


@st.composite
def forms(draw: st.DrawFn, with_c: bool = True) -> np.ndarray:
    n = draw(st.integers(1, 25))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    a = rng.uniform(0.4, 2.0, n)
    b = rng.uniform(-2.5, 2.5, n)
    c = rng.uniform(0.0, 0.3, n) if with_c else np.zeros(n)
    return np.column_stack([a, b, c])


@settings(max_examples=40, deadline=None)
@given(form=forms())
def test_true_score_equating_a_form_to_itself_is_identity(form: np.ndarray) -> None:
    res = irt_true_score_equating(form, form)
    np.testing.assert_allclose(res.equated, np.arange(form.shape[0] + 1), atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(x=forms(), y=forms())
def test_true_score_equating_is_monotone(x: np.ndarray, y: np.ndarray) -> None:
    res = irt_true_score_equating(x, y)
    assert np.all(np.diff(res.equated) > 0)
    assert np.all(np.diff(res.theta[np.isfinite(res.theta)]) > 0)
    assert res.equated[0] == 0.0 and res.equated[-1] == y.shape[0]
    assert np.all((res.equated >= 0) & (res.equated <= y.shape[0]))


# ---------------------------------------------------------------------------
# Observed-score equating
# ---------------------------------------------------------------------------


def test_equipercentile_kolen_brennan_hypothetical_example() -> None:
    # K&B (2014) table 2.2: published e_Y(x) = 0.5, 1.75, 2.8333, 3.5, 4.25 (4 decimals).
    fx = np.array([2, 3, 2, 2, 1], dtype=float)
    fy = np.array([1, 2, 2, 3, 2], dtype=float)
    np.testing.assert_allclose(_equipercentile(fx, fy), [0.5, 1.75, 2.8333, 3.5, 4.25],
                               atol=5e-5)


def test_observed_score_distributions_are_model_implied() -> None:
    res = irt_observed_score_equating(KB_FORM_X, KB_FORM_Y)
    assert isinstance(res, IRTObservedScoreEquating)
    assert res.fx.shape == (37,) and res.fy.shape == (37,)
    assert res.fx.sum() == pytest.approx(1.0, abs=1e-12)
    assert res.fy.sum() == pytest.approx(1.0, abs=1e-12)
    # The mean number-right score is the average test characteristic curve.
    nodes, weights = normal_quadrature(41)
    for f, form in ((res.fx, KB_FORM_X), (res.fy, KB_FORM_Y)):
        expected = weights @ test_characteristic(nodes, as_item_parameters(form))
        assert f @ np.arange(37) == pytest.approx(expected, abs=1e-10)
    # Observed- and true-score equating agree closely away from the ends of the scale
    # (Lord & Wingersky 1984; K&B table 6.9 shows differences of a few tenths at most).
    assert np.all(np.diff(res.equated) > 0)
    tse = irt_true_score_equating(KB_FORM_X, KB_FORM_Y)
    assert np.max(np.abs(res.equated - tse.equated)[10:34]) < 0.3


def test_observed_score_synthetic_population_weights() -> None:
    nodes, weights = normal_quadrature(31)
    pop2 = dict(theta2=nodes * 1.1 + 0.4, weights2=weights)
    only1 = irt_observed_score_equating(KB_FORM_X, KB_FORM_Y, theta=nodes, weights=weights)
    only2 = irt_observed_score_equating(KB_FORM_X, KB_FORM_Y, theta=nodes * 1.1 + 0.4,
                                        weights=weights)
    w1_one = irt_observed_score_equating(KB_FORM_X, KB_FORM_Y, theta=nodes, weights=weights,
                                         w1=1.0, **pop2)
    w1_zero = irt_observed_score_equating(KB_FORM_X, KB_FORM_Y, theta=nodes, weights=weights,
                                          w1=0.0, **pop2)
    half = irt_observed_score_equating(KB_FORM_X, KB_FORM_Y, theta=nodes, weights=weights,
                                       **pop2)
    np.testing.assert_allclose(w1_one.equated, only1.equated, atol=1e-12)
    np.testing.assert_allclose(w1_zero.equated, only2.equated, atol=1e-12)
    np.testing.assert_allclose(half.fx, 0.5 * (only1.fx + only2.fx), atol=1e-15)
    np.testing.assert_allclose(half.fy, 0.5 * (only1.fy + only2.fy), atol=1e-15)


def test_observed_score_with_linking_transforms_items_and_population() -> None:
    lk = link(KB_FORM_Y[:12], KB_FORM_Y[:12] * [1.1, 1, 1] - [0, 0.2, 0], method="mean_sigma")
    on_new_scale = transform_parameters(KB_FORM_X, 1 / lk.A, -lk.B / lk.A)
    nodes, weights = normal_quadrature(21, mean=0.2, sd=0.9)
    via = irt_observed_score_equating(on_new_scale, KB_FORM_Y, theta=nodes, weights=weights,
                                      linking=lk)
    direct = irt_observed_score_equating(KB_FORM_X, KB_FORM_Y, theta=lk.A * nodes + lk.B,
                                         weights=weights)
    np.testing.assert_allclose(via.equated, direct.equated, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(form=forms())
def test_observed_score_equating_a_form_to_itself_is_identity(form: np.ndarray) -> None:
    res = irt_observed_score_equating(form, form, n_points=15)
    np.testing.assert_allclose(res.equated, np.arange(form.shape[0] + 1), atol=1e-8)


@settings(max_examples=30, deadline=None)
@given(x=forms(), y=forms())
def test_observed_score_equating_is_monotone_and_in_range(x: np.ndarray, y: np.ndarray) -> None:
    res = irt_observed_score_equating(x, y, n_points=15)
    # Non-decreasing in general (strict wherever the model gives positive probabilities).
    assert np.all(np.diff(res.equated) >= 0)
    assert np.all((res.equated >= -0.5) & (res.equated <= y.shape[0] + 0.5))


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


def test_true_score_bad_input() -> None:
    with pytest.raises(ValueError, match="form_x: "):
        irt_true_score_equating((KB_FORM_X[:, 0], KB_FORM_X[:, 1], KB_FORM_X[:, 2] * 5),
                                KB_FORM_Y)
    with pytest.raises(ValueError, match="form_y must be ItemParameters"):
        irt_true_score_equating(KB_FORM_X, 3.0)
    with pytest.raises(ValueError, match="D must be a positive number"):
        irt_true_score_equating(KB_FORM_X, KB_FORM_Y, D=-1.0)
    one = ItemParameters.create(b=[0.0, 1.0], D=1.0)
    other = ItemParameters.create(b=[0.0, 1.0], D=1.7)
    with pytest.raises(ValueError, match="different scaling constants D"):
        irt_true_score_equating(one, other)
    assert irt_true_score_equating(one, other, D=1.0).equated[1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="linking must have numeric attributes A and B"):
        irt_true_score_equating(KB_FORM_X, KB_FORM_Y, linking=object())
    with pytest.raises(ValueError, match="linking must have A > 0"):
        irt_true_score_equating(KB_FORM_X, KB_FORM_Y,
                                linking=ScaleLinking(-1.0, 0.0, "x", 1.7, 2, 0.0, False, True))


def test_theta_for_true_score_bad_targets() -> None:
    with pytest.raises(ValueError, match="strictly between sum\\(c\\)"):
        theta_for_true_score(KB_FORM_X, [3.0])
    with pytest.raises(ValueError, match="strictly between"):
        theta_for_true_score({"b": [0.0, 1.0]}, [2.0])
    with pytest.raises(ValueError, match="strictly between"):
        theta_for_true_score({"b": [0.0, 1.0]}, [np.nan])
    with pytest.raises(ValueError, match="one-dimensional"):
        theta_for_true_score({"b": [0.0, 1.0]}, [[1.0]])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(theta=[0.0, 1.0]), "weights are required with theta"),
        (dict(weights=[0.5, 0.5]), "weights given without theta"),
        (dict(theta=[0.0, 1.0], weights=[1.0]), "weights must have the same shape"),
        (dict(theta=[0.0, 1.0], weights=[-1.0, 2.0]), "non-negative"),
        (dict(theta=[0.0, np.nan], weights=[1.0, 1.0]), "theta must be a non-empty"),
        (dict(theta2=[0.0, 1.0]), "weights2 are required with theta2"),
        (dict(theta2=[0.0, 1.0], weights2=[1.0, 1.0], w1=1.5), "w1 must be in \\[0, 1\\]"),
        (dict(theta2=[0.0, 1.0], weights2=[1.0, 1.0], w1="a"), "w1 must be a number"),
        (dict(n_points=1), "n_points must be an integer >= 2"),
        (dict(n_points=True), "n_points must be an integer >= 2"),
    ],
)
def test_observed_score_bad_input(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        irt_observed_score_equating(KB_FORM_X, KB_FORM_Y, **kwargs)  # type: ignore[arg-type]
