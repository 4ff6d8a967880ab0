r"""Observed-score equating in the common-item nonequivalent groups (NEAT) design.

Population P takes form X, population Q takes form Y; both take a set of
common (anchor) items V. The data are two bivariate count tables:

* ``fxv[x, v]``, shape (Kx + 1, Kv + 1): candidates of P with total x on X and
  anchor score v;
* ``fyv[y, v]``, shape (Ky + 1, Kv + 1): candidates of Q with total y on Y and
  anchor score v.

With ``anchor="internal"`` the anchor items count towards the total (so
``v <= x`` and ``x - v <= Kx - Kv``); with ``anchor="external"`` they do not.
``w1`` is the weight of P in the synthetic population (``w2 = 1 - w1``);
``None`` means proportional to the sample sizes, ``N_P / (N_P + N_Q)``.

Linear methods (Kolen & Brennan 2014, ch. 4): Tucker, Levine observed score,
Levine true score and chained linear. Equipercentile methods (ch. 5):
frequency estimation and chained equipercentile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from scoring._frozen import freeze_arrays
from scoring.equating._common import (
    FloatArray,
    LinearEquating,
    as_joint_frequencies,
    equipercentile_core,
    percentile_points,
    resolve_w1,
)
from scoring.percentiles import percentile_rank

__all__ = [
    "SyntheticDistributions",
    "SyntheticLinear",
    "chained_equipercentile",
    "chained_linear",
    "frequency_estimation",
    "levine_observed",
    "levine_true",
    "synthetic_distributions",
    "synthetic_linear",
    "tucker",
]

Anchor = Literal["internal", "external"]


@dataclass(frozen=True)
class _Moments:
    """Moments of a bivariate (total, anchor) table, population (ddof=0)."""

    n: float
    mean_x: float
    mean_v: float
    var_x: float
    var_v: float
    cov_xv: float


def _moments(table: FloatArray) -> _Moments:
    n = float(table.sum())
    p = table / n
    x = np.arange(table.shape[0], dtype=np.float64)
    v = np.arange(table.shape[1], dtype=np.float64)
    px, pv = p.sum(axis=1), p.sum(axis=0)
    mx, mv = float(px @ x), float(pv @ v)
    dx, dv = x - mx, v - mv
    return _Moments(
        n=n,
        mean_x=mx,
        mean_v=mv,
        var_x=float(px @ dx**2),
        var_v=float(pv @ dv**2),
        cov_xv=float(dx @ p @ dv),
    )


def _validate(
    fxv: npt.ArrayLike, fyv: npt.ArrayLike, anchor: str | None = None
) -> tuple[FloatArray, FloatArray]:
    """Validate the two NEAT tables (and the anchor type, if given)."""
    if anchor is not None and anchor not in ("internal", "external"):
        raise ValueError(f"anchor must be 'internal' or 'external', got {anchor!r}.")
    p = as_joint_frequencies(fxv, "fxv")
    q = as_joint_frequencies(fyv, "fyv")
    if p.shape[1] != q.shape[1]:
        raise ValueError(
            "fxv and fyv must have the same number of anchor-score columns (Kv + 1), "
            f"but have shapes {p.shape} and {q.shape}."
        )
    if anchor == "internal":
        # Cells that an internal anchor makes impossible (v > x) are not rejected: textbook
        # tables (K&B's hypothetical examples) have them and every formula is defined.
        kv = p.shape[1] - 1
        for name, table in (("fxv", p), ("fyv", q)):
            k = table.shape[0] - 1
            if kv > k:
                raise ValueError(
                    f"{name}: an internal anchor cannot have more items than the form: "
                    f"the anchor range is 0..{kv} but the total range is 0..{k}."
                )
    return p, q


def _require_anchor_variance(mp: _Moments, mq: _Moments) -> None:
    for name, m in (("fxv", mp), ("fyv", mq)):
        if m.var_v == 0.0:
            raise ValueError(
                f"{name}: the anchor scores have zero variance, so the anchor cannot "
                "relate the two populations."
            )


def _require_total_variance(mp: _Moments, mq: _Moments) -> None:
    for name, m in (("fxv", mp), ("fyv", mq)):
        if m.var_x == 0.0:
            raise ValueError(f"{name}: the total scores have zero variance.")


def _levine_gammas(mp: _Moments, mq: _Moments, anchor: str) -> tuple[float, float]:
    """Levine's gamma_1, gamma_2 (K&B ch. 4), internal or external anchor."""
    gammas = []
    for name, m in (("fxv", mp), ("fyv", mq)):
        if anchor == "internal":
            num, den = m.var_x, m.cov_xv
        else:
            num, den = m.var_x + m.cov_xv, m.var_v + m.cov_xv
        if not den > 0:
            raise ValueError(
                f"{name}: the Levine methods need a positive covariance between total and "
                f"anchor scores (got {m.cov_xv:.6g})."
            )
        gammas.append(num / den)
    return gammas[0], gammas[1]


