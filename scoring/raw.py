"""Item scoring and number-right raw scores.

This module turns the options chosen by candidates into a scored response
matrix (`score_choices`) and summarises a scored response matrix into
number-right raw scores, overall and per content domain (`raw_scores`).

A scored response matrix has shape ``(n_candidates, n_items)`` and holds
`RIGHT` (``1``), `WRONG` (``0``) or `OMITTED` (``-1``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from scoring._frozen import freeze_arrays

__all__ = ["OMITTED", "RIGHT", "WRONG", "RawScores", "raw_scores", "score_choices"]

RIGHT: Final = 1
"""Code of a right (correct) response in a scored response matrix."""

WRONG: Final = 0
"""Code of a wrong (incorrect) response in a scored response matrix."""

OMITTED: Final = -1
"""Code of an item the candidate did not answer in a scored response matrix."""

_VALID_CODES: Final = (OMITTED, WRONG, RIGHT)

BoolArray = npt.NDArray[np.bool_]

# Container types in an answer key that hold *several* accepted labels for an
# item. Anything else (str, int, ...) is a single label.
_LABEL_COLLECTIONS: Final = (frozenset, set, tuple, list, np.ndarray)


def _is_missing(value: object) -> bool:
    """Return True if `value` marks an unanswered item in a choice matrix."""
    if value is None:
        return True
    if isinstance(value, str):
        return value == ""
    # NaN is how pandas and CSV readers represent a blank cell.
    return isinstance(value, numbers.Real) and math.isnan(value)


_is_missing_ufunc = np.frompyfunc(_is_missing, 1, 1)


def _is_valid_code(value: object) -> bool:
    """Return True if `value` is a real number equal to -1, 0 or 1."""
    return isinstance(value, numbers.Real) and value in _VALID_CODES


_is_valid_code_ufunc = np.frompyfunc(_is_valid_code, 1, 1)


def _position(index: tuple[int, ...], promoted: bool) -> str:
    """Format `index` of a 2-D array as it was written in the caller's input."""
    if promoted:
        index = index[1:]
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _accepted_labels(entry: object, item: int) -> tuple[Any, ...]:
    """Validate one answer-key entry and return its accepted labels."""
    if entry is None:
        raise ValueError(
            f"key[{item}] is None; every item needs at least one accepted label. "
            "To drop an item from scoring, keep a label here and exclude the item "
            "with the `scored` mask of `raw_scores`."
        )
    if isinstance(entry, np.ndarray):
        labels = tuple(entry.ravel().tolist())
    elif isinstance(entry, _LABEL_COLLECTIONS):
        labels = tuple(entry)
    else:
        labels = (entry,)
    if not labels:
        raise ValueError(
            f"key[{item}] is an empty collection ({entry!r}); every item needs at "
            "least one accepted label."
        )
    for label in labels:
        if _is_missing(label):
            raise ValueError(
                f"key[{item}] contains {label!r}, which marks an unanswered item "
                "and can never be a correct answer."
            )
    return labels


def _match_fixed_width(
    c: npt.NDArray[np.str_], accepted: Sequence[tuple[Any, ...]]
) -> tuple[BoolArray, BoolArray]:
    """(missing, right) of `score_choices` for a 2-D fixed-width string array.

    Whole-matrix comparisons, one per rank of label (every item's first accepted
    label, then the second, ...): a single pass when each item has one key.
    """
    n_items = c.shape[1]
    native = np.ascontiguousarray(c, dtype=c.dtype.newbyteorder("="))
    # A 'U' cell is stored as `width` UCS-4 code points padded with zeros.
    width = c.dtype.itemsize // 4
    points = native.view(np.uint32).reshape(*c.shape, width)
    if width > 1 and not points[..., 1:].any():
        width = 1  # a wide array of short cells (say, it also held candidate ids)
    cells: npt.NDArray[Any]
    if width == 1:
        # Single characters (the usual option labels): comparing their code points is
        # many times faster than numpy's string comparison.
        cells = points[..., 0]
        missing = cells == 0

        def as_row(texts: list[str]) -> npt.NDArray[Any]:
            return np.array(texts, dtype="U1").view(np.uint32)
    else:
        cells = native
        missing = cells == ""

        def as_row(texts: list[str]) -> npt.NDArray[Any]:
            return np.array(texts, dtype=f"U{width}")

    # numpy compares strings without their trailing NULs (as the object path's `==`
    # does too), and no cell is longer than `width` or anything but a str.
    stripped = [[x.rstrip("\0") for x in entry if isinstance(x, str)] for entry in accepted]
    labels = [list(dict.fromkeys(x for x in item if len(x) <= width)) for item in stripped]
    right = np.zeros(c.shape, dtype=bool)
    for rank in range(max((len(item) for item in labels), default=0)):
        items = [j for j, item in enumerate(labels) if len(item) > rank]
        row = as_row([labels[j][rank] for j in items])
        if len(items) == n_items:
            right |= cells == row
        else:
            right[:, items] |= cells[:, items] == row
    return missing, right


