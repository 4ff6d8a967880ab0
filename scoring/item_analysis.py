"""Classical item analysis: difficulty, discrimination, distractors, flags and DIF.

`item_statistics` gives each item's proportion correct, point-biserial
correlations with the total and with the rest score, and alpha if the item
is deleted. `distractor_analysis` looks at every option of a multiple-choice
item, `flags` turns both into review flags with configurable thresholds, and
`mantel_haenszel` screens items for differential item functioning with the
ETS A/B/C classification.

Scored response matrices hold ``1`` (right), ``0`` (wrong) and ``-1``
(omitted); as in `scoring.raw.raw_scores`, **an omitted response scores 0**
(number-right convention) in every statistic here, and the proportion of
omissions is reported separately.

All statistics are computed from a few passes over the matrix (column sums,
one matrix-vector product, one ``bincount`` of an item x score x option
table), so 100,000 candidates x 180 items take about half a second on two
cores (`distractor_analysis` with one-character string or integer choices).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy import stats

from scoring.raw import _is_missing, _is_missing_ufunc  # one rule for "not answered"
from scoring.reliability import _FrozenArrays, _right_matrix

__all__ = [
    "DistractorAnalysis",
    "ItemFlags",
    "ItemStatistics",
    "MantelHaenszelDif",
    "distractor_analysis",
    "flags",
    "item_statistics",
    "mantel_haenszel",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# Holland & Thayer's (1988) conversion of a log odds ratio to the ETS delta scale.
_DELTA_PER_LOGIT: Final = 2.35


# ---------------------------------------------------------------------------
# Exact moments
# ---------------------------------------------------------------------------


def _exact(values: npt.ArrayLike) -> npt.NDArray[np.object_]:
    """Integer array as Python ints, so that n^2-scaled moments never overflow or round."""
    return np.asarray(values, dtype=np.int64).astype(object)


@dataclass(frozen=True)
class _Moments:
    """Moments of items and totals scaled by n^2, as exact integers.

    With integer sums, ``n^2 Var(X) = n sum X^2 - (sum X)^2`` is exact, so a
    constant total or rest score has variance exactly 0 (float round-off
    would otherwise turn 0/0 into a spurious correlation).
    """

    sum_total: int
    var_total: int
    var_item: npt.NDArray[np.object_]
    cov_item_total: npt.NDArray[np.object_]
    var_rest: npt.NDArray[np.object_]

    @classmethod
    def create(
        cls,
        n: int,
        total: npt.NDArray[np.int64],
        item_counts: npt.ArrayLike,
        item_total_sums: npt.ArrayLike,
    ) -> _Moments:
        sum_t = int(total.sum())
        var_t = n * int(np.dot(total, total)) - sum_t**2
        c = _exact(item_counts)
        var_j = c * (n - c)
        cov = n * _exact(item_total_sums) - c * sum_t
        return cls(sum_t, var_t, var_j, cov, var_t - 2 * cov + var_j)


def _correlation(cov: npt.ArrayLike, var_a: npt.ArrayLike, var_b: npt.ArrayLike) -> FloatArray:
    """``cov / sqrt(var_a var_b)`` from exact moments; NaN where a variance is 0."""
    cov_f = np.asarray(cov, dtype=np.float64)
    a = np.asarray(var_a, dtype=np.float64)
    b = np.asarray(var_b, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = cov_f / (np.sqrt(a) * np.sqrt(b))
    return np.where((a > 0) & (b > 0), r, np.nan)


# ---------------------------------------------------------------------------
# Item statistics
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ItemStatistics(_FrozenArrays):
    """
    Result of `item_statistics`; arrays have one entry per item.

    Attributes
    ----------
    p : ndarray of float64
        Proportion correct (item difficulty / facility).
    point_biserial : ndarray of float64
        Correlation of the item with the total score including the item.
    corrected_point_biserial : ndarray of float64
        Correlation of the item with the rest score (total minus the item).
    alpha_if_deleted : ndarray of float64
        KR-20 / alpha of the test without the item.
    omitted : ndarray of float64
        Proportion of candidates who omitted the item (scored 0 above).
    alpha : float
        KR-20 / alpha of the whole test (NaN if the total has zero variance).
    n_candidates : int
        Number of candidates.

    Notes
    -----
    Correlations are NaN when one of the two variables is constant: an item
    everyone got right (or wrong) has no point-biserial, and a rest score
    that is constant has no corrected one. Such items occur in real data,
    so they are reported rather than rejected; `alpha` and
    `alpha_if_deleted` stay finite as long as the relevant total varies.
    `alpha_if_deleted` is NaN when the reduced test has fewer than two
    items or a constant total.
    """

    p: FloatArray
    point_biserial: FloatArray
    corrected_point_biserial: FloatArray
    alpha_if_deleted: FloatArray
    omitted: FloatArray
    alpha: float
    n_candidates: int


def item_statistics(responses: npt.ArrayLike) -> ItemStatistics:
    r"""
    Proportion correct, point-biserials and alpha-if-deleted of every item.

    Parameters
    ----------
    responses : array_like, shape (n_candidates, n_items)
        Scored responses: 1 right, 0 wrong, -1 omitted (scored 0).

    Returns
    -------
    ItemStatistics

    Raises
    ------
    ValueError
        If `responses` is not 2-D, holds values other than -1, 0, 1 (NaN
        included), or has fewer than 2 candidates or 2 items.

    Notes
    -----
    With item score :math:`X_j`, total :math:`X = \sum_j X_j`, rest score
    :math:`R_j = X - X_j`, :math:`p_j` the proportion correct and population
    moments throughout (correlations and alpha do not depend on the divisor):

    .. math::

       r_{j,X} = \frac{\mathrm{Cov}(X_j, X)}{\sqrt{p_j q_j \sigma^2_X}}, \quad
       r_{j,R} = \frac{\mathrm{Cov}(X_j, X) - p_j q_j}
                      {\sqrt{p_j q_j \sigma^2_{R_j}}}, \quad
       \sigma^2_{R_j} = \sigma^2_X - 2 \mathrm{Cov}(X_j, X) + p_j q_j,

       \alpha_{(-j)} = \frac{K - 1}{K - 2}
                       \left(1 - \frac{\sum_{i \ne j} p_i q_i}{\sigma^2_{R_j}}\right).

    :math:`\mathrm{Cov}(X_j, X)` comes from one exact integer product
    :math:`X^\top x`; no reduced matrix is ever formed.

    References
    ----------
    Crocker, L. & Algina, J. (1986). *Introduction to Classical and Modern
    Test Theory*, ch. 14. Holt, Rinehart and Winston.
    Lord, F. M. & Novick, M. R. (1968). *Statistical Theories of Mental Test
    Scores*, sec. 15.
    Rizopoulos, D. (2006). ltm: An R package for latent variable modelling
    and item response theory analyses. *Journal of Statistical Software*,
    17(5) (``descript``: the same definitions).

    Examples
    --------
    >>> result = item_statistics([[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]])
    >>> result.p
    array([0.75, 0.5 , 0.25])
    >>> result.corrected_point_biserial.round(4)
    array([0.5222, 0.7071, 0.5222])
    >>> round(result.alpha, 4), result.alpha_if_deleted.round(4)
    (0.75, array([0.7273, 0.5   , 0.7273]))
    """
    right, omitted = _right_matrix(responses, min_items=2)
    n, k = right.shape
    x = right.view(np.int8)
    counts = x.sum(axis=0, dtype=np.int64)
    total = x.sum(axis=1, dtype=np.int64)
    # Exact integer X^T x (float32 BLAS would round sums beyond 2**24).
    moments = _Moments.create(n, total, counts, total @ x)
    r_total = _correlation(moments.cov_item_total, moments.var_item, moments.var_total)
    r_rest = _correlation(
        moments.cov_item_total - moments.var_item, moments.var_item, moments.var_rest
    )
    var_rest = np.asarray(moments.var_rest, dtype=np.float64)
    sum_var = moments.var_item.sum()
    alpha_del = np.full(k, np.nan)
    if k >= 3:
        rest_items = np.asarray(sum_var - moments.var_item, dtype=np.float64)
        ok = var_rest > 0
        alpha_del[ok] = (k - 1) / (k - 2) * (1.0 - rest_items[ok] / var_rest[ok])
    var_total = moments.var_total
    alpha = k / (k - 1) * (1.0 - float(sum_var) / float(var_total)) if var_total else math.nan
    p = counts / n
    return ItemStatistics(
        p=p,
        point_biserial=r_total,
        corrected_point_biserial=r_rest,
        alpha_if_deleted=alpha_del,
        omitted=omitted.sum(axis=0, dtype=np.int64) / n,
        alpha=float(alpha),
        n_candidates=int(n),
    )


# ---------------------------------------------------------------------------
# Distractor analysis
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DistractorAnalysis(_FrozenArrays):
    """
    Result of `distractor_analysis`; arrays are (n_items, n_options).

    Attributes
    ----------
    options : tuple
        Option labels, one per column.
    is_key : ndarray of bool
        True for the keyed (correct) option(s) of each item.
    proportion : ndarray of float64
        Proportion of all candidates choosing each option (omissions are
        in `omitted`, so a row sums to ``1 - omitted``).
    mean_total : ndarray of float64
        Mean number-right total score (including the item) of the
        candidates choosing the option; NaN if nobody chose it.
    option_rest_correlation : ndarray of float64
        Point-biserial correlation between choosing the option (1/0) and
        the rest score (total minus the item); NaN if everyone or nobody
        chose it, or if the rest score is constant. For the key it is the
        corrected point-biserial of the item.
    omitted : ndarray of float64, shape (n_items,)
        Proportion of candidates who did not answer the item.
    p : ndarray of float64, shape (n_items,)
        Proportion correct.
    n_candidates : int
    """

    options: tuple[Any, ...]
    is_key: BoolArray
    proportion: FloatArray
    mean_total: FloatArray
    option_rest_correlation: FloatArray
    omitted: FloatArray
    p: FloatArray
    n_candidates: int



def _matches(c: npt.NDArray[Any], label: Any) -> BoolArray:
    """Element-wise ``c == label`` without comparing strings with numbers."""
    if c.dtype.kind in "US":
        if not isinstance(label, str | bytes):
            return np.zeros(c.shape, dtype=bool)
    elif c.dtype.kind in "biuf":
        if not isinstance(label, numbers.Number) or isinstance(label, bool):
            return np.zeros(c.shape, dtype=bool)
    return np.asarray(c == label, dtype=bool)


def _option_codes(
    choices: npt.ArrayLike, options: Sequence[Any]
) -> tuple[npt.NDArray[np.int8], tuple[Any, ...]]:
    """Code choices as option index 0..O-1, O for an omission; validate."""
    if isinstance(options, str):
        raise ValueError(
            f"options must be a sequence of labels, not a str ({options!r}); "
            "use list(options) if each character is one option."
        )
    opts = tuple(options)
    if len(opts) < 2:
        raise ValueError(f"options must list at least 2 option labels, got {opts!r}.")
    if len(opts) > 100:
        raise ValueError(f"options may list at most 100 labels, got {len(opts)}.")
    for o, label in enumerate(opts):
        if _is_missing(label):
            raise ValueError(f"options[{o}] is {label!r}, which marks an unanswered item.")
        if any(label == other for other in opts[:o]):
            raise ValueError(f"options must be distinct, but {label!r} appears twice.")
    try:
        c = np.asarray(choices)
    except ValueError as exc:
        raise ValueError(f"choices must be a rectangular array of labels: {exc}") from None
    if c.ndim != 2:
        raise ValueError(f"choices must be 2-D (n_candidates, n_items), but has shape {c.shape}.")
    if c.shape[0] < 2:
        raise ValueError(f"choices must have at least 2 candidates (rows), but has {c.shape[0]}.")
    if c.shape[1] < 1:
        raise ValueError("choices must have at least one item (column).")
    n_opt = len(opts)
    codes = _lookup_codes(c, opts)
    if codes is not None:
        return _check_unmatched(codes, c, opts), opts
    codes = np.full(c.shape, -1, dtype=np.int8)
    for o, label in enumerate(opts):
        codes[_matches(c, label)] = o
    if c.dtype.kind == "O":
        # Python-level test only for the (few) entries no option matched.
        missing = np.zeros(c.shape, dtype=bool)
        unmatched = codes < 0
        missing[unmatched] = _is_missing_ufunc(c[unmatched]).astype(bool)
    elif c.dtype.kind in "US":
        missing = c == c.dtype.type()
    elif c.dtype.kind == "f":
        missing = np.isnan(c)
    else:
        missing = np.zeros(c.shape, dtype=bool)
    codes[missing] = n_opt
    return _check_unmatched(codes, c, opts), opts


def _check_unmatched(
    codes: npt.NDArray[np.int8], c: npt.NDArray[Any], opts: tuple[Any, ...]
) -> npt.NDArray[np.int8]:
    """Raise if a choice was neither an option nor missing (code -1)."""
    if int(codes.min()) < 0:
        unmatched = codes < 0
        i, j = (int(v) for v in np.argwhere(unmatched)[0])
        value = c[i, j]
        if isinstance(value, np.generic):
            value = value.item()
        raise ValueError(
            f"choices[{i}, {j}] is {value!r}, which is neither one of the options "
            f"{opts!r} nor a missing-value marker (None, '' or NaN); "
            f"{int(unmatched.sum())} such entries in total."
        )
    return codes


def _lookup_codes(c: npt.NDArray[Any], opts: tuple[Any, ...]) -> npt.NDArray[np.int8] | None:
    """Code choices with one table or dictionary lookup per element.

    Returns None when the dtype has no fast path (the caller then compares
    option by option). For one-character strings the empty string (code
    point 0) is the missing marker; integer arrays have no missing marker.
    """
    if c.size == 0:
        return None
    n_opt = len(opts)
    if c.dtype.kind in "US" and c.dtype.itemsize == (4 if c.dtype.kind == "U" else 1):
        values = c.view(np.uint32 if c.dtype.kind == "U" else np.uint8)
        table = np.full(int(values.max()) + 1, -1, dtype=np.int8)
        table[0] = n_opt
        for o, label in enumerate(opts):
            if c.dtype.kind == "U" and isinstance(label, str) and len(label) == 1:
                point = ord(label)
            elif c.dtype.kind == "S" and isinstance(label, bytes) and len(label) == 1:
                point = label[0]
            else:
                continue
            if point < table.size:
                table[point] = o
        return table[values]
    if c.dtype.kind in "iu":
        low, high = int(c.min()), int(c.max())
        if low < 0 or high >= 1 << 16:
            return None
        table = np.full(high + 1, -1, dtype=np.int8)
        for o, label in enumerate(opts):
            if isinstance(label, numbers.Real) and not isinstance(label, bool | np.bool_):
                value = float(label)
                if value.is_integer() and 0 <= value <= high:
                    table[int(value)] = o
        return table[c]
    return None


def _key_matrix(key: Sequence[Any], options: tuple[Any, ...], n_items: int) -> BoolArray:
    """Boolean (n_items, n_options) matrix of keyed options."""
    if isinstance(key, str):
        raise ValueError(f"key must be a sequence of labels, one per item, not a str ({key!r}).")
    entries = list(key)
    if len(entries) != n_items:
        raise ValueError(
            f"key must have one entry per item: choices has {n_items} items but key "
            f"has length {len(entries)}."
        )
    is_key = np.zeros((n_items, len(options)), dtype=bool)
    for j, entry in enumerate(entries):
        if isinstance(entry, frozenset | set | tuple | list | np.ndarray):
            labels = list(np.asarray(list(entry), dtype=object).ravel())
        else:
            labels = [entry]
        if not labels:
            raise ValueError(f"key[{j}] is empty; every item needs a keyed option.")
        for label in labels:
            hits = [o for o, opt in enumerate(options) if _same_label(opt, label)]
            if not hits:
                raise ValueError(f"key[{j}] = {label!r} is not one of the options {options!r}.")
            is_key[j, hits[0]] = True
    return is_key


def _same_label(a: Any, b: Any) -> bool:
    """Label equality that never compares a string with a number as equal."""
    if isinstance(a, str | bytes) != isinstance(b, str | bytes):
        return False
    return bool(a == b)


def distractor_analysis(
    choices: npt.ArrayLike, key: Sequence[Any], options: Sequence[Any]
) -> DistractorAnalysis:
    r"""
    Option-level analysis of multiple-choice items.

    Parameters
    ----------
    choices : array_like, shape (n_candidates, n_items)
        Option chosen by each candidate on each item. ``None``, ``""`` and
        NaN mean not answered. Pass a fixed-width string array (e.g.
        ``np.asarray(choices, dtype="U1")``, ``""`` for omitted) or integer
        codes for speed: one-character strings and small non-negative
        integers are coded with a single table lookup, other string and
        numeric arrays with one vectorised comparison per option. Object
        arrays (e.g. holding ``None``) work but compare element by element
        in Python, about ten times slower.
    key : sequence, length n_items
        Keyed option of each item, or a collection (``frozenset``, ``set``,
        ``tuple``, ``list``) of options that are all accepted as correct.
    options : sequence
        All option labels to report, e.g. ``list("ABCD")``. Every
        non-missing choice must be one of them.

    Returns
    -------
    DistractorAnalysis

    Raises
    ------
    ValueError
        If `choices` is not 2-D with at least 2 candidates, holds a label
        that is not among `options`; if `options` has fewer than 2 or
        repeated labels; if `key` has the wrong length, an empty entry or
        a label not among `options`.

    Notes
    -----
    The item is scored right when a keyed option is chosen (omissions score
    0), giving totals :math:`X` and rest scores :math:`R_j = X - X_j`. For
    option :math:`o` of item :math:`j`, with :math:`D = 1` for the
    candidates choosing it and :math:`\pi` their proportion,

    .. math:: r_{o,R} = \frac{E[D R_j] - \pi E[R_j]}
                             {\sqrt{\pi (1 - \pi) \sigma^2_{R_j}}}.

    A well-functioning distractor has a negative option-rest correlation:
    weaker candidates choose it. Everything is computed from one
    item x total-score x option count table (a single ``bincount``).

    References
    ----------
    Haladyna, T. M. (2004). *Developing and Validating Multiple-Choice Test
    Items* (3rd ed.), ch. 10. Erlbaum.
    Attali, Y. & Fraenkel, T. (2000). The point-biserial as a discrimination
    index for distractors in multiple-choice items: Deficiencies in usage
    and an alternative. *Journal of Educational Measurement*, 37, 77-86.

    Examples
    --------
    >>> choices = [["A", "B"], ["A", "C"], ["B", "B"], ["C", None], ["A", "B"]]
    >>> result = distractor_analysis(choices, key=["A", "B"], options=list("ABC"))
    >>> result.proportion
    array([[0.6, 0.2, 0.2],
           [0. , 0.6, 0.2]])
    >>> result.mean_total
    array([[1.66666667, 1.        , 0.        ],
           [       nan, 1.66666667, 1.        ]])
    >>> result.option_rest_correlation.round(3)
    array([[ 0.167,  0.408, -0.612],
           [   nan,  0.167,  0.408]])
    >>> result.omitted
    array([0. , 0.2])
    """
    codes, opts = _option_codes(choices, options)
    n, k = codes.shape
    n_opt = len(opts)
    width = n_opt + 1
    is_key = _key_matrix(key, opts, k)
    keyed_ext = np.zeros((k, width), dtype=bool)
    keyed_ext[:, :n_opt] = is_key
    # Flat (item, option) cell of every response; reused for the score table.
    cell = np.arange(k, dtype=np.int32) * width + codes
    right = keyed_ext.ravel()[cell]
    total = right.sum(axis=1, dtype=np.intp)
    # intp indices: bincount would otherwise copy an int32 array to intp.
    flat = (total * (k * width))[:, None] + cell
    table = np.bincount(flat.ravel(), minlength=(k + 1) * k * width).reshape(k + 1, k, width)
    del flat
    counts = table.sum(axis=0)
    score_sums = np.tensordot(np.arange(k + 1, dtype=np.int64), table, axes=(0, 0))

    pi = counts / n
    item_counts = (counts * keyed_ext).sum(axis=1)
    moments = _Moments.create(n, total, item_counts, (score_sums * keyed_ext).sum(axis=1))
    # Option o of item j: sum over its choosers of the rest score R_j = X - X_j
    # (X_j = 1 exactly for the choosers of a keyed option).
    sum_dr = _exact(score_sums - counts * keyed_ext)
    choosers = _exact(counts)
    rest_sum = moments.sum_total - _exact(item_counts)
    cov_dr = n * sum_dr - choosers * rest_sum[:, None]
    corr = _correlation(cov_dr, choosers * (n - choosers), moments.var_rest[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_total = score_sums / counts
    mean_total[counts == 0] = np.nan
    p = item_counts / n
    return DistractorAnalysis(
        options=opts,
        is_key=is_key,
        proportion=pi[:, :n_opt],
        mean_total=mean_total[:, :n_opt],
        option_rest_correlation=corr[:, :n_opt],
        omitted=pi[:, n_opt],
        p=p,
        n_candidates=int(n),
    )


# ---------------------------------------------------------------------------
# Flags
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ItemFlags(_FrozenArrays):
    """
    Result of `flags`: boolean review flags, one entry per item.

    Attributes
    ----------
    too_hard : ndarray of bool
        ``p < too_hard_p``.
    too_easy : ndarray of bool
        ``p > too_easy_p``.
    low_discrimination : ndarray of bool
        Corrected point-biserial below ``low_discrimination_r`` (negative
        values included).
    negative_discrimination : ndarray of bool
        Corrected point-biserial below 0.
    strong_distractor : ndarray of bool
        A distractor attracts strong candidates (see `flags`); all False
        when no distractor analysis was given.
    """

    too_hard: BoolArray
    too_easy: BoolArray
    low_discrimination: BoolArray
    negative_discrimination: BoolArray
    strong_distractor: BoolArray

    @property
    def flagged(self) -> BoolArray:
        """True for items with at least one flag."""
        return (
            self.too_hard
            | self.too_easy
            | self.low_discrimination
            | self.negative_discrimination
            | self.strong_distractor
        )

    def reasons(self) -> tuple[tuple[str, ...], ...]:
        """
        Names of the flags raised for each item, in a fixed order.

        Examples
        --------
        >>> import numpy as np
        >>> no, yes = np.array([False]), np.array([True])
        >>> ItemFlags(yes, no, yes, no, no).reasons()
        (('too_hard', 'low_discrimination'),)
        """
        names = (
            "too_hard",
            "too_easy",
            "low_discrimination",
            "negative_discrimination",
            "strong_distractor",
        )
        columns = np.column_stack([getattr(self, name) for name in names])
        return tuple(
            tuple(name for name, on in zip(names, row, strict=True) if on) for row in columns
        )


def flags(
    statistics: ItemStatistics,
    distractors: DistractorAnalysis | None = None,
    *,
    too_hard_p: float = 0.30,
    too_easy_p: float = 0.95,
    low_discrimination_r: float = 0.15,
    distractor_r: float = 0.0,
) -> ItemFlags:
    """
    Review flags from item statistics and (optionally) a distractor analysis.

    Parameters
    ----------
    statistics : ItemStatistics
        From `item_statistics`.
    distractors : DistractorAnalysis, optional
        From `distractor_analysis` on the same items.
    too_hard_p, too_easy_p : float
        Flag ``p < too_hard_p`` as too hard and ``p > too_easy_p`` as too
        easy.
    low_discrimination_r : float
        Flag a corrected point-biserial below this value.
    distractor_r : float
        Flag an item whose distractor (an option that is not keyed) has an
        option-rest correlation above this value, or above the key's.

    Returns
    -------
    ItemFlags

    Raises
    ------
    ValueError
        If the thresholds are not finite, ``too_hard_p > too_easy_p``, or
        the two analyses have different numbers of items.

    Notes
    -----
    Items with an undefined (NaN) corrected point-biserial, i.e. items
    everyone got right or wrong, get no discrimination flag; they are
    caught by the difficulty flags. Unchosen options (NaN correlation)
    never raise the distractor flag. The defaults follow common practice
    for certification tests (e.g. Haladyna 2004, ch. 9-10): p below .30 or
    above .95, corrected point-biserial below .15, and any distractor that
    correlates positively with the rest score.

    References
    ----------
    Haladyna, T. M. (2004). *Developing and Validating Multiple-Choice Test
    Items* (3rd ed.). Erlbaum.

    Examples
    --------
    >>> stats_ = item_statistics([[1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 1],
    ...                           [0, 0, 0, 1], [1, 1, 0, 0]])
    >>> result = flags(stats_)
    >>> result.too_hard, result.negative_discrimination
    (array([False, False,  True, False]), array([False,  True, False,  True]))
    """
    for name, value in (
        ("too_hard_p", too_hard_p),
        ("too_easy_p", too_easy_p),
        ("low_discrimination_r", low_discrimination_r),
        ("distractor_r", distractor_r),
    ):
        if not math.isfinite(float(value)):
            raise ValueError(f"{name} must be finite, got {value!r}.")
    if too_hard_p > too_easy_p:
        raise ValueError(
            f"too_hard_p ({too_hard_p}) must not exceed too_easy_p ({too_easy_p})."
        )
    p = statistics.p
    r = statistics.corrected_point_biserial
    k = p.shape[0]
    with np.errstate(invalid="ignore"):
        low = r < low_discrimination_r
        negative = r < 0.0
    strong = np.zeros(k, dtype=bool)
    if distractors is not None:
        if distractors.is_key.shape[0] != k:
            raise ValueError(
                f"distractors has {distractors.is_key.shape[0]} items but statistics has {k}."
            )
        corr = distractors.option_rest_correlation
        defined = ~np.isnan(corr)
        key_best = np.where(distractors.is_key & defined, corr, -np.inf).max(axis=1)
        distractor_corr = np.where(~distractors.is_key & defined, corr, -np.inf)
        strong = ((distractor_corr > distractor_r) | (distractor_corr > key_best[:, None])).any(
            axis=1
        )
    return ItemFlags(
        too_hard=p < too_hard_p,
        too_easy=p > too_easy_p,
        low_discrimination=low,
        negative_discrimination=negative,
        strong_distractor=strong,
    )


# ---------------------------------------------------------------------------
# Mantel-Haenszel DIF
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MantelHaenszelDif(_FrozenArrays):
    """
    Result of `mantel_haenszel`; arrays have one entry per item.

    Attributes
    ----------
    alpha_mh : ndarray of float64
        Common odds ratio (reference odds of success / focal odds);
        above 1 when the item favours the reference group.
    d_dif : ndarray of float64
        MH D-DIF ``= -2.35 ln(alpha_mh)``; negative values are DIF against
        the focal group.
    se_d_dif : ndarray of float64
        Standard error of MH D-DIF (Robins-Breslow-Greenland variance).
    chi_square : ndarray of float64
        MH chi-square with continuity correction (1 df).
    p_value : ndarray of float64
        Its p-value.
    category : ndarray of str
        ETS category ``"A"``, ``"B"`` or ``"C"``; ``"NA"`` where the odds
        ratio is 0, infinite or undefined (then all numbers are NaN).
    signed_category : ndarray of str
        Category with direction: ``"B-"``/``"C-"`` against the focal group
        (negative D), ``"B+"``/``"C+"`` in its favour; ``"A"``, ``"NA"``.
    matching_items : ndarray of bool
        Items in the matching total (all items unless purified; the studied
        item is always added to its own matching score).
    n_reference, n_focal : int
        Group sizes.
    """

    alpha_mh: FloatArray
    d_dif: FloatArray
    se_d_dif: FloatArray
    chi_square: FloatArray
    p_value: FloatArray
    category: npt.NDArray[np.str_]
    signed_category: npt.NDArray[np.str_]
    matching_items: BoolArray
    n_reference: int
    n_focal: int


def _mh_item(
    matching: npt.NDArray[np.int64], focal: npt.NDArray[np.int64], item: npt.NDArray[np.int8],
    n_strata: int,
) -> tuple[float, float, float]:
    """(alpha_MH, var ln alpha_MH, MH chi-square) of one item; NaN where undefined."""
    cells = np.bincount((matching * 2 + focal) * 2 + item, minlength=n_strata * 4)
    cells = cells.reshape(n_strata, 2, 2).astype(np.float64)
    a, b = cells[:, 0, 1], cells[:, 0, 0]  # reference right, wrong
    c, d = cells[:, 1, 1], cells[:, 1, 0]  # focal right, wrong
    t = a + b + c + d
    used = t > 0
    a, b, c, d, t = a[used], b[used], c[used], d[used], t[used]
    r = a * d / t
    s = b * c / t
    sum_r, sum_s = float(r.sum()), float(s.sum())
    if sum_r <= 0.0 or sum_s <= 0.0:
        return math.nan, math.nan, math.nan
    p_ = (a + d) / t
    q_ = (b + c) / t
    var_ln = (
        float((p_ * r).sum()) / (2.0 * sum_r**2)
        + float((p_ * s + q_ * r).sum()) / (2.0 * sum_r * sum_s)
        + float((q_ * s).sum()) / (2.0 * sum_s**2)
    )
    many = t > 1
    n_r, n_f = (a + b)[many], (c + d)[many]
    m1, m0, tm = (a + c)[many], (b + d)[many], t[many]
    expected = float((n_r * m1 / tm).sum())
    variance = float((n_r * n_f * m1 * m0 / (tm**2 * (tm - 1.0))).sum())
    if variance > 0.0:
        chi = max(abs(float(a[many].sum()) - expected) - 0.5, 0.0) ** 2 / variance
    else:
        chi = math.nan
    return sum_r / sum_s, var_ln, chi


def mantel_haenszel(
    responses: npt.ArrayLike,
    group: npt.ArrayLike,
    *,
    reference: Any,
    focal: Any,
    purify: bool = False,
    alpha: float = 0.05,
) -> MantelHaenszelDif:
    r"""
    Mantel-Haenszel DIF statistics and ETS A/B/C categories for every item.

    Parameters
    ----------
    responses : array_like, shape (n_candidates, n_items)
        Scored responses (1, 0, -1; omitted scores 0).
    group : array_like, shape (n_candidates,)
        Group label of each candidate. Candidates in neither the reference
        nor the focal group are ignored.
    reference, focal : label
        Labels of the reference and the focal group.
    purify : bool
        Two-stage purification (Holland & Thayer 1988; Zwick 2012): after a
        first pass matching on the total of all items, items classified C
        are removed from the matching total and the statistics recomputed
        (the studied item always stays in its own matching score).
    alpha : float
        Significance level of the tests in the ETS rules.

    Returns
    -------
    MantelHaenszelDif

    Raises
    ------
    ValueError
        For invalid `responses`; if `group` has the wrong length; if
        `reference` equals `focal` or either group has no candidate; if
        `alpha` is outside (0, 1).

    Notes
    -----
    Candidates are stratified by the matching score :math:`k` (number-right
    total including the studied item; Holland & Thayer 1988 show that this
    makes MH exact for Rasch items without DIF). In stratum :math:`k` the
    reference group has :math:`A_k` right and :math:`B_k` wrong, the focal
    group :math:`C_k` and :math:`D_k`, :math:`T_k` in all:

    .. math::

       \hat\alpha_{MH} = \frac{\sum_k A_k D_k / T_k}{\sum_k B_k C_k / T_k},
       \qquad \text{MH D-DIF} = -2.35 \ln \hat\alpha_{MH}.

    The variance of :math:`\ln \hat\alpha_{MH}` is the Robins-Breslow-
    Greenland (1986) estimator (equivalent to Phillips & Holland 1987),
    with :math:`P_k = (A_k + D_k)/T_k`, :math:`Q_k = 1 - P_k`,
    :math:`R_k = A_k D_k / T_k`, :math:`S_k = B_k C_k / T_k`:

    .. math::

       \frac{\sum P_k R_k}{2 (\sum R_k)^2}
       + \frac{\sum (P_k S_k + Q_k R_k)}{2 \sum R_k \sum S_k}
       + \frac{\sum Q_k S_k}{2 (\sum S_k)^2},

    and SE(D-DIF) = 2.35 times its square root. The MH chi-square is
    :math:`(|\sum_k A_k - \sum_k E(A_k)| - 1/2)^2 / \sum_k \mathrm{Var}(A_k)`
    with the hypergeometric mean and variance (strata with
    :math:`T_k \ge 2`).

    ETS categories (Zwick 2012): **A** if :math:`|D| < 1` or the
    chi-square is not significant at `alpha`; **C** if :math:`|D| \ge 1.5`
    and :math:`|D|` is significantly greater than 1, i.e.
    :math:`(|D| - 1)/SE > z_{1-\alpha}` (one-sided); **B** otherwise.

    References
    ----------
    Holland, P. W. & Thayer, D. T. (1988). Differential item performance and
    the Mantel-Haenszel procedure. In H. Wainer & H. I. Braun (Eds.), *Test
    Validity* (pp. 129-145). Erlbaum.
    Robins, J., Breslow, N. & Greenland, S. (1986). Estimators of the
    Mantel-Haenszel variance consistent in both sparse data and large-strata
    limiting models. *Biometrics*, 42, 311-323.
    Phillips, A. & Holland, P. W. (1987). Estimators of the variance of the
    Mantel-Haenszel log-odds-ratio estimate. *Biometrics*, 43, 425-431.
    Zwick, R. (2012). *A review of ETS differential item functioning
    assessment procedures* (ETS RR-12-08).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> group = np.repeat(["ref", "foc"], 2000)
    >>> theta = rng.normal(size=4000)
    >>> b = np.linspace(-1, 1, 10) + np.where(group[:, None] == "foc", [1.0] + [0] * 9, 0)
    >>> x = (rng.random((4000, 10)) < 1 / (1 + np.exp(-(theta[:, None] - b)))).astype(int)
    >>> result = mantel_haenszel(x, group, reference="ref", focal="foc")
    >>> result.signed_category[:3]
    array(['C-', 'A', 'A'], dtype='<U2')
    """
    right, _ = _right_matrix(responses, min_items=2)
    n, k = right.shape
    if not (0.0 < float(alpha) < 1.0):
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}.")
    g = np.asarray(group)
    if g.shape != (n,):
        raise ValueError(
            f"group must have one label per candidate, shape ({n},), but has shape {g.shape}."
        )
    if _same(reference, focal):
        raise ValueError(f"reference and focal must differ, both are {reference!r}.")
    is_ref = np.asarray(g == reference, dtype=bool) if _comparable(g, reference) else None
    is_foc = np.asarray(g == focal, dtype=bool) if _comparable(g, focal) else None
    if is_ref is None or not is_ref.any():
        raise ValueError(f"group has no candidate in the reference group {reference!r}.")
    if is_foc is None or not is_foc.any():
        raise ValueError(f"group has no candidate in the focal group {focal!r}.")
    keep = is_ref | is_foc
    x = right[keep].view(np.int8)
    focal_flag = is_foc[keep].astype(np.int64)
    n_strata = k + 1
    z_crit = float(stats.norm.ppf(1.0 - float(alpha)))

    def run(anchor: BoolArray) -> tuple[FloatArray, ...]:
        base = x[:, anchor].sum(axis=1, dtype=np.int64)
        out = np.empty((k, 3))
        for j in range(k):
            matching = base if anchor[j] else base + x[:, j]
            out[j] = _mh_item(matching, focal_flag, x[:, j], n_strata)
        ratio, var_ln, chi = out.T
        with np.errstate(divide="ignore", invalid="ignore"):
            d = -_DELTA_PER_LOGIT * np.log(ratio)
            se = _DELTA_PER_LOGIT * np.sqrt(var_ln)
        p_value = np.where(np.isnan(chi), np.nan, stats.chi2.sf(np.nan_to_num(chi), 1))
        return ratio, d, se, chi, p_value

    def classify(d: FloatArray, se: FloatArray, p_value: FloatArray) -> npt.NDArray[np.str_]:
        size = np.abs(d)
        with np.errstate(invalid="ignore", divide="ignore"):
            is_a = (size < 1.0) | ~(p_value < alpha)
            is_c = ~is_a & (size >= 1.5) & ((size - 1.0) / se > z_crit)
        category = np.where(is_a, "A", np.where(is_c, "C", "B"))
        return np.where(np.isnan(d), "NA", category)

    anchor = np.ones(k, dtype=bool)
    ratio, d, se, chi, p_value = run(anchor)
    category = classify(d, se, p_value)
    if purify:
        anchor = category != "C"
        ratio, d, se, chi, p_value = run(anchor)
        category = classify(d, se, p_value)
    sign = np.where(d < 0, "-", "+")
    signed = np.where(np.isin(category, ["B", "C"]), np.char.add(category, sign), category)
    return MantelHaenszelDif(
        alpha_mh=ratio,
        d_dif=d,
        se_d_dif=se,
        chi_square=chi,
        p_value=p_value,
        category=category.astype("<U2"),
        signed_category=signed.astype("<U2"),
        matching_items=anchor,
        n_reference=int(is_ref.sum()),
        n_focal=int(is_foc.sum()),
    )


def _comparable(g: npt.NDArray[Any], label: Any) -> bool:
    """False when numpy would compare a numeric array with a string (or vice versa)."""
    if g.dtype.kind in "US":
        return isinstance(label, str | bytes)
    if g.dtype.kind in "biuf":
        return isinstance(label, numbers.Number)
    return True


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False
