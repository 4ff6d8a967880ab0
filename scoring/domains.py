"""Per-domain score reports: raw, percent and a band relative to the passing standard.

A candidate's report often shows, for each content domain, the number right,
the percent right and whether performance in that domain was below, near or
above the passing standard. Domain scores rest on few items, so "near" is a
band of measurement error around the domain's share of the cut, and domains
with too few items are not given a band at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from scoring.raw import raw_scores
from scoring.reliability import _FrozenArrays

__all__ = [
    "ABOVE",
    "BELOW",
    "NEAR",
    "NOT_REPORTED",
    "DomainReport",
    "domain_report",
]

BELOW: Final = "below"
"""Band: the domain score is below the near band around the domain cut."""

NEAR: Final = "near"
"""Band: the domain score is within the near band around the domain cut."""

ABOVE: Final = "above"
"""Band: the domain score is above the near band around the domain cut."""

NOT_REPORTED: Final = "not reported"
"""Band of a domain with fewer items than ``min_items``."""


@dataclass(frozen=True, eq=False)
class DomainReport(_FrozenArrays):
    """
    Result of `domain_report`.

    Attributes
    ----------
    domain_labels : tuple of str
        Domains, one per column.
    n_items : ndarray of int64, shape (n_domains,)
        Scored items per domain.
    reported : ndarray of bool, shape (n_domains,)
        ``n_items >= min_items``: the domain gets a band.
    raw : ndarray of int64, shape (n_candidates, n_domains)
        Number right per domain.
    percent : ndarray of float64, shape (n_candidates, n_domains)
        ``100 * raw / n_items``.
    cut_raw : ndarray of float64, shape (n_domains,)
        Domain cut in raw points, ``cut_proportion * n_items``.
    csem_at_cut : ndarray of float64, shape (n_domains,)
        Lord's binomial CSEM of the domain score at the domain cut, in raw
        points.
    near_low, near_high : ndarray of float64, shape (n_domains,)
        Limits of the near band in percent: ``100 (cut_raw -/+ z csem_at_cut)
        / n_items``.
    band : ndarray of str, shape (n_candidates, n_domains)
        `BELOW`, `NEAR`, `ABOVE`, or `NOT_REPORTED` for every candidate in
        a domain with too few items.
    cut_proportion : float
    z : float
    min_items : int
    """

    domain_labels: tuple[str, ...]
    n_items: npt.NDArray[np.int64]
    reported: npt.NDArray[np.bool_]
    raw: npt.NDArray[np.int64]
    percent: npt.NDArray[np.float64]
    cut_raw: npt.NDArray[np.float64]
    csem_at_cut: npt.NDArray[np.float64]
    near_low: npt.NDArray[np.float64]
    near_high: npt.NDArray[np.float64]
    band: npt.NDArray[np.str_]
    cut_proportion: float
    z: float
    min_items: int


def domain_report(
    responses: npt.ArrayLike,
    domains: Sequence[str],
    *,
    cut_proportion: float,
    z: float = 1.0,
    min_items: int = 5,
    scored: npt.ArrayLike | None = None,
    labels: Sequence[str] | None = None,
) -> DomainReport:
    r"""
    Raw, percent and performance band of every candidate in every domain.

    Parameters
    ----------
    responses : array_like, shape (n_candidates, n_items) or (n_items,)
        Scored responses: 1 right, 0 wrong, -1 omitted (scored 0). A 1-D
        input is one candidate; unlike the reliability functions, a single
        candidate is fine here because nothing is estimated from the group.
    domains : sequence of str, length n_items
        Domain label of each item.
    cut_proportion : float
        The passing standard as a proportion of the total, in (0, 1], e.g.
        ``raw_cut / n_scored``. It is applied to each domain.
    z : float
        Half-width of the near band in CSEMs (default 1, about a 68%
        band); non-negative.
    min_items : int
        Domains with fewer scored items are ``"not reported"``; at least 2
        (the binomial CSEM needs two items).
    scored : array_like of bool, shape (n_items,), optional
        Items that count (pretest items excluded), as in
        `scoring.raw.raw_scores`.
    labels : sequence of str, optional
        Domains to report and their order (e.g. the blueprint). Default:
        the domains of the scored items in order of first appearance.

    Returns
    -------
    DomainReport

    Raises
    ------
    ValueError
        For invalid `responses`, `domains` or `scored` (see
        `scoring.raw.raw_scores`); if `cut_proportion` is outside (0, 1],
        `z` is negative or not finite, `min_items` is below 2; if `labels`
        repeats a domain or names a domain with no scored item (an empty
        domain has no percent and cannot be banded).

    Notes
    -----
    For domain :math:`d` with :math:`n_d` scored items, the domain cut is
    :math:`c_d = \pi n_d` with :math:`\pi` = `cut_proportion`, and the
    measurement error at the cut is Lord's binomial CSEM (Lord 1955, 1957)

    .. math:: \mathrm{CSEM}_d = \sqrt{\frac{c_d (n_d - c_d)}{n_d - 1}}.

    A candidate with domain raw score :math:`x_d` is

    * ``"below"`` if :math:`x_d < c_d - z\,\mathrm{CSEM}_d`,
    * ``"above"`` if :math:`x_d > c_d + z\,\mathrm{CSEM}_d`,
    * ``"near"`` otherwise (the limits belong to the near band),

    which is the same as comparing the domain percent with
    ``near_low``/``near_high``. The CSEM is taken at the cut rather than at
    the candidate's own score, so the band is the same interval for every
    candidate (the binomial CSEM is 0 at a score of 0 or :math:`n_d`, which
    would otherwise make extreme scores look error-free) and the bands are
    ordered by score. With ``cut_proportion = 1`` the CSEM is 0 and only a
    perfect domain score is "near"; the rest are "below".

    References
    ----------
    Lord, F. M. (1955). Estimating test reliability. *Educational and
    Psychological Measurement*, 15, 325-336.
    Lord, F. M. (1957). Do tests of the same length have the same standard
    error of measurement? *Educational and Psychological Measurement*, 17,
    510-521.
    Standards for Educational and Psychological Testing (AERA, APA, NCME,
    2014), standards 6.10-6.12 (subscores need evidence of reliability).

    Examples
    --------
    >>> responses = [[1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 0],
    ...              [1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1]]
    >>> domains = ["law"] * 6 + ["ethics"] * 4 + ["tax"]
    >>> report = domain_report(responses, domains, cut_proportion=0.6, min_items=4)
    >>> report.domain_labels, report.n_items.tolist()
    (('law', 'ethics', 'tax'), [6, 4, 1])
    >>> report.raw
    array([[5, 3, 0],
           [2, 1, 1]])
    >>> report.near_low.round(1), report.near_high.round(1)
    (array([38.1, 31.7,  nan]), array([81.9, 88.3,  nan]))
    >>> report.band
    array([['above', 'near', 'not reported'],
           ['below', 'below', 'not reported']], dtype='<U12')
    """
    pi = float(cut_proportion)
    if not (math.isfinite(pi) and 0.0 < pi <= 1.0):
        raise ValueError(f"cut_proportion must lie in (0, 1], got {cut_proportion!r}.")
    z_ = float(z)
    if not (math.isfinite(z_) and z_ >= 0.0):
        raise ValueError(f"z must be a finite number >= 0, got {z!r}.")
    if isinstance(min_items, bool) or not isinstance(min_items, int | np.integer) or min_items < 2:
        raise ValueError(f"min_items must be an integer >= 2, got {min_items!r}.")
    if domains is None:
        raise ValueError("domains must give the domain label of every item.")
    raw = raw_scores(responses, scored=scored, domains=domains)

    found = {label: d for d, label in enumerate(raw.domain_labels)}
    if labels is None:
        order = list(range(len(raw.domain_labels)))
        report_labels = raw.domain_labels
    else:
        if isinstance(labels, str):
            raise ValueError(f"labels must be a sequence of domain labels, not a str ({labels!r}).")
        report_labels = tuple(labels)
        if len(set(report_labels)) != len(report_labels):
            raise ValueError(f"labels must not repeat a domain, got {report_labels!r}.")
        empty = [label for label in report_labels if label not in found]
        if empty:
            raise ValueError(
                f"labels names domain(s) {empty!r} with no scored item on this form; an "
                "empty domain has no percent score. Remove it from labels."
            )
        order = [found[label] for label in report_labels]

    n_items = raw.domain_max[order].astype(np.int64)
    domain_raw = raw.by_domain[:, order]
    percent = 100.0 * domain_raw / n_items
    reported = n_items >= min_items
    cut_raw = pi * n_items
    with np.errstate(divide="ignore", invalid="ignore"):
        csem = np.sqrt(cut_raw * (n_items - cut_raw) / (n_items - 1.0))
    csem[n_items < 2] = np.nan
    low = cut_raw - z_ * csem
    high = cut_raw + z_ * csem
    band = np.where(domain_raw < low, BELOW, np.where(domain_raw > high, ABOVE, NEAR))
    band = np.where(reported, band, NOT_REPORTED).astype("<U12")
    near_low = np.where(reported, 100.0 * low / n_items, np.nan)
    near_high = np.where(reported, 100.0 * high / n_items, np.nan)
    return DomainReport(
        domain_labels=tuple(report_labels),
        n_items=n_items,
        reported=reported,
        raw=domain_raw,
        percent=percent,
        cut_raw=cut_raw,
        csem_at_cut=csem,
        near_low=near_low,
        near_high=near_high,
        band=band,
        cut_proportion=pi,
        z=z_,
        min_items=int(min_items),
    )
