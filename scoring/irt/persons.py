"""Ability estimates for candidates with known item parameters: MLE, WLE and EAP.

All three work for the 3PL model and its special cases (2PL, Rasch). They are
vectorised over candidates: candidates with the same answered items and the same
responses (or, under a Rasch-family model, the same score on the same answered
items, a sufficient statistic) are estimated once, and Newton-type iterations run
on all of them at once, so for a complete Rasch test the work is a score-to-theta
table. Not-answered responses (-1) are left out of the likelihood (missing, not
wrong).

References
----------
Lord, F. M. (1980). *Applications of Item Response Theory to Practical Testing
Problems*. Erlbaum.

Warm, T. A. (1989). Weighted likelihood estimation of ability in item response
theory. *Psychometrika*, 54, 427-450.

Bock, R. D. & Mislevy, R. J. (1982). Adaptive EAP estimation of ability in a
microcomputer environment. *Applied Psychological Measurement*, 6, 431-444.

Baker, F. B. & Kim, S.-H. (2004). *Item Response Theory: Parameter Estimation
Techniques* (2nd ed.). Marcel Dekker, ch. 3 and 7.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from scoring.irt._data import (
    BoolArray,
    FloatArray,
    Groups,
    freeze,
    group_candidates,
    validate_responses,
)
from scoring.irt.model import ItemParameters

__all__ = ["AbilityEstimates", "estimate_abilities"]

Method = Literal["mle", "wle", "eap"]


@dataclass(frozen=True, eq=False)
class AbilityEstimates:
    """Result of `estimate_abilities`.

    Attributes
    ----------
    method : str
        ``"mle"``, ``"wle"`` or ``"eap"``.
    theta : ndarray, shape (n_candidates,)
        Ability estimates, all finite.
    se : ndarray, shape (n_candidates,)
        Standard errors: ``1 / sqrt(I(theta))`` for MLE and WLE, the posterior
        standard deviation for EAP.
    extreme : ndarray of bool, shape (n_candidates,)
        True for a zero or perfect score on the items answered (also True for a
        candidate who answered nothing, EAP only).
    n_iterations : int
        Iterations of the solver (0 for EAP).
    converged : bool
        True when every candidate's estimate met the tolerance.

    Notes
    -----
    Instances compare by identity (``eq=False``).
    """

    method: str
    theta: FloatArray
    se: FloatArray
    extreme: BoolArray
    n_iterations: int
    converged: bool

    def __post_init__(self) -> None:
        freeze(self)


class _Model:
    """3PL quantities at one ability per group: P, score, information, Warm's J."""

    def __init__(self, items: ItemParameters) -> None:
        self.da = items.D * items.a
        self.b = items.b
        self.c = items.c
        self.rasch_family = bool(np.all(items.c == 0) and np.ptp(self.da) == 0)
        # log c with a harmless placeholder where c = 0 (those entries are not used).
        self.log_c = np.log(np.where(self.c > 0, self.c, 1.0))
        self.log_1m_c = np.log1p(-self.c)
        self.has_guessing = bool(np.any(self.c > 0))

    def terms(
        self, theta: FloatArray, right: FloatArray, observed: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        z = self.da * (theta[:, None] - self.b)
        log_sig = -np.logaddexp(0.0, -z)
        log_1m_sig = -np.logaddexp(0.0, z)
        log_p = np.where(
            self.c > 0, np.logaddexp(self.log_c, self.log_1m_c + log_sig), log_sig
        )
        log_q = self.log_1m_c + log_1m_sig
        sig = np.exp(log_sig)
        p = np.exp(log_p)
        # P' / (P Q) = D a sigma / P; I = sum P'^2 / (P Q); J = sum P' P'' / (P Q)
        ratio = np.exp(log_sig - log_p)
        score = (observed * (right - p) * self.da * ratio).sum(axis=1)
        common = observed * (1.0 - self.c) * self.da**2 * sig * ratio * (1.0 - sig)
        info = common.sum(axis=1)
        j = (common * self.da * (1.0 - 2 * sig)).sum(axis=1)
        loglik = (observed * (right * log_p + (1.0 - right) * log_q)).sum(axis=1)
        return score, info, j, loglik


def _solve(
    model: _Model,
    groups: Groups,
    active: BoolArray,
    start: FloatArray,
    lower: float,
    upper: float,
    weighted: bool,
    tol: float,
    max_iter: int,
) -> tuple[FloatArray, int, bool]:
    """Root of the (weighted) likelihood equation on `active` groups, inside [lower, upper].

    MLE: ``f = S(theta)``; WLE: ``f = S(theta) + J(theta) / (2 I(theta))`` (Warm 1989,
    eq. 10). A bracket ``f(lo) > 0 > f(hi)`` is kept for every group and refined by
    Newton steps (derivative by central differences), falling back to bisection when a
    step leaves the bracket (Press et al.'s ``rtsafe``), so convergence is guaranteed.
    Under the 3PL ``f`` may have several roots; a grid scan then picks the bracket with
    the largest (weighted) likelihood. Where ``f`` has one sign over the whole interval
    the estimate is the bound it points to.
    """
    theta = start.copy()
    right = groups.mean_right[active]
    observed = groups.observed[active]
    if right.shape[0] == 0:
        return theta, 0, True

    def f(t: FloatArray) -> tuple[FloatArray, FloatArray]:
        score, info, j, loglik = model.terms(t, right, observed)
        info = np.maximum(info, 1e-300)
        if weighted:
            return score + 0.5 * j / info, loglik + 0.5 * np.log(info)
        return score, loglik

    m = right.shape[0]
    if model.has_guessing:
        grid = np.linspace(lower, upper, 49)
        values = np.empty((m, grid.size))
        objective = np.empty((m, grid.size))
        for k, point in enumerate(grid):
            values[:, k], objective[:, k] = f(np.full(m, point))
        crossing = (values[:, :-1] > 0) & (values[:, 1:] <= 0)
        score_mid = np.where(crossing, 0.5 * (objective[:, :-1] + objective[:, 1:]), -np.inf)
        best = score_mid.argmax(axis=1)
        found = crossing.any(axis=1)
        lo = np.where(found, grid[best], lower)
        hi = np.where(found, grid[best + 1], upper)
        f_lower, f_upper = values[:, 0], values[:, -1]
    else:
        lo = np.full(m, lower)
        hi = np.full(m, upper)
        f_lower = f(lo)[0]
        f_upper = f(hi)[0]
        found = (f_lower > 0) & (f_upper < 0)
    # No sign change: the function points to one bound over the whole interval.
    fixed = np.where(f_upper >= 0, upper, lower)
    t = np.where(found, np.clip(theta[active], lo, hi), fixed)
    t = np.where(found & ((t <= lo) | (t >= hi)), 0.5 * (lo + hi), t)
    done = ~found
    iterations = 0
    h = 1e-6
    for iteration in range(1, max_iter + 1):
        iterations = iteration
        value = f(t)[0]
        slope = (f(t + h)[0] - f(t - h)[0]) / (2 * h)
        lo = np.where(value > 0, t, lo)
        hi = np.where(value > 0, hi, t)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = t - value / slope
        small = np.abs(newton - t) < tol  # also catches an exact root (value == 0)
        bisect = (slope >= 0) | ~(newton >= lo) | ~(newton <= hi) | ~np.isfinite(newton)
        new = np.where(bisect & ~small, 0.5 * (lo + hi), newton)
        new = np.where(done, t, new)
        done = done | (small & ~bisect) | (hi - lo < tol)
        t = new
        if done.all():
            break
    theta[active] = t
    return theta, iterations, bool(done.all())


def _eap(
    model: _Model,
    groups: Groups,
    n_points: int,
    prior_mean: float,
    prior_sd: float,
) -> tuple[FloatArray, FloatArray]:
    nodes = prior_mean + prior_sd * np.linspace(-6.0, 6.0, n_points)
    log_prior = -0.5 * ((nodes - prior_mean) / prior_sd) ** 2
    z = model.da * (nodes[:, None] - model.b)
    log_sig = -np.logaddexp(0.0, -z)
    log_1m_sig = -np.logaddexp(0.0, z)
    if np.any(model.c > 0):
        with np.errstate(divide="ignore"):
            log_p = np.logaddexp(np.log(model.c), np.log1p(-model.c) + log_sig)
        log_q = np.log1p(-model.c) + log_1m_sig
    else:
        log_p, log_q = log_sig, log_1m_sig
    right = groups.mean_right * groups.observed
    wrong = groups.observed - right
    ell = right @ log_p.T + wrong @ log_q.T + log_prior
    ell -= ell.max(axis=1, keepdims=True)
    post = np.exp(ell)
    post /= post.sum(axis=1, keepdims=True)
    mean = post @ nodes
    var = post @ nodes**2 - mean**2
    return mean, np.sqrt(np.maximum(var, 0.0))


def estimate_abilities(
    responses: npt.ArrayLike,
    items: ItemParameters,
    method: Method = "wle",
    *,
    bounds: tuple[float, float] = (-6.0, 6.0),
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    n_points: int = 121,
    tol: float = 1e-10,
    max_iter: int = 200,
) -> AbilityEstimates:
    """Estimate abilities (theta) and their standard errors from responses.

    Parameters
    ----------
    responses : array_like, shape (n_candidates, n_items) or (n_items,)
        1 right, 0 wrong, -1 not answered (left out, not scored wrong). A 1-D
        array is one candidate.
    items : ItemParameters
        Parameters of the same items, in the same order.
    method : {"mle", "wle", "eap"}
        Maximum likelihood, Warm's weighted likelihood, or expected a posteriori.
    bounds : (float, float)
        Interval searched by MLE and WLE. The MLE of a zero (perfect) score is
        ``-inf`` (``+inf``); it is reported as the lower (upper) bound. WLE roots
        outside the interval are clamped to it.
    prior_mean, prior_sd : float
        Normal prior for EAP.
    n_points : int
        EAP: number of equally spaced points on prior mean +- 6 prior SDs.
    tol : float
        MLE/WLE: convergence tolerance on the change of theta.
    max_iter : int
        MLE/WLE: maximum number of iterations.

    Returns
    -------
    AbilityEstimates

    Raises
    ------
    ValueError
        Invalid codes or NaN; a number of items different from `items`; an unknown
        method; invalid bounds or prior; for MLE and WLE, candidates who answered no
        item (named by row).

    Notes
    -----
    With ``P_i`` the 3PL response function (Lord 1980, eq. 2-1), ``P_i'`` its
    derivative and ``Q_i = 1 - P_i``, summing over the answered items:

    * MLE solves ``S(theta) = sum_i (x_i - P_i) P_i' / (P_i Q_i) = 0`` (Lord 1980,
      eq. 5-19) by Fisher scoring with step halving; SE ``= 1 / sqrt(I(theta))``,
      ``I = sum_i P_i'^2 / (P_i Q_i)`` (eq. 5-9), evaluated at the bound for zero and
      perfect scores. The estimate is the maximiser on `bounds`.
    * WLE solves ``S(theta) + J(theta) / (2 I(theta)) = 0`` with
      ``J = sum_i P_i' P_i'' / (P_i Q_i)`` (Warm 1989, eq. 10); it is finite for
      zero and perfect scores. SE ``= 1 / sqrt(I(theta))``.
    * EAP is the posterior mean under a normal prior, ``sum_q X_q L(X_q) g(X_q) /
      sum_q L(X_q) g(X_q)``, with the posterior standard deviation as SE (Bock &
      Mislevy 1982). Equally spaced points are used rather than Gauss-Hermite ones
      because the posterior of a long test is much narrower than the prior; the
      default spacing is 0.1 prior SD. A candidate who answered nothing gets the
      prior mean and SD.

    References
    ----------
    Lord (1980); Warm (1989); Bock & Mislevy (1982); Baker & Kim (2004).

    Examples
    --------
    >>> items = ItemParameters.create(b=[-1.0, 0.0, 1.0])
    >>> est = estimate_abilities([[0, 1, 0], [1, 1, 1]], items, method="mle")
    >>> est.theta.round(4).tolist(), est.extreme.tolist()
    ([-0.8029, 6.0], [False, True])
    >>> est = estimate_abilities([[1, 1, 1], [0, 0, 0]], items, method="wle")
    >>> est.theta.round(4).tolist()
    [2.2947, -2.2947]
    """
    if method not in ("mle", "wle", "eap"):
        raise ValueError(f"method must be 'mle', 'wle' or 'eap', got {method!r}")
    if not isinstance(items, ItemParameters):
        raise ValueError(f"items must be ItemParameters, got {type(items).__name__}")
    lower, upper = (float(v) for v in bounds)
    if not (np.isfinite(lower) and np.isfinite(upper) and lower < upper):
        raise ValueError(f"bounds must be two finite numbers, lower < upper, got {bounds!r}")
    if not (np.isfinite(prior_mean) and np.isfinite(prior_sd) and prior_sd > 0):
        raise ValueError(
            f"prior_mean must be finite and prior_sd positive, got {prior_mean!r}, {prior_sd!r}"
        )
    if isinstance(n_points, bool) or not isinstance(n_points, int | np.integer) or n_points < 3:
        raise ValueError(f"n_points must be an integer >= 3, got {n_points!r}")
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be positive, got {tol!r}")
    if not (isinstance(max_iter, int | np.integer) and max_iter >= 1):
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    data = validate_responses(responses, allow_1d=True, min_items=1)
    if data.n_items != items.n_items:
        raise ValueError(
            f"responses has {data.n_items} items (columns) but items has {items.n_items}"
        )
    answered = data.n_answered()
    scores = data.scores()
    extreme = (scores == 0) | (scores == answered)
    if method != "eap" and np.any(answered == 0):
        rows = np.flatnonzero(answered == 0)
        shown = ", ".join(str(int(r)) for r in rows[:10])
        raise ValueError(
            f"responses: candidates [{shown}{', ...' if rows.size > 10 else ''}] "
            f"({rows.size} in total, 0-based rows) answered no item; {method.upper()} is "
            "undefined for them (EAP returns the prior)."
        )

    model = _Model(items)
    groups = group_candidates(data, by_score=model.rasch_family)
    g_answered = groups.observed.sum(axis=1)
    g_score = groups.scores()
    g_zero = g_score < 0.5
    g_perfect = g_score > g_answered - 0.5
    iterations = 0
    converged = True
    if method == "eap":
        theta_g, se_g = _eap(model, groups, int(n_points), float(prior_mean), float(prior_sd))
    else:
        # Start from the logit of the proportion right, shrunk away from 0 and 1.
        prop = (g_score + 0.5) / (g_answered + 1.0)
        start = np.clip(np.log(prop / (1 - prop)) + np.average(items.b), lower, upper)
        if method == "mle":
            active = ~(g_zero | g_perfect)
            start = np.where(g_zero, lower, np.where(g_perfect, upper, start))
        else:
            active = np.ones(groups.n_groups, dtype=bool)
        theta_g, iterations, converged = _solve(
            model, groups, active, start, lower, upper, method == "wle", tol, int(max_iter)
        )
        info = model.terms(theta_g, groups.mean_right, groups.observed)[1]
        se_g = 1.0 / np.sqrt(np.maximum(info, 1e-300))
    return AbilityEstimates(
        method=method,
        theta=theta_g[groups.inverse],
        se=se_g[groups.inverse],
        extreme=extreme,
        n_iterations=int(iterations),
        converged=bool(converged),
    )
