r"""Mid-point percentile ranks against a norm group.

The percentile rank of a score is the percentage of the norm group scoring
below it plus half the percentage scoring exactly at it (Kolen & Brennan 2014,
eq. 2.14). Raw scores are treated as integers ``0..K`` whose frequency is spread
uniformly over the unit interval ``[x - .5, x + .5)``, so the percentile rank
is also defined for non-integer scores, which chained equating methods and
equated scores need.

Functions
---------
percentile_ranks
    Percentile rank of every integer score 0..K (K&B eq. 2.14).
percentile_rank
    Percentile rank of arbitrary, possibly non-integer, scores.
score_frequencies
    Frequency table of per-candidate integer raw scores.
norm_group_ranks
    Percentile ranks together with the norm group's size and definition, to be
    reported next to each candidate's rank.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from scoring._frozen import freeze_arrays

__all__ = [
    "NormGroupRanks",
    "norm_group_ranks",
    "percentile_rank",
    "percentile_ranks",
    "score_frequencies",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _as_counts(freq: npt.ArrayLike, name: str = "freq") -> FloatArray:
    """Validate a 1-D frequency array (counts indexed by score 0..K)."""
    a = np.asarray(freq)
    if a.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold numeric counts, but has dtype {a.dtype}.")
    if a.ndim != 1:
        raise ValueError(
            f"{name} must be 1-D (counts indexed by raw score 0..K), but has shape {a.shape}."
        )
    if a.size == 0:
        raise ValueError(f"{name} is empty; it needs one count per raw score 0..K.")
    a = a.astype(np.float64)
    finite = np.isfinite(a)
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        raise ValueError(
            f"{name}[{bad}] is {float(a[bad])!r}; counts must be finite (no NaN or inf)."
        )
    negative = a < 0
    if negative.any():
        bad = int(np.flatnonzero(negative)[0])
        raise ValueError(f"{name}[{bad}] is {float(a[bad])!r}; counts must not be negative.")
    if not a.sum() > 0:
        raise ValueError(f"{name} has no candidates: all counts are zero.")
    return a


def _cumulative(freq: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Relative frequencies f(x) and cumulative proportions F(x), F(K) = 1."""
    total = freq.sum()
    # Cumulate the counts before dividing, so that F(K) is exactly 1.
    return freq / total, np.cumsum(freq) / total


def percentile_ranks(freq: npt.ArrayLike) -> FloatArray:
    r"""
    Mid-point percentile rank of every integer score 0..K.

    Parameters
    ----------
    freq : array_like, shape (K + 1,)
        Counts (or any non-negative weights, e.g. smoothed frequencies or
        proportions) indexed by raw score 0..K.

    Returns
    -------
    ranks : ndarray of float64, shape (K + 1,)
        ``ranks[x]`` is the percentile rank of score ``x``, in [0, 100] and
        non-decreasing in ``x``.

    Raises
    ------
    ValueError
        If `freq` is not 1-D, is empty, holds NaN, infinite or negative
        values, or sums to zero.

    Notes
    -----
    Kolen & Brennan (2014), eq. 2.14, with relative frequencies
    :math:`f(x)` and cumulative proportions :math:`F(x)`, :math:`F(-1) = 0`:

    .. math::

        P(x) = 100 \left[F(x - 1) + \frac{f(x)}{2}\right].

    A score nobody obtained gets the rank of the interval boundary below it,
    e.g. 0 below the lowest observed score.

    References
    ----------
    .. [1] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking: Methods and Practices*, 3rd ed., Springer (2014), ch. 2.

    Examples
    --------
    >>> from scoring.percentiles import percentile_ranks
    >>> percentile_ranks([2, 3, 2, 2, 1])
    array([10., 35., 60., 80., 95.])
    """
    f, cum = _cumulative(_as_counts(freq))
    below = np.concatenate(([0.0], cum[:-1]))
    return np.clip(100.0 * (below + f / 2.0), 0.0, 100.0)


