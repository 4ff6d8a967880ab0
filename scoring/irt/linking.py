"""IRT scale linking: put a new form's item parameters on an old form's scale.

When two forms share common (anchor) items that were calibrated separately, the
two sets of estimates differ by a linear change of the ability scale
(Kolen & Brennan 2014, sec. 6.3)::

    theta_old = A * theta_new + B
    a_old = a_new / A,    b_old = A * b_new + B,    c_old = c_new

`link` estimates ``A`` and ``B`` from the common items' parameters on each form
by one of four methods:

``"mean_mean"``
    ``A = mean(a_new) / mean(a_old)``, ``B = mean(b_old) - A mean(b_new)``
    (Loyd & Hoover 1980; K&B eq. 6.10).
``"mean_sigma"``
    ``A = sd(b_old) / sd(b_new)`` (population SDs), ``B`` as above
    (Marco 1977; K&B eqs. 6.8-6.9).
``"haebara"``
    minimises the squared differences between the common items' characteristic
    curves (Haebara 1980; K&B eqs. 6.15-6.16).
``"stocking_lord"``
    minimises the squared differences between the common items' test
    characteristic curves (Stocking & Lord 1983; K&B eqs. 6.17-6.18).

By default the characteristic-curve criteria are evaluated on the old scale only
(the "non-symmetric" criterion of K&B) at 40 equally spaced
points on [-4, 4] with equal weights; ``symmetric=True`` adds the same
criterion on the new scale (Kim & Kolen 2007), as Kolen's STUIRT program does
with its ``SY BI BI`` option.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import least_squares
from scipy.special import expit

from scoring.irt.model import ItemParameters

__all__ = [
    "LINK_METHODS",
    "ScaleLinking",
    "as_item_parameters",
    "link",
    "transform_parameters",
]

FloatArray = npt.NDArray[np.float64]

#: The linking methods accepted by `link`.
LINK_METHODS: tuple[str, ...] = ("mean_mean", "mean_sigma", "haebara", "stocking_lord")

#: D used when the inputs do not carry their own (the normal-ogive metric of K&B ch. 6).
DEFAULT_D = 1.7

# Below this a standard deviation of difficulties is treated as zero.
_SD_EPS = 1e-12


def _check_D(D: Any) -> float:
    try:
        value = float(D)
    except (TypeError, ValueError):
        raise ValueError(f"D must be a positive number, got {D!r}") from None
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"D must be a positive number, got {D!r}")
    return value


def _carried_D(obj: Any) -> float | None:
    """The scaling constant an input carries with it, if any."""
    if isinstance(obj, ItemParameters):
        return obj.D
    if isinstance(obj, Mapping):
        value = obj.get("D")
    else:
        value = getattr(obj, "D", None)
    return None if value is None else _check_D(value)


def as_item_parameters(obj: Any, *, D: float | None = None, name: str = "items") -> ItemParameters:
    """Validate item parameters given in any of the accepted forms.

    Parameters
    ----------
    obj : ItemParameters, object, mapping, tuple or ndarray
        An `ItemParameters`; any object with ``a``, ``b`` and ``c`` attributes; a
        mapping with key ``"b"`` and optional keys ``"a"`` (default 1), ``"c"``
        (default 0) and ``"D"``; a tuple or list ``(a, b, c)`` of three
        array-likes; or a 2-D ndarray of shape ``(n_items, 3)`` whose columns are
        ``a, b, c`` (the layout of R's ``plink`` and ``equateIRT``).
    D : float, optional
        Scaling constant of the result. ``None`` keeps the one the input carries
        (an `ItemParameters`, a ``D`` attribute or key) and otherwise uses 1.7.
    name : str
        Argument name used in error messages.

    Returns
    -------
    ItemParameters

    Raises
    ------
    ValueError
        Naming ``name`` and the problem: unknown layout, NaN, lengths that differ,
        ``a <= 0``, ``c`` outside [0, 1).

    Examples
    --------
    >>> items = as_item_parameters(([1.0, 1.2], [0.0, 0.5], [0.2, 0.1]))
    >>> items.b.tolist(), items.D
    ([0.0, 0.5], 1.7)
    >>> as_item_parameters({"b": [0.0, 1.0]}, D=1.0).a.tolist()
    [1.0, 1.0]
    """
    a: Any
    b: Any
    c: Any
    if isinstance(obj, ItemParameters):
        a, b, c = obj.a, obj.b, obj.c
    elif isinstance(obj, Mapping):
        if "b" not in obj:
            raise ValueError(f"{name} must contain the difficulties under key 'b'")
        a, b, c = obj.get("a"), obj["b"], obj.get("c")
    elif all(hasattr(obj, key) for key in ("a", "b", "c")):
        a, b, c = obj.a, obj.b, obj.c
    elif isinstance(obj, np.ndarray):
        if obj.ndim != 2 or obj.shape[1] != 3:
            raise ValueError(
                f"{name} as an array must have shape (n_items, 3) with columns a, b, c; "
                f"got shape {obj.shape}"
            )
        a, b, c = obj[:, 0], obj[:, 1], obj[:, 2]
    elif isinstance(obj, tuple | list) and len(obj) == 3:
        a, b, c = obj
    else:
        raise ValueError(
            f"{name} must be ItemParameters, an object with a, b, c attributes, a mapping "
            f"with keys 'a', 'b', 'c' or a tuple (a, b, c); got {type(obj).__name__}"
        )
    if D is None:
        carried = _carried_D(obj)
        D = DEFAULT_D if carried is None else carried
    D = _check_D(D)
    try:
        return ItemParameters.create(b=b, a=a, c=c, D=D)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: {exc}") from None


def transform_parameters(
    items: Any, A: float, B: float, *, D: float | None = None
) -> ItemParameters:
    """Place item parameters on another scale: ``theta_old = A theta_new + B``.

    Parameters
    ----------
    items : ItemParameters or any layout accepted by `as_item_parameters`
        Parameters on the new scale.
    A, B : float
        Slope (positive) and intercept of the scale transformation.
    D : float, optional
        Scaling constant of the result (``None``: the one ``items`` carries, else 1.7).

    Returns
    -------
    ItemParameters
        ``a / A``, ``A b + B`` and ``c`` (Kolen & Brennan 2014, sec. 6.3).

    Examples
    --------
    >>> out = transform_parameters(([1.0], [0.5], [0.2]), A=2.0, B=-1.0)
    >>> out.a.tolist(), out.b.tolist(), out.c.tolist()
    ([0.5], [0.0], [0.2])
    """
    A, B = _check_AB(A, B)
    params = as_item_parameters(items, D=D, name="items")
    return ItemParameters.create(b=A * params.b + B, a=params.a / A, c=params.c, D=params.D)


def _check_AB(A: Any, B: Any) -> tuple[float, float]:
    try:
        A_f, B_f = float(A), float(B)
    except (TypeError, ValueError):
        raise ValueError(f"A and B must be numbers, got {A!r} and {B!r}") from None
    if not (np.isfinite(A_f) and A_f > 0):
        raise ValueError(f"A (slope) must be a positive finite number, got {A!r}")
    if not np.isfinite(B_f):
        raise ValueError(f"B (intercept) must be finite, got {B!r}")
    return A_f, B_f


@dataclass(frozen=True)
class ScaleLinking:
    """Linking constants placing a new form on an old form's scale.

    Attributes
    ----------
    A, B : float
        ``theta_old = A * theta_new + B``.
    method : str
        One of `LINK_METHODS`.
    D : float
        Scaling constant used by the characteristic-curve criteria.
    n_items : int
        Number of common items.
    criterion : float
        Value of the minimised criterion at ``(A, B)`` for ``"haebara"`` and
        ``"stocking_lord"`` (weights normalised to sum to 1 on each scale);
        NaN for the moment methods.
    symmetric : bool
        Whether the criterion was also evaluated on the new scale.
    converged : bool
        Whether the optimiser reported convergence (always True for the moment
        methods).
    """

    A: float
    B: float
    method: str
    D: float
    n_items: int
    criterion: float
    symmetric: bool
    converged: bool

    def to_old_scale(self, theta: npt.ArrayLike) -> FloatArray:
        """Abilities on the new scale expressed on the old one: ``A theta + B``."""
        return self.A * np.asarray(theta, dtype=float) + self.B

    def transform(self, items: Any) -> ItemParameters:
        """New-form item parameters placed on the old scale (see `transform_parameters`)."""
        return transform_parameters(items, self.A, self.B, D=self.D)


def _grid(
    theta: npt.ArrayLike | None, weights: npt.ArrayLike | None, suffix: str
) -> tuple[FloatArray, FloatArray]:
    """Validated quadrature points and weights normalised to sum to 1."""
    if theta is None:
        # The convention of the issue: 40 equally spaced points on [-4, 4].
        nodes = np.linspace(-4.0, 4.0, 40)
    else:
        nodes = np.asarray(theta, dtype=float)
        if nodes.ndim != 1 or nodes.shape[0] < 2:
            raise ValueError(
                f"theta{suffix} must be one-dimensional with at least 2 points, "
                f"got shape {nodes.shape}"
            )
        if not np.all(np.isfinite(nodes)):
            raise ValueError(f"theta{suffix} must be finite")
    if weights is None:
        w = np.full(nodes.shape[0], 1.0 / nodes.shape[0])
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != nodes.shape:
            raise ValueError(
                f"weights{suffix} must have the same shape as theta{suffix}, "
                f"got {w.shape} and {nodes.shape}"
            )
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"weights{suffix} must be finite and non-negative")
        total = w.sum()
        if total <= 0:
            raise ValueError(f"weights{suffix} must not all be zero")
        w = w / total
    return nodes, w


def _normalise_method(method: str) -> str:
    if not isinstance(method, str):
        raise ValueError(f"method must be one of {LINK_METHODS}, got {method!r}")
    key = method.strip().lower().replace("-", "_").replace("/", "_").replace(" ", "_")
    if key not in LINK_METHODS:
        raise ValueError(f"method must be one of {LINK_METHODS}, got {method!r}")
    return key


def _moment_constants(
    method: str, old: ItemParameters, new: ItemParameters, slope: float | None
) -> tuple[float, float]:
    """Mean/mean or mean/sigma constants (K&B eqs. 6.8-6.10)."""
    if slope is not None:
        A = slope
    elif method == "mean_mean":
        A = float(new.a.mean() / old.a.mean())
    else:
        sd_new = float(new.b.std())
        sd_old = float(old.b.std())
        if sd_new <= _SD_EPS:
            raise ValueError(
                "new: mean_sigma needs difficulties that are not all equal (sd(b) = 0)"
            )
        if sd_old <= _SD_EPS:
            raise ValueError(
                "old: mean_sigma needs difficulties that are not all equal (sd(b) = 0)"
            )
        A = sd_old / sd_new
    B = float(old.b.mean() - A * new.b.mean())
    return A, B


def _curve_residuals(
    old: ItemParameters,
    new: ItemParameters,
    D: float,
    nodes: FloatArray,
    w: FloatArray,
    nodes_new: FloatArray | None,
    w_new: FloatArray | None,
    tcc: bool,
) -> Callable[[float, float], tuple[FloatArray, FloatArray]]:
    """Residuals and their Jacobian in (A, B) of the Haebara / Stocking-Lord criteria.

    The criterion is the sum of the squared residuals. On the old scale the
    residual at point q (and item j for Haebara) is
    ``sqrt(w_q) (P_j(theta_q; old) - P_j(theta_q; a_new / A, A b_new + B))``;
    on the new scale (symmetric criterion) it is
    ``sqrt(w_q) (P_j(theta_q; new) - P_j(theta_q; A a_old, (b_old - B) / A))``.
    Stocking-Lord sums the item terms before squaring.
    """
    sw = np.sqrt(w)[:, None]
    p_old = old.c + (1.0 - old.c) * expit(D * old.a * (nodes[:, None] - old.b))
    if nodes_new is not None and w_new is not None:
        sw_new = np.sqrt(w_new)[:, None]
        p_new = new.c + (1.0 - new.c) * expit(D * new.a * (nodes_new[:, None] - new.b))

    def residuals(A: float, B: float) -> tuple[FloatArray, FloatArray]:
        # Old scale: new items transformed, z = D a_new ((theta - B) / A - b_new).
        u = (nodes[:, None] - B) / A
        s = expit(D * new.a * (u - new.b))
        p_star = new.c + (1.0 - new.c) * s
        dp_dz = (1.0 - new.c) * s * (1.0 - s)
        dz_dA = -D * new.a * u / A
        dz_dB = -D * new.a / A
        diff = p_old - p_star
        d_dA = -dp_dz * dz_dA
        d_dB = -dp_dz * dz_dB
        parts = [(diff, d_dA, d_dB, sw)]
        if nodes_new is not None:
            # New scale: old items transformed, z = D a_old (A theta + B - b_old).
            s2 = expit(D * old.a * (A * nodes_new[:, None] + B - old.b))
            p_sharp = old.c + (1.0 - old.c) * s2
            dp2_dz = (1.0 - old.c) * s2 * (1.0 - s2)
            parts.append(
                (
                    p_new - p_sharp,
                    -dp2_dz * D * old.a * nodes_new[:, None],
                    -dp2_dz * D * old.a,
                    sw_new,
                )
            )
        res_list = []
        jac_list = []
        for diff_k, dA_k, dB_k, sw_k in parts:
            if tcc:
                r = sw_k[:, 0] * diff_k.sum(axis=1)
                jA = sw_k[:, 0] * dA_k.sum(axis=1)
                jB = sw_k[:, 0] * dB_k.sum(axis=1)
            else:
                r = (sw_k * diff_k).ravel()
                jA = (sw_k * dA_k).ravel()
                jB = (sw_k * dB_k).ravel()
            res_list.append(r)
            jac_list.append(np.column_stack([jA, jB]))
        return np.concatenate(res_list), np.vstack(jac_list)

    return residuals


def _fit_curve(
    residuals: Callable[[float, float], tuple[FloatArray, FloatArray]],
    starts: list[tuple[float, float]],
    slope: float | None,
) -> tuple[float, float, float, bool]:
    """Least-squares fit of (log A, B) (or B alone when the slope is fixed)."""
    best: tuple[float, float, float, bool] | None = None
    for A0, B0 in starts:
        if slope is None:
            # Optimise log A so that A stays positive without bounds.
            def fun(x: FloatArray) -> FloatArray:
                return residuals(float(np.exp(x[0])), float(x[1]))[0]

            def jac(x: FloatArray) -> FloatArray:
                A = float(np.exp(x[0]))
                J = residuals(A, float(x[1]))[1]
                return np.column_stack([J[:, 0] * A, J[:, 1]])

            x0 = np.array([np.log(A0), B0])
        else:

            def fun(x: FloatArray) -> FloatArray:
                return residuals(slope, float(x[0]))[0]

            def jac(x: FloatArray) -> FloatArray:
                return residuals(slope, float(x[0]))[1][:, 1:]

            x0 = np.array([B0])
        with np.errstate(over="ignore", under="ignore"):
            fit = least_squares(
                fun, x0, jac=jac, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15,
                max_nfev=2000,
            )
        if slope is None:
            A, B = float(np.exp(fit.x[0])), float(fit.x[1])
        else:
            A, B = slope, float(fit.x[0])
        value = float(np.sum(fit.fun**2))
        ok = bool(fit.success) and np.isfinite(A) and np.isfinite(B) and A > 0
        if best is None or (ok and (not best[3] or value < best[2])):
            best = (A, B, value, ok)
    assert best is not None
    return best


def link(
    old: Any,
    new: Any,
    method: str = "stocking_lord",
    D: float = DEFAULT_D,
    *,
    theta: npt.ArrayLike | None = None,
    weights: npt.ArrayLike | None = None,
    symmetric: bool = False,
    theta_new: npt.ArrayLike | None = None,
    weights_new: npt.ArrayLike | None = None,
    slope: float | None = None,
) -> ScaleLinking:
    """Linking constants placing the new form on the old form's scale.

    Parameters
    ----------
    old, new : ItemParameters or any layout accepted by `as_item_parameters`
        Parameters of the same common items, in the same order, as estimated on
        the old (base) form and on the new form.
    method : {"mean_mean", "mean_sigma", "haebara", "stocking_lord"}
        Linking method (``-``, ``/`` and spaces are accepted for ``_``).
    D : float
        Scaling constant of the logistic model used by the characteristic-curve
        methods (1.7 by default). It overrides any ``D`` the inputs carry, so that
        both forms are compared on one metric.
    theta, weights : array_like, optional
        Points and weights on the old scale for the characteristic-curve
        criteria; default 40 equally spaced points on [-4, 4] with equal weights.
        Weights are normalised to sum to 1.
    symmetric : bool
        Also evaluate the criterion on the new scale (Kim & Kolen 2007), with the
        old form's items transformed by the inverse transformation.
    theta_new, weights_new : array_like, optional
        Points and weights on the new scale for ``symmetric=True``; default the
        same as ``theta`` and ``weights``.
    slope : float, optional
        Fix ``A`` (for example 1 for Rasch items) and estimate only ``B``; for the
        moment methods ``B = mean(b_old) - slope mean(b_new)``.

    Returns
    -------
    ScaleLinking
        ``.A`` and ``.B`` with ``theta_old = A theta_new + B``.

    Raises
    ------
    ValueError
        Unknown method; invalid parameters (NaN, ``a <= 0``, ``c`` outside [0, 1));
        different numbers of items on the two forms; fewer than 2 common items;
        ``mean_sigma`` with all difficulties equal; invalid ``theta``/``weights``.

    Notes
    -----
    With ``a* = a_new / A`` and ``b* = A b_new + B`` the non-symmetric criteria are
    (Kolen & Brennan 2014, eqs. 6.15-6.18)::

        Haebara:        sum_q w_q sum_j [P_j(theta_q) - P*_j(theta_q)]^2
        Stocking-Lord:  sum_q w_q [sum_j P_j(theta_q) - sum_j P*_j(theta_q)]^2

    where ``P_j`` uses the old form's parameters ``(a_j, b_j, c_j)`` and ``P*_j``
    the transformed new ones ``(a*_j, b*_j, c_new_j)``. They are minimised over
    ``(log A, B)`` by Levenberg-Marquardt least squares with the analytic
    Jacobian, started from both the mean/sigma and the mean/mean solutions (the
    better optimum is kept), so that the result does not depend on a single
    starting point.

    References
    ----------
    Kolen, M. J. & Brennan, R. L. (2014). *Test Equating, Scaling, and Linking*
    (3rd ed.), ch. 6. Springer.
    Haebara, T. (1980). Equating logistic ability scales by a weighted least
    squares method. *Japanese Psychological Research*, 22, 144-149.
    Stocking, M. L. & Lord, F. M. (1983). Developing a common metric in item
    response theory. *Applied Psychological Measurement*, 7, 201-210.
    Kim, S. & Kolen, M. J. (2007). Effects on scale linking of different
    definitions of criterion functions for the IRT characteristic curve methods.
    *Journal of Educational and Behavioral Statistics*, 32, 371-397.

    Examples
    --------
    New-form parameters that are an exact transformation of the old ones
    (``A = 1.25``, ``B = 0.5``) are recovered by every method:

    >>> old = ([1.0, 1.2, 0.8], [-1.0, 0.0, 1.0], [0.2, 0.2, 0.2])
    >>> new = ([1.25, 1.5, 1.0], [-1.2, -0.4, 0.4], [0.2, 0.2, 0.2])
    >>> for m in LINK_METHODS:
    ...     res = link(old, new, method=m)
    ...     print(m, round(res.A, 6), round(res.B, 6))
    mean_mean 1.25 0.5
    mean_sigma 1.25 0.5
    haebara 1.25 0.5
    stocking_lord 1.25 0.5
    """
    method = _normalise_method(method)
    D = _check_D(D)
    old_items = as_item_parameters(old, D=D, name="old")
    new_items = as_item_parameters(new, D=D, name="new")
    if old_items.n_items != new_items.n_items:
        raise ValueError(
            f"old and new must hold the same common items, got {old_items.n_items} "
            f"and {new_items.n_items} items"
        )
    if old_items.n_items < 2:
        raise ValueError(f"linking needs at least 2 common items, got {old_items.n_items}")
    if slope is not None:
        slope, _ = _check_AB(slope, 0.0)
    if not isinstance(symmetric, bool | np.bool_):
        raise ValueError(f"symmetric must be True or False, got {symmetric!r}")

    if method in ("mean_mean", "mean_sigma"):
        A, B = _moment_constants(method, old_items, new_items, slope)
        if not (np.isfinite(A) and A > 0 and np.isfinite(B)):
            raise ValueError(f"{method} gave invalid constants A={A!r}, B={B!r}")
        return ScaleLinking(
            A=A, B=B, method=method, D=D, n_items=old_items.n_items,
            criterion=float("nan"), symmetric=False, converged=True,
        )

    nodes, w = _grid(theta, weights, "")
    nodes_new: FloatArray | None = None
    w_new: FloatArray | None = None
    if symmetric:
        if theta_new is None and weights_new is None:
            nodes_new, w_new = nodes, w
        else:
            nodes_new, w_new = _grid(
                nodes if theta_new is None else theta_new,
                weights_new if weights_new is not None or theta_new is not None else w,
                "_new",
            )
    elif theta_new is not None or weights_new is not None:
        raise ValueError("theta_new and weights_new are used only with symmetric=True")

    starts = [_moment_constants("mean_mean", old_items, new_items, slope)]
    try:
        starts.insert(0, _moment_constants("mean_sigma", old_items, new_items, slope))
    except ValueError:
        pass  # equal difficulties: mean/mean alone is a valid start
    residuals = _curve_residuals(
        old_items, new_items, D, nodes, w, nodes_new, w_new, tcc=(method == "stocking_lord")
    )
    A, B, value, ok = _fit_curve(residuals, starts, slope)
    return ScaleLinking(
        A=A, B=B, method=method, D=D, n_items=old_items.n_items,
        criterion=value, symmetric=bool(symmetric), converged=ok,
    )