@dataclass(frozen=True)
class SyntheticLinear:
    r"""
    Details of a synthetic-population linear method (Tucker or Levine observed score).

    Attributes
    ----------
    equating : LinearEquating
        The equating function :math:`l_{Ys}(x)`.
    w1 : float
        Weight of population P in the synthetic population.
    gamma1, gamma2 : float
        The method's :math:`\gamma_1` (P) and :math:`\gamma_2` (Q).
    mean_x, sd_x : float
        Synthetic-population mean and SD of X, :math:`\mu_s(X), \sigma_s(X)`.
    mean_y, sd_y : float
        Synthetic-population mean and SD of Y, :math:`\mu_s(Y), \sigma_s(Y)`.
    """

    equating: LinearEquating
    w1: float
    gamma1: float
    gamma2: float
    mean_x: float
    sd_x: float
    mean_y: float
    sd_y: float


def synthetic_linear(
    fxv: npt.ArrayLike,
    fyv: npt.ArrayLike,
    method: Literal["tucker", "levine"],
    w1: float | None = None,
    anchor: Anchor = "internal",
) -> SyntheticLinear:
    r"""
    Tucker or Levine observed-score equating, with the synthetic-population details.

    Parameters
    ----------
    fxv : array_like, shape (Kx + 1, Kv + 1)
        Counts of (X total, anchor score) in population P.
    fyv : array_like, shape (Ky + 1, Kv + 1)
        Counts of (Y total, anchor score) in population Q.
    method : {"tucker", "levine"}
        Which gammas to use.
    w1 : float in [0, 1], optional
        Weight of P in the synthetic population; default proportional to the
        sample sizes.
    anchor : {"internal", "external"}, default "internal"
        Whether the anchor items are part of the total scores.

    Returns
    -------
    result : SyntheticLinear

    Raises
    ------
    ValueError
        On invalid tables (shape, NaN, negative counts, anchor columns that
        differ, impossible cells for an internal anchor), an unknown
        `method` or `anchor`, `w1` outside [0, 1], zero anchor variance, a
        non-positive covariance (Levine) or a non-positive synthetic
        variance.

    Notes
    -----
    Kolen & Brennan (2014), ch. 4: with population 1 = P,
    population 2 = Q and :math:`w_2 = 1 - w_1`,

    .. math::

        \mu_s(X) &= \mu_1(X) - w_2 \gamma_1 [\mu_1(V) - \mu_2(V)] \\
        \mu_s(Y) &= \mu_2(Y) + w_1 \gamma_2 [\mu_1(V) - \mu_2(V)] \\
        \sigma_s^2(X) &= \sigma_1^2(X) - w_2 \gamma_1^2 [\sigma_1^2(V) - \sigma_2^2(V)]
            + w_1 w_2 \gamma_1^2 [\mu_1(V) - \mu_2(V)]^2 \\
        \sigma_s^2(Y) &= \sigma_2^2(Y) + w_1 \gamma_2^2 [\sigma_1^2(V) - \sigma_2^2(V)]
            + w_1 w_2 \gamma_2^2 [\mu_1(V) - \mu_2(V)]^2

    and :math:`l_{Ys}(x) = \frac{\sigma_s(Y)}{\sigma_s(X)}[x - \mu_s(X)] + \mu_s(Y)`.
    The gammas are

    * Tucker (internal or external anchor):
      :math:`\gamma_1 = \sigma_1(X, V) / \sigma_1^2(V)`,
      :math:`\gamma_2 = \sigma_2(Y, V) / \sigma_2^2(V)`;
    * Levine, internal anchor:
      :math:`\gamma_1 = \sigma_1^2(X) / \sigma_1(X, V)`,
      :math:`\gamma_2 = \sigma_2^2(Y) / \sigma_2(Y, V)`;
    * Levine, external anchor:
      :math:`\gamma_1 = [\sigma_1^2(X) + \sigma_1(X, V)] / [\sigma_1^2(V) + \sigma_1(X, V)]`,
      and likewise :math:`\gamma_2` in Q.

    All moments are population moments (divisor N).

    References
    ----------
    .. [1] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking*, 3rd ed., Springer (2014), ch. 4.
    """
    if method not in ("tucker", "levine"):
        raise ValueError(f"method must be 'tucker' or 'levine', got {method!r}.")
    p, q = _validate(fxv, fyv, anchor)
    mp, mq = _moments(p), _moments(q)
    weight1 = resolve_w1(w1, mp.n, mq.n)
    weight2 = 1.0 - weight1
    _require_anchor_variance(mp, mq)
    _require_total_variance(mp, mq)
    if method == "tucker":
        g1, g2 = mp.cov_xv / mp.var_v, mq.cov_xv / mq.var_v
    else:
        g1, g2 = _levine_gammas(mp, mq, anchor)
    dmean = mp.mean_v - mq.mean_v
    dvar = mp.var_v - mq.var_v
    mean_x = mp.mean_x - weight2 * g1 * dmean
    mean_y = mq.mean_x + weight1 * g2 * dmean
    var_x = mp.var_x - weight2 * g1**2 * dvar + weight1 * weight2 * g1**2 * dmean**2
    var_y = mq.var_x + weight1 * g2**2 * dvar + weight1 * weight2 * g2**2 * dmean**2
    for name, var in (("X", var_x), ("Y", var_y)):
        if not var > 0:
            raise ValueError(
                f"the synthetic variance of {name} is {var:.6g} (not positive); the "
                "populations are too different for this method and weight."
            )
    sd_x, sd_y = math.sqrt(var_x), math.sqrt(var_y)
    slope = sd_y / sd_x
    return SyntheticLinear(
        equating=LinearEquating(slope, mean_y - slope * mean_x),
        w1=weight1,
        gamma1=g1,
        gamma2=g2,
        mean_x=mean_x,
        sd_x=sd_x,
        mean_y=mean_y,
        sd_y=sd_y,
    )


