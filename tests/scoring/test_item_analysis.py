"""Tests for scoring.item_analysis: item statistics, distractors, flags, Mantel-Haenszel DIF."""

from __future__ import annotations

import dataclasses
import doctest
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal
from scipy import stats as sps

import scoring.item_analysis
from scoring.item_analysis import (
    _mh_item,
    distractor_analysis,
    flags,
    item_statistics,
    mantel_haenszel,
)
from scoring.reliability import kr20

DATA = Path(__file__).resolve().parents[3] / "shared" / "psychometrics-data"


@pytest.fixture(scope="module")
def lsat() -> np.ndarray:
    return np.loadtxt(DATA / "LSAT.csv", delimiter=",", skiprows=1, dtype=np.int8)


def test_doctests() -> None:
    result = doctest.testmod(scoring.item_analysis, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# ---------------------------------------------------------------------------
# Published values: LSAT (ltm::descript)
# ---------------------------------------------------------------------------


def test_lsat_published_item_statistics(lsat: np.ndarray) -> None:
    result = item_statistics(lsat)
    # Each tolerance is half a unit in the last published digit.
    assert_allclose(result.p, [0.924, 0.709, 0.553, 0.763, 0.870], atol=5e-4)
    assert_allclose(result.point_biserial, [0.3620, 0.5668, 0.6184, 0.5344, 0.4354], atol=5e-5)
    assert_allclose(
        result.corrected_point_biserial, [0.1128, 0.1532, 0.1728, 0.1444, 0.1216], atol=5e-5
    )
    assert result.alpha == pytest.approx(0.2950, abs=5e-5)
    assert_allclose(result.alpha_if_deleted, [0.2754, 0.2376, 0.2168, 0.2459, 0.2663], atol=5e-5)
    assert_array_equal(result.omitted, np.zeros(5))
    assert result.n_candidates == 1000


# ---------------------------------------------------------------------------
# item_statistics: properties and edge cases
# ---------------------------------------------------------------------------

matrices = hnp.arrays(
    np.int8, st.tuples(st.integers(2, 25), st.integers(2, 7)), elements=st.integers(-1, 1)
)


@settings(max_examples=80, deadline=None)
@given(u=matrices, seed=st.integers(0, 2**32 - 1))
def test_item_statistics_match_direct_definitions(u: np.ndarray, seed: int) -> None:
    x = (u == 1).astype(float)
    total = x.sum(axis=1)
    k = u.shape[1]
    result = item_statistics(u)
    for j in range(k):
        rest = total - x[:, j]
        if x[:, j].std() > 0 and total.std() > 0:
            assert result.point_biserial[j] == pytest.approx(
                np.corrcoef(x[:, j], total)[0, 1], abs=1e-9
            )
        else:
            assert np.isnan(result.point_biserial[j])
        if x[:, j].std() > 0 and rest.std() > 0:
            assert result.corrected_point_biserial[j] == pytest.approx(
                np.corrcoef(x[:, j], rest)[0, 1], abs=1e-9
            )
        else:
            assert np.isnan(result.corrected_point_biserial[j])
        # alpha-if-deleted = KR-20 recomputed on the reduced matrix.
        reduced = np.delete(u, j, axis=1)
        if k >= 3 and np.ptp((reduced == 1).sum(axis=1)) > 0:
            assert result.alpha_if_deleted[j] == pytest.approx(kr20(reduced), abs=1e-9)
        else:
            assert np.isnan(result.alpha_if_deleted[j])
    assert_allclose(result.omitted, (u == -1).mean(axis=0))
    # Invariant to candidate order.
    perm = np.random.default_rng(seed).permutation(u.shape[0])
    again = item_statistics(u[perm])
    for name in ("p", "point_biserial", "corrected_point_biserial", "alpha_if_deleted"):
        assert_allclose(getattr(again, name), getattr(result, name), atol=1e-12)


def test_zero_variance_items_give_nan_correlations_but_finite_alpha() -> None:
    rng = np.random.default_rng(0)
    u = (rng.random((300, 6)) < 0.6).astype(np.int8)
    u[:, 0] = 1
    u[:, 5] = 0
    result = item_statistics(u)
    assert np.isnan(result.point_biserial[[0, 5]]).all()
    assert np.isnan(result.corrected_point_biserial[[0, 5]]).all()
    assert np.isfinite(result.point_biserial[1:5]).all()
    assert np.isfinite(result.alpha_if_deleted).all()
    assert result.alpha == pytest.approx(kr20(u))
    # Deleting a constant item only changes K: alpha * (K-2)/(K-1) * ... recomputed.
    assert result.alpha_if_deleted[0] == pytest.approx(kr20(u[:, 1:]))


def test_two_items_have_no_alpha_if_deleted_and_constant_totals_no_alpha() -> None:
    u = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    assert np.isnan(item_statistics(u).alpha_if_deleted).all()
    same = item_statistics(np.array([[1, 0, 1], [1, 1, 0], [0, 1, 1]]))
    assert math.isnan(same.alpha)
    assert np.isnan(same.point_biserial).all()


def test_item_statistics_bad_input() -> None:
    with pytest.raises(ValueError, match="at least 2 candidates"):
        item_statistics([[1, 0, 1]])
    with pytest.raises(ValueError, match="at least 2 items"):
        item_statistics([[1], [0]])
    with pytest.raises(ValueError, match=r"responses\[0, 1\] is 3"):
        item_statistics([[1, 3], [0, 1]])
    with pytest.raises(ValueError, match="nan"):
        item_statistics(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="2-D"):
        item_statistics(np.zeros((2, 2, 2), dtype=int))


def test_item_statistics_frozen() -> None:
    result = item_statistics([[1, 0], [0, 1], [1, 1]])
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.p = np.zeros(2)  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        result.p[0] = 0.5


# ---------------------------------------------------------------------------
# distractor_analysis
# ---------------------------------------------------------------------------


def simulated_choices(n: int, k: int, seed: int) -> tuple[np.ndarray, list[str]]:
    """Choices A-D with a key, a strong distractor on item 0 and omissions."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n)
    b = np.linspace(-1.5, 1.5, k)
    b[0] = 0.5
    right = rng.random((n, k)) < 1 / (1 + np.exp(-(theta[:, None] - b)))
    key_idx = np.arange(k) % 4
    wrong = (key_idx + rng.integers(1, 4, (n, k))) % 4
    codes = np.where(right, key_idx, wrong)
    # Item 0: strong candidates who miss it choose option B, weak ones C or D,
    # so B attracts strong candidates.
    missed = ~right[:, 0]
    codes[missed, 0] = np.where(theta[missed] > 0.0, 1, rng.integers(2, 4, missed.sum()))
    labels = np.array(list("ABCD"))
    choices = labels[codes].astype(object)
    choices[rng.random((n, k)) < 0.03] = None
    return choices, [str(labels[i]) for i in key_idx]


def brute_force_distractors(choices: np.ndarray, key: list[str], options: list[str]):
    n, k = choices.shape
    right = np.array([[choices[i, j] == key[j] for j in range(k)] for i in range(n)], float)
    total = right.sum(axis=1)
    prop = np.zeros((k, len(options)))
    corr = np.full((k, len(options)), np.nan)
    mean = np.full((k, len(options)), np.nan)
    for j in range(k):
        rest = total - right[:, j]
        for o, label in enumerate(options):
            chose = np.array([c == label for c in choices[:, j]], float)
            prop[j, o] = chose.mean()
            if chose.sum() > 0:
                mean[j, o] = total[chose == 1].mean()
            if 0 < chose.mean() < 1 and rest.std() > 0:
                corr[j, o] = np.corrcoef(chose, rest)[0, 1]
    return prop, mean, corr


@pytest.mark.parametrize("kind", ["object", "str", "float", "int", "bytes"])
def test_distractor_analysis_matches_brute_force(kind: str) -> None:
    choices, key = simulated_choices(400, 6, seed=1)
    options = list("ABCD")
    prop, mean, corr = brute_force_distractors(choices, key, options)
    omitted = np.array([[c is None for c in row] for row in choices]).mean(axis=0)
    if kind == "object":
        given_choices, given_key, given_options = choices, key, options
    elif kind == "str":
        given_choices = np.where(choices == None, "", choices).astype(str)  # noqa: E711
        given_key, given_options = key, options
    elif kind == "bytes":
        given_choices = np.where(choices == None, "", choices).astype("S1")  # noqa: E711
        given_key = [s.encode() for s in key]
        given_options = [s.encode() for s in options]
    else:
        lookup = {"A": 0, "B": 1, "C": 2, "D": 3, None: np.nan}
        codes = np.vectorize(lookup.get, otypes=[float])(choices)
        given_key, given_options = [lookup[s] for s in key], [0, 1, 2, 3]
        if kind == "int":
            # Integer codes have no missing marker: use data without omissions.
            choices = np.where(choices == None, "A", choices)  # noqa: E711
            prop, mean, corr = brute_force_distractors(choices, key, options)
            omitted = np.zeros(6)
            codes = np.vectorize(lookup.get, otypes=[int])(choices)
        given_choices = codes
    result = distractor_analysis(given_choices, given_key, given_options)
    assert_allclose(result.proportion, prop, atol=1e-12)
    assert_allclose(result.mean_total, mean, atol=1e-9)
    assert_allclose(result.option_rest_correlation, corr, atol=1e-9)
    assert_allclose(result.omitted, omitted, atol=1e-12)
    assert_allclose(result.proportion.sum(axis=1) + result.omitted, 1.0)
    assert result.options == tuple(given_options)


def test_key_option_rest_correlation_is_corrected_point_biserial() -> None:
    choices, key = simulated_choices(500, 8, seed=2)
    result = distractor_analysis(choices, key, list("ABCD"))
    scored = np.where(choices == None, -1, choices == np.array(key)).astype(int)  # noqa: E711
    stats_ = item_statistics(scored)
    assert_allclose(result.option_rest_correlation[result.is_key], stats_.corrected_point_biserial)
    assert_allclose(result.p, stats_.p)
    # The planted strong distractor of item 0 correlates positively with the rest.
    strong = (np.arange(4) == 1) & ~result.is_key[0]
    assert result.option_rest_correlation[0, strong][0] > 0


def test_multiple_keys_and_unchosen_options() -> None:
    choices = [["A", "B"], ["B", "B"], ["C", "A"], ["A", "B"]]
    result = distractor_analysis(choices, [frozenset({"A", "B"}), "B"], list("ABCD"))
    assert_array_equal(result.is_key[0], [True, True, False, False])
    assert_allclose(result.p, [0.75, 0.75])
    assert np.isnan(result.mean_total[:, 3]).all()
    assert np.isnan(result.option_rest_correlation[:, 3]).all()


def test_distractor_analysis_bad_input() -> None:
    ok = [["A", "B"], ["B", "C"]]
    with pytest.raises(ValueError, match=r"choices\[1, 1\] is 'E'"):
        distractor_analysis([["A", "B"], ["B", "E"]], ["A", "B"], list("ABCD"))
    with pytest.raises(ValueError, match="not one of the options"):
        distractor_analysis(ok, ["A", "X"], list("ABCD"))
    with pytest.raises(ValueError, match="one entry per item"):
        distractor_analysis(ok, ["A"], list("ABCD"))
    with pytest.raises(ValueError, match="not a str"):
        distractor_analysis(ok, ["A", "B"], "ABCD")
    with pytest.raises(ValueError, match="not a str"):
        distractor_analysis(ok, "AB", list("ABCD"))
    with pytest.raises(ValueError, match="distinct"):
        distractor_analysis(ok, ["A", "B"], ["A", "B", "A"])
    with pytest.raises(ValueError, match="at least 2 option"):
        distractor_analysis(ok, ["A", "B"], ["A"])
    with pytest.raises(ValueError, match="at least 2 candidates"):
        distractor_analysis([["A", "B"]], ["A", "B"], list("ABCD"))
    with pytest.raises(ValueError, match="2-D"):
        distractor_analysis(["A", "B"], ["A", "B"], list("ABCD"))
    with pytest.raises(ValueError, match="empty"):
        distractor_analysis(ok, ["A", frozenset()], list("ABCD"))
    with pytest.raises(ValueError, match="unanswered"):
        distractor_analysis(ok, ["A", "B"], ["A", ""])
    # A number is never the string option "1".
    with pytest.raises(ValueError, match="neither one of the options"):
        distractor_analysis([[1, 2], [2, 1]], [1, 2], ["1", "2"])
    with pytest.raises(ValueError, match="neither one of the options"):
        distractor_analysis([[-1, 2], [2, 1]], [1, 2], [1, 2])


# ---------------------------------------------------------------------------
# flags
# ---------------------------------------------------------------------------


def test_flags_thresholds() -> None:
    rng = np.random.default_rng(4)
    n = 2000
    theta = rng.normal(size=n)
    b = np.array([-5.0, 2.5, 0.0, 0.0, -0.5, 0.5])
    rasch = (rng.random((n, 6)) < 1 / (1 + np.exp(-(theta[:, None] - b)))).astype(int)
    coin = (rng.random(n) < 0.5).astype(int)
    # Items 0-5 Rasch, item 6 a coin flip (r ~ 0), item 7 reverse-keyed (r < 0).
    x = np.column_stack([rasch, coin, 1 - rasch[:, 2]])
    stats_ = item_statistics(x)
    result = flags(stats_)
    assert result.too_easy[0] and not result.too_easy[2]
    assert result.too_hard[1] and not result.too_hard[2]
    assert result.low_discrimination[6]
    assert result.negative_discrimination[7] and result.low_discrimination[7]
    assert not result.negative_discrimination[3] and not result.low_discrimination[3]
    assert not result.strong_distractor.any()
    assert result.flagged[7] and not result.flagged[3]
    assert "negative_discrimination" in result.reasons()[7]
    # Thresholds are configurable.
    lenient = flags(stats_, too_easy_p=0.999, too_hard_p=0.0, low_discrimination_r=-1.0)
    assert not lenient.too_easy[0] and not lenient.too_hard.any()
    assert not lenient.low_discrimination.any()


def test_flags_zero_variance_item_gets_no_discrimination_flag() -> None:
    u = np.array([[1, 1, 0], [1, 0, 0], [1, 1, 1], [1, 0, 1]])
    result = flags(item_statistics(u))
    assert result.too_easy[0]
    assert not result.low_discrimination[0] and not result.negative_discrimination[0]


def test_flags_strong_distractor() -> None:
    choices, key = simulated_choices(3000, 6, seed=3)
    distractors = distractor_analysis(choices, key, list("ABCD"))
    scored = np.where(choices == None, -1, choices == np.array(key)).astype(int)  # noqa: E711
    result = flags(item_statistics(scored), distractors)
    assert result.strong_distractor[0]
    assert not result.strong_distractor[1:].any()
    # Raising the threshold above every distractor correlation (still below
    # the key's) removes the flag.
    high = flags(item_statistics(scored), distractors, distractor_r=0.99)
    key_r = distractors.option_rest_correlation[0, distractors.is_key[0]][0]
    other = np.nanmax(np.where(distractors.is_key[0], -1, distractors.option_rest_correlation[0]))
    assert high.strong_distractor[0] == (other > key_r)


def test_flags_bad_input() -> None:
    stats_ = item_statistics([[1, 0], [0, 1], [1, 1]])
    with pytest.raises(ValueError, match="too_hard_p"):
        flags(stats_, too_hard_p=0.9, too_easy_p=0.5)
    with pytest.raises(ValueError, match="finite"):
        flags(stats_, low_discrimination_r=float("nan"))
    other = distractor_analysis([["A", "B", "A"], ["B", "A", "A"]], ["A", "B", "A"], ["A", "B"])
    with pytest.raises(ValueError, match="items"):
        flags(stats_, other)


# ---------------------------------------------------------------------------
# Mantel-Haenszel DIF
# ---------------------------------------------------------------------------


def dif_data(n_per_group: int, k: int, shift: float, seed: int, impact: float = 0.0):
    """Rasch data; item 0 is `shift` logits harder for the focal group."""
    rng = np.random.default_rng(seed)
    group = np.repeat(np.array(["R", "F"]), n_per_group)
    theta = rng.normal(0, 1, 2 * n_per_group) - np.where(group == "F", impact, 0.0)
    b = np.tile(np.linspace(-1.5, 1.5, k), (2 * n_per_group, 1))
    b[group == "F", 0] += shift
    x = (rng.random(b.shape) < 1 / (1 + np.exp(-(theta[:, None] - b)))).astype(np.int8)
    return x, group


def reference_mh(x: np.ndarray, focal: np.ndarray, j: int):
    """Loop-based textbook MH for item j, matching on the total score."""
    total = x.sum(axis=1)
    num = den = 0.0
    sum_a = sum_e = sum_v = 0.0
    pr = ps = qr = qs = 0.0
    rows = []
    for k in np.unique(total):
        s = total == k
        a = np.sum(s & ~focal & (x[:, j] == 1))
        b = np.sum(s & ~focal & (x[:, j] == 0))
        c = np.sum(s & focal & (x[:, j] == 1))
        d = np.sum(s & focal & (x[:, j] == 0))
        t = a + b + c + d
        rows.append((a, b, c, d, t))
        num += a * d / t
        den += b * c / t
        if t > 1:
            sum_a += a
            sum_e += (a + b) * (a + c) / t
            sum_v += (a + b) * (c + d) * (a + c) * (b + d) / (t * t * (t - 1))
    for a, b, c, d, t in rows:
        p_, q_ = (a + d) / t, (b + c) / t
        pr += p_ * a * d / t
        ps += p_ * b * c / t
        qr += q_ * a * d / t
        qs += q_ * b * c / t
    var = pr / (2 * num**2) + (ps + qr) / (2 * num * den) + qs / (2 * den**2)
    chi = (abs(sum_a - sum_e) - 0.5) ** 2 / sum_v
    return num / den, var, chi


def test_mh_matches_loop_reference() -> None:
    x, group = dif_data(600, 8, shift=0.6, seed=21, impact=0.4)
    result = mantel_haenszel(x, group, reference="R", focal="F")
    focal = group == "F"
    for j in range(8):
        ratio, var, chi = reference_mh(x, focal, j)
        assert result.alpha_mh[j] == pytest.approx(ratio, rel=1e-12)
        assert result.d_dif[j] == pytest.approx(-2.35 * math.log(ratio), rel=1e-12)
        assert result.se_d_dif[j] == pytest.approx(2.35 * math.sqrt(var), rel=1e-12)
        assert result.chi_square[j] == pytest.approx(chi, rel=1e-12)
        assert result.p_value[j] == pytest.approx(sps.chi2.sf(chi, 1), rel=1e-10)
    assert result.n_reference == 600 and result.n_focal == 600


def test_single_stratum_reduces_to_woolf_and_yates() -> None:
    """With one stratum the RBG variance is Woolf's and chi-square is Yates' * (T-1)/T."""
    rng = np.random.default_rng(2)
    focal = np.repeat([0, 1], [150, 120]).astype(np.int64)
    item = (rng.random(270) < np.where(focal == 1, 0.45, 0.6)).astype(np.int8)
    ratio, var_ln, chi = _mh_item(np.zeros(270, dtype=np.int64), focal, item, 1)
    a = np.sum((focal == 0) & (item == 1))
    b = np.sum((focal == 0) & (item == 0))
    c = np.sum((focal == 1) & (item == 1))
    d = np.sum((focal == 1) & (item == 0))
    assert ratio == pytest.approx(a * d / (b * c), rel=1e-12)
    assert var_ln == pytest.approx(1 / a + 1 / b + 1 / c + 1 / d, rel=1e-12)
    yates = sps.chi2_contingency([[a, b], [c, d]], correction=True)[0]
    assert chi == pytest.approx(yates * 269 / 270, rel=1e-10)


def test_mh_recovers_planted_dif() -> None:
    x, group = dif_data(3000, 20, shift=1.0, seed=7, impact=0.5)
    result = mantel_haenszel(x, group, reference="R", focal="F", purify=True)
    # Rasch items, matching on the total: alpha_MH estimates exp(1), so
    # D-DIF ~ -2.35. SE here ~0.13; allow 0.4 (about 3 SE).
    assert result.d_dif[0] == pytest.approx(-2.35, abs=0.4)
    assert result.category[0] == "C"
    assert result.signed_category[0] == "C-"
    # No DIF in the other items despite the impact (0.5 SD): category A.
    assert (result.category[1:] == "A").all()
    assert np.abs(result.d_dif[1:]).max() < 0.6
    # Purification removed the DIF item from the matching total only.
    assert_array_equal(result.matching_items, np.arange(20) != 0)
    # DIF in favour of the focal group has the other sign.
    x2, group2 = dif_data(3000, 20, shift=-1.0, seed=8)
    favour = mantel_haenszel(x2, group2, reference="R", focal="F")
    assert favour.signed_category[0] == "C+"
    assert favour.d_dif[0] == pytest.approx(2.35, abs=0.4)


def test_mh_no_dif_gives_category_a_and_order_invariance() -> None:
    x, group = dif_data(2000, 15, shift=0.0, seed=9)
    result = mantel_haenszel(x, group, reference="R", focal="F")
    assert (result.category == "A").all()
    assert_array_equal(result.matching_items, np.ones(15, bool))
    perm = np.random.default_rng(1).permutation(x.shape[0])
    again = mantel_haenszel(x[perm], group[perm], reference="R", focal="F")
    assert_allclose(again.d_dif, result.d_dif, rtol=1e-12)
    # Candidates outside both groups are ignored.
    group3 = group.copy().astype(object)
    group3[:100] = "other"
    fewer = mantel_haenszel(x, group3, reference="R", focal="F")
    assert fewer.n_reference == 1900


def test_mh_standard_error_matches_replication_spread() -> None:
    """RBG SE vs the spread of D-DIF over seeded replications."""
    d_values, se_values = [], []
    for seed in range(120):
        x, group = dif_data(400, 8, shift=0.5, seed=100 + seed)
        result = mantel_haenszel(x, group, reference="R", focal="F")
        d_values.append(result.d_dif[0])
        se_values.append(result.se_d_dif[0])
    # 120 replications estimate an SD to about +-7%; allow 20%.
    assert np.std(d_values, ddof=1) == pytest.approx(np.mean(se_values), rel=0.2)


def test_mh_categories_rules() -> None:
    # B: moderate DIF (|D| between 1 and 1.5) with a large sample.
    x, group = dif_data(5000, 20, shift=0.5, seed=12)
    result = mantel_haenszel(x, group, reference="R", focal="F")
    d = result.d_dif[0]
    assert 1.0 <= abs(d) < 1.5
    assert result.category[0] == "B" and result.signed_category[0] == "B-"
    # With a stricter significance level the same statistics may only drop category.
    strict = mantel_haenszel(x, group, reference="R", focal="F", alpha=1e-12)
    assert strict.category[0] in ("A", "B")


def test_mh_degenerate_item_is_na() -> None:
    x, group = dif_data(300, 6, shift=0.0, seed=3)
    x[:, 2] = 1  # everyone right: odds ratio undefined
    result = mantel_haenszel(x, group, reference="R", focal="F")
    assert result.category[2] == "NA" and np.isnan(result.d_dif[2])
    assert np.isfinite(result.d_dif[[0, 1, 3, 4, 5]]).all()


def test_mh_bad_input() -> None:
    x, group = dif_data(50, 5, shift=0.0, seed=1)
    with pytest.raises(ValueError, match="one label per candidate"):
        mantel_haenszel(x, group[:-1], reference="R", focal="F")
    with pytest.raises(ValueError, match="focal group 'Z'"):
        mantel_haenszel(x, group, reference="R", focal="Z")
    with pytest.raises(ValueError, match="reference group 1"):
        mantel_haenszel(x, group, reference=1, focal="F")
    with pytest.raises(ValueError, match="must differ"):
        mantel_haenszel(x, group, reference="R", focal="R")
    with pytest.raises(ValueError, match="alpha"):
        mantel_haenszel(x, group, reference="R", focal="F", alpha=1.5)
    with pytest.raises(ValueError, match="at least 2 candidates"):
        mantel_haenszel(x[:1], group[:1], reference="R", focal="F")


@settings(max_examples=30, deadline=None)
@given(
    u=hnp.arrays(np.int8, st.tuples(st.integers(4, 40), st.integers(2, 6)),
                 elements=st.integers(-1, 1)),
    seed=st.integers(0, 2**32 - 1),
)
def test_mh_is_finite_or_na(u: np.ndarray, seed: int) -> None:
    rng = np.random.default_rng(seed)
    group = np.where(rng.random(u.shape[0]) < 0.5, "R", "F")
    assume((group == "R").any() and (group == "F").any())
    result = mantel_haenszel(u, group, reference="R", focal="F")
    na = result.category == "NA"
    assert np.isfinite(result.d_dif[~na]).all()
    assert np.isnan(result.d_dif[na]).all()
    assert set(result.signed_category) <= {"A", "B+", "B-", "C+", "C-", "NA"}