def percentile_rank(x: npt.ArrayLike, freq: npt.ArrayLike) -> FloatArray:
    r"""
    Percentile rank of arbitrary (possibly non-integer) scores.

    Parameters
    ----------
    x : array_like
        Scores at which to evaluate the percentile-rank function, any shape.
        Values below -0.5 get rank 0 and values at or above K + 0.5 get 100.
    freq : array_like, shape (K + 1,)
        Counts indexed by raw score 0..K (see `percentile_ranks`).

    Returns
    -------
    ranks : ndarray of float64, same shape as `x`
        Percentile ranks in [0, 100] (a 0-d array for a scalar `x`).

    Raises
    ------
    ValueError
        If `freq` is invalid (see `percentile_ranks`) or `x` holds NaN.

    Notes
    -----
    Kolen & Brennan (2014), eq. 2.14 for non-integer scores: with
    :math:`x^* = \lfloor x + .5 \rfloor` the integer nearest to :math:`x`,

    .. math::

        P(x) = 100 \left[F(x^* - 1) + (x - x^* + .5)\, f(x^*)\right],
        \qquad -.5 \le x < K + .5,

    i.e. the cumulative distribution of the scores spread uniformly over
    unit intervals, linearly interpolated. At integer ``x`` this equals
    `percentile_ranks`.

    References
    ----------
    .. [1] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking*, 3rd ed., Springer (2014), ch. 2.

    Examples
    --------
    >>> from scoring.percentiles import percentile_rank
    >>> percentile_rank([-1.0, 0.0, 1.25, 4.5], [2, 3, 2, 2, 1])
    array([  0. ,  10. ,  42.5, 100. ])
    """
    f, cum = _cumulative(_as_counts(freq))
    xs = np.asarray(x, dtype=np.float64)
    if np.isnan(xs).any():
        raise ValueError("x holds NaN; scores must be numbers.")
    k = f.size - 1
    star = np.clip(np.floor(xs + 0.5), 0, k).astype(np.int64)
    below = np.where(star > 0, cum[np.maximum(star - 1, 0)], 0.0)
    fraction = np.clip(xs - star + 0.5, 0.0, 1.0)
    return np.clip(100.0 * (below + fraction * f[star]), 0.0, 100.0)


def score_frequencies(scores: npt.ArrayLike, max_score: int | None = None) -> IntArray:
    """
    Frequency table of per-candidate integer raw scores.

    Parameters
    ----------
    scores : array_like of int, shape (n_candidates,)
        Raw scores, integers in 0..max_score (floats with integral values are
        accepted).
    max_score : int, optional
        Maximum possible score K; the table has K + 1 entries even if nobody
        obtained the top scores. Default: the highest observed score.

    Returns
    -------
    freq : ndarray of int64, shape (max_score + 1,)
        ``freq[x]`` is the number of candidates with score ``x``.

    Raises
    ------
    ValueError
        If `scores` is empty, not 1-D, holds NaN, negative, non-integer values
        or values above `max_score`, or `max_score` is negative.

    Examples
    --------
    >>> from scoring.percentiles import score_frequencies
    >>> score_frequencies([0, 2, 2, 3], max_score=5)
    array([1, 0, 2, 1, 0, 0])
    """
    s = np.asarray(scores)
    if s.dtype.kind not in "iuf":
        raise ValueError(f"scores must be numeric raw scores, but have dtype {s.dtype}.")
    if s.ndim != 1:
        raise ValueError(f"scores must be 1-D (one per candidate), but have shape {s.shape}.")
    if s.size == 0:
        raise ValueError("scores is empty; a frequency table needs at least one candidate.")
    if s.dtype.kind == "f":
        if not np.isfinite(s).all():
            raise ValueError("scores hold NaN or infinite values.")
        if not np.all(s == np.round(s)):
            raise ValueError("scores must be integer raw scores, but some are not integers.")
    s = s.astype(np.int64)
    if (s < 0).any():
        raise ValueError(f"scores must be non-negative, but the lowest is {int(s.min())}.")
    top = int(s.max())
    if max_score is None:
        max_score = top
    elif int(max_score) != max_score or max_score < 0:
        raise ValueError(f"max_score must be a non-negative integer, got {max_score!r}.")
    elif top > max_score:
        raise ValueError(f"scores exceed max_score={max_score}: the highest score is {top}.")
    return np.bincount(s, minlength=int(max_score) + 1).astype(np.int64)