def score_choices(choices: npt.ArrayLike, key: Sequence[Any]) -> npt.NDArray[np.int8]:
    r"""
    Score the options chosen by candidates against an answer key.

    Parameters
    ----------
    choices : array_like, shape (n_candidates, n_items) or (n_items,)
        Option labels (strings or integers) chosen by each candidate on each
        item. ``None``, the empty string ``""`` and NaN mean the item was not
        answered. An object array is accepted. A numpy fixed-width string
        array (dtype ``'U'``, blank ``""`` = not answered) is scored without
        converting its cells to Python objects, which is much faster (see
        Notes). A 1-D input is one candidate and is returned as a matrix
        with one row.
    key : sequence, length n_items
        Answer key. Entry ``j`` is either a single accepted label or a
        collection (``frozenset``, ``set``, ``tuple``, ``list`` or 1-D
        array) of labels that are all accepted as correct, e.g. after a
        psychometric review decides that two options of item ``j`` are
        defensible. A ``str`` entry is always one label, never a
        collection of characters.

    Returns
    -------
    scored : ndarray of int8, shape (n_candidates, n_items)
        `RIGHT` (``1``) where the choice is one of the accepted labels,
        `OMITTED` (``-1``) where the item was not answered and `WRONG`
        (``0``) otherwise.

    Raises
    ------
    ValueError
        If `choices` is not 1-D or 2-D or its rows have unequal lengths; if
        `key` is a ``str`` or its length differs from the number of items;
        if an entry of `key` is ``None``, an empty collection or contains a
        missing-value marker.

    See Also
    --------
    raw_scores : Number-right scores from the matrix returned here.

    Notes
    -----
    With :math:`c_{ij}` the choice of candidate :math:`i` on item :math:`j`
    and :math:`A_j` the set of labels accepted for item :math:`j`, the
    scored response is

    .. math::

        u_{ij} = \begin{cases}
                    -1 & \text{if } c_{ij} \text{ is missing,} \\
                    1  & \text{if } c_{ij} \in A_j, \\
                    0  & \text{otherwise.}
                 \end{cases}

    Labels are compared with ``==`` and without any normalisation, so
    ``"A"``, ``"a"`` and ``" A"`` are different labels and so are ``1`` and
    ``"1"``. Normalise labels before calling this function if needed.

    An item that must not count at all (for example a pretest item, or an
    item withdrawn after review) still needs a key entry here; it is
    excluded later through the ``scored`` mask of `raw_scores`.

    A fixed-width string array (dtype ``'U'``) gives the same result as the
    same cells in an object array, computed by whole-matrix comparisons (one
    per accepted label of the item with the most labels) instead of one
    Python comparison per cell. When no cell is longer than one character,
    as with the usual option labels, those compare code points: 100,000
    candidates x 180 items take about 0.05 s (``'U1'``; a few tenths of a
    second for a wider dtype), against several seconds for an object
    array. Its cells are ``str``, so labels that are not ``str`` never
    match them.

    References
    ----------
    .. [1] L. Crocker and J. Algina, *Introduction to Classical and Modern
           Test Theory*, Holt, Rinehart and Winston, New York (1986).

    Examples
    --------
    >>> from scoring.raw import score_choices
    >>> choices = [["A", "C", None],
    ...            ["B", "D", "A"]]
    >>> score_choices(choices, key=["A", "C", "B"])
    array([[ 1,  1, -1],
           [ 0,  0,  0]], dtype=int8)

    After review, both ``"C"`` and ``"D"`` are accepted for the second item:

    >>> score_choices(choices, key=["A", frozenset({"C", "D"}), "B"])
    array([[ 1,  1, -1],
           [ 0,  1,  0]], dtype=int8)

    A single candidate may be given as a 1-D sequence:

    >>> score_choices([3, "", 2], key=[3, 1, 2])
    array([[ 1, -1,  1]], dtype=int8)
    """
    if isinstance(key, str):
        raise ValueError(
            f"key must be a sequence of labels, one per item, not a str ({key!r}); "
            "use list(key) if each character is one item's label."
        )
    fixed_width = isinstance(choices, np.ndarray) and choices.dtype.kind == "U"
    if fixed_width:
        c = choices
    else:
        try:
            c = np.asarray(choices, dtype=object)
        except ValueError as exc:
            raise ValueError(f"choices must be a rectangular array of labels: {exc}") from None
    if c.ndim == 1:
        nested = [i for i, v in enumerate(c) if isinstance(v, (list, tuple, np.ndarray))]
        if nested:
            raise ValueError(
                "choices must be a rectangular 2-D array of labels, but its rows "
                f"have unequal lengths (row {nested[0]} is {c[nested[0]]!r})."
            )
        c = c.reshape(1, -1)
    if c.ndim != 2:
        raise ValueError(
            "choices must be 2-D (n_candidates, n_items) or 1-D (one candidate), "
            f"but has shape {c.shape}."
        )
    n_items = c.shape[1]
    key_entries = list(key)
    if len(key_entries) != n_items:
        raise ValueError(
            f"key must have one entry per item: choices has {n_items} items "
            f"(columns) but key has length {len(key_entries)}."
        )
    accepted = [_accepted_labels(entry, j) for j, entry in enumerate(key_entries)]

    if fixed_width:
        missing, right = _match_fixed_width(c, accepted)
    else:
        missing = _is_missing_ufunc(c).astype(bool)
        right = np.zeros(c.shape, dtype=bool)
        for j, labels in enumerate(accepted):
            column = c[:, j]
            for label in labels:
                right[:, j] |= np.asarray(column == label, dtype=bool)

    # RIGHT is 1 and WRONG is 0, so `right` as int8 is already the right/wrong code.
    return np.where(missing, np.int8(OMITTED), right.astype(np.int8))


