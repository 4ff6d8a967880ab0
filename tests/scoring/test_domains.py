"""Tests for scoring.domains: per-domain raw, percent and performance band."""

from __future__ import annotations

import dataclasses
import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal

import scoring.domains
from scoring.domains import ABOVE, BELOW, NEAR, NOT_REPORTED, DomainReport, domain_report
from scoring.raw import raw_scores
from scoring.reliability import binomial_csem


def test_doctests() -> None:
    result = doctest.testmod(scoring.domains, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_band_constants() -> None:
    assert (BELOW, NEAR, ABOVE, NOT_REPORTED) == ("below", "near", "above", "not reported")


def test_hand_computed_bands() -> None:
    # One domain of 10 items, cut 0.7: c = 7, CSEM = sqrt(7 * 3 / 9) = 1.5275.
    scores = np.arange(11)
    responses = (np.arange(10) < scores[:, None]).astype(int)
    report = domain_report(responses, ["d"] * 10, cut_proportion=0.7)
    csem = math.sqrt(7 * 3 / 9)
    assert report.csem_at_cut[0] == pytest.approx(csem)
    assert report.csem_at_cut[0] == pytest.approx(binomial_csem(10)[7])
    assert report.cut_raw[0] == pytest.approx(7.0)
    # Near: 7 - 1.53 <= x <= 7 + 1.53, i.e. x in {6, 7, 8}.
    expected = ["below"] * 6 + ["near"] * 3 + ["above"] * 2
    assert report.band[:, 0].tolist() == expected
    assert_allclose(report.percent[:, 0], 10.0 * scores)
    assert report.near_low[0] == pytest.approx(10 * (7 - csem))
    assert report.near_high[0] == pytest.approx(10 * (7 + csem))
    # Two CSEMs: 7 +- 3.06 makes x in {4, ..., 10} near.
    wide = domain_report(responses, ["d"] * 10, cut_proportion=0.7, z=2.0)
    assert wide.band[:, 0].tolist() == ["below"] * 4 + ["near"] * 7
    # z = 0: only the exact cut is near.
    exact = domain_report(responses, ["d"] * 10, cut_proportion=0.7, z=0.0)
    assert exact.band[:, 0].tolist() == ["below"] * 7 + ["near"] + ["above"] * 3


def test_limits_belong_to_the_near_band() -> None:
    # 4 items, cut 0.5: c = 2, CSEM = sqrt(2 * 2 / 3); z chosen so that c + z CSEM = 3.
    csem = math.sqrt(4 / 3)
    responses = np.array([[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 1, 1]])
    report = domain_report(responses, ["d"] * 4, cut_proportion=0.5, z=1 / csem, min_items=4)
    assert report.band[:, 0].tolist() == ["near", "near", "above"]


def test_min_items_and_raw_scores_consistency() -> None:
    rng = np.random.default_rng(0)
    responses = rng.choice([-1, 0, 1], size=(50, 12), p=[0.05, 0.4, 0.55])
    domains = ["a"] * 6 + ["b"] * 2 + ["c"] * 4
    report = domain_report(responses, domains, cut_proportion=0.6, min_items=4)
    raw = raw_scores(responses, domains=domains)
    assert_array_equal(report.raw, raw.by_domain)
    assert_array_equal(report.n_items, [6, 2, 4])
    assert_array_equal(report.reported, [True, False, True])
    assert (report.band[:, 1] == NOT_REPORTED).all()
    assert np.isnan(report.near_low[1]) and np.isnan(report.near_high[1])
    assert set(report.band[:, [0, 2]].ravel()) <= {BELOW, NEAR, ABOVE}
    # The percent is still reported for the small domain.
    assert_allclose(report.percent[:, 1], 50.0 * raw.by_domain[:, 1])


def test_scored_mask_and_labels_order() -> None:
    responses = np.array([[1, 0, 1, 1, 0, 1], [0, 0, 1, 0, 1, 1]])
    domains = ["x", "y", "x", "y", "z", "x"]
    scored = np.array([True, True, True, True, False, True])
    report = domain_report(responses, domains, cut_proportion=0.5, min_items=2, scored=scored,
                           labels=["y", "x"])
    assert report.domain_labels == ("y", "x")
    assert_array_equal(report.n_items, [2, 3])
    assert_array_equal(report.raw, [[1, 3], [0, 2]])
    # The pretest-only domain "z" is absent by default too.
    default = domain_report(responses, domains, cut_proportion=0.5, min_items=2, scored=scored)
    assert default.domain_labels == ("x", "y")


def test_empty_domain_is_a_named_error() -> None:
    responses = np.array([[1, 0, 1], [0, 1, 1]])
    with pytest.raises(ValueError, match=r"\['w'\].*no scored item"):
        domain_report(responses, ["a", "a", "b"], cut_proportion=0.5, labels=["a", "w"])
    scored = np.array([True, True, False])
    with pytest.raises(ValueError, match="no scored item"):
        domain_report(responses, ["a", "a", "b"], cut_proportion=0.5, scored=scored,
                      labels=["a", "b"])


def test_single_candidate_and_all_right_all_wrong() -> None:
    one = domain_report([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], ["a"] * 5 + ["b"] * 5,
                        cut_proportion=0.6)
    assert one.band.tolist() == [["above", "below"]]
    assert np.isfinite(one.percent).all()


def test_bad_input() -> None:
    responses = np.array([[1, 0, 1], [0, 1, 1]])
    domains = ["a", "a", "b"]
    for bad in (0.0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="cut_proportion"):
            domain_report(responses, domains, cut_proportion=bad)
    for bad in (-1.0, float("inf")):
        with pytest.raises(ValueError, match="z must"):
            domain_report(responses, domains, cut_proportion=0.5, z=bad)
    for bad in (1, 0, 2.5, True):
        with pytest.raises(ValueError, match="min_items"):
            domain_report(responses, domains, cut_proportion=0.5, min_items=bad)
    with pytest.raises(ValueError, match="one label per item"):
        domain_report(responses, ["a", "b"], cut_proportion=0.5)
    with pytest.raises(ValueError, match="not a str"):
        domain_report(responses, domains, cut_proportion=0.5, labels="ab")
    with pytest.raises(ValueError, match="repeat"):
        domain_report(responses, domains, cut_proportion=0.5, labels=["a", "a"])
    with pytest.raises(ValueError, match="-1"):
        domain_report([[1, 2, 0]], domains, cut_proportion=0.5)
    with pytest.raises(ValueError, match="domains"):
        domain_report(responses, None, cut_proportion=0.5)  # type: ignore[arg-type]


def test_report_is_frozen() -> None:
    report = domain_report([[1, 0, 1, 1]], ["a"] * 4, cut_proportion=0.5, min_items=2)
    assert isinstance(report, DomainReport)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.z = 2.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        report.raw[0, 0] = 0


@settings(max_examples=60, deadline=None)
@given(
    u=hnp.arrays(np.int8, st.tuples(st.integers(1, 30), st.integers(2, 16)),
                 elements=st.integers(-1, 1)),
    n_domains=st.integers(1, 4),
    cut=st.floats(0.05, 1.0),
    z=st.floats(0.0, 3.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_band_properties(u: np.ndarray, n_domains: int, cut: float, z: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    domains = [f"d{i}" for i in rng.integers(0, n_domains, u.shape[1])]
    report = domain_report(u, domains, cut_proportion=cut, z=z, min_items=2)
    order = {BELOW: 0, NEAR: 1, ABOVE: 2}
    for d in range(len(report.domain_labels)):
        if not report.reported[d]:
            assert (report.band[:, d] == NOT_REPORTED).all()
            continue
        # Bands are ordered by the domain score.
        ranks = np.array([order[b] for b in report.band[:, d]])
        by_score = np.argsort(report.raw[:, d], kind="stable")
        assert np.all(np.diff(ranks[by_score]) >= 0)
        # Same rule in percent terms.
        pct = report.percent[:, d]
        below = pct < report.near_low[d] - 1e-9
        above = pct > report.near_high[d] + 1e-9
        assert not np.any(below & (report.band[:, d] != BELOW))
        assert not np.any(above & (report.band[:, d] != ABOVE))
    assert np.all((report.percent >= 0) & (report.percent <= 100))
    # Invariant to candidate order.
    perm = rng.permutation(u.shape[0])
    again = domain_report(u[perm], domains, cut_proportion=cut, z=z, min_items=2)
    assert_array_equal(again.band, report.band[perm])
