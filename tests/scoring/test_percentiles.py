"""Tests for scoring.percentiles: mid-point percentile ranks and norm groups."""

from __future__ import annotations

import dataclasses
import doctest
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal

import scoring.percentiles
from scoring.percentiles import (
    NormGroupRanks,
    norm_group_ranks,
    percentile_rank,
    percentile_ranks,
    score_frequencies,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "psychometrics-data"


def _actmath() -> tuple[np.ndarray, np.ndarray]:
    table = np.loadtxt(DATA / "ACTmath.csv", delimiter=",", skiprows=1, dtype=np.int64)
    assert_array_equal(table[:, 0], np.arange(41))
    return table[:, 1], table[:, 2]


counts = hnp.arrays(
    np.int64,
    st.integers(1, 40),
    elements=st.integers(0, 60),
).filter(lambda a: a.sum() > 0)


def test_doctests() -> None:
    result = doctest.testmod(scoring.percentiles, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# ---------------------------------------------------------------------------
# Published values
# ---------------------------------------------------------------------------

# Kolen & Brennan (2004), p. 48: mid-point percentile ranks of ACT Mathematics form X.
KB_PERCENTILE_RANKS_X = [
    0.00, 0.01, 0.03, 0.08, 0.22, 0.53, 1.42, 2.88, 4.70, 7.42, 10.80, 14.74, 19.17, 23.61,
    28.15, 32.83, 37.69, 42.28, 46.50, 50.59, 54.87, 58.89, 62.47, 66.05, 69.37, 72.68,
    75.84, 78.60, 81.06, 83.44, 85.90, 88.18, 90.19, 92.00, 93.67, 95.37, 96.81, 97.82,
    98.68, 99.39, 99.83,
]  # fmt: skip


def test_actmath_percentile_ranks_match_kolen_brennan() -> None:
    fx, _ = _actmath()
    ranks = percentile_ranks(fx)
    assert ranks.shape == (41,)
    # Published to two decimals: the rounded values must agree exactly, i.e.
    # every rank is within half a unit of the last digit.
    assert_array_equal(np.round(ranks, 2), KB_PERCENTILE_RANKS_X)
    assert np.all(np.abs(ranks - KB_PERCENTILE_RANKS_X) <= 0.005 + 1e-12)


def test_kolen_brennan_hypothetical_ranks() -> None:
    # K&B table 2.2: f(x) = .2 .3 .2 .2 .1; P(x) = 100 [F(x - 1) + f(x)/2].
    assert_allclose(percentile_ranks([2, 3, 2, 2, 1]), [10, 35, 60, 80, 95], atol=1e-12)
    assert_allclose(percentile_ranks([0.2, 0.3, 0.2, 0.2, 0.1]), [10, 35, 60, 80, 95])


def test_noninteger_formula() -> None:
    freq = [2, 3, 2, 2, 1]
    # x* = nearest integer; PR = 100 [F(x* - 1) + (x - x* + .5) f(x*)].
    x = np.array([-0.5, -0.25, 0.5, 0.9, 2.49, 3.5, 4.4, 4.5, 7.0])
    expected = 100 * np.array(
        [0, 0.25 * 0.2, 0.2, 0.2 + 0.4 * 0.3, 0.5 + 0.99 * 0.2, 0.9, 0.9 + 0.9 * 0.1, 1, 1]
    )
    assert_allclose(percentile_rank(x, freq), expected, atol=1e-12)
    assert percentile_rank(-3.0, freq) == 0.0
    assert percentile_rank(2.0, freq).shape == ()
    assert_allclose(percentile_rank(np.arange(5), freq), percentile_ranks(freq))


def test_rank_at_unobserved_scores() -> None:
    # Nobody scored 0, 1 or 4: PR(0) = 0, and a gap keeps the rank of the boundary.
    ranks = percentile_ranks([0, 0, 4, 4, 0, 2])
    assert_allclose(ranks, [0, 0, 20, 60, 80, 90])


# ---------------------------------------------------------------------------
# Norm groups
# ---------------------------------------------------------------------------


def test_norm_group_from_frequencies() -> None:
    fx, _ = _actmath()
    norm = norm_group_ranks(fx, "ACT Mathematics form X, K&B 2014 table 2.5")
    assert isinstance(norm, NormGroupRanks)
    assert norm.n == 4329
    assert norm.definition == "ACT Mathematics form X, K&B 2014 table 2.5"
    assert norm.max_score == 40
    assert_array_equal(np.round(norm.ranks, 2), KB_PERCENTILE_RANKS_X)
    assert_array_equal(norm.freq, fx)


def test_norm_group_from_scores_matches_frequencies() -> None:
    rng = np.random.default_rng(3)
    scores = rng.binomial(30, 0.6, size=2000)
    by_scores = norm_group_ranks(scores, "simulated", kind="scores", max_score=30)
    by_freq = norm_group_ranks(np.bincount(scores, minlength=31), "simulated")
    assert by_scores.n == 2000
    assert_array_equal(by_scores.freq, by_freq.freq)
    assert_allclose(by_scores.ranks, by_freq.ranks)


def test_rank_of_integer_and_noninteger_scores() -> None:
    norm = norm_group_ranks([2, 3, 2, 2, 1], "toy")
    assert_allclose(norm.rank_of([0, 4, 2, 2]), [10, 95, 60, 60])
    assert_allclose(norm.rank_of(np.array([[1, 3]])), [[35, 80]])
    assert_allclose(norm.rank_of([1.25, -1.0, 9.0]), [42.5, 0.0, 100.0])
    # Integer scores outside 0..K use the general formula, not an index error.
    assert_allclose(norm.rank_of([-2, 7]), [0.0, 100.0])


def test_norm_group_is_frozen_and_read_only() -> None:
    freq = np.array([1, 2, 3])
    norm = norm_group_ranks(freq, "toy")
    freq[0] = 100  # the result owns a copy
    assert norm.freq[0] == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        norm.n = 5  # type: ignore[misc]
    with pytest.raises(ValueError):
        norm.ranks[0] = 1.0


def test_single_candidate_norm_group() -> None:
    norm = norm_group_ranks([7], "one candidate", kind="scores", max_score=10)
    assert norm.n == 1
    assert norm.ranks[7] == 50.0
    assert norm.ranks[6] == 0.0 and norm.ranks[8] == 100.0


def test_score_frequencies() -> None:
    assert_array_equal(score_frequencies([1, 1, 3]), [0, 2, 0, 1])
    assert_array_equal(score_frequencies(np.array([2.0, 0.0]), max_score=3), [1, 0, 1, 0])


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(counts)
def test_ranks_bounded_and_non_decreasing(freq: np.ndarray) -> None:
    ranks = percentile_ranks(freq)
    assert ranks.shape == freq.shape
    assert np.all((ranks >= 0) & (ranks <= 100))
    assert np.all(np.diff(ranks) >= 0)
    # Strictly increasing where both scores were observed.
    observed = np.flatnonzero(freq > 0)
    assert np.all(np.diff(ranks[observed]) > 0)


@settings(max_examples=100, deadline=None)
@given(counts, st.lists(st.floats(-5, 50, allow_nan=False), min_size=1, max_size=20))
def test_noninteger_ranks_monotone_and_bounded(freq: np.ndarray, xs: list[float]) -> None:
    x = np.sort(np.array(xs))
    ranks = percentile_rank(x, freq)
    assert np.all((ranks >= 0) & (ranks <= 100))
    assert np.all(np.diff(ranks) >= -1e-12)


@settings(max_examples=100, deadline=None)
@given(counts, st.sampled_from([0.001, 0.5, 3.0, 1000.0]))
def test_ranks_invariant_to_scaling_counts(freq: np.ndarray, factor: float) -> None:
    assert_allclose(percentile_ranks(freq * factor), percentile_ranks(freq), atol=1e-10)


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.int64, st.integers(1, 200), elements=st.integers(0, 25)), st.randoms())
def test_norm_group_invariant_to_candidate_order(scores: np.ndarray, rnd) -> None:
    shuffled = scores.copy()
    rnd.shuffle(shuffled)
    a = norm_group_ranks(scores, "g", kind="scores", max_score=25)
    b = norm_group_ranks(shuffled, "g", kind="scores", max_score=25)
    assert_array_equal(a.ranks, b.ranks)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("freq", "message"),
    [
        ([], "empty"),
        ([[1, 2], [3, 4]], "1-D"),
        ([1, np.nan, 2], r"freq\[1\] is nan"),
        ([1, np.inf], "finite"),
        ([1, -2, 3], r"freq\[1\] is -2.0; counts must not be negative"),
        ([0, 0, 0], "no candidates"),
        (["a", "b"], "numeric"),
    ],
)
def test_percentile_ranks_bad_input(freq: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        percentile_ranks(freq)  # type: ignore[arg-type]


def test_percentile_rank_bad_input() -> None:
    with pytest.raises(ValueError, match="NaN"):
        percentile_rank([1.0, np.nan], [1, 2])
    with pytest.raises(ValueError, match="negative"):
        percentile_rank(1.0, [1, -1])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": [1, 2], "definition": ""}, "definition"),
        ({"data": [1, 2], "definition": "   "}, "definition"),
        ({"data": [1, 2], "definition": "g", "kind": "other"}, "kind"),
        ({"data": [1.5, 2], "definition": "g"}, "integer counts"),
        ({"data": [1, 2], "definition": "g", "max_score": 5}, "max_score=5"),
        ({"data": [0, 0], "definition": "g"}, "no candidates"),
        ({"data": [1, 7], "definition": "g", "kind": "scores", "max_score": 5}, "exceed"),
        ({"data": [1, -1], "definition": "g", "kind": "scores"}, "non-negative"),
        ({"data": [1.5], "definition": "g", "kind": "scores"}, "integer"),
        ({"data": [np.nan], "definition": "g", "kind": "scores"}, "NaN"),
        ({"data": [], "definition": "g", "kind": "scores"}, "empty"),
        ({"data": [1], "definition": "g", "kind": "scores", "max_score": -1}, "max_score"),
    ],
)
def test_norm_group_bad_input(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        norm_group_ranks(**kwargs)
