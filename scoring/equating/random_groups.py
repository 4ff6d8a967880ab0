r"""Observed-score equating under the random-groups design.

Form X is taken by one sample and form Y by another, randomly equivalent,
sample of the same population. ``fx`` and ``fy`` are the two samples' counts
indexed by raw score (``0..Kx`` and ``0..Ky``). Every function returns the
Y-equivalents of the X scores.

Mean and linear equating match the first one or two (population, ``ddof=0``)
moments; equipercentile equating matches the whole distribution through the
percentile ranks of Kolen & Brennan (2014, ch. 2), optionally with log-linear
presmoothing or cubic-spline postsmoothing (ch. 3). The delta-method standard
errors of ch. 7 are provided for the linear and unsmoothed equipercentile
methods.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from scoring.equating._common import (
    FloatArray,
    LinearEquating,
    as_frequencies,
    equipercentile_core,
    frequency_moments,
    mean_sd,
    se_equipercentile_core,
)
from scoring.equating.smoothing import cubic_spline_postsmooth, loglinear_smooth

__all__ = ["equipercentile", "linear", "mean_equating", "se_equipercentile", "se_linear"]


def mean_equating(fx: npt.ArrayLike, fy: npt.ArrayLike) -> LinearEquating:
    r"""
    Mean equating of form X to form Y (random groups).

    Parameters
    ----------
    fx, fy : array_like, shape (Kx + 1,) and (Ky + 1,)
        Counts of X scores and of Y scores in the two samples.

    Returns
    -------
    equating : LinearEquating
        Slope 1 and intercept :math:`\mu(Y) - \mu(X)`.

    Raises
    ------
    ValueError
        If a frequency array is empty, not 1-D, holds NaN or negative
        counts, or sums to zero.

    Notes
    -----
    Kolen & Brennan (2014), ch. 2: :math:`m_Y(x) = x - \mu(X) + \mu(Y)`.

    References
    ----------
    .. [1] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking*, 3rd ed., Springer (2014), ch. 2.

    Examples
    --------
    >>> from scoring.equating import mean_equating
    >>> m = mean_equating([2, 3, 2, 2, 1], [1, 2, 2, 3, 2])
    >>> m.slope, round(m.intercept, 4)
    (1.0, 0.6)
    """
    mx, _ = mean_sd(as_frequencies(fx, "fx"))
    my, _ = mean_sd(as_frequencies(fy, "fy"))
    return LinearEquating(1.0, my - mx)


def linear(fx: npt.ArrayLike, fy: npt.ArrayLike) -> LinearEquating:
    r"""
    Linear equating of form X to form Y (random groups).

    Parameters
    ----------
    fx, fy : array_like, shape (Kx + 1,) and (Ky + 1,)
        Counts of X scores and of Y scores in the two samples.

    Returns
    -------
    equating : LinearEquating
        :math:`l_Y(x) = \frac{\sigma(Y)}{\sigma(X)} x + \left[\mu(Y) -
        \frac{\sigma(Y)}{\sigma(X)} \mu(X)\right]`.

    Raises
    ------
    ValueError
        If a frequency array is invalid (see `mean_equating`) or one of the
        distributions has zero variance (fewer than two distinct scores).

    Notes
    -----
    Kolen & Brennan (2014), ch. 2, with population standard deviations
    (divisor N):

    .. math::

        l_Y(x) = \sigma(Y) \frac{x - \mu(X)}{\sigma(X)} + \mu(Y).

    References
    ----------
    .. [1] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking*, 3rd ed., Springer (2014), ch. 2.

    Examples
    --------
    >>> from scoring.equating import linear
    >>> lin = linear([2, 3, 2, 2, 1], [1, 3, 3, 2, 1])
    >>> round(lin.slope, 4), round(lin.intercept, 4)
    (0.8951, 0.3783)
    """
    mx, sx = mean_sd(as_frequencies(fx, "fx"))
    my, sy = mean_sd(as_frequencies(fy, "fy"))
    for name, sd in (("fx", sx), ("fy", sy)):
        if sd == 0.0:
            raise ValueError(
                f"{name} has zero variance (all candidates have the same score); "
                "linear equating needs at least two distinct scores."
            )
    slope = sy / sx
    return LinearEquating(slope, my - slope * mx)


def equipercentile(
    fx: npt.ArrayLike,
    fy: npt.ArrayLike,
    *,
    presmooth: int | tuple[int, int] | None = None,
    postsmooth: float | None = None,
) -> FloatArray:
    r"""
    Equipercentile equating of form X to form Y (random groups).

    Parameters
    ----------
    fx, fy : array_like, shape (Kx + 1,) and (Ky + 1,)
        Counts of X scores and of Y scores in the two samples. With
        `postsmooth` they must be counts (not proportions), because the
        spline weights use the sample sizes.
    presmooth : int or pair of int, optional
        Degree C of the polynomial log-linear model fitted to `fx` and `fy`
        before equating (one degree for both, or ``(C_X, C_Y)``); the fitted
        distributions preserve the first C moments (Holland & Thayer 2000).
        See `loglinear_smooth`. Default: no presmoothing.
    postsmooth : float, optional
        Smoothing parameter S >= 0 of the cubic-spline postsmoothing of
        Kolen & Brennan (2014, ch. 3); see `cubic_spline_postsmooth`.
        Typical values are 0 to 1; S = 0 interpolates. Default: none.

    Returns
    -------
    equated : ndarray of float64, shape (Kx + 1,)
        ``equated[x]`` is :math:`e_Y(x)`, in :math:`[-.5, K_Y + .5]`, non-decreasing
        in x when unsmoothed or presmoothed.

    Raises
    ------
    ValueError
        If a frequency array is invalid (see `mean_equating`), a smoothing
        parameter is out of range, or the log-linear fit does not converge.

    Notes
    -----
    Kolen & Brennan (2014), eqs. 2.14 and 2.18:
    :math:`e_Y(x) = P_Y^{-1}[P(x)]` where :math:`P(x)` is the percentile
    rank of x in X (eq. 2.14) and, with :math:`y_U^*` the smallest integer
    score whose cumulative proportion :math:`G(y_U^*)` exceeds
    :math:`P^* = P(x)/100`,

    .. math::

        P_Y^{-1}(P^*) = \frac{P^* - G(y_U^* - 1)}{G(y_U^*) - G(y_U^* - 1)}
        + y_U^* - .5 .

    Conventions at the ends, where the formula does not identify a unique
    value:

    * :math:`P(x) = 100` (x above the highest observed X score):
      :math:`e_Y(x) = K_Y + .5`, as in Kolen & Brennan.
    * :math:`P(x) = 0` (x below the lowest observed X score): the formula
      with :math:`P^* = 0` is used, giving :math:`y_{min} - .5` where
      :math:`y_{min}` is the lowest Y score with positive frequency (R
      ``equate`` returns the bottom of the Y scale minus .5 instead).
    * When :math:`P^*` equals a cumulative proportion of Y followed by
      empty Y score points, the inverse is not unique; taking the smallest
      score whose cumulative proportion *exceeds* :math:`P^*` (the "upper"
      solution) follows K&B. Cumulative proportions within 1e-12 of
      :math:`P^*` count as equal to it, so that rounding (e.g. after
      scaling all counts by a constant) cannot change the choice.

    Equating a form to itself returns x at every observed score. Standard
    errors: `se_equipercentile` (unsmoothed) or `bootstrap_se` (any
    smoothing).

    References
    ----------
    .. [1] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking: Methods and Practices*, 3rd ed., Springer (2014),
           chs. 2 and 3.
    .. [2] P. W. Holland and D. T. Thayer, Univariate and bivariate loglinear
           models for discrete test score distributions, *Journal of
           Educational and Behavioral Statistics* 25 (2000), 133-183.

    Examples
    --------
    The hypothetical example of Kolen & Brennan (2014, table 2.2):

    >>> from scoring.equating import equipercentile
    >>> equipercentile([2, 3, 2, 2, 1], [1, 2, 2, 3, 2]).round(4)
    array([0.5   , 1.75  , 2.8333, 3.5   , 4.25  ])
    """
    x_counts = as_frequencies(fx, "fx")
    y_counts = as_frequencies(fy, "fy")
    if presmooth is not None:
        if isinstance(presmooth, (tuple, list)):
            if len(presmooth) != 2:
                raise ValueError(
                    f"presmooth must be a degree or a pair (degree_x, degree_y), got {presmooth!r}."
                )
            cx, cy = presmooth
        else:
            cx = cy = presmooth
        x_counts = loglinear_smooth(x_counts, cx).fitted
        y_counts = loglinear_smooth(y_counts, cy).fitted
    if postsmooth is not None:
        return cubic_spline_postsmooth(x_counts, y_counts, postsmooth).equated
    return equipercentile_core(x_counts, y_counts)


def se_linear(fx: npt.ArrayLike, fy: npt.ArrayLike, *, normal: bool = False) -> FloatArray:
    r"""
    Delta-method standard errors of random-groups linear equating.

    Parameters
    ----------
    fx, fy : array_like
        Counts of X and of Y scores (sample sizes are their sums).
    normal : bool, default False
        If True, use the normal-theory formula of Kolen & Brennan (2014,
        ch. 7); otherwise the general delta-method formula using the
        sample skewness and kurtosis.

    Returns
    -------
    se : ndarray of float64, shape (Kx + 1,)
        Standard error of :math:`\hat l_Y(x)` at x = 0..Kx.

    Raises
    ------
    ValueError
        If the counts are invalid or a distribution has zero variance.

    Notes
    -----
    With :math:`z = (x - \mu(X))/\sigma(X)`, skewness :math:`\gamma` and
    kurtosis :math:`\kappa` (not excess),

    .. math::

        \operatorname{var}[\hat l_Y(x)] \approx \sigma^2(Y) \left\{
        \frac{1 + z\gamma_X + z^2(\kappa_X - 1)/4}{N_X}
        + \frac{1 + z\gamma_Y + z^2(\kappa_Y - 1)/4}{N_Y}\right\},

    obtained from :math:`\operatorname{var}(\hat\mu) = \sigma^2/N`,
    :math:`\operatorname{cov}(\hat\mu, \hat\sigma) = \sigma^2 \gamma/(2N)` and
    :math:`\operatorname{var}(\hat\sigma) = \sigma^2(\kappa - 1)/(4N)`. For
    normal distributions (:math:`\gamma = 0, \kappa = 3`) it reduces to
    K&B ch. 7, :math:`\sigma^2(Y)(1/N_X + 1/N_Y)(1 + z^2/2)`.

    References
    ----------
    .. [1] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking*, 3rd ed., Springer (2014), ch. 7.

    Examples
    --------
    >>> from scoring.equating import se_linear
    >>> se_linear([10, 30, 40, 20], [20, 30, 30, 20], normal=True).round(4)
    array([0.2418, 0.1654, 0.1489, 0.2071])
    """
    x_counts = as_frequencies(fx, "fx")
    y_counts = as_frequencies(fy, "fy")
    mx = frequency_moments(x_counts)
    my = frequency_moments(y_counts)
    for name, m in (("fx", mx), ("fy", my)):
        if m.sd == 0.0:
            raise ValueError(f"{name} has zero variance; linear equating is undefined.")
    z = (np.arange(x_counts.size) - mx.mean) / mx.sd
    if normal:
        part_x = part_y = 1 + z**2 / 2
    else:
        part_x = 1 + z * mx.skewness + z**2 * (mx.kurtosis - 1) / 4
        part_y = 1 + z * my.skewness + z**2 * (my.kurtosis - 1) / 4
    var = my.sd**2 * (part_x / mx.n + part_y / my.n)
    return np.sqrt(np.maximum(var, 0.0))


def se_equipercentile(fx: npt.ArrayLike, fy: npt.ArrayLike) -> FloatArray:
    r"""
    Delta-method standard errors of unsmoothed random-groups equipercentile equating.

    Parameters
    ----------
    fx, fy : array_like
        Counts of X and of Y scores (sample sizes are their sums).

    Returns
    -------
    se : ndarray of float64, shape (Kx + 1,)
        Standard error of :math:`\hat e_Y(x)`; NaN where the percentile rank
        of x is 0 or 100 (there the equivalent is a convention).

    Notes
    -----
    Kolen & Brennan (2014), ch. 7 (Lord 1982): with :math:`q = P(x)/100`,
    :math:`g_0 = G(y_U^*) - G(y_U^* - 1)` and :math:`G_- = G(y_U^* - 1)`,

    .. math::

        \operatorname{var}[\hat e_Y(x)] \approx \frac{1}{g_0^2}\left\{
        q(1 - q)\frac{N_X + N_Y}{N_X N_Y}
        - \frac{[G(y_U^*) - q][q - G_-]}{N_Y g_0}\right\}.

    References
    ----------
    .. [1] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking*, 3rd ed., Springer (2014), ch. 7.
    .. [2] F. M. Lord, The standard error of equipercentile equating,
           *Journal of Educational Statistics* 7 (1982), 165-174.

    Examples
    --------
    >>> from scoring.equating import se_equipercentile
    >>> se_equipercentile([0, 20, 30, 30, 20], [10, 20, 30, 30, 10]).round(3)
    array([  nan, 0.212, 0.214, 0.214, 0.424])
    """
    return se_equipercentile_core(as_frequencies(fx, "fx"), as_frequencies(fy, "fy"))