def tucker(
    fxv: npt.ArrayLike,
    fyv: npt.ArrayLike,
    w1: float | None = None,
    anchor: Anchor = "internal",
) -> LinearEquating:
    r"""
    Tucker linear equating (NEAT design).

    Parameters
    ----------
    fxv : array_like, shape (Kx + 1, Kv + 1)
        Counts of (X total, anchor score) in population P.
    fyv : array_like, shape (Ky + 1, Kv + 1)
        Counts of (Y total, anchor score) in population Q.
    w1 : float in [0, 1], optional
        Weight of P in the synthetic population; default
        :math:`N_P / (N_P + N_Q)`.
    anchor : {"internal", "external"}, default "internal"
        Whether the anchor items are part of the total scores (the Tucker
        gammas are the same for both; the argument is validated and used to
        check the tables).

    Returns
    -------
    equating : LinearEquating

    Raises
    ------
    ValueError
        See `synthetic_linear`.

    Notes
    -----
    Kolen & Brennan (2014), ch. 4 with the regression slopes
    :math:`\gamma_1 = \sigma_1(X,V)/\sigma_1^2(V)` and
    :math:`\gamma_2 = \sigma_2(Y,V)/\sigma_2^2(V)`; see
    `synthetic_linear` for the formulas and the synthetic moments.

    References
    ----------
    .. [1] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking*, 3rd ed., Springer (2014), ch. 4.

    Examples
    --------
    Identical populations and forms give the identity:

    >>> from scoring.equating import tucker
    >>> table = [[3, 0], [4, 2], [1, 5], [0, 3]]
    >>> tucker(table, table, anchor="external")
    LinearEquating(slope=1.0, intercept=0.0)
    """
    return synthetic_linear(fxv, fyv, "tucker", w1, anchor).equating


