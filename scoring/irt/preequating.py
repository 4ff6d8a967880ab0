"""Pre-equating: score a new form from banked item parameters before anyone sits it.

When every item of a new form has been calibrated onto the item bank's scale
(for example Rasch difficulties from earlier administrations, linked with
`link`), the form's raw-to-ability conversion, its true-score equating to the
base form and its raw passing score follow from the item parameters alone
(Kolen & Brennan 2014, sec. 6.8; Wright & Stone 1979, ch. 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from scoring.irt.equating import (
    _resolve_D,
    irt_true_score_equating,
    theta_for_true_score,
)
from scoring.irt.linking import DEFAULT_D, as_item_parameters
from scoring.irt.model import information, test_characteristic

__all__ = ["PreEquating", "pre_equate"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# A true score this close above an integer still counts as reaching it (root-finding noise).
_CUT_TOLERANCE = 1e-8


@dataclass(frozen=True)
class PreEquating:
    """Conversion tables of a new form computed from banked item parameters.

    Attributes
    ----------
    scores : ndarray of int
        Number-right scores ``x = 0..K`` on the new form.
    theta : ndarray
        Ability on the bank scale for each raw score (finite at both ends, see
        `pre_equate`); non-decreasing, strictly increasing above the chance level.
    se : ndarray
        Standard error ``1 / sqrt(I(theta))`` of each ``theta`` (test information).
    equated : ndarray or None
        Base-form true-score equivalents of each raw score (`irt_true_score_equating`);
        None without a base form.
    theta_cut : float or None
        The passing ability on the bank scale (given, or implied by ``base_raw_cut``;
        ``inf`` when the base cut is the base form's maximum).
    true_score_cut : float or None
        The new form's true score at ``theta_cut``.
    raw_cut : int or None
        The smallest raw score on the new form whose true score reaches the cut:
        ``ceil(true_score_cut)``.
    """

    scores: IntArray
    theta: FloatArray
    se: FloatArray
    equated: FloatArray | None
    theta_cut: float | None
    true_score_cut: float | None
    raw_cut: int | None


def pre_equate(
    new_form: Any,
    base_form: Any = None,
    *,
    theta_cut: float | None = None,
    base_raw_cut: float | None = None,
    extreme: float = 0.3,
    D: float | None = None,
) -> PreEquating:
    """Raw-to-theta table, equating to the base form and raw cut of a new form.

    Parameters
    ----------
    new_form : ItemParameters or any layout accepted by `as_item_parameters`
        Banked parameters of all items on the new form, on the bank scale.
    base_form : optional
        Banked parameters of the base (reference) form, on the same scale.
    theta_cut : float, optional
        The passing standard as an ability on the bank scale.
    base_raw_cut : float, optional
        The passing standard as a raw score on the base form (needs ``base_form``;
        must lie above ``sum(c)`` of the base form). Exclusive with ``theta_cut``.
    extreme : float
        Extreme-score adjustment: the scores 0 and ``K`` (and, for 3PL items, every
        score below ``sum(c) + extreme``) are converted as if they were
        ``sum(c) + extreme`` and ``K - extreme``. Must be in (0, (K - sum c) / 2).
    D : float, optional
        Scaling constant; ``None`` uses the one the inputs carry, else 1.7. Rasch
        banks use ``D = 1``.

    Returns
    -------
    PreEquating

    Raises
    ------
    ValueError
        Invalid parameters, both or misplaced cuts, ``extreme`` out of range, a base
        cut outside ``(sum(c), K]`` of the base form.

    Notes
    -----
    The raw-to-theta conversion inverts the new form's test characteristic curve,
    ``theta(x) = tau^{-1}(x)`` with ``tau(theta) = sum_j P_j(theta)`` (Lord 1980,
    eq. 4-3); for the Rasch model this is the maximum-likelihood ability of the
    raw score, because the raw score is sufficient (Wright & Stone 1979). No
    finite ability has a true score of 0 or ``K`` (or, for 3PL items, at or below
    ``sum(c)``), so scores are first clipped to ``[sum(c) + extreme,
    K - extreme]``, the extreme-score correction of Winsteps (Linacre; default
    0.3). ``se`` is ``1 / sqrt(sum_j I_j(theta))`` (Lord 1980, eq. 5-9).

    With a base cut ``y_c`` the ability cut is ``theta_c = tau_base^{-1}(y_c)``
    (``+inf`` when ``y_c`` is the base maximum); the new form's raw cut is the
    smallest integer ``x >= tau_new(theta_c)``, which is the smallest raw score
    whose IRT true-score equivalent on the base form reaches ``y_c``.

    References
    ----------
    Kolen, M. J. & Brennan, R. L. (2014). *Test Equating, Scaling, and Linking*
    (3rd ed.), sec. 6.8 (equating with item pools). Springer.
    Lord, F. M. (1980). *Applications of Item Response Theory to Practical
    Testing Problems*. Erlbaum.
    Wright, B. D. & Stone, M. H. (1979). *Best Test Design*, ch. 5. MESA Press.
    Linacre, J. M. *Winsteps Rasch measurement computer program user's guide*,
    EXTRSCORE (extreme score correction).

    Examples
    --------
    A new Rasch form identical to the base form keeps the base cut and equates
    to the identity; a harder one (every item 1 logit harder) needs fewer right
    answers:

    >>> base = {"b": [-1.0, -0.5, 0.0, 0.5, 1.0]}
    >>> same = pre_equate(base, base, base_raw_cut=3, D=1.0)
    >>> same.raw_cut, same.equated.round(6).tolist()
    (3, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    >>> harder = {"b": [0.0, 0.5, 1.0, 1.5, 2.0]}
    >>> res = pre_equate(harder, base, base_raw_cut=3, D=1.0)
    >>> res.raw_cut, round(res.true_score_cut, 4)
    (2, 1.9031)
    >>> res.theta.round(3).tolist()
    [-1.962, -0.532, 0.545, 1.455, 2.532, 3.962]
    """
    D_used = _resolve_D(D, new_form, base_form)
    D_used = DEFAULT_D if D_used is None else D_used
    new_items = as_item_parameters(new_form, D=D_used, name="new_form")
    base_items = (
        None if base_form is None else as_item_parameters(base_form, D=D_used, name="base_form")
    )
    k = new_items.n_items
    sum_c = float(new_items.c.sum())
    try:
        delta = float(extreme)
    except (TypeError, ValueError):
        raise ValueError(f"extreme must be a number, got {extreme!r}") from None
    if not (0.0 < delta < (k - sum_c) / 2.0):
        raise ValueError(
            f"extreme must be in (0, (K - sum(c)) / 2) = (0, {(k - sum_c) / 2.0:.6g}), "
            f"got {extreme!r}"
        )
    if theta_cut is not None and base_raw_cut is not None:
        raise ValueError("give either theta_cut or base_raw_cut, not both")

    scores = np.arange(k + 1, dtype=np.int64)
    targets = np.clip(scores.astype(float), sum_c + delta, k - delta)
    theta = theta_for_true_score(new_items, targets)
    with np.errstate(divide="ignore"):
        se = 1.0 / np.sqrt(information(theta, new_items).sum(axis=1))

    equated = None
    if base_items is not None:
        equated = irt_true_score_equating(new_items, base_items).equated

    cut: float | None = None
    if base_raw_cut is not None:
        if base_items is None:
            raise ValueError("base_raw_cut needs base_form")
        try:
            y_cut = float(base_raw_cut)
        except (TypeError, ValueError):
            raise ValueError(f"base_raw_cut must be a number, got {base_raw_cut!r}") from None
        base_low = float(base_items.c.sum())
        if not (np.isfinite(y_cut) and base_low < y_cut <= base_items.n_items):
            raise ValueError(
                f"base_raw_cut must lie in (sum(c), K] = ({base_low:.6g}, "
                f"{base_items.n_items}] of the base form, got {base_raw_cut!r}"
            )
        if y_cut == base_items.n_items:
            cut = float("inf")
        else:
            cut = float(theta_for_true_score(base_items, [y_cut])[0])
    elif theta_cut is not None:
        try:
            cut = float(theta_cut)
        except (TypeError, ValueError):
            raise ValueError(f"theta_cut must be a number, got {theta_cut!r}") from None
        if not np.isfinite(cut):
            raise ValueError(f"theta_cut must be finite, got {theta_cut!r}")

    true_cut: float | None = None
    raw_cut: int | None = None
    if cut is not None:
        true_cut = float(k) if np.isinf(cut) else float(test_characteristic([cut], new_items)[0])
        raw_cut = int(min(k, np.ceil(true_cut - _CUT_TOLERANCE)))

    return PreEquating(
        scores=scores,
        theta=theta,
        se=se,
        equated=equated,
        theta_cut=cut,
        true_score_cut=true_cut,
        raw_cut=raw_cut,
    )
