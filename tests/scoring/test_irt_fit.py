"""Tests for scoring.irt.fit: infit and outfit mean squares (Wright & Masters 1982)."""

from __future__ import annotations

import dataclasses
import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import scoring.irt
import scoring.irt.fit
from scoring.irt import FitStatistics, ItemParameters, fit_statistics, simulate_responses


def test_doctests() -> None:
    result = doctest.testmod(scoring.irt.fit, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_package_exports() -> None:
    for name in scoring.irt.fit.__all__:
        assert getattr(scoring.irt, name) is getattr(scoring.irt.fit, name)


def _reference_item(x: np.ndarray, p: np.ndarray) -> tuple[float, float, float, float]:
    """One item's statistics with explicit loops, following Wright & Masters (1982) 5.4."""
    n = 0
    sum_z2 = sum_y2 = sum_w = sum_c_w2 = sum_c_w = 0.0
    for xv, pv in zip(x, p, strict=True):
        if xv < 0:
            continue
        w = pv * (1 - pv)
        c = pv * (1 - pv) ** 4 + (1 - pv) * pv**4
        y = xv - pv
        n += 1
        sum_z2 += y * y / w
        sum_y2 += y * y
        sum_w += w
        sum_c_w2 += c / w**2
        sum_c_w += c - w * w
    outfit = sum_z2 / n
    infit = sum_y2 / sum_w
    q_out = np.sqrt(sum_c_w2 / n**2 - 1 / n)
    q_in = np.sqrt(sum_c_w / sum_w**2)
    t_out = (outfit ** (1 / 3) - 1) * 3 / q_out + q_out / 3
    t_in = (infit ** (1 / 3) - 1) * 3 / q_in + q_in / 3
    return infit, outfit, t_in, t_out


def test_matches_loop_reference_with_omissions() -> None:
    rng = np.random.default_rng(1)
    items = ItemParameters.create(b=rng.normal(size=6))
    theta = rng.normal(size=40)
    x = simulate_responses(items, theta, seed=2, omit_rate=0.1)
    p = 1 / (1 + np.exp(-(theta[:, None] - items.b)))
    fit = fit_statistics(x, items, theta, exclude_extreme=False)
    for i in range(6):
        ref = _reference_item(x[:, i], p[:, i])
        got = (fit.item_infit[i], fit.item_outfit[i], fit.item_infit_t[i], fit.item_outfit_t[i])
        assert_allclose(got, ref, rtol=1e-12)
    for v in range(40):
        if (x[v] >= 0).sum() < 2:
            continue
        ref = _reference_item(x[v], p[v])
        got = (
            fit.person_infit[v],
            fit.person_outfit[v],
            fit.person_infit_t[v],
            fit.person_outfit_t[v],
        )
        assert_allclose(got, ref, rtol=1e-12)
    assert fit.item_n.tolist() == (x >= 0).sum(axis=0).tolist()


def test_fitting_data_have_mean_squares_near_one() -> None:
    rng = np.random.default_rng(3)
    items = ItemParameters.create(b=rng.normal(size=20))
    theta = rng.normal(size=2000)
    x = simulate_responses(items, theta, seed=4)
    fit = fit_statistics(x, items, theta)
    # With 2000 responses per item the mean squares have SD about 0.03-0.05.
    assert np.all(np.abs(fit.item_infit - 1) < 0.1)
    assert np.all(np.abs(fit.item_outfit - 1) < 0.2)
    assert np.all(np.abs(fit.item_infit_t) < 3.5)
    assert abs(np.mean(fit.item_infit_t)) < 1.0
    assert np.mean(fit.person_infit) == pytest.approx(1.0, abs=0.05)


def test_misfitting_items_are_flagged() -> None:
    rng = np.random.default_rng(5)
    theta = rng.normal(size=1500)
    b = rng.normal(size=10)
    model = ItemParameters.create(b=b)
    # Item 0 is noisy (slope 0.2: nearly random), item 1 too discriminating (slope 4).
    true = ItemParameters.create(b=b, a=np.r_[0.2, 4.0, np.ones(8)])
    x = simulate_responses(true, theta, seed=6)
    fit = fit_statistics(x, model, theta)
    assert fit.item_infit[0] > 1.2 and fit.item_infit_t[0] > 3
    assert fit.item_outfit[0] > 1.2 and fit.item_outfit_t[0] > 3
    assert fit.item_infit[1] < 0.8 and fit.item_infit_t[1] < -3
    # A candidate answering against the model (right on hard, wrong on easy items).
    order = np.argsort(b)
    odd = np.zeros(10, np.int8)
    odd[order[5:]] = 1
    guttman = np.zeros(10, np.int8)
    guttman[order[:5]] = 1
    fit2 = fit_statistics(np.vstack([x[:50], odd, guttman]), model, np.r_[theta[:50], 0.0, 0.0])
    assert fit2.person_outfit[-2] > 1.5 and fit2.person_outfit_t[-2] > 1.5
    assert fit2.person_outfit[-1] < 0.8 and fit2.person_infit[-1] < 0.8


def test_extreme_candidates_excluded_from_item_statistics() -> None:
    items = ItemParameters.create(b=[-1.0, 0.0, 1.0])
    x = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [1, 1, 1], [0, 0, 0]])
    theta = np.array([-0.5, 0.5, 0.0, 2.0, -2.0])
    fit = fit_statistics(x, items, theta)
    core = fit_statistics(x[:3], items, theta[:3])
    assert_allclose(fit.item_infit, core.item_infit)
    assert fit.item_n.tolist() == [3, 3, 3]
    assert np.all(np.isfinite(fit.person_outfit))
    kept = fit_statistics(x, items, theta, exclude_extreme=False)
    assert kept.item_n.tolist() == [5, 5, 5]