def levine_observed(
    fxv: npt.ArrayLike,
    fyv: npt.ArrayLike,
    w1: float | None = None,
    anchor: Anchor = "internal",
) -> LinearEquating:
    r"""
    Levine observed-score linear equating under a classical congeneric model (NEAT).

    Parameters
    ----------
    fxv, fyv, w1, anchor
        As for `tucker`.

    Returns
    -------
    equating : LinearEquating

    Raises
    ------
    ValueError
        See `synthetic_linear`; also when a total-anchor covariance is not
        positive.

    Notes
    -----
    Kolen & Brennan (2014), ch. 4 with Levine's gammas: internal
    anchor :math:`\gamma_1 = \sigma_1^2(X)/\sigma_1(X,V)`,
    :math:`\gamma_2 = \sigma_2^2(Y)/\sigma_2(Y,V)`;
    external anchor
    :math:`\gamma_1 = [\sigma_1^2(X) + \sigma_1(X,V)]/[\sigma_1^2(V) + \sigma_1(X,V)]`,
    :math:`\gamma_2 = [\sigma_2^2(Y) + \sigma_2(Y,V)]/[\sigma_2^2(V) + \sigma_2(Y,V)]`
    (Levine's formulas for a congeneric model).

    References
    ----------
    .. [1] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking*, 3rd ed., Springer (2014), ch. 4.
    .. [2] R. Levine, *Equating the score scales of alternate forms
           administered to samples of different ability*, ETS Research
           Bulletin 55-23 (1955).

    Examples
    --------
    >>> from scoring.equating import levine_observed
    >>> p = [[3, 0], [4, 2], [1, 5], [0, 3]]
    >>> q = [[2, 0], [3, 2], [2, 6], [0, 5]]
    >>> lin = levine_observed(p, q, w1=1.0)
    >>> round(lin.slope, 4), round(lin.intercept, 4)
    (1.0668, -0.0902)
    """
    return synthetic_linear(fxv, fyv, "levine", w1, anchor).equating


def levine_true(
    fxv: npt.ArrayLike,
    fyv: npt.ArrayLike,
    anchor: Anchor = "internal",
) -> LinearEquating:
    r"""
    Levine true-score linear equating (NEAT design), applied to observed scores.

    Parameters
    ----------
    fxv, fyv, anchor
        As for `tucker`. No synthetic population is involved, so there is no
        weight.

    Returns
    -------
    equating : LinearEquating

    Raises
    ------
    ValueError
        See `synthetic_linear`.

    Notes
    -----
    Kolen & Brennan (2014), ch. 4 (with the gammas of `levine_observed`):

    .. math::

        l_Y(x) = \frac{\gamma_2}{\gamma_1}[x - \mu_1(X)] + \mu_2(Y)
                 + \gamma_2 [\mu_1(V) - \mu_2(V)].

    References
    ----------
    .. [1] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking*, 3rd ed., Springer (2014), ch. 4.

    Examples
    --------
    >>> from scoring.equating import levine_true
    >>> table = [[3, 0], [4, 2], [1, 5], [0, 3]]
    >>> levine_true(table, table, anchor="external")
    LinearEquating(slope=1.0, intercept=0.0)
    """
    p, q = _validate(fxv, fyv, anchor)
    mp, mq = _moments(p), _moments(q)
    _require_anchor_variance(mp, mq)
    _require_total_variance(mp, mq)
    g1, g2 = _levine_gammas(mp, mq, anchor)
    slope = g2 / g1
    intercept = mq.mean_x + g2 * (mp.mean_v - mq.mean_v) - slope * mp.mean_x
    return LinearEquating(slope, intercept)