@dataclass(frozen=True, eq=False)
class NormGroupRanks:
    """
    Percentile ranks of raw scores in a norm group (result of `norm_group_ranks`).

    Attributes
    ----------
    definition : str
        Free-text description of the norm group, to be reported with every
        rank (e.g. ``"first-time candidates, forms A-C, 2024"``).
    n : int
        Size of the norm group (number of candidates).
    freq : ndarray of int64, shape (K + 1,)
        Frequency of each raw score 0..K in the norm group.
    ranks : ndarray of float64, shape (K + 1,)
        Mid-point percentile rank of each raw score 0..K (Kolen & Brennan
        2014, eq. 2.14).

    Notes
    -----
    The arrays are read-only copies. Instances compare by identity.
    """

    definition: str
    n: int
    freq: IntArray
    ranks: FloatArray

    def __post_init__(self) -> None:
        freeze_arrays(self)

    @property
    def max_score(self) -> int:
        """Maximum raw score K of the table."""
        return int(self.freq.size - 1)

    def rank_of(self, scores: npt.ArrayLike) -> FloatArray:
        """
        Percentile ranks of candidates' scores in this norm group.

        Parameters
        ----------
        scores : array_like
            Raw scores (any shape). Integer scores in 0..K are looked up;
            other values use the non-integer formula of `percentile_rank`.

        Returns
        -------
        ranks : ndarray of float64, same shape as `scores`

        Examples
        --------
        >>> from scoring.percentiles import norm_group_ranks
        >>> norm = norm_group_ranks([2, 3, 2, 2, 1], "pilot group")
        >>> norm.rank_of([4, 0, 2])
        array([95., 10., 60.])
        """
        s = np.asarray(scores)
        if s.dtype.kind in "iu" and s.size and s.min() >= 0 and s.max() <= self.max_score:
            # Fast path for the usual case: a table look-up.
            return self.ranks[s]
        return percentile_rank(s, self.freq)


def norm_group_ranks(
    data: npt.ArrayLike,
    definition: str,
    *,
    kind: Literal["freq", "scores"] = "freq",
    max_score: int | None = None,
) -> NormGroupRanks:
    """
    Percentile ranks of raw scores in a described norm group.

    Parameters
    ----------
    data : array_like of int
        With ``kind="freq"``: counts of the norm group indexed by raw score
        0..K (integers). With ``kind="scores"``: one integer raw score per
        member of the norm group.
    definition : str
        Non-empty description of the norm group, reported with the ranks.
    kind : {"freq", "scores"}, default "freq"
        How to read `data`.
    max_score : int, optional
        Maximum possible raw score K. With ``kind="scores"`` it sets the
        length of the table (default: the highest observed score); with
        ``kind="freq"`` it must equal ``len(data) - 1`` if given.

    Returns
    -------
    result : NormGroupRanks
        Definition, size, frequencies and ranks of the norm group.

    Raises
    ------
    ValueError
        If `definition` is empty, `kind` is unknown, the counts are not
        non-negative integers, the group is empty, or `max_score` disagrees
        with the data.

    Notes
    -----
    The ranks are `percentile_ranks` of the frequency table (Kolen & Brennan
    2014, eq. 2.14).

    References
    ----------
    .. [1] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking*, 3rd ed., Springer (2014), ch. 2.

    Examples
    --------
    >>> from scoring.percentiles import norm_group_ranks
    >>> norm = norm_group_ranks([0, 2, 2, 3, 5], "pilot", kind="scores", max_score=5)
    >>> norm.n, norm.freq
    (5, array([1, 0, 2, 1, 0, 1]))
    >>> norm.ranks
    array([10., 20., 40., 70., 80., 90.])
    """
    if not isinstance(definition, str) or not definition.strip():
        raise ValueError("definition must be a non-empty description of the norm group.")
    if kind == "scores":
        freq = score_frequencies(data, max_score)
    elif kind == "freq":
        counts = _as_counts(data, "data")
        if not np.all(counts == np.round(counts)):
            raise ValueError("data must hold integer counts for a norm group (kind='freq').")
        freq = counts.astype(np.int64)
        if max_score is not None and max_score != freq.size - 1:
            raise ValueError(
                f"max_score={max_score} disagrees with data, which has {freq.size} "
                f"entries (scores 0..{freq.size - 1})."
            )
    else:
        raise ValueError(f"kind must be 'freq' or 'scores', got {kind!r}.")
    return NormGroupRanks(
        definition=definition.strip(),
        n=int(freq.sum()),
        freq=freq,
        ranks=percentile_ranks(freq),
    )
