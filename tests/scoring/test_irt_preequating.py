"""Tests for scoring.irt.preequating: conversion tables of a new form from banked parameters."""

from __future__ import annotations

import dataclasses
import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scoring.irt.preequating
from scoring.irt.equating import irt_true_score_equating
from scoring.irt.linking import as_item_parameters, link
from scoring.irt.model import ItemParameters, information, probability, test_characteristic
from scoring.irt.preequating import PreEquating, pre_equate

BASE = {"b": np.linspace(-2.0, 2.0, 30)}


def _shifted(shift: float, n: int = 30) -> dict[str, np.ndarray]:
    return {"b": np.linspace(-2.0, 2.0, n) + shift}


def test_doctests() -> None:
    result = doctest.testmod(scoring.irt.preequating, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_identical_form_gives_identity_and_same_cut() -> None:
    res = pre_equate(BASE, BASE, base_raw_cut=18, D=1.0)
    assert isinstance(res, PreEquating)
    np.testing.assert_allclose(res.equated, np.arange(31), atol=1e-9)
    assert res.raw_cut == 18
    assert res.true_score_cut == pytest.approx(18.0, abs=1e-9)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.raw_cut = 3  # type: ignore[misc]


def test_harder_form_lowers_the_raw_cut() -> None:
    cuts = [pre_equate(_shifted(s), BASE, base_raw_cut=18, D=1.0).raw_cut for s in
            (-0.6, -0.3, 0.0, 0.3, 0.6)]
    assert cuts == sorted(cuts, reverse=True)
    assert cuts[0] > 18 > cuts[-1]


def test_rasch_raw_to_theta_is_the_ml_estimate() -> None:
    res = pre_equate(BASE, D=1.0)
    items = as_item_parameters(BASE, D=1.0)
    # For the Rasch model the raw score is sufficient and the ML equation is
    # sum_j P_j(theta) = x (Wright & Stone 1979), which the table solves.
    np.testing.assert_allclose(test_characteristic(res.theta[1:-1], items), np.arange(1, 30),
                               atol=1e-9)
    # The ends use the extreme-score adjustment: 0.3 and 29.7.
    np.testing.assert_allclose(test_characteristic(res.theta[[0, -1]], items), [0.3, 29.7],
                               atol=1e-9)
    p = probability(res.theta, items)
    np.testing.assert_allclose(res.se, 1 / np.sqrt((p * (1 - p)).sum(axis=1)), rtol=1e-12)
    assert np.all(np.diff(res.theta) > 0) and np.all(np.isfinite(res.theta))
    assert res.equated is None and res.raw_cut is None and res.theta_cut is None


def test_theta_cut_maps_to_smallest_score_reaching_it() -> None:
    res = pre_equate(BASE, D=1.0)
    # A cut exactly at the ability of raw score 17 needs 17 right (not 18 through
    # root-finding noise); just above it needs 18.
    assert pre_equate(BASE, theta_cut=float(res.theta[17]), D=1.0).raw_cut == 17
    assert pre_equate(BASE, theta_cut=float(res.theta[17]) + 1e-6, D=1.0).raw_cut == 18
    low = pre_equate(BASE, theta_cut=-50.0, D=1.0)
    assert low.raw_cut == 0 and low.true_score_cut == pytest.approx(0.0, abs=1e-12)


def test_base_cut_at_maximum() -> None:
    res = pre_equate(_shifted(0.5, 20), BASE, base_raw_cut=30, D=1.0)
    assert res.theta_cut == np.inf and res.raw_cut == 20 and res.true_score_cut == 20.0


def test_three_pl_bank_below_chance_scores_share_a_theta() -> None:
    rng = np.random.default_rng(7)
    n = 25
    bank = ItemParameters.create(
        b=rng.normal(0, 1, n), a=rng.uniform(0.7, 1.6, n), c=rng.uniform(0.15, 0.25, n), D=1.7
    )
    res = pre_equate(bank, bank, theta_cut=0.2)
    sum_c = bank.c.sum()
    below = res.scores < sum_c + 0.3
    assert np.ptp(res.theta[below]) == 0.0
    assert np.all(np.diff(res.theta[~below]) > 0)
    assert res.theta[below][0] < res.theta[~below][0]
    np.testing.assert_allclose(res.equated, np.arange(n + 1), atol=1e-9)
    expected_cut = int(np.ceil(test_characteristic([0.2], bank)[0]))
    assert res.raw_cut == expected_cut
    info = information(res.theta, bank).sum(axis=1)
    np.testing.assert_allclose(res.se, 1 / np.sqrt(info))


def test_linked_new_form_matches_bank_scale_pre_equating() -> None:
    # A new form calibrated on its own scale is linked to the bank through common
    # Rasch items (slope fixed at 1), then pre-equated; the result equals pre-equating
    # the bank-scale parameters directly.
    bank_new = _shifted(0.3, 20)["b"]
    own_scale = bank_new - 0.45  # separate calibration centred differently
    common = slice(0, 8)
    lk = link({"b": bank_new[common]}, {"b": own_scale[common]}, "stocking_lord", D=1.0,
              slope=1.0)
    on_bank = lk.transform({"b": own_scale})
    direct = pre_equate({"b": bank_new}, BASE, base_raw_cut=18, D=1.0)
    linked = pre_equate(on_bank, BASE, base_raw_cut=18, D=1.0)
    np.testing.assert_allclose(linked.theta, direct.theta, atol=1e-8)
    assert linked.raw_cut == direct.raw_cut


@st.composite
def rasch_forms(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(3, 30))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return np.sort(rng.normal(0, 1.2, n))


@settings(max_examples=40, deadline=None)
@given(new=rasch_forms(), base=rasch_forms(), cut_fraction=st.floats(0.05, 1.0))
def test_raw_cut_is_smallest_score_whose_equivalent_reaches_base_cut(
    new: np.ndarray, base: np.ndarray, cut_fraction: float
) -> None:
    base_cut = max(1, int(round(cut_fraction * base.shape[0])))
    res = pre_equate({"b": new}, {"b": base}, base_raw_cut=base_cut, D=1.0)
    assert res.equated is not None and res.raw_cut is not None
    reaching = np.flatnonzero(res.equated >= base_cut - 1e-7)
    assert res.raw_cut == reaching[0]


@settings(max_examples=40, deadline=None)
@given(form=rasch_forms(), shift=st.floats(0.05, 1.5), cut=st.floats(-2.0, 2.0))
def test_harder_form_never_raises_the_cut(form: np.ndarray, shift: float, cut: float) -> None:
    easy = pre_equate({"b": form}, theta_cut=cut, D=1.0)
    hard = pre_equate({"b": form + shift}, theta_cut=cut, D=1.0)
    assert hard.raw_cut is not None and easy.raw_cut is not None
    assert hard.raw_cut <= easy.raw_cut
    assert np.all(np.diff(easy.theta) > 0)
    # Every ability is higher for the same raw score on the harder form.
    assert np.all(hard.theta > easy.theta)


@settings(max_examples=30, deadline=None)
@given(form=rasch_forms())
def test_pre_equating_to_itself_is_identity(form: np.ndarray) -> None:
    res = pre_equate({"b": form}, {"b": form}, D=1.0)
    assert res.equated is not None
    np.testing.assert_allclose(res.equated, np.arange(form.shape[0] + 1), atol=1e-9)
    np.testing.assert_allclose(
        res.equated, irt_true_score_equating({"b": form}, {"b": form}, D=1.0).equated
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(base_form=BASE, theta_cut=0.0, base_raw_cut=10), "either theta_cut or base_raw_cut"),
        (dict(base_raw_cut=10), "base_raw_cut needs base_form"),
        (dict(base_form=BASE, base_raw_cut=0), "base_raw_cut must lie in \\(sum\\(c\\), K\\]"),
        (dict(base_form=BASE, base_raw_cut=31), "base_raw_cut must lie in"),
        (dict(base_form=BASE, base_raw_cut="x"), "base_raw_cut must be a number"),
        (dict(theta_cut=float("nan")), "theta_cut must be finite"),
        (dict(theta_cut="high"), "theta_cut must be a number"),
        (dict(extreme=0.0), "extreme must be in"),
        (dict(extreme=15.0), "extreme must be in"),
        (dict(extreme=None), "extreme must be a number"),
        (dict(base_form={"b": [0.0, np.nan]}), "base_form: "),
    ],
)
def test_bad_input(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        pre_equate(BASE, D=1.0, **kwargs)  # type: ignore[arg-type]


def test_bad_new_form_and_conflicting_d() -> None:
    with pytest.raises(ValueError, match="new_form: "):
        pre_equate({"b": [0.0, 1.0], "a": [1.0, -1.0]})
    with pytest.raises(ValueError, match="different scaling constants D"):
        pre_equate(ItemParameters.create(b=[0.0, 1.0], D=1.0),
                   ItemParameters.create(b=[0.0, 1.0], D=1.7))
    # The carried D is used when D is not given.
    rasch = pre_equate(ItemParameters.create(b=[-1.0, 0.0, 1.0], D=1.0))
    assert rasch.theta[1] == pytest.approx(pre_equate({"b": [-1.0, 0.0, 1.0]}, D=1.0).theta[1])