def chained_linear(fxv: npt.ArrayLike, fyv: npt.ArrayLike) -> LinearEquating:
    r"""
    Chained linear equating (NEAT design).

    Parameters
    ----------
    fxv : array_like, shape (Kx + 1, Kv + 1)
        Counts of (X total, anchor score) in population P.
    fyv : array_like, shape (Ky + 1, Kv + 1)
        Counts of (Y total, anchor score) in population Q.

    Returns
    -------
    equating : LinearEquating

    Raises
    ------
    ValueError
        On invalid tables or zero variance of a total or anchor score.

    Notes
    -----
    Kolen & Brennan (2014), ch. 4: X is linked linearly to V in P, and V
    to Y in Q,

    .. math::

        l_Y(x) = \mu_2(Y) + \frac{\sigma_2(Y)}{\sigma_2(V)}\left\{
        \mu_1(V) - \mu_2(V) + \frac{\sigma_1(V)}{\sigma_1(X)}[x - \mu_1(X)]
        \right\}.

    Whether the anchor is internal or external does not matter.

    References
    ----------
    .. [1] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking*, 3rd ed., Springer (2014), ch. 4.

    Examples
    --------
    >>> from scoring.equating import chained_linear
    >>> p = [[3, 0], [4, 2], [1, 5], [0, 3]]
    >>> q = [[2, 0], [3, 2], [2, 6], [0, 5]]
    >>> lin = chained_linear(p, q)
    >>> round(lin.slope, 4), round(lin.intercept, 4)
    (1.0091, 0.1028)
    """
    p, q = _validate(fxv, fyv)
    mp, mq = _moments(p), _moments(q)
    _require_anchor_variance(mp, mq)
    _require_total_variance(mp, mq)
    to_y = math.sqrt(mq.var_x / mq.var_v)
    slope = to_y * math.sqrt(mp.var_v / mp.var_x)
    intercept = mq.mean_x + to_y * (mp.mean_v - mq.mean_v) - slope * mp.mean_x
    return LinearEquating(slope, intercept)


@dataclass(frozen=True, eq=False)
class SyntheticDistributions:
    """
    Synthetic-population score distributions of frequency estimation.

    Attributes
    ----------
    fx : ndarray of float64, shape (Kx + 1,)
        :math:`f_s(x) = w_1 f_1(x) + w_2 f_2(x)`, proportions summing to 1.
    fy : ndarray of float64, shape (Ky + 1,)
        :math:`g_s(y) = w_1 g_1(y) + w_2 g_2(y)`, proportions summing to 1.
    w1 : float
        Weight of population P.
    """

    fx: FloatArray
    fy: FloatArray
    w1: float

    def __post_init__(self) -> None:
        freeze_arrays(self)


def _transfer(own: FloatArray, other_anchor: FloatArray, name: str) -> FloatArray:
    """Distribution of the total in the other population: sum_v f(x|v) h_other(v)."""
    p = own / own.sum()
    h_own = p.sum(axis=0)
    seen = h_own > 0
    weight = np.where(seen, other_anchor, 0.0)
    if not weight.sum() > 0:
        raise ValueError(
            f"{name}: no anchor score observed in this population is observed in the other "
            "one, so the conditional distributions cannot be transferred."
        )
    conditional = np.divide(p, h_own, out=np.zeros_like(p), where=seen)
    return conditional @ (weight / weight.sum())


def synthetic_distributions(
    fxv: npt.ArrayLike, fyv: npt.ArrayLike, w1: float | None = None
) -> SyntheticDistributions:
    r"""
    Frequency-estimation synthetic distributions of X and Y (NEAT design).

    Parameters
    ----------
    fxv : array_like, shape (Kx + 1, Kv + 1)
        Counts of (X total, anchor score) in population P.
    fyv : array_like, shape (Ky + 1, Kv + 1)
        Counts of (Y total, anchor score) in population Q.
    w1 : float in [0, 1], optional
        Weight of P; default :math:`N_P / (N_P + N_Q)`.

    Returns
    -------
    result : SyntheticDistributions

    Raises
    ------
    ValueError
        On invalid tables, `w1` outside [0, 1], or anchors with no score
        observed in both populations.

    Notes
    -----
    Kolen & Brennan (2014), ch. 5. Assuming the conditional
    distribution of each total given the anchor score is the same in both
    populations, :math:`f_2(x) = \sum_v f_1(x \mid v) h_2(v)` and
    :math:`g_1(y) = \sum_v g_2(y \mid v) h_1(v)`, where :math:`h_1, h_2` are
    the anchor distributions in P and Q; then
    :math:`f_s = w_1 f_1 + w_2 f_2` and :math:`g_s = w_1 g_1 + w_2 g_2`.

    Anchor scores with zero frequency in one population: the conditional
    distribution given such a score is unknown there, so the other
    population's anchor probability at that score is dropped and the
    remaining anchor probabilities are renormalised before the sum
    (equivalently, those candidates are assumed to be distributed like the
    candidates with observed anchor scores). This only matters for sparse
    tables; presmoothing would avoid it.

    References
    ----------
    .. [1] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking*, 3rd ed., Springer (2014), ch. 5.
    """
    p, q = _validate(fxv, fyv)
    weight1 = resolve_w1(w1, float(p.sum()), float(q.sum()))
    h1 = p.sum(axis=0) / p.sum()
    h2 = q.sum(axis=0) / q.sum()
    f1 = p.sum(axis=1) / p.sum()
    g2 = q.sum(axis=1) / q.sum()
    f2 = _transfer(p, h2, "fxv")
    g1 = _transfer(q, h1, "fyv")
    return SyntheticDistributions(
        fx=weight1 * f1 + (1 - weight1) * f2,
        fy=weight1 * g1 + (1 - weight1) * g2,
        w1=weight1,
    )


