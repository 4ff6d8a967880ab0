"""Infit and outfit mean-square fit statistics for items and persons.

For candidate ``v`` and item ``i`` with expected score ``E_vi = P_i(theta_v)``,
variance ``W_vi = P (1 - P)`` and kurtosis ``C_vi = P (1 - P)^4 + (1 - P) P^4``
(Wright & Masters 1982, eqs. 5.4.1-5.4.3), the standardised residual is
``z_vi = (x_vi - E_vi) / sqrt(W_vi)`` and, summing over the responses of an item
(or of a candidate), with ``n`` the number of responses:

* outfit (unweighted) mean square ``u = sum z^2 / n``, with variance
  ``q_u^2 = sum (C / W^2) / n^2 - 1 / n`` (eqs. 5.4.4-5.4.6);
* infit (information-weighted) mean square ``v = sum W z^2 / sum W``, with
  variance ``q_v^2 = sum (C - W^2) / (sum W)^2`` (eqs. 5.4.7-5.4.9);
* each standardised by the Wilson-Hilferty cube-root transformation
  ``t = (ms^(1/3) - 1) (3 / q) + q / 3`` (eq. 5.4.10), approximately N(0, 1) when
  the data fit.

Both mean squares have expectation 1; values above 1 signal noise (unexpected
responses), values below 1 overfit (too Guttman-like). Not-answered responses
(-1) are left out.

References
----------
Wright, B. D. & Masters, G. N. (1982). *Rating Scale Analysis*. MESA Press, ch. 5.

Wright, B. D. & Stone, M. H. (1979). *Best Test Design*. MESA Press.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scoring.irt._data import FloatArray, freeze, validate_responses
from scoring.irt.model import ItemParameters, probability

__all__ = ["FitStatistics", "fit_statistics"]


@dataclass(frozen=True, eq=False)
class FitStatistics:
    """Result of `fit_statistics`.

    Attributes
    ----------
    item_infit, item_outfit : ndarray, shape (n_items,)
        Infit and outfit mean squares of each item.
    item_infit_t, item_outfit_t : ndarray, shape (n_items,)
        Their standardised (Wilson-Hilferty) values.
    item_n : ndarray of int, shape (n_items,)
        Responses that entered each item's statistics.
    person_infit, person_outfit, person_infit_t, person_outfit_t : ndarray, shape (n_candidates,)
        The same statistics for each candidate, over the items they answered.

    Notes
    -----
    Instances compare by identity (``eq=False``).
    """

    item_infit: FloatArray
    item_outfit: FloatArray
    item_infit_t: FloatArray
    item_outfit_t: FloatArray
    item_n: npt.NDArray[np.int64]
    person_infit: FloatArray
    person_outfit: FloatArray
    person_infit_t: FloatArray
    person_outfit_t: FloatArray

    def __post_init__(self) -> None:
        freeze(self)


def _standardise(ms: FloatArray, q2: FloatArray) -> FloatArray:
    q = np.sqrt(np.maximum(q2, 1e-12))
    return (np.cbrt(ms) - 1.0) * (3.0 / q) + q / 3.0


def _statistics(
    resid2: FloatArray, w: FloatArray, c: FloatArray, mask: FloatArray, axis: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    n = mask.sum(axis=axis)
    sum_w = (mask * w).sum(axis=axis)
    outfit = (mask * resid2 / w).sum(axis=axis) / n
    infit = (mask * resid2).sum(axis=axis) / sum_w
    q2_out = (mask * c / w**2).sum(axis=axis) / n**2 - 1.0 / n
    q2_in = (mask * (c - w**2)).sum(axis=axis) / sum_w**2
    return infit, outfit, _standardise(infit, q2_in), _standardise(outfit, q2_out)


def fit_statistics(
    responses: npt.ArrayLike,
    items: ItemParameters,
    theta: npt.ArrayLike,
    *,
    exclude_extreme: bool = True,
) -> FitStatistics:
    """Infit and outfit mean squares and their t statistics (Wright & Masters 1982).

    Parameters
    ----------
    responses : array_like, shape (n_candidates, n_items)
        1 right, 0 wrong, -1 not answered (left out).
    items : ItemParameters
        Item parameters (any 3PL special case; Rasch in the classical use).
    theta : array_like, shape (n_candidates,)
        Finite ability estimates, e.g. ``estimate_abilities(...).theta`` (WLE is
        customary for fit analysis).
    exclude_extreme : bool
        Leave candidates with a zero or perfect score on their answered items out
        of the *item* statistics (their residuals carry no information about misfit,
        as in Winsteps). Their own person statistics are still reported.

    Returns
    -------
    FitStatistics

    Raises
    ------
    ValueError
        Invalid codes or NaN; ``theta`` of the wrong length or not finite; a
        number of items different from `items`; candidates who answered no item
        (named); items with no usable response (named).

    Notes
    -----
    See the module docstring for the formulas (Wright & Masters 1982, sec. 5.4).

    References
    ----------
    Wright & Masters (1982), ch. 5.

    Examples
    --------
    >>> items = ItemParameters.create(b=[0.0, 0.0])
    >>> fit = fit_statistics([[1, 0], [0, 1]], items, [0.0, 0.0])
    >>> fit.item_outfit.tolist(), fit.person_infit.tolist()
    ([1.0, 1.0], [1.0, 1.0])
    """
    if not isinstance(items, ItemParameters):
        raise ValueError(f"items must be ItemParameters, got {type(items).__name__}")
    data = validate_responses(responses, min_items=1)
    if data.n_items != items.n_items:
        raise ValueError(
            f"responses has {data.n_items} items (columns) but items has {items.n_items}"
        )
    t = np.asarray(theta, dtype=float)
    if t.shape != (data.n_candidates,):
        raise ValueError(
            f"theta must have one value per candidate, shape ({data.n_candidates},), "
            f"got {t.shape}"
        )
    if not np.all(np.isfinite(t)):
        raise ValueError("theta must be finite (use WLE or EAP for zero and perfect scores)")
    answered = data.n_answered()
    if np.any(answered == 0):
        rows = np.flatnonzero(answered == 0)
        raise ValueError(
            f"responses: candidates {rows[:10].tolist()} ({rows.size} in total, 0-based "
            "rows) answered no item; remove them before computing fit statistics."
        )
    p = probability(t, items)
    w = np.maximum(p * (1.0 - p), 1e-300)
    c = p * (1.0 - p) ** 4 + (1.0 - p) * p**4
    resid2 = (data.right - p) ** 2
    mask = data.observed.astype(np.float64)
    p_infit, p_outfit, p_infit_t, p_outfit_t = _statistics(resid2, w, c, mask, axis=1)
    item_mask = mask
    if exclude_extreme:
        scores = data.scores()
        keep = (scores > 0) & (scores < answered)
        item_mask = mask * keep[:, None]
    item_n = item_mask.sum(axis=0).astype(np.int64)
    if np.any(item_n == 0):
        bad = np.flatnonzero(item_n == 0)
        raise ValueError(
            f"responses: items {bad[:10].tolist()} ({bad.size} in total, 0-based) have no "
            "responses from candidates without a zero or perfect score; their fit is undefined."
        )
    i_infit, i_outfit, i_infit_t, i_outfit_t = _statistics(resid2, w, c, item_mask, axis=0)
    return FitStatistics(
        item_infit=i_infit,
        item_outfit=i_outfit,
        item_infit_t=i_infit_t,
        item_outfit_t=i_outfit_t,
        item_n=item_n,
        person_infit=p_infit,
        person_outfit=p_outfit,
        person_infit_t=p_infit_t,
        person_outfit_t=p_outfit_t,
    )