@dataclass(frozen=True, eq=False)
class RawScores:
    """
    Result of `raw_scores`.

    All counts refer to scored items only; unscored (e.g. pretest) items
    are ignored everywhere. The arrays are read-only.

    Attributes
    ----------
    total : ndarray of int64, shape (n_candidates,)
        Number-right score: number of scored items answered right.
    wrong : ndarray of int64, shape (n_candidates,)
        Number of scored items answered wrong.
    omitted : ndarray of int64, shape (n_candidates,)
        Number of scored items not answered.
    n_scored : int
        Number of scored items, i.e. the maximum possible `total`.
        ``total + wrong + omitted == n_scored`` for every candidate.
    domain_labels : tuple of str, length n_domains
        Content domains, in order of first appearance among the scored
        items. Domains containing only unscored items are not listed.
    by_domain : ndarray of int64, shape (n_candidates, n_domains)
        Number of scored items of each domain answered right; column ``d``
        refers to ``domain_labels[d]``. Rows sum to `total`.
    domain_max : ndarray of int64, shape (n_domains,)
        Number of scored items in each domain (all positive). Sums to
        `n_scored`.

    Methods
    -------
    proportion :
        Proportion of scored items answered right.
    domain_proportion :
        Proportion of each domain's scored items answered right.

    Notes
    -----
    Instances compare by identity (``eq=False``), because element-wise
    array comparison has no single truth value.
    """

    total: npt.NDArray[np.int64]
    wrong: npt.NDArray[np.int64]
    omitted: npt.NDArray[np.int64]
    n_scored: int
    domain_labels: tuple[str, ...]
    by_domain: npt.NDArray[np.int64]
    domain_max: npt.NDArray[np.int64]

    def __post_init__(self) -> None:
        freeze_arrays(self)
        object.__setattr__(self, "domain_labels", tuple(self.domain_labels))
        n_domains = len(self.domain_labels)
        n = self.total.shape[0]
        if self.by_domain.shape != (n, n_domains) or self.domain_max.shape != (n_domains,):
            raise ValueError(
                f"by_domain must have shape {(n, n_domains)} and domain_max shape "
                f"{(n_domains,)}, but got {self.by_domain.shape} and "
                f"{self.domain_max.shape}."
            )

    def proportion(self) -> npt.NDArray[np.float64]:
        """
        Proportion of scored items answered right.

        Returns
        -------
        p : ndarray of float64, shape (n_candidates,)
            ``total / n_scored``.

        Examples
        --------
        >>> from scoring.raw import raw_scores
        >>> raw_scores([[1, 1, 0, -1], [1, 0, 0, 0]]).proportion()
        array([0.5 , 0.25])
        """
        return self.total / float(self.n_scored)

    def domain_proportion(self) -> npt.NDArray[np.float64]:
        """
        Proportion of each domain's scored items answered right.

        Returns
        -------
        p : ndarray of float64, shape (n_candidates, n_domains)
            ``by_domain / domain_max``, column ``d`` for
            ``domain_labels[d]``.

        Examples
        --------
        >>> from scoring.raw import raw_scores
        >>> result = raw_scores([[1, 0, 1, 1], [0, 1, 0, -1]],
        ...                     domains=["alg", "alg", "geo", "geo"])
        >>> result.domain_proportion()
        array([[0.5, 1. ],
               [0.5, 0. ]])
        """
        return self.by_domain / self.domain_max.astype(np.float64)