def frequency_estimation(
    fxv: npt.ArrayLike, fyv: npt.ArrayLike, w1: float | None = None
) -> FloatArray:
    r"""
    Frequency-estimation equipercentile equating (NEAT design).

    Parameters
    ----------
    fxv : array_like, shape (Kx + 1, Kv + 1)
        Counts of (X total, anchor score) in population P.
    fyv : array_like, shape (Ky + 1, Kv + 1)
        Counts of (Y total, anchor score) in population Q.
    w1 : float in [0, 1], optional
        Weight of P; default :math:`N_P / (N_P + N_Q)`.

    Returns
    -------
    equated : ndarray of float64, shape (Kx + 1,)
        :math:`e_{Ys}(x)` for x = 0..Kx.

    Raises
    ------
    ValueError
        See `synthetic_distributions`.

    Notes
    -----
    The equipercentile function (Kolen & Brennan 2014, eq. 2.18, see
    `equipercentile` for the conventions) between the synthetic
    distributions :math:`f_s` and :math:`g_s` of `synthetic_distributions`
    (K&B ch. 5), unsmoothed. Anchor scores observed in
    only one population are handled as described there.

    References
    ----------
    .. [1] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking*, 3rd ed., Springer (2014), ch. 5.

    Examples
    --------
    >>> from scoring.equating import frequency_estimation
    >>> table = [[3, 0], [4, 2], [1, 5], [0, 3]]
    >>> frequency_estimation(table, table).round(6) + 0.0  # + 0.0 turns -0.0 into 0.0
    array([0., 1., 2., 3.])
    """
    synthetic = synthetic_distributions(fxv, fyv, w1)
    return equipercentile_core(np.asarray(synthetic.fx), np.asarray(synthetic.fy))


def chained_equipercentile(fxv: npt.ArrayLike, fyv: npt.ArrayLike) -> FloatArray:
    r"""
    Chained equipercentile equating (NEAT design).

    Parameters
    ----------
    fxv : array_like, shape (Kx + 1, Kv + 1)
        Counts of (X total, anchor score) in population P.
    fyv : array_like, shape (Ky + 1, Kv + 1)
        Counts of (Y total, anchor score) in population Q.

    Returns
    -------
    equated : ndarray of float64, shape (Kx + 1,)
        :math:`e_Y(x) = e_{Y2}[e_{V1}(x)]` for x = 0..Kx.

    Raises
    ------
    ValueError
        On invalid tables.

    Notes
    -----
    Kolen & Brennan (2014), ch. 5 (Angoff's design V): X is equated to V
    by equipercentile equating in P, giving the generally non-integer
    :math:`e_{V1}(x)`; its percentile rank in Q's anchor distribution is
    computed with the non-integer form of eq. 2.14, and converted to Y in Q
    with eq. 2.18:
    :math:`e_Y(x) = P_{Y2}^{-1}\{P_{V2}[P_{V1}^{-1}(P_{X1}(x))]\}`.
    Unsmoothed; the end conventions are those of `equipercentile`.

    References
    ----------
    .. [1] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking*, 3rd ed., Springer (2014), ch. 5.

    Examples
    --------
    >>> from scoring.equating import chained_equipercentile
    >>> table = [[3, 0], [4, 2], [1, 5], [0, 3]]
    >>> chained_equipercentile(table, table).round(6) + 0.0  # + 0.0 turns -0.0 into 0.0
    array([0., 1., 2., 3.])
    """
    p, q = _validate(fxv, fyv)
    on_anchor = equipercentile_core(p.sum(axis=1), p.sum(axis=0))
    ranks = percentile_rank(on_anchor, q.sum(axis=0)) / 100.0
    return percentile_points(ranks, q.sum(axis=1))
