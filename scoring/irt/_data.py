"""Private helpers shared by the IRT estimators: input validation and row grouping.

A response matrix has shape ``(n_candidates, n_items)`` and holds 1 (right),
0 (wrong) or -1 (not answered). Every estimator in `scoring.irt` treats -1 as
*missing*: the item is left out of that candidate's likelihood, exactly as if
it had not been presented (an ignorable missing-data mechanism), rather than
scored wrong. Score a matrix with `scoring.raw.score_choices` and replace -1 by
0 first if omitted answers should count as wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from scoring._frozen import freeze_arrays

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def freeze(instance: Any) -> None:
    """Replace every ndarray field of a frozen dataclass by a read-only copy."""
    freeze_arrays(instance)


def _index_list(indices: npt.ArrayLike, limit: int = 10) -> str:
    idx = [int(i) for i in np.asarray(indices).ravel()]
    shown = ", ".join(str(i) for i in idx[:limit])
    return f"[{shown}{', ...' if len(idx) > limit else ''}] ({len(idx)} in total)"


@dataclass(frozen=True)
class Responses:
    """A validated response matrix.

    Attributes
    ----------
    right : ndarray of float, shape (n_candidates, n_items)
        1.0 where answered right, 0.0 otherwise (wrong or not answered).
    observed : ndarray of bool, shape (n_candidates, n_items)
        True where the item was answered (1 or 0).
    """

    right: FloatArray
    observed: BoolArray

    @property
    def n_candidates(self) -> int:
        return int(self.right.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.right.shape[1])

    @property
    def complete(self) -> bool:
        """True when every candidate answered every item."""
        return bool(self.observed.all())

    def scores(self) -> IntArray:
        """Number right of each candidate on the items they answered."""
        return self.right.sum(axis=1).round().astype(np.int64)

    def n_answered(self) -> IntArray:
        """Number of items each candidate answered."""
        return self.observed.sum(axis=1).astype(np.int64)


def validate_responses(
    responses: npt.ArrayLike,
    *,
    name: str = "responses",
    allow_1d: bool = False,
    min_items: int = 1,
) -> Responses:
    """Check a response matrix and split it into right/observed indicators.

    Raises
    ------
    ValueError
        Non-numeric values, NaN, values other than -1, 0 and 1, a wrong number
        of dimensions, no candidates, or fewer than `min_items` items.
    """
    array = np.asarray(responses)
    if array.dtype.kind == "O":
        try:
            array = array.astype(float)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must contain only 1 (right), 0 (wrong) or -1 (not answered), "
                "but has non-numeric entries."
            ) from None
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} must contain only 1 (right), 0 (wrong) or -1 (not answered), "
            f"but has non-numeric dtype {array.dtype}."
        )
    if array.ndim == 1 and allow_1d:
        array = array.reshape(1, -1)
    if array.ndim != 2:
        expected = "2-D (n_candidates, n_items)" + (" or 1-D" if allow_1d else "")
        raise ValueError(f"{name} must be {expected}, but has shape {array.shape}.")
    n_candidates, n_items = array.shape
    if n_candidates == 0:
        raise ValueError(f"{name} has no candidates (shape {array.shape}).")
    if n_items < min_items:
        raise ValueError(
            f"{name} must have at least {min_items} item(s), but has {n_items} "
            f"(shape {array.shape})."
        )
    if array.dtype.kind == "f":
        nan = np.isnan(array)
        if nan.any():
            first = tuple(int(i) for i in np.argwhere(nan)[0])
            raise ValueError(
                f"{name} contains NaN ({int(nan.sum())} entries, first at {list(first)}); "
                "code unanswered items as -1."
            )
    valid = (array == 1) | (array == 0) | (array == -1)
    if not valid.all():
        first = tuple(int(i) for i in np.argwhere(~valid)[0])
        value = array[first].item()
        raise ValueError(
            f"{name} must contain only 1 (right), 0 (wrong) or -1 (not answered), but "
            f"{name}{list(first)} is {value!r} ({int((~valid).sum())} invalid entries)."
        )
    observed = array != -1
    right = (array == 1).astype(np.float64)
    return Responses(right=right, observed=observed)


def check_item_variance(data: Responses, rows: BoolArray | None = None, *, what: str = "") -> None:
    """Raise ValueError naming the items whose responses have no variance.

    Parameters
    ----------
    data : Responses
        Validated responses.
    rows : ndarray of bool, optional
        Candidates to consider (default all).
    what : str
        Description of the subset for the message.
    """
    right = data.right if rows is None else data.right[rows]
    observed = data.observed if rows is None else data.observed[rows]
    n_obs = observed.sum(axis=0)
    n_right = right.sum(axis=0)
    problems = []
    none = np.flatnonzero(n_obs == 0)
    if none.size:
        problems.append(f"items {_index_list(none)} have no answered responses{what}")
    all_right = np.flatnonzero((n_obs > 0) & (n_right == n_obs))
    if all_right.size:
        problems.append(f"items {_index_list(all_right)} were answered right by everyone{what}")
    all_wrong = np.flatnonzero((n_obs > 0) & (n_right == 0))
    if all_wrong.size:
        problems.append(f"items {_index_list(all_wrong)} were answered wrong by everyone{what}")
    if problems:
        raise ValueError(
            "responses: "
            + "; ".join(problems)
            + ". Such items have no finite estimate (zero variance; item indices are "
            "0-based); remove them before estimation."
        )


@dataclass(frozen=True)
class Groups:
    """Candidates grouped by identical rows of a key.

    Attributes
    ----------
    counts : ndarray of float, shape (n_groups,)
        Number of candidates in each group.
    mean_right : ndarray of float, shape (n_groups, n_items)
        Mean of the right indicator over the group's candidates.
    observed : ndarray of float, shape (n_groups, n_items)
        1.0 where the group's candidates answered the item (identical within a group).
    inverse : ndarray of int, shape (n_candidates,)
        Group of each candidate.
    """

    counts: FloatArray
    mean_right: FloatArray
    observed: FloatArray
    inverse: IntArray

    @property
    def n_groups(self) -> int:
        return int(self.counts.shape[0])

    def scores(self) -> FloatArray:
        """Number right of each group (exact for score-based groups)."""
        return (self.mean_right * self.observed).sum(axis=1)


def group_candidates(data: Responses, *, by_score: bool) -> Groups:
    """Group candidates by (answered items, score) or by the full response pattern.

    Grouping by score is exact for Rasch-family likelihoods, where a
    candidate's score on the answered items is a sufficient statistic for
    ability; grouping by pattern is exact for every model. No loop over
    candidates: rows are packed into bytes and sorted once.
    """
    observed_bits = np.packbits(data.observed, axis=1)
    if by_score:
        score = data.scores().astype("<u4").view(np.uint8).reshape(-1, 4)
        key = np.concatenate([observed_bits, score], axis=1)
    else:
        key = np.concatenate([observed_bits, np.packbits(data.right > 0, axis=1)], axis=1)
    key = np.ascontiguousarray(key)
    void = key.view(np.dtype((np.void, key.shape[1]))).ravel()
    _, first, inverse, counts = np.unique(
        void, return_index=True, return_inverse=True, return_counts=True
    )
    inverse = inverse.ravel().astype(np.int64)
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    sums = np.add.reduceat(data.right[order], starts, axis=0)
    counts_f = counts.astype(np.float64)
    return Groups(
        counts=counts_f,
        mean_right=sums / counts_f[:, None],
        observed=data.observed[first].astype(np.float64),
        inverse=inverse,
    )