def _validate_responses(responses: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """Return `responses` as a validated 2-D int8 matrix (1-D is one candidate)."""
    u = np.asarray(responses)
    if u.dtype.kind not in "biufO":
        raise ValueError(
            "responses must contain only 1 (right), 0 (wrong) or -1 (omitted), "
            f"but has non-numeric dtype {u.dtype}."
        )
    promoted = u.ndim == 1
    if promoted:
        u = u.reshape(1, -1)
    if u.ndim != 2:
        raise ValueError(
            "responses must be 2-D (n_candidates, n_items) or 1-D (one candidate), "
            f"but has shape {u.shape}."
        )
    if u.dtype.kind == "O":
        valid = _is_valid_code_ufunc(u).astype(bool)
    else:
        valid = (u == OMITTED) | (u == WRONG) | (u == RIGHT)
    if not valid.all():
        bad = tuple(int(i) for i in np.argwhere(~valid)[0])
        n_bad = int((~valid).sum())
        value = u[bad]
        if isinstance(value, np.generic):
            value = value.item()
        raise ValueError(
            "responses must contain only 1 (right), 0 (wrong) or -1 (omitted), "
            f"but responses{_position(bad, promoted)} is {value!r}"
            + (f" ({n_bad} invalid entries in total)." if n_bad > 1 else ".")
        )
    return u.astype(np.int8)


def raw_scores(
    responses: npt.ArrayLike,
    scored: npt.ArrayLike | None = None,
    domains: Sequence[str] | None = None,
) -> RawScores:
    r"""
    Compute number-right raw scores, overall and per content domain.

    Parameters
    ----------
    responses : array_like, shape (n_candidates, n_items) or (n_items,)
        Scored responses: `RIGHT` (``1``), `WRONG` (``0``) or `OMITTED`
        (``-1``), e.g. the output of `score_choices`. A 1-D input is one
        candidate.
    scored : array_like of bool, shape (n_items,), optional
        ``True`` for items that count towards the scores. Unscored items
        (pretest items, items withdrawn after review) are excluded from
        every result. Must have boolean dtype, so that an array of item
        indices cannot be mistaken for a mask. Default: all items scored.
    domains : sequence of str, length n_items, optional
        Content-domain label of each item. Default: every item belongs to
        a single domain ``"all"``.

    Returns
    -------
    result : RawScores
        Counts of right, wrong and omitted scored items per candidate, the
        number of scored items, and the number right per domain together
        with each domain's number of scored items.

    Raises
    ------
    ValueError
        If `responses` is not 1-D or 2-D or holds a value other than -1, 0
        or 1; if `scored` is not a boolean vector of length n_items or
        selects no item; if `domains` is a ``str``, has a length other than
        n_items or a label that is not a ``str``.

    See Also
    --------
    score_choices : Build `responses` from chosen options and a key.

    Notes
    -----
    With :math:`u_{ij} \in \{1, 0, -1\}` the response of candidate
    :math:`i` to item :math:`j` and :math:`s_j \in \{0, 1\}` the scored
    indicator of item :math:`j`, the number-right (number-correct) score
    is ([1]_, [2]_)

    .. math::

        X_i = \sum_{j=1}^{k} s_j \, \mathbb{1}[u_{ij} = 1],

    and the score on domain :math:`d` restricts the sum to the items
    :math:`j` with domain label :math:`d`. Omitted responses score 0 just
    like wrong ones: this is number-right scoring, without any
    formula-scoring ("correction for guessing") penalty. The numbers of
    wrong and omitted responses are reported separately for information.

    References
    ----------
    .. [1] L. Crocker and J. Algina, *Introduction to Classical and Modern
           Test Theory*, Holt, Rinehart and Winston, New York (1986).
    .. [2] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking: Methods and Practices*, 3rd ed., Springer, New York
           (2014), ch. 1.

    Examples
    --------
    >>> import numpy as np
    >>> from scoring.raw import raw_scores

    Three candidates, five items; the last item is a pretest item.

    >>> responses = np.array([[1, 1, 0, 1, 1],
    ...                       [0, 1, -1, 1, 0],
    ...                       [-1, -1, -1, 0, 1]])
    >>> result = raw_scores(responses,
    ...                     scored=[True, True, True, True, False],
    ...                     domains=["alg", "geo", "alg", "geo", "alg"])
    >>> result.total
    array([3, 2, 0])
    >>> result.wrong
    array([1, 1, 1])
    >>> result.omitted
    array([0, 1, 3])
    >>> result.n_scored
    4
    >>> result.domain_labels
    ('alg', 'geo')
    >>> result.by_domain
    array([[1, 2],
           [0, 2],
           [0, 0]])
    >>> result.domain_max
    array([2, 2])
    >>> result.proportion()
    array([0.75, 0.5 , 0.  ])
    """
    u = _validate_responses(responses)
    n_items = u.shape[1]

    if scored is None:
        mask = np.ones(n_items, dtype=bool)
    else:
        mask = np.asarray(scored)
        if mask.dtype != np.bool_:
            raise ValueError(
                f"scored must be a boolean mask, but has dtype {mask.dtype} "
                f"({scored!r}); use e.g. np.asarray(scored, dtype=bool) for 0/1 flags."
            )
        if mask.shape != (n_items,):
            raise ValueError(
                f"scored must have one entry per item, shape ({n_items},), "
                f"but has shape {mask.shape}."
            )
    n_scored = int(mask.sum())
    if n_scored == 0:
        raise ValueError(
            f"scored must mark at least one item as scored, but all {n_items} items are unscored."
        )

    if domains is None:
        labels: list[str] = ["all"] * n_items
    else:
        if isinstance(domains, str):
            raise ValueError(
                f"domains must be a sequence of labels, one per item, not a str ({domains!r})."
            )
        labels = list(domains)
        if len(labels) != n_items:
            raise ValueError(
                f"domains must have one label per item: responses has {n_items} "
                f"items but domains has length {len(labels)}."
            )
        for j, label in enumerate(labels):
            if not isinstance(label, str):
                raise ValueError(
                    f"domains[{j}] must be a str, but is {label!r} ({type(label).__name__})."
                )

    scored_labels = [label for label, s in zip(labels, mask, strict=True) if s]
    domain_labels = tuple(dict.fromkeys(str(label) for label in scored_labels))
    domain_index = {label: d for d, label in enumerate(domain_labels)}
    # One-hot (n_scored, n_domains) indicator of each scored item's domain.
    membership = np.zeros((n_scored, len(domain_labels)), dtype=np.int64)
    membership[np.arange(n_scored), [domain_index[str(x)] for x in scored_labels]] = 1

    u_scored = u[:, mask]
    right = (u_scored == RIGHT).astype(np.int64)
    return RawScores(
        total=right.sum(axis=1),
        wrong=(u_scored == WRONG).sum(axis=1, dtype=np.int64),
        omitted=(u_scored == OMITTED).sum(axis=1, dtype=np.int64),
        n_scored=n_scored,
        domain_labels=domain_labels,
        by_domain=right @ membership,
        domain_max=membership.sum(axis=0),
    )
