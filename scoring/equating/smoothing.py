r"""Presmoothing and postsmoothing for equipercentile equating.

* Presmoothing (Holland & Thayer 1987, 2000; Kolen & Brennan 2014, ch. 3):
  a polynomial log-linear model of degree C is fitted to a score distribution
  by maximum likelihood. The fitted distribution has the same total and the
  same first C moments as the data, and is smooth and positive everywhere.
* Postsmoothing (Kolen 1984; Kolen & Brennan 2014, ch. 3): a cubic
  smoothing spline (Reinsch 1967) is fitted to the unsmoothed equipercentile
  equivalents, weighted by their standard errors, and averaged with the
  inverse of the spline fitted in the other direction.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.interpolate import CubicSpline
from scipy.optimize import brentq

from scoring._frozen import freeze_arrays
from scoring.equating._common import (
    FloatArray,
    as_frequencies,
    equipercentile_core,
    is_integer,
    se_equipercentile_core,
)
from scoring.percentiles import percentile_ranks

__all__ = [
    "CubicSplinePostsmoothing",
    "LogLinearFit",
    "cubic_spline_postsmooth",
    "loglinear_smooth",
    "select_loglinear_degree",
]


def _freeze(obj: object) -> None:
    """Replace the array fields of a frozen dataclass by read-only copies."""
    freeze_arrays(obj)


# ---------------------------------------------------------------------------
# Log-linear presmoothing
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LogLinearFit:
    """
    A polynomial log-linear model fitted to a score distribution.

    Attributes
    ----------
    fitted : ndarray of float64, shape (K + 1,)
        Smoothed frequencies; positive, same total as the data, same first
        `degree` moments.
    degree : int
        Degree C of the polynomial.
    loglik : float
        Multinomial log-likelihood kernel :math:`\\sum_j n_j \\log(m_j / N)`.
    deviance : float
        Likelihood-ratio statistic :math:`G^2 = 2 \\sum_j n_j \\log(n_j / m_j)`
        against the saturated model.
    aic : float
        :math:`-2\\,\\text{loglik} + 2C`.
    bic : float
        :math:`-2\\,\\text{loglik} + C \\log N`.
    n_iter : int
        Newton iterations used.
    """

    fitted: FloatArray
    degree: int
    loglik: float
    deviance: float
    aic: float
    bic: float
    n_iter: int

    def __post_init__(self) -> None:
        _freeze(self)


def _orthonormal_polynomials(n_points: int, degree: int) -> FloatArray:
    """Discrete orthonormal polynomials of degree 0..degree on n equispaced points.

    Columns span the same space as ``1, x, ..., x**degree`` (so the fitted
    moments are the same as with raw powers) but are orthonormal, which keeps
    the Newton system well conditioned for high degrees (Stieltjes procedure
    with full re-orthogonalisation).
    """
    x = np.linspace(-1.0, 1.0, n_points) if n_points > 1 else np.zeros(1)
    basis = np.empty((n_points, degree + 1))
    basis[:, 0] = 1.0 / math.sqrt(n_points)
    for c in range(1, degree + 1):
        v = x * basis[:, c - 1]
        for _ in range(2):  # twice is enough (Kahan's "twice is enough")
            v -= basis[:, :c] @ (basis[:, :c].T @ v)
        basis[:, c] = v / np.linalg.norm(v)
    return basis


def loglinear_smooth(
    freq: npt.ArrayLike, degree: int, *, max_iter: int = 200, tol: float = 1e-12
) -> LogLinearFit:
    r"""
    Fit a polynomial log-linear model of degree C to a score distribution.

    Parameters
    ----------
    freq : array_like, shape (K + 1,)
        Counts indexed by raw score 0..K (non-integer weights are accepted).
    degree : int
        Degree C, between 0 and K. C = 0 gives the uniform distribution and
        C = K reproduces the data (zero counts are approached as limits).
    max_iter : int, default 200
        Maximum number of Newton iterations.
    tol : float, default 1e-12
        Convergence tolerance on the likelihood equations relative to N.

    Returns
    -------
    fit : LogLinearFit

    Raises
    ------
    ValueError
        If `freq` is invalid, `degree` is not an integer in [0, K], or the
        iterations do not converge.

    Notes
    -----
    Holland & Thayer (2000), the model

    .. math::

        \log m_j = \beta_0 + \sum_{c=1}^{C} \beta_c x_j^c,
        \qquad j = 0, \dots, K,

    fitted by maximum likelihood (Poisson or, equivalently, multinomial).
    The likelihood equations :math:`\sum_j x_j^c (n_j - m_j) = 0`,
    :math:`c = 0..C`, say that the fitted distribution has the total and the
    first C moments of the data. The polynomial is expressed in a discrete
    orthonormal basis of the same space for numerical stability, and solved
    by Newton-Raphson (iteratively reweighted least squares) with step
    halving.

    References
    ----------
    .. [1] P. W. Holland and D. T. Thayer, *Notes on the use of log-linear
           models for fitting discrete probability distributions*, ETS
           Technical Report 87-79 (1987).
    .. [2] P. W. Holland and D. T. Thayer, Univariate and bivariate loglinear
           models for discrete test score distributions, *Journal of
           Educational and Behavioral Statistics* 25 (2000), 133-183.
    .. [3] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking*, 3rd ed., Springer (2014), ch. 3.

    Examples
    --------
    >>> import numpy as np
    >>> from scoring.equating import loglinear_smooth
    >>> counts = np.array([1, 4, 10, 12, 9, 3, 1])
    >>> fit = loglinear_smooth(counts, degree=2)
    >>> x = np.arange(7)
    >>> bool(np.isclose(fit.fitted.sum(), 40)), bool(np.isclose(fit.fitted @ x, counts @ x))
    (True, True)
    """
    n = as_frequencies(freq, "freq")
    k = n.size - 1
    if not is_integer(degree) or not 0 <= degree <= k:
        raise ValueError(f"degree must be an integer between 0 and K={k}, got {degree!r}.")
    degree = int(degree)
    if not is_integer(max_iter) or max_iter < 1:
        raise ValueError(f"max_iter must be at least 1, got {max_iter!r}.")
    total = float(n.sum())
    basis = _orthonormal_polynomials(n.size, degree)

    def poisson_loglik(eta: FloatArray) -> float:
        with np.errstate(over="ignore"):
            value = float(n @ eta - np.exp(eta).sum())
        return value if math.isfinite(value) else -math.inf

    # Start from the projection of log(n + 1/2) onto the polynomials, rescaled
    # to the right total: close to the answer, and finite for zero counts.
    beta = basis.T @ np.log(n + 0.5)
    eta = basis @ beta
    beta[0] += math.log(total / np.exp(eta).sum()) * math.sqrt(n.size)
    eta = basis @ beta
    current = poisson_loglik(eta)
    n_iter = 0
    converged = False
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is reported
        m = np.exp(eta)
        score = basis.T @ (n - m)
        if np.max(np.abs(score)) <= tol * total:
            converged = True
            break
        info = basis.T @ (m[:, None] * basis)
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(info, score, rcond=None)[0]
        for _ in range(60):
            trial = basis @ (beta + step)
            value = poisson_loglik(trial)
            if value >= current - 1e-12 * abs(current):
                break
            step /= 2.0
        beta = beta + step
        eta = basis @ beta
        current = poisson_loglik(eta)
    if not converged:
        raise ValueError(
            f"the log-linear model of degree {degree} did not converge in {max_iter} "
            "iterations; use a lower degree."
        )
    fitted = np.exp(eta)
    positive = n > 0
    loglik = float(n[positive] @ np.log(fitted[positive] / total))
    deviance = float(2.0 * n[positive] @ np.log(n[positive] / fitted[positive]))
    return LogLinearFit(
        fitted=fitted,
        degree=degree,
        loglik=loglik,
        deviance=max(deviance, 0.0),
        aic=-2.0 * loglik + 2.0 * degree,
        bic=-2.0 * loglik + degree * math.log(total),
        n_iter=n_iter,
    )


def select_loglinear_degree(
    freq: npt.ArrayLike,
    max_degree: int | None = None,
    *,
    criterion: Literal["aic", "bic"] = "aic",
) -> LogLinearFit:
    """
    Fit log-linear models of degree 1..max_degree and keep the best one.

    Parameters
    ----------
    freq : array_like, shape (K + 1,)
        Counts indexed by raw score.
    max_degree : int, optional
        Highest degree tried, at most K. Default ``min(10, K)``.
    criterion : {"aic", "bic"}, default "aic"
        Information criterion to minimise.

    Returns
    -------
    fit : LogLinearFit
        The fit with the smallest criterion (the lowest degree on ties).

    Raises
    ------
    ValueError
        If `freq` is invalid, K < 1, `max_degree` is out of range or
        `criterion` is unknown.

    Notes
    -----
    Akaike's (or Schwarz's) criterion as used for choosing C by Holland &
    Thayer (2000) and Kolen & Brennan (2014, ch. 3); degrees whose fit
    does not converge are skipped.

    Examples
    --------
    >>> from scoring.equating import select_loglinear_degree
    >>> select_loglinear_degree([1, 4, 10, 12, 9, 3, 1]).degree
    2
    """
    n = as_frequencies(freq, "freq")
    k = n.size - 1
    if k < 1:
        raise ValueError("freq needs at least two score points to choose a degree.")
    if max_degree is None:
        max_degree = min(10, k)
    if not is_integer(max_degree) or not 1 <= max_degree <= k:
        raise ValueError(f"max_degree must be an integer in [1, K={k}], got {max_degree!r}.")
    if criterion not in ("aic", "bic"):
        raise ValueError(f"criterion must be 'aic' or 'bic', got {criterion!r}.")
    best: LogLinearFit | None = None
    for c in range(1, int(max_degree) + 1):
        try:
            fit = loglinear_smooth(n, c)
        except ValueError:
            continue
        if best is None or getattr(fit, criterion) < getattr(best, criterion):
            best = fit
    if best is None:
        raise ValueError("no log-linear model of degree 1..max_degree converged.")
    return best


# ---------------------------------------------------------------------------
# Cubic-spline postsmoothing
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CubicSplinePostsmoothing:
    """
    Cubic-spline postsmoothed equipercentile equating (result of `cubic_spline_postsmooth`).

    Attributes
    ----------
    equated : ndarray of float64, shape (Kx + 1,)
        The symmetric postsmoothed equivalents
        :math:`[\\hat d_Y(x) + \\hat d_X^{-1}(x)] / 2` at x = 0..Kx.
    forward : ndarray of float64, shape (Kx + 1,)
        :math:`\\hat d_Y(x)`, the spline fitted to the X-to-Y equivalents.
    inverse_backward : ndarray of float64, shape (Kx + 1,)
        :math:`\\hat d_X^{-1}(x)`, the inverse of the spline fitted to the
        Y-to-X equivalents.
    unsmoothed : ndarray of float64, shape (Kx + 1,)
        The unsmoothed equipercentile equivalents :math:`\\hat e_Y(x)`.
    s : float
        The smoothing parameter S.
    x_low, x_high : int
        Range of X scores over which the X-to-Y spline is fitted.
    y_low, y_high : int
        Range of Y scores over which the Y-to-X spline is fitted.
    """

    equated: FloatArray
    forward: FloatArray
    inverse_backward: FloatArray
    unsmoothed: FloatArray
    s: float
    x_low: int
    x_high: int
    y_low: int
    y_high: int

    def __post_init__(self) -> None:
        _freeze(self)


def _smoothing_spline_values(
    x: FloatArray, y: FloatArray, weight: FloatArray, s: float
) -> FloatArray:
    """Values at the knots of Reinsch's smoothing spline.

    Minimises the integrated squared second derivative subject to
    ``sum(weight * (y - g)**2) / n <= s`` (Reinsch 1967), via the penalised
    form ``sum(weight (y - g)^2) + lam * int g''^2`` whose Lagrange multiplier
    ``lam`` is found by root finding (the constrained residual is increasing
    in ``lam``). Green & Silverman (1994, ch. 2) matrices ``Q`` and ``R``.
    """
    n = x.size
    if s == 0.0 or n < 3:
        # Interpolation: with fewer than 3 points the interpolant is linear.
        return y.copy()
    target = s * n
    # Weighted least-squares line: the limit lam -> infinity.
    design = np.column_stack([np.ones(n), x])
    root_w = np.sqrt(weight)
    coef = np.linalg.lstsq(design * root_w[:, None], y * root_w, rcond=None)[0]
    line = design @ coef
    if float(weight @ (y - line) ** 2) <= target:
        return line
    h = np.diff(x)
    q = np.zeros((n, n - 2))
    cols = np.arange(n - 2)
    q[cols, cols] = 1.0 / h[:-1]
    q[cols + 1, cols] = -1.0 / h[:-1] - 1.0 / h[1:]
    q[cols + 2, cols] = 1.0 / h[1:]
    r = np.diag((h[:-1] + h[1:]) / 3.0)
    r[cols[:-1], cols[:-1] + 1] = h[1:-1] / 6.0
    r[cols[:-1] + 1, cols[:-1]] = h[1:-1] / 6.0
    qwq = q.T @ (q / weight[:, None])
    qty = q.T @ y

    def fit(lam: float) -> FloatArray:
        gamma = np.linalg.solve(r + lam * qwq, qty)
        return y - lam * (q @ gamma) / weight

    def excess(log_lam: float) -> float:
        g = fit(10.0**log_lam)
        return float(weight @ (y - g) ** 2) - target

    lo = hi = 0.0
    for _ in range(200):
        if excess(lo) < 0:
            break
        lo -= 1.0
    for _ in range(200):
        if excess(hi) > 0:
            break
        hi += 1.0
    log_lam = brentq(excess, lo, hi, xtol=1e-12, rtol=1e-12)
    return fit(10.0**log_lam)


def _postsmoothed_function(
    f_from: FloatArray, f_to: FloatArray, s: float
) -> tuple[Callable[[FloatArray], FloatArray], int, int]:
    """The X-to-Y postsmoothing function d_Y on [-.5, Kx + .5] (K&B ch. 3)."""
    k_from = f_from.size - 1
    k_to = f_to.size - 1
    ranks = percentile_ranks(f_from)
    inside = np.flatnonzero((ranks >= 0.5) & (ranks <= 99.5))
    low, high = int(inside[0]), int(inside[-1])
    knots = np.arange(low, high + 1, dtype=np.float64)
    equated = equipercentile_core(f_from, f_to)[low : high + 1]
    se = se_equipercentile_core(f_from, f_to)[low : high + 1]
    values = _smoothing_spline_values(knots, equated, 1.0 / se**2, s)
    spline = CubicSpline(knots, values, bc_type="natural") if knots.size >= 2 else None
    d_low, d_high = float(values[0]), float(values[-1])

    def evaluate(points: FloatArray) -> FloatArray:
        p = np.asarray(points, dtype=np.float64)
        middle = spline(np.clip(p, low, high)) if spline is not None else np.full(p.shape, d_low)
        # Linear from (-.5, -.5) to the first knot and from the last knot to
        # (K_X + .5, K_Y + .5), K&B ch. 3.
        below = -0.5 + (d_low + 0.5) * (p + 0.5) / (low + 0.5)
        above = d_high + (k_to + 0.5 - d_high) * (p - high) / (k_from + 0.5 - high)
        return np.where(p < low, below, np.where(p > high, above, middle))

    return evaluate, low, high


def cubic_spline_postsmooth(
    fx: npt.ArrayLike, fy: npt.ArrayLike, s: float
) -> CubicSplinePostsmoothing:
    r"""
    Cubic-spline postsmoothing of random-groups equipercentile equating.

    Parameters
    ----------
    fx, fy : array_like, shape (Kx + 1,) and (Ky + 1,)
        Counts of X and of Y scores (the sample sizes enter the standard
        errors that weight the spline, so pass counts, not proportions).
    s : float
        Smoothing parameter S >= 0. S = 0 interpolates the unsmoothed
        equivalents; larger S smooths more (K&B suggest trying values
        between .01 and 1); a large enough S gives a straight line.

    Returns
    -------
    result : CubicSplinePostsmoothing
        The symmetric postsmoothed equivalents in ``equated`` and the pieces
        they are made of.

    Raises
    ------
    ValueError
        If the counts are invalid or `s` is negative or not finite.

    Notes
    -----
    Kolen & Brennan (2014), ch. 3 (Kolen 1984). The spline
    :math:`\hat d_Y(x)` is the natural cubic spline with knots at the
    integer scores :math:`x_{low}..x_{high}` minimising
    :math:`\int [\hat d_Y''(x)]^2 dx` subject to

    .. math::

        \frac{1}{x_{high} - x_{low} + 1}
        \sum_{x = x_{low}}^{x_{high}}
        \left[\frac{\hat d_Y(x) - \hat e_Y(x)}{\widehat{se}[\hat e_Y(x)]}\right]^2
        \le S,

    where :math:`x_{low}` is the lowest score with percentile rank at least
    .5, :math:`x_{high}` the highest with percentile rank at most 99.5, and
    :math:`\widehat{se}` the delta-method standard error (K&B ch. 7; see
    `se_equipercentile`). This is Reinsch's (1967) smoothing spline. Below
    :math:`x_{low}` the function is linear from :math:`(-.5, -.5)` and above
    :math:`x_{high}` linear to :math:`(K_X + .5, K_Y + .5)`. The same is
    done from Y to X, giving :math:`\hat d_X(y)`, and the result is the
    average

    .. math::

        \hat d_Y^{(s)}(x) = \frac{\hat d_Y(x) + \hat d_X^{-1}(x)}{2},

    with :math:`\hat d_X^{-1}` found by bisection.

    References
    ----------
    .. [1] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking*, 3rd ed., Springer (2014), ch. 3.
    .. [2] M. J. Kolen, Effectiveness of analytic smoothing in equipercentile
           equating, *Journal of Educational Statistics* 9 (1984), 25-44.
    .. [3] C. H. Reinsch, Smoothing by spline functions, *Numerische
           Mathematik* 10 (1967), 177-183.

    Examples
    --------
    >>> from scoring.equating import cubic_spline_postsmooth
    >>> fx = [3, 10, 25, 40, 52, 48, 35, 20, 9, 4]
    >>> fy = [2, 8, 20, 38, 50, 52, 40, 24, 11, 5]
    >>> result = cubic_spline_postsmooth(fx, fy, s=0.2)
    >>> result.x_low, result.x_high
    (0, 9)
    >>> bool(abs(result.equated - result.unsmoothed).max() < 0.2)
    True
    """
    x_counts = as_frequencies(fx, "fx")
    y_counts = as_frequencies(fy, "fy")
    try:
        s_value = float(s)
    except (TypeError, ValueError):
        raise ValueError(f"s must be a non-negative number, got {s!r}.") from None
    if not (math.isfinite(s_value) and s_value >= 0):
        raise ValueError(f"s must be a non-negative finite number, got {s!r}.")
    forward_fn, x_low, x_high = _postsmoothed_function(x_counts, y_counts, s_value)
    backward_fn, y_low, y_high = _postsmoothed_function(y_counts, x_counts, s_value)
    kx, ky = x_counts.size - 1, y_counts.size - 1
    scores = np.arange(kx + 1, dtype=np.float64)
    # Invert d_X by vectorised bisection on [-.5, Ky + .5]: d_X(-.5) = -.5 and
    # d_X(Ky + .5) = Kx + .5 bracket every x in 0..Kx.
    lo = np.full(scores.shape, -0.5)
    hi = np.full(scores.shape, ky + 0.5)
    for _ in range(64):
        mid = 0.5 * (lo + hi)
        below = backward_fn(mid) < scores
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    inverse = 0.5 * (lo + hi)
    forward = forward_fn(scores)
    return CubicSplinePostsmoothing(
        equated=0.5 * (forward + inverse),
        forward=forward,
        inverse_backward=inverse,
        unsmoothed=equipercentile_core(x_counts, y_counts),
        s=s_value,
        x_low=x_low,
        x_high=x_high,
        y_low=y_low,
        y_high=y_high,
    )
