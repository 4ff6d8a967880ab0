"""IRT true-score and observed-score equating of number-right scores.

Both methods take the item parameters of form X (new) and form Y (old) on one
ability scale - either already linked, or with a `ScaleLinking` that places form
X on form Y's scale - and return form-Y equivalents of every number-right score
``x = 0..K_X`` on form X.

* True-score equating (Lord 1980, ch. 13; Kolen & Brennan 2014, sec. 6.6): the
  true score ``x`` on X and ``tau_Y(theta)`` on Y are equivalent when they
  correspond to the same ``theta``.
* Observed-score equating (Lord & Wingersky 1984; K&B sec. 6.7): the IRT model
  gives each form's number-right score distribution in a (synthetic)
  population, and the two distributions are equated equipercentile-wise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq

from scoring.irt.linking import DEFAULT_D, _carried_D, _check_D, as_item_parameters
from scoring.irt.model import (
    ItemParameters,
    normal_quadrature,
    probability,
    score_distribution,
    test_characteristic,
)

__all__ = [
    "IRTObservedScoreEquating",
    "IRTTrueScoreEquating",
    "irt_observed_score_equating",
    "irt_true_score_equating",
    "theta_for_true_score",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _resolve_D(D: float | None, *objs: Any) -> float | None:
    """The D to use: the explicit one, else the one the inputs agree on, else None."""
    if D is not None:
        return _check_D(D)
    carried = {value for value in (_carried_D(obj) for obj in objs) if value is not None}
    if len(carried) > 1:
        raise ValueError(
            f"the forms carry different scaling constants D {sorted(carried)}; pass D explicitly"
        )
    return carried.pop() if carried else None


def _forms(
    form_x: Any, form_y: Any, D: float | None, linking: Any
) -> tuple[ItemParameters, ItemParameters]:
    D_used = _resolve_D(D, form_x, form_y)
    D_used = DEFAULT_D if D_used is None else D_used
    x_items = as_item_parameters(form_x, D=D_used, name="form_x")
    y_items = as_item_parameters(form_y, D=D_used, name="form_y")
    if linking is not None:
        A, B = _linking_constants(linking)
        x_items = ItemParameters.create(
            b=A * x_items.b + B, a=x_items.a / A, c=x_items.c, D=x_items.D
        )
    return x_items, y_items


def _linking_constants(linking: Any) -> tuple[float, float]:
    try:
        A, B = float(linking.A), float(linking.B)
    except (AttributeError, TypeError, ValueError):
        raise ValueError(
            f"linking must have numeric attributes A and B, got {type(linking).__name__}"
        ) from None
    if not (np.isfinite(A) and A > 0 and np.isfinite(B)):
        raise ValueError(f"linking must have A > 0 and finite B, got A={A!r}, B={B!r}")
    return A, B


def theta_for_true_score(
    items: Any, true_scores: npt.ArrayLike, *, D: float | None = None
) -> FloatArray:
    """Abilities at which the test characteristic curve equals given true scores.

    Parameters
    ----------
    items : ItemParameters or any layout accepted by `as_item_parameters`
        The form's item parameters.
    true_scores : array_like
        Targets strictly between ``sum(c)`` and the number of items.
    D : float, optional
        Scaling constant (``None``: the one ``items`` carries, else 1.7).

    Returns
    -------
    ndarray
        ``theta`` with ``sum_j P_j(theta) = tau`` for each target ``tau``.

    Raises
    ------
    ValueError
        A target outside the open interval ``(sum(c), n_items)``, where no finite
        ``theta`` exists.

    Notes
    -----
    The test characteristic curve ``tau(theta) = sum_j P_j(theta)`` (Lord 1980,
    eq. 4-3) increases strictly from ``sum(c)`` to ``n_items``; each root is
    bracketed and found by Brent's method to ``1e-13`` in ``theta``. For the Rasch
    model the root is the maximum-likelihood ability of the raw score ``tau``.

    Examples
    --------
    >>> theta_for_true_score({"b": [0.0, 1.0]}, [1.0], D=1.0).round(12).tolist()
    [0.5]
    """
    params = as_item_parameters(items, D=D, name="items")
    targets = np.asarray(true_scores, dtype=float)
    if targets.ndim == 0:
        targets = targets.reshape(1)
    if targets.ndim != 1:
        raise ValueError(f"true_scores must be one-dimensional, got shape {targets.shape}")
    low, high = float(params.c.sum()), float(params.n_items)
    if not np.all(np.isfinite(targets)) or np.any((targets <= low) | (targets >= high)):
        raise ValueError(
            f"true_scores must lie strictly between sum(c) = {low:.6g} and the number of "
            f"items {params.n_items}; got {targets!r}"
        )

    def tcc(t: float) -> float:
        return float(test_characteristic([t], params)[0])

    out = np.empty(targets.shape[0])
    for k, target in enumerate(targets):  # a loop over score points
        lo, hi = -8.0, 8.0
        while tcc(lo) >= target:
            lo *= 2.0
        while tcc(hi) <= target:
            hi *= 2.0
        out[k] = brentq(lambda t, s=target: tcc(t) - s, lo, hi, xtol=1e-13, maxiter=500)
    return out


@dataclass(frozen=True)
class IRTTrueScoreEquating:
    """IRT true-score equating of form X to form Y.

    Attributes
    ----------
    scores : ndarray of int
        Number-right scores ``x = 0..K_X`` on form X.
    theta : ndarray
        ``theta_x`` with ``tau_X(theta_x) = x``; ``-inf`` for ``x <= sum(c_X)`` (no
        ability gives such a true score) and ``+inf`` for ``x = K_X``.
    equated : ndarray
        Form-Y equivalents ``e_Y(x)``.
    """

    scores: IntArray
    theta: FloatArray
    equated: FloatArray


def irt_true_score_equating(
    form_x: Any,
    form_y: Any,
    *,
    D: float | None = None,
    linking: Any = None,
) -> IRTTrueScoreEquating:
    """IRT true-score equating of number-right scores on form X to form Y.

    Parameters
    ----------
    form_x, form_y : ItemParameters or any layout accepted by `as_item_parameters`
        All items of each form, on one ability scale (or see ``linking``).
    D : float, optional
        Scaling constant; ``None`` uses the one the inputs carry (they must agree),
        else 1.7.
    linking : ScaleLinking, optional
        Constants ``A, B`` placing form X on form Y's scale (from `link`); form X's
        parameters are transformed before equating.

    Returns
    -------
    IRTTrueScoreEquating

    Notes
    -----
    For each integer ``sum(c_X) < x < K_X``, ``theta_x`` solves
    ``tau_X(theta_x) = sum_j P_j(theta_x) = x`` and ``e_Y(x) = tau_Y(theta_x)``
    (K&B sec. 6.6). Below the sum of the pseudo-chance parameters no
    ``theta`` exists; Kolen's convention (K&B sec. 6.6, as in the PIE and
    POLYEQUATE programs) interpolates linearly between ``(0, 0)`` and
    ``(sum c_X, sum c_Y)``: ``e_Y(x) = x sum(c_Y) / sum(c_X)``. The maximum
    ``K_X`` maps to ``K_Y``.

    References
    ----------
    Lord, F. M. (1980). *Applications of Item Response Theory to Practical
    Testing Problems*, ch. 13. Erlbaum.
    Kolen, M. J. & Brennan, R. L. (2014). *Test Equating, Scaling, and Linking*
    (3rd ed.), sec. 6.6. Springer.

    Examples
    --------
    A form equated to itself gives the identity, with infinite ``theta`` at the
    ends of the score range:

    >>> res = irt_true_score_equating({"b": [-0.5, 0.5]}, {"b": [-0.5, 0.5]}, D=1.0)
    >>> res.equated.round(10).tolist(), res.theta[[0, 2]].tolist()
    ([0.0, 1.0, 2.0], [-inf, inf])
    """
    x_items, y_items = _forms(form_x, form_y, D, linking)
    k_x = x_items.n_items
    scores = np.arange(k_x + 1, dtype=np.int64)
    sum_cx, sum_cy = float(x_items.c.sum()), float(y_items.c.sum())
    theta = np.full(k_x + 1, -np.inf)
    theta[-1] = np.inf
    equated = np.empty(k_x + 1)
    inner = (scores > sum_cx) & (scores < k_x)
    if np.any(inner):
        theta[inner] = theta_for_true_score(x_items, scores[inner].astype(float))
        equated[inner] = test_characteristic(theta[inner], y_items)
    low = scores <= sum_cx
    # Kolen's convention below the chance level (K&B sec. 6.6, PIE/POLYEQUATE).
    equated[low] = 0.0 if sum_cx == 0 else scores[low] * (sum_cy / sum_cx)
    equated[-1] = float(y_items.n_items)
    return IRTTrueScoreEquating(scores=scores, theta=theta, equated=equated)


@dataclass(frozen=True)
class IRTObservedScoreEquating:
    """IRT observed-score equating of form X to form Y.

    Attributes
    ----------
    scores : ndarray of int
        Number-right scores ``x = 0..K_X`` on form X.
    equated : ndarray
        Equipercentile form-Y equivalents ``e_Y(x)``.
    fx, fy : ndarray
        Model-implied relative frequencies of X (length ``K_X + 1``) and Y
        (length ``K_Y + 1``) in the synthetic population.
    """

    scores: IntArray
    equated: FloatArray
    fx: FloatArray
    fy: FloatArray


def _population(
    theta: npt.ArrayLike | None, weights: npt.ArrayLike | None, n_points: int, suffix: str
) -> tuple[FloatArray, FloatArray]:
    if theta is None:
        if weights is not None:
            raise ValueError(f"weights{suffix} given without theta{suffix}")
        return normal_quadrature(n_points)
    nodes = np.asarray(theta, dtype=float)
    if nodes.ndim != 1 or nodes.shape[0] < 1 or not np.all(np.isfinite(nodes)):
        raise ValueError(f"theta{suffix} must be a non-empty one-dimensional finite array")
    if weights is None:
        raise ValueError(f"weights{suffix} are required with theta{suffix}")
    w = np.asarray(weights, dtype=float)
    if w.shape != nodes.shape:
        raise ValueError(
            f"weights{suffix} must have the same shape as theta{suffix}, "
            f"got {w.shape} and {nodes.shape}"
        )
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"weights{suffix} must be finite, non-negative and not all zero")
    return nodes, w / w.sum()


def _marginal(items: ItemParameters, nodes: FloatArray, w: FloatArray) -> FloatArray:
    """Number-right score distribution integrated over an ability distribution."""
    return w @ score_distribution(probability(nodes, items))


def _equipercentile(fx: FloatArray, fy: FloatArray) -> FloatArray:
    """Equipercentile equivalents of x = 0..K_X (Kolen & Brennan 2014, eqs. 2.14-2.18).

    ``P(x) = F(x - 1) + f(x) / 2`` (as a proportion); ``y_U`` is the smallest score
    with ``F_Y(y_U) > P``; ``e_Y(x) = (P - F_Y(y_U - 1)) / f_Y(y_U) + y_U - 0.5``.
    ``P = 1`` (impossible for a distribution with ``f(K_X) > 0``) gives ``K_Y + 0.5``.
    """
    fx = fx / fx.sum()
    fy = fy / fy.sum()
    cum_x = np.cumsum(fx)
    pr = cum_x - fx / 2.0
    cum_y = np.cumsum(fy)
    cum_y[-1] = 1.0
    # Differences of the cumulative distribution: positive wherever y_U can land,
    # even if a tail probability underflowed to zero.
    step = np.diff(cum_y, prepend=0.0)
    k_y = fy.shape[0] - 1
    y_upper = np.searchsorted(cum_y, pr, side="right")
    out = np.full(pr.shape, k_y + 0.5)
    ok = y_upper <= k_y
    yu = y_upper[ok]
    below = np.where(yu > 0, cum_y[np.maximum(yu - 1, 0)], 0.0)
    out[ok] = (pr[ok] - below) / step[yu] + yu - 0.5
    return out


def irt_observed_score_equating(
    form_x: Any,
    form_y: Any,
    *,
    theta: npt.ArrayLike | None = None,
    weights: npt.ArrayLike | None = None,
    theta2: npt.ArrayLike | None = None,
    weights2: npt.ArrayLike | None = None,
    w1: float = 0.5,
    n_points: int = 41,
    D: float | None = None,
    linking: Any = None,
) -> IRTObservedScoreEquating:
    """IRT observed-score equating of number-right scores on form X to form Y.

    Parameters
    ----------
    form_x, form_y : ItemParameters or any layout accepted by `as_item_parameters`
        All items of each form, on one ability scale (or see ``linking``).
    theta, weights : array_like, optional
        Quadrature points and weights of the ability distribution of population 1
        (the group that took form X). Default: ``n_points`` Gauss-Hermite points
        of N(0, 1).
    theta2, weights2 : array_like, optional
        The same for population 2 (the group that took form Y), on form Y's scale.
        Without them the synthetic population is population 1 alone.
    w1 : float
        Weight of population 1 in the synthetic population (K&B sec. 6.7), used
        only when population 2 is given.
    n_points : int
        Number of Gauss-Hermite points for a default N(0, 1) population.
    D : float, optional
        Scaling constant; ``None`` uses the one the inputs carry, else 1.7.
    linking : ScaleLinking, optional
        Constants placing form X (and population 1's ``theta``) on form Y's scale:
        item parameters are transformed and ``theta`` becomes ``A theta + B``.

    Returns
    -------
    IRTObservedScoreEquating

    Notes
    -----
    For each population the number-right distribution of a form given ``theta``
    comes from the Lord-Wingersky recursion and is integrated over the
    quadrature distribution, ``f(x) = sum_q w_q P(X = x | theta_q)``; the
    synthetic distributions are ``f_s(x) = w1 f_1(x) + (1 - w1) f_2(x)`` (K&B
    sec. 6.7), and form X is equated to form Y equipercentile-wise with K&B's
    eqs. 2.14-2.18.

    References
    ----------
    Lord, F. M. & Wingersky, M. S. (1984). Comparison of IRT true-score and
    equipercentile observed-score "equatings". *Applied Psychological
    Measurement*, 8, 453-461.
    Kolen, M. J. & Brennan, R. L. (2014). *Test Equating, Scaling, and Linking*
    (3rd ed.), sec. 6.7. Springer.

    Examples
    --------
    >>> form = ([1.0, 1.2, 0.8], [-1.0, 0.0, 1.0], [0.2, 0.2, 0.2])
    >>> res = irt_observed_score_equating(form, form)
    >>> res.equated.round(8).tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    if isinstance(n_points, bool) or not isinstance(n_points, int | np.integer) or n_points < 2:
        raise ValueError(f"n_points must be an integer >= 2, got {n_points!r}")
    x_items, y_items = _forms(form_x, form_y, D, None)
    nodes1, wts1 = _population(theta, weights, int(n_points), "")
    if linking is not None:
        A, B = _linking_constants(linking)
        x_items = ItemParameters.create(
            b=A * x_items.b + B, a=x_items.a / A, c=x_items.c, D=x_items.D
        )
        nodes1 = A * nodes1 + B
    fx = _marginal(x_items, nodes1, wts1)
    fy = _marginal(y_items, nodes1, wts1)
    if theta2 is not None or weights2 is not None:
        try:
            w1_f = float(w1)
        except (TypeError, ValueError):
            raise ValueError(f"w1 must be a number in [0, 1], got {w1!r}") from None
        if not (0.0 <= w1_f <= 1.0):
            raise ValueError(f"w1 must be in [0, 1], got {w1!r}")
        nodes2, wts2 = _population(theta2, weights2, int(n_points), "2")
        fx = w1_f * fx + (1.0 - w1_f) * _marginal(x_items, nodes2, wts2)
        fy = w1_f * fy + (1.0 - w1_f) * _marginal(y_items, nodes2, wts2)
    scores = np.arange(x_items.n_items + 1, dtype=np.int64)
    return IRTObservedScoreEquating(
        scores=scores, equated=_equipercentile(fx, fy), fx=fx, fy=fy
    )