_X = simulate_responses(ItemParameters.create(b=np.linspace(-1, 1, 5)), np.linspace(-2, 2, 30))


@settings(max_examples=15, deadline=None)
@given(st.permutations(list(range(30))))
def test_item_statistics_invariant_to_candidate_order(order: list[int]) -> None:
    items = ItemParameters.create(b=np.linspace(-1, 1, 5))
    theta = np.linspace(-2, 2, 30)
    base = fit_statistics(_X, items, theta)
    shuffled = fit_statistics(_X[order], items, theta[order])
    assert_allclose(shuffled.item_infit, base.item_infit, rtol=1e-12)
    assert_allclose(shuffled.item_outfit_t, base.item_outfit_t, rtol=1e-12)
    assert_allclose(shuffled.person_infit, base.person_infit[order], rtol=1e-12)


def test_result_is_frozen() -> None:
    items = ItemParameters.create(b=[0.0, 0.0])
    fit = fit_statistics([[1, 0], [0, 1]], items, [0.0, 0.0])
    assert isinstance(fit, FitStatistics)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.item_n = None  # type: ignore[misc]
    with pytest.raises(ValueError):
        fit.item_infit[0] = 2.0


def test_bad_input() -> None:
    items = ItemParameters.create(b=[0.0, 1.0])
    with pytest.raises(ValueError, match="theta must have one value per candidate"):
        fit_statistics([[1, 0], [0, 1]], items, [0.0])
    with pytest.raises(ValueError, match="theta must be finite"):
        fit_statistics([[1, 0], [0, 1]], items, [0.0, np.inf])
    with pytest.raises(ValueError, match="items has 2"):
        fit_statistics([[1, 0, 1]], items, [0.0])
    with pytest.raises(ValueError, match=r"candidates \[1\].*answered no item"):
        fit_statistics([[1, 0], [-1, -1]], items, [0.0, 0.0])
    with pytest.raises(ValueError, match=r"items \[0, 1\].*no\s+responses"):
        fit_statistics([[1, 1], [0, 0]], items, [1.0, -1.0])
    with pytest.raises(ValueError, match="NaN"):
        fit_statistics([[1, np.nan]], items, [0.0])
