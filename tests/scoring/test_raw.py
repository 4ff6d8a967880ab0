"""Tests for scoring.raw: item scoring and number-right raw scores."""

from __future__ import annotations

import dataclasses
import doctest
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_array_equal

import scoring
import scoring.raw
from scoring.raw import OMITTED, RIGHT, WRONG, RawScores, raw_scores, score_choices

# ---------------------------------------------------------------------------
# Package surface
# ---------------------------------------------------------------------------


def test_codes() -> None:
    assert (RIGHT, WRONG, OMITTED) == (1, 0, -1)


def test_package_reexports_public_names() -> None:
    for name in scoring.raw.__all__:
        assert getattr(scoring, name) is getattr(scoring.raw, name)
    modules = {"domains", "equating", "irt", "item_analysis", "percentiles", "reliability",
               "scaling"}
    assert set(scoring.__all__) == set(scoring.raw.__all__) | modules


def test_doctests() -> None:
    result = doctest.testmod(scoring.raw, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# ---------------------------------------------------------------------------
# score_choices
# ---------------------------------------------------------------------------


def test_score_choices_hand_example() -> None:
    choices = [
        ["A", "B", "C", "D"],
        ["A", None, "D", "D"],
        ["B", "", "C", "A"],
    ]
    out = score_choices(choices, key=["A", "B", "C", "D"])
    assert out.dtype == np.int8
    assert_array_equal(
        out,
        [
            [1, 1, 1, 1],
            [1, -1, 0, 1],
            [0, -1, 1, 0],
        ],
    )


def test_score_choices_multiple_accepted_labels() -> None:
    choices = [["A", "C"], ["B", "D"], ["C", "A"], [None, "B"]]
    expected = [[1, 1], [1, 1], [0, 0], [-1, 0]]
    for item0 in (frozenset({"A", "B"}), {"A", "B"}, ("A", "B"), ["B", "A"], np.array(["A", "B"])):
        out = score_choices(choices, key=[item0, ("C", "D")])
        assert_array_equal(out, expected)


def test_score_choices_single_label_collection_equals_label() -> None:
    choices = [["A", "B"], ["B", "A"]]
    assert_array_equal(
        score_choices(choices, key=[("A",), frozenset({"A"})]),
        score_choices(choices, key=["A", "A"]),
    )


def test_score_choices_integer_labels() -> None:
    out = score_choices(np.array([[1, 2, 3], [3, 2, 1]]), key=[1, (2, 3), 2])
    assert_array_equal(out, [[1, 1, 0], [0, 1, 0]])


def test_score_choices_numpy_string_and_object_arrays() -> None:
    key = ["A", "B"]
    expected = [[1, 0], [0, 1]]
    assert_array_equal(score_choices(np.array([["A", "C"], ["C", "B"]]), key), expected)
    obj = np.array([["A", "C"], ["C", "B"]], dtype=object)
    assert_array_equal(score_choices(obj, key), expected)


def test_score_choices_labels_are_not_normalised() -> None:
    out = score_choices([["a", " A", 1, "1"]], key=["A", "A", "1", 1])
    assert_array_equal(out, [[0, 0, 0, 0]])


def test_score_choices_omitted_vs_wrong() -> None:
    # None, "" and NaN are omitted; any other non-key label is wrong.
    out = score_choices([[None, "", float("nan"), "Z", 0]], key=["A", "A", "A", "A", "A"])
    assert_array_equal(out, [[OMITTED, OMITTED, OMITTED, WRONG, WRONG]])


def test_score_choices_one_candidate_1d_returns_2d() -> None:
    out = score_choices(["A", None, "C"], key=["A", "B", "D"])
    assert out.shape == (1, 3)
    assert_array_equal(out, [[1, -1, 0]])


def test_score_choices_no_candidates() -> None:
    out = score_choices(np.empty((0, 3), dtype=object), key=["A", "B", "C"])
    assert out.shape == (0, 3)
    assert out.dtype == np.int8


def test_score_choices_feeds_raw_scores() -> None:
    choices = [["A", "B", None, "D"], ["A", "C", "C", "D"]]
    key = ["A", frozenset({"B", "C"}), "C", "A"]
    result = raw_scores(score_choices(choices, key), scored=[True, True, True, False])
    assert_array_equal(result.total, [2, 3])
    assert_array_equal(result.omitted, [1, 0])
    assert_array_equal(result.wrong, [0, 0])


def _random_key_entry(rng: np.random.Generator) -> object:
    """One answer-key entry of every kind score_choices accepts."""
    labels = ["A", "B", "C", "D", "AB", "é", "toolong", "\x00A"]
    kind = int(rng.integers(0, 6))
    if kind == 0:
        return str(rng.choice(labels))
    picked = [str(x) for x in rng.choice(labels, size=int(rng.integers(1, 4)))]
    if kind == 1:
        return frozenset(picked)
    if kind == 2:
        return (*picked, 3)  # a non-str label never equals a string cell
    if kind == 3:
        return np.array(picked)
    if kind == 4:
        return ["A\x00"]  # numpy compares strings without trailing NULs, on both paths
    return [picked[0], picked[0]]


def test_score_choices_fixed_width_path_equals_object_path() -> None:
    # Random string matrices with blanks, multi-character and accented labels, every
    # kind of key entry, and the memory layouts a caller may pass: the vectorised path
    # for dtype 'U' must give exactly what the general (object) path gives.
    rng = np.random.default_rng(20240611)
    pool = np.array(["A", "B", "C", "D", "", "", "AB", "é", "\x00A", "long"])
    for trial in range(300):
        n, k = int(rng.integers(0, 40)), int(rng.integers(1, 9))
        choices = rng.choice(pool, size=(n, k))
        if trial % 2 == 0:  # single characters, also in a wider array
            choices = rng.choice(pool[:6], size=(n, k)).astype(f"U{1 + trial % 3}")
        if trial % 3 == 1:
            choices = choices.astype(">U4")  # non-native byte order
        if trial % 4 == 2:
            choices = np.asfortranarray(choices)
        if trial % 5 == 3:
            choices = np.concatenate([choices, choices], axis=1)[:, ::2]  # strided view
        if trial % 7 == 4:
            choices = choices.astype("U1")  # truncated: longer labels cannot match
        key = [_random_key_entry(rng) for _ in range(choices.shape[1])]
        fast = score_choices(choices, key)
        general = score_choices(choices.astype(object), key)
        assert fast.dtype == np.int8
        assert_array_equal(fast, general)


@settings(max_examples=100)
@given(
    hnp.arrays(
        np.dtype("U2"),
        hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=7),
        elements=st.sampled_from(("A", "B", "C", "D", "", "AB")),
    ),
    st.data(),
)
def test_property_fixed_width_path_equals_object_path(
    choices: np.ndarray, data: st.DataObject
) -> None:
    k = choices.shape[-1]
    key = data.draw(
        st.lists(
            st.frozensets(st.sampled_from(("A", "B", "C", "D", "AB")), min_size=1, max_size=3),
            min_size=k,
            max_size=k,
        )
    )
    assert_array_equal(score_choices(choices, key), score_choices(choices.astype(object), key))


def test_score_choices_fixed_width_converts_no_cell_to_an_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The fast path must not fall back to the per-cell Python check of the general path.
    def per_cell(_: object) -> None:
        raise AssertionError("fixed-width cells went through the object path")

    monkeypatch.setattr(scoring.raw, "_is_missing_ufunc", per_cell)
    out = score_choices(np.array([["A", "", "C"], ["B", "D", ""]]), ["A", ("C", "D"), "C"])
    assert_array_equal(out, [[1, -1, 1], [0, 1, -1]])


@pytest.mark.parametrize(
    ("choices", "key", "match"),
    [
        ([["A", "B"], ["C"]], ["A", "B"], r"rectangular.*unequal lengths"),
        (np.array([["A"]]), ["A", "B"], r"key must have one entry per item.*1 items.*length 2"),
        (np.empty((1, 1, 2), dtype="U1"), ["A", "B"], r"choices must be 2-D.*\(1, 1, 2\)"),
        (np.array([["A", "B"]]), ["A", None], r"key\[1\] is None"),
        (np.empty((1, 1, 2), dtype=object), ["A", "B"], r"choices must be 2-D.*\(1, 1, 2\)"),
        ([["A", "B"]], ["A"], r"key must have one entry per item.*2 items.*length 1"),
        ([["A", "B"]], ["A", "B", "C"], r"2 items.*length 3"),
        ([["A", "B"]], "AB", r"key must be a sequence.*not a str \('AB'\)"),
        ([["A", "B"]], ["A", None], r"key\[1\] is None"),
        ([["A", "B"]], [(), "B"], r"key\[0\] is an empty collection"),
        ([["A", "B"]], ["A", frozenset()], r"key\[1\] is an empty collection"),
        ([["A", "B"]], ["A", ("B", "")], r"key\[1\] contains ''"),
        ([["A", "B"]], [("A", None), "B"], r"key\[0\] contains None"),
        ([["A", "B"]], ["", "B"], r"key\[0\] contains ''"),
    ],
)
def test_score_choices_errors(choices: object, key: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        score_choices(choices, key)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# raw_scores: hand-computed examples
# ---------------------------------------------------------------------------

HAND = np.array(
    [
        [1, 1, 0, 1, -1, 1],
        [0, -1, -1, 1, 1, 0],
        [1, 1, 1, 1, 1, 1],
        [-1, -1, -1, -1, -1, -1],
    ]
)


def test_raw_scores_defaults() -> None:
    result = raw_scores(HAND)
    assert isinstance(result, RawScores)
    assert_array_equal(result.total, [4, 2, 6, 0])
    assert_array_equal(result.wrong, [1, 2, 0, 0])
    assert_array_equal(result.omitted, [1, 2, 0, 6])
    assert result.n_scored == 6
    assert isinstance(result.n_scored, int)
    assert result.domain_labels == ("all",)
    assert_array_equal(result.by_domain, [[4], [2], [6], [0]])
    assert_array_equal(result.domain_max, [6])
    assert result.total.dtype == np.int64
    assert result.by_domain.dtype == np.int64


def test_raw_scores_pretest_items_excluded() -> None:
    scored = [True, False, True, True, False, True]
    result = raw_scores(HAND, scored=scored)
    # Items 1 and 4 dropped: remaining columns 0, 2, 3, 5.
    assert_array_equal(result.total, [3, 1, 4, 0])
    assert_array_equal(result.wrong, [1, 2, 0, 0])
    assert_array_equal(result.omitted, [0, 1, 0, 4])
    assert result.n_scored == 4
    assert_array_equal(result.proportion(), [0.75, 0.25, 1.0, 0.0])


def test_raw_scores_numpy_bool_mask() -> None:
    mask = np.array([True, False, True, True, False, True])
    assert_array_equal(raw_scores(HAND, scored=mask).total, [3, 1, 4, 0])


def test_raw_scores_domains() -> None:
    domains = ["geo", "alg", "geo", "stat", "alg", "geo"]
    result = raw_scores(HAND, domains=domains)
    assert result.domain_labels == ("geo", "alg", "stat")
    assert_array_equal(
        result.by_domain,
        [
            [2, 1, 1],
            [0, 1, 1],
            [3, 2, 1],
            [0, 0, 0],
        ],
    )
    assert_array_equal(result.domain_max, [3, 2, 1])
    assert_array_equal(result.total, [4, 2, 6, 0])
    assert_array_equal(
        result.domain_proportion(),
        [
            [2 / 3, 1 / 2, 1],
            [0, 1 / 2, 1],
            [1, 1, 1],
            [0, 0, 0],
        ],
    )


def test_raw_scores_domain_order_is_first_appearance_among_scored_items() -> None:
    # "alg" first appears on a pretest item, so "geo" comes first; "extra" only
    # has pretest items and is not reported at all.
    domains = ["alg", "geo", "extra", "alg"]
    scored = [False, True, False, True]
    result = raw_scores([[1, 1, 1, 0], [0, 0, 1, 1]], scored=scored, domains=domains)
    assert result.domain_labels == ("geo", "alg")
    assert_array_equal(result.domain_max, [1, 1])
    assert_array_equal(result.by_domain, [[1, 0], [0, 1]])


def test_raw_scores_domains_accept_numpy_strings() -> None:
    result = raw_scores([[1, 0, 1]], domains=np.array(["a", "b", "a"]))  # type: ignore[arg-type]
    assert result.domain_labels == ("a", "b")
    assert all(type(label) is str for label in result.domain_labels)
    assert_array_equal(result.by_domain, [[2, 0]])


def test_raw_scores_omitted_scores_like_wrong_but_counted_separately() -> None:
    wrong = raw_scores([[1, 0, 0]])
    omitted = raw_scores([[1, -1, -1]])
    assert_array_equal(wrong.total, omitted.total)
    assert_array_equal(wrong.wrong, [2])
    assert_array_equal(wrong.omitted, [0])
    assert_array_equal(omitted.wrong, [0])
    assert_array_equal(omitted.omitted, [2])


def test_raw_scores_one_candidate_1d() -> None:
    result = raw_scores([1, 0, -1, 1])
    assert result.total.shape == (1,)
    assert result.by_domain.shape == (1, 1)
    assert_array_equal(result.total, [2])
    assert_array_equal(result.wrong, [1])
    assert_array_equal(result.omitted, [1])


def test_raw_scores_no_candidates() -> None:
    result = raw_scores(np.empty((0, 3), dtype=int), domains=["a", "b", "a"])
    assert result.total.shape == (0,)
    assert result.by_domain.shape == (0, 2)
    assert_array_equal(result.domain_max, [2, 1])


@pytest.mark.parametrize(
    "responses",
    [
        np.array([[1, 0, -1]], dtype=np.int8),
        np.array([[1.0, 0.0, -1.0]]),
        np.array([[1, 0, -1]], dtype=object),
        [[True, False, -1]],
    ],
)
def test_raw_scores_accepts_numeric_codes_of_any_dtype(responses: object) -> None:
    result = raw_scores(responses)  # type: ignore[arg-type]
    assert_array_equal(result.total, [1])
    assert_array_equal(result.wrong, [1])
    assert_array_equal(result.omitted, [1])


def test_proportions() -> None:
    result = raw_scores([[1, 1, 0, 1], [0, 0, 0, 1]], domains=["a", "a", "b", "b"])
    p = result.proportion()
    assert p.dtype == np.float64
    assert_array_equal(p, [0.75, 0.25])
    assert_array_equal(result.domain_proportion(), [[1.0, 0.5], [0.0, 0.5]])


def test_result_is_frozen_and_read_only() -> None:
    result = raw_scores(HAND)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.n_scored = 3  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        result.total[0] = 99
    with pytest.raises(ValueError, match="read-only"):
        result.by_domain[0, 0] = 99


def test_result_does_not_alias_caller_arrays() -> None:
    total = np.array([1, 2])
    result = RawScores(
        total=total,
        wrong=np.array([0, 0]),
        omitted=np.array([1, 0]),
        n_scored=2,
        domain_labels=["all"],  # type: ignore[arg-type]
        by_domain=np.array([[1], [2]]),
        domain_max=np.array([2]),
    )
    total[0] = 7
    assert_array_equal(result.total, [1, 2])
    assert total.flags.writeable
    assert result.domain_labels == ("all",)


def test_result_rejects_inconsistent_shapes() -> None:
    with pytest.raises(ValueError, match=r"by_domain must have shape \(2, 1\)"):
        RawScores(
            total=np.array([1, 2]),
            wrong=np.array([0, 0]),
            omitted=np.array([1, 0]),
            n_scored=2,
            domain_labels=("all",),
            by_domain=np.array([[1, 2]]),
            domain_max=np.array([2]),
        )


def test_raw_scores_does_not_modify_input() -> None:
    responses = HAND.copy()
    raw_scores(responses, scored=[True] * 5 + [False])
    assert_array_equal(responses, HAND)


# ---------------------------------------------------------------------------
# raw_scores: validation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("responses", "match"),
    [
        (
            [[1, 0], [2, 1]],
            r"only 1 \(right\), 0 \(wrong\) or -1 \(omitted\).*responses\[1, 0\] is 2\.",
        ),
        ([1, 0, -2], r"responses\[2\] is -2\."),
        ([[1, 5, 7]], r"responses\[0, 1\] is 5 \(2 invalid entries in total\)"),
        ([[1.0, 0.5]], r"responses\[0, 1\] is 0\.5"),
        ([[1.0, float("nan")]], r"responses\[0, 1\] is nan"),
        ([[1, None]], r"responses\[0, 1\] is None"),
        (np.array([[1, "1"]], dtype=object), r"responses\[0, 1\] is '1'"),
        ([["1", "0"]], r"non-numeric dtype <U1"),
        ([[1 + 0j]], r"non-numeric dtype complex128"),
        (np.zeros((2, 2, 2), dtype=int), r"responses must be 2-D.*\(2, 2, 2\)"),
        (np.int64(1), r"responses must be 2-D.*shape \(\)"),
    ],
)
def test_raw_scores_invalid_responses(responses: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        raw_scores(responses)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("scored", "match"),
    [
        ([True, False], r"scored must have one entry per item, shape \(3,\).*shape \(2,\)"),
        ([[True, True, True]], r"scored must have one entry per item.*shape \(1, 3\)"),
        ([1, 0, 1], r"scored must be a boolean mask.*dtype int64"),
        ([0, 2], r"scored must be a boolean mask"),
        ([False, False, False], r"scored must mark at least one item.*all 3 items"),
    ],
)
def test_raw_scores_invalid_scored(scored: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        raw_scores([[1, 0, 1]], scored=scored)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("domains", "match"),
    [
        (["a", "b"], r"domains must have one label per item.*3 items.*length 2"),
        (["a", "b", "c", "d"], r"3 items.*length 4"),
        ("abc", r"domains must be a sequence.*not a str \('abc'\)"),
        (["a", 1, "b"], r"domains\[1\] must be a str, but is 1 \(int\)"),
        (["a", "b", None], r"domains\[2\] must be a str, but is None"),
    ],
)
def test_raw_scores_invalid_domains(domains: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        raw_scores([[1, 0, 1]], domains=domains)  # type: ignore[arg-type]


def test_raw_scores_no_items() -> None:
    with pytest.raises(ValueError, match=r"scored must mark at least one item.*all 0 items"):
        raw_scores(np.empty((2, 0), dtype=int))


# ---------------------------------------------------------------------------
# Hypothesis properties
# ---------------------------------------------------------------------------

DOMAIN_NAMES = ("alg", "geo", "stat")


@st.composite
def scoring_problems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Draw (responses, scored mask with >= 1 True, domains)."""
    n = draw(st.integers(min_value=0, max_value=8))
    k = draw(st.integers(min_value=1, max_value=10))
    responses = draw(hnp.arrays(np.int8, (n, k), elements=st.sampled_from((-1, 0, 1))))
    scored = draw(hnp.arrays(np.bool_, (k,)))
    scored[draw(st.integers(min_value=0, max_value=k - 1))] = True
    domains = draw(st.lists(st.sampled_from(DOMAIN_NAMES), min_size=k, max_size=k))
    return responses, scored, domains


@settings(max_examples=200)
@given(scoring_problems())
def test_property_counts_are_consistent(problem: tuple[np.ndarray, np.ndarray, list[str]]) -> None:
    responses, scored, domains = problem
    result = raw_scores(responses, scored=scored, domains=domains)
    n = responses.shape[0]
    assert result.n_scored == int(scored.sum())
    assert_array_equal(result.total, result.by_domain.sum(axis=1))
    assert_array_equal(result.total + result.wrong + result.omitted, np.full(n, result.n_scored))
    assert result.domain_max.sum() == result.n_scored
    assert (result.domain_max > 0).all()
    assert (result.by_domain <= result.domain_max).all()
    assert (result.by_domain >= 0).all()
    assert set(result.domain_labels) == {d for d, s in zip(domains, scored, strict=True) if s}
    # Reference implementation with explicit loops.
    for i in range(n):
        assert result.total[i] == sum(
            1 for j in range(len(domains)) if scored[j] and responses[i, j] == 1
        )
        for d, label in enumerate(result.domain_labels):
            assert result.by_domain[i, d] == sum(
                1
                for j in range(len(domains))
                if scored[j] and domains[j] == label and responses[i, j] == 1
            )
    p = result.proportion()
    assert ((p >= 0) & (p <= 1)).all()
    assert_array_equal(p, result.total / result.n_scored)


@given(scoring_problems(), st.randoms(use_true_random=False))
def test_property_item_permutation_invariance(
    problem: tuple[np.ndarray, np.ndarray, list[str]], rnd: random.Random
) -> None:
    responses, scored, domains = problem
    k = responses.shape[1]
    perm = list(range(k))
    rnd.shuffle(perm)
    base = raw_scores(responses, scored=scored, domains=domains)
    permuted = raw_scores(
        responses[:, perm], scored=scored[perm], domains=[domains[j] for j in perm]
    )
    assert_array_equal(base.total, permuted.total)
    assert_array_equal(base.wrong, permuted.wrong)
    assert_array_equal(base.omitted, permuted.omitted)
    assert base.n_scored == permuted.n_scored
    # Domain columns may be reordered; compare by label.
    assert set(base.domain_labels) == set(permuted.domain_labels)
    for label in base.domain_labels:
        b = base.domain_labels.index(label)
        q = permuted.domain_labels.index(label)
        assert_array_equal(base.by_domain[:, b], permuted.by_domain[:, q])
        assert base.domain_max[b] == permuted.domain_max[q]


@given(scoring_problems(), st.data())
def test_property_pretest_responses_never_matter(
    problem: tuple[np.ndarray, np.ndarray, list[str]], data: st.DataObject
) -> None:
    responses, scored, domains = problem
    base = raw_scores(responses, scored=scored, domains=domains)
    changed = responses.copy()
    new_values = data.draw(
        hnp.arrays(np.int8, responses.shape, elements=st.sampled_from((-1, 0, 1)))
    )
    changed[:, ~scored] = new_values[:, ~scored]
    after = raw_scores(changed, scored=scored, domains=domains)
    for name in ("total", "wrong", "omitted", "by_domain", "domain_max"):
        assert_array_equal(getattr(base, name), getattr(after, name))
    assert base.domain_labels == after.domain_labels


@given(scoring_problems(), st.data())
def test_property_wrong_to_right_adds_exactly_one(
    problem: tuple[np.ndarray, np.ndarray, list[str]], data: st.DataObject
) -> None:
    responses, scored, domains = problem
    candidates = np.argwhere((responses == WRONG) & scored[np.newaxis, :])
    if len(candidates) == 0:
        return
    i, j = candidates[data.draw(st.integers(0, len(candidates) - 1))]
    base = raw_scores(responses, scored=scored, domains=domains)
    improved = responses.copy()
    improved[i, j] = RIGHT
    after = raw_scores(improved, scored=scored, domains=domains)
    expected_total = base.total.copy()
    expected_total[i] += 1
    assert_array_equal(after.total, expected_total)
    expected_wrong = base.wrong.copy()
    expected_wrong[i] -= 1
    assert_array_equal(after.wrong, expected_wrong)
    assert_array_equal(after.omitted, base.omitted)
    d = after.domain_labels.index(domains[j])
    expected_by_domain = base.by_domain.copy()
    expected_by_domain[i, d] += 1
    assert_array_equal(after.by_domain, expected_by_domain)


@given(scoring_problems())
def test_property_one_domain_by_default(
    problem: tuple[np.ndarray, np.ndarray, list[str]],
) -> None:
    responses, scored, _ = problem
    result = raw_scores(responses, scored=scored)
    assert result.domain_labels == ("all",)
    assert_array_equal(result.by_domain[:, 0], result.total)
    assert_array_equal(result.domain_max, [result.n_scored])


@given(
    hnp.arrays(
        object,
        hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
        elements=st.sampled_from(("A", "B", "C", "D", None, "")),
    ),
    st.data(),
)
def test_property_score_choices_matches_definition(
    choices: np.ndarray, data: st.DataObject
) -> None:
    k = choices.shape[1]
    key = data.draw(
        st.lists(
            st.frozensets(st.sampled_from("ABCD"), min_size=1, max_size=3),
            min_size=k,
            max_size=k,
        )
    )
    out = score_choices(choices, key)
    assert out.shape == choices.shape
    assert out.dtype == np.int8
    for (i, j), c in np.ndenumerate(choices):
        if c is None or c == "":
            assert out[i, j] == OMITTED
        elif c in key[j]:
            assert out[i, j] == RIGHT
        else:
            assert out[i, j] == WRONG
    # Accepting more labels can only turn wrong into right.
    widened = score_choices(choices, [set(labels) | {"D"} for labels in key])
    assert (widened >= out).all()
    assert ((widened != out) <= ((out == WRONG) & (choices == "D"))).all()


def test_scoring_imports_only_numpy_and_scipy() -> None:
    """scoring/ is a pure library: importing all of it loads no web or database code."""
    import subprocess
    import sys

    code = ("import sys, scoring; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'flask', 'sqlalchemy', 'werkzeug', 'jinja2', 'webapp', 'item_bank', 'pandas'}); "
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
