"""Marginal maximum likelihood estimation of 2PL and 3PL item parameters.

Abilities are integrated out against a standard normal distribution with
Gauss-Hermite quadrature (Bock & Aitkin 1981). The marginal log-likelihood of
the responses is

    log L = sum_v log sum_q w_q prod_i P_i(X_q)^{x_vi} (1 - P_i(X_q))^{1 - x_vi}

over candidates ``v``, quadrature nodes ``X_q`` with weights ``w_q`` and the items
``i`` each candidate answered. Its gradient is the gradient of the expected
complete-data log-likelihood of the Bock-Aitkin E-step (Fisher's identity),

    d log L / d xi_i = sum_q [(r_iq - n_iq P_iq) / (P_iq (1 - P_iq))] dP_iq / d xi_i,

with ``n_iq`` the expected number of candidates at node ``q`` who answered item
``i`` and ``r_iq`` the expected number of them who answered it right (Bock &
Aitkin 1981, eqs. 20-22; Baker & Kim 2004, ch. 6). Rather than alternating E
and M steps, which converges linearly, the marginal likelihood is maximised
directly by a quasi-Newton method (L-BFGS) using that exact gradient, then
polished by Newton steps with the observed information (the Hessian of the
marginal log-likelihood: by central differences of the exact gradient for the
2PL and 3PL; analytic, by Louis's (1982) identity, for the difficulties of the
Rasch models used by `scoring.irt.fit_rasch`). The standard errors are the
square roots of the diagonal of its inverse.

Not-answered responses (-1) are treated as missing: they are left out of the
candidate's likelihood rather than scored wrong. The estimates are on the
logistic metric with ``D = 1`` unless another ``D`` is requested.

References
----------
Bock, R. D. & Aitkin, M. (1981). Marginal maximum likelihood estimation of item
parameters: application of an EM algorithm. *Psychometrika*, 46, 443-459.

Baker, F. B. & Kim, S.-H. (2004). *Item Response Theory: Parameter Estimation
Techniques* (2nd ed.). Marcel Dekker.

Louis, T. A. (1982). Finding the observed information matrix when using the EM
algorithm. *Journal of the Royal Statistical Society B*, 44, 226-233.

Mislevy, R. J. (1986). Bayes modal estimation in item response models.
*Psychometrika*, 51, 177-195.

Zimowski, M. F., Muraki, E., Mislevy, R. J. & Bock, R. D. (2003). *BILOG-MG 3*.
Scientific Software International.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import expit, logit, ndtri

from scoring.irt._data import (
    FloatArray,
    Groups,
    Responses,
    check_item_variance,
    freeze,
    group_candidates,
    validate_responses,
)
from scoring.irt.model import ItemParameters, normal_quadrature

__all__ = ["MarginalFit", "fit_2pl", "fit_3pl"]

Model = Literal["rasch", "rasch_common", "2pl", "3pl"]

# Box constraints that keep the optimiser away from overflow; an estimate on a
# bound means the data do not determine that parameter (reported as not converged).
_B_BOUND = 30.0
_LOG_A_BOUNDS = (np.log(0.01), np.log(50.0))
_LOGIT_C_BOUNDS = (-25.0, 10.0)


@dataclass(frozen=True, eq=False)
class MarginalFit:
    """Result of `fit_2pl` and `fit_3pl`.

    Attributes
    ----------
    items : ItemParameters
        Estimated parameters (``c = 0`` for the 2PL).
    a_se, b_se, c_se : ndarray
        Standard errors from the observed information; 0 for a parameter held
        fixed (``c`` in the 2PL).
    loglik : float
        Marginal log-likelihood at the estimates.
    log_posterior : float
        ``loglik`` plus the log prior density of the ``c`` parameters (equal to
        ``loglik`` without a prior).
    n_iterations : int
        Quasi-Newton iterations plus Newton polishing steps.
    converged : bool
        True when the gradient vanished (relative to the number of candidates)
        and the observed information is positive definite.
    n_quadrature : int
        Number of Gauss-Hermite points.

    Notes
    -----
    Instances compare by identity (``eq=False``).
    """

    items: ItemParameters
    a_se: FloatArray
    b_se: FloatArray
    c_se: FloatArray
    loglik: float
    log_posterior: float
    n_iterations: int
    converged: bool
    n_quadrature: int

    def __post_init__(self) -> None:
        freeze(self)


@dataclass(frozen=True)
class _Solution:
    a: FloatArray
    b: FloatArray
    c: FloatArray
    cov: FloatArray  # covariance of the natural parameters (b, a, c) that were free
    loglik: float
    log_prior: float
    n_iterations: int
    converged: bool


class _Problem:
    """Marginal likelihood of one model on grouped responses."""

    def __init__(
        self,
        groups: Groups,
        model: Model,
        n_quadrature: int,
        D: float,
        fixed_a: float,
        c_prior: tuple[float, float] | None,
    ) -> None:
        self.groups = groups
        self.model = model
        self.D = float(D)
        self.fixed_a = float(fixed_a)
        self.c_prior = c_prior
        self.nodes, weights = normal_quadrature(n_quadrature)
        self.log_w = np.log(weights)
        self.n_items = groups.observed.shape[1]
        self.total = float(groups.counts.sum())
        self.right = groups.mean_right * groups.observed
        self.wrong = groups.observed - self.right
        n = self.n_items
        self.n_a = {"rasch": 0, "rasch_common": 1, "2pl": n, "3pl": n}[model]
        self.n_c = n if model == "3pl" else 0

    # -- parameter vectors -------------------------------------------------
    # "natural" vector: b, then a (0, 1 or n values), then c (0 or n values).
    def split(self, phi: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        n = self.n_items
        b = phi[:n]
        if self.n_a == 0:
            a = np.full(n, self.fixed_a)
        else:
            a = np.broadcast_to(phi[n : n + self.n_a], (n,)).astype(float)
        c = phi[n + self.n_a :] if self.n_c else np.zeros(n)
        return a, b, c

    def to_free(self, phi: FloatArray) -> FloatArray:
        n = self.n_items
        parts = [phi[:n]]
        if self.n_a:
            parts.append(np.log(phi[n : n + self.n_a]))
        if self.n_c:
            parts.append(logit(phi[n + self.n_a :]))
        return np.concatenate(parts)

    def to_natural(self, x: FloatArray) -> FloatArray:
        n = self.n_items
        parts = [x[:n]]
        if self.n_a:
            parts.append(np.exp(x[n : n + self.n_a]))
        if self.n_c:
            parts.append(expit(x[n + self.n_a :]))
        return np.concatenate(parts)

    def bounds(self) -> list[tuple[float, float]]:
        return (
            [(-_B_BOUND, _B_BOUND)] * self.n_items
            + [_LOG_A_BOUNDS] * self.n_a
            + [_LOGIT_C_BOUNDS] * self.n_c
        )

    # -- likelihood ----------------------------------------------------------
    def _posterior(
        self, phi: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """Item parameters, log P, log sigma, posterior weights (G, Q) and log marginals."""
        a, b, c = self.split(phi)
        z = self.D * a * (self.nodes[:, None] - b)  # (Q, I)
        log_sig = -np.logaddexp(0.0, -z)
        log_1m_sig = -np.logaddexp(0.0, z)
        if self.n_c:
            log_p = np.logaddexp(np.log(c), np.log1p(-c) + log_sig)
            log_q = np.log1p(-c) + log_1m_sig
        else:
            log_p, log_q = log_sig, log_1m_sig
        ell = self.right @ log_p.T + self.wrong @ log_q.T + self.log_w  # (G, Q)
        top = ell.max(axis=1, keepdims=True)
        post = np.exp(ell - top)
        norm = post.sum(axis=1, keepdims=True)
        log_marg = top[:, 0] + np.log(norm[:, 0])
        post /= norm
        return a, b, log_sig, log_p, post, log_marg

    def evaluate(self, phi: FloatArray) -> tuple[float, FloatArray]:
        """Log-likelihood plus log prior, and its gradient in natural parameters."""
        a, b, log_sig, log_p, post, log_marg = self._posterior(phi)
        c = self.split(phi)[2]
        post = post * self.groups.counts[:, None]
        loglik = float(self.groups.counts @ log_marg)
        r = self.right.T @ post  # expected right at each node, (I, Q)
        nn = self.groups.observed.T @ post  # expected answered at each node
        p = np.exp(log_p).T
        resid = r - nn * p
        # d loglik / dz = resid * sigma / P (= resid when c = 0); stable since P >= c.
        dz = resid if not self.n_c else resid * np.exp(log_sig.T - log_p.T)
        grad_b = -self.D * a * dz.sum(axis=1)
        parts = [grad_b]
        if self.n_a:
            grad_a = self.D * (dz * (self.nodes[None, :] - b[:, None])).sum(axis=1)
            parts.append(np.array([grad_a.sum()]) if self.n_a == 1 else grad_a)
        log_prior = 0.0
        if self.n_c:
            grad_c = (resid / (p * (1.0 - c)[:, None])).sum(axis=1)
            if self.c_prior is not None:
                alpha, beta = self.c_prior
                log_prior = float(((alpha - 1) * np.log(c) + (beta - 1) * np.log1p(-c)).sum())
                grad_c = grad_c + (alpha - 1) / c - (beta - 1) / (1.0 - c)
            parts.append(grad_c)
        return loglik + log_prior, np.concatenate(parts)

    def loglik_only(self, phi: FloatArray) -> float:
        a, b, c = self.split(phi)
        value, _ = self.evaluate(phi)
        if self.n_c and self.c_prior is not None:
            alpha, beta = self.c_prior
            value -= float(((alpha - 1) * np.log(c) + (beta - 1) * np.log1p(-c)).sum())
        return value

    def free_objective(self, x: FloatArray) -> tuple[float, FloatArray]:
        phi = self.to_natural(x)
        value, grad = self.evaluate(phi)
        # Chain rule to the free (log a, logit c) parameterisation.
        n = self.n_items
        jac = np.ones_like(x)
        if self.n_a:
            jac[n : n + self.n_a] = phi[n : n + self.n_a]
        if self.n_c:
            cc = phi[n + self.n_a :]
            jac[n + self.n_a :] = cc * (1.0 - cc)
        return -value / self.total, -grad * jac / self.total

    def hessian(self, phi: FloatArray) -> FloatArray:
        """Observed Hessian of the maximised function in natural parameters.

        Rasch models: the difficulty block is analytic (Louis 1982):
        ``sum_g n_g [E_post(d2 l) + Cov_post(d l)]`` with ``d l / d b_i = -D a m_i (x_i - P_i)``,
        whose posterior covariance is ``D^2 a^2 m_i m_j Cov_post(P_i, P_j)``; the column
        of a common slope is by central differences of the exact gradient. Other
        models: every column by central differences of the exact gradient.
        """
        if self.model not in ("rasch", "rasch_common"):
            return self._fd_hessian(phi, np.arange(phi.shape[0]))
        n = self.n_items
        a, _, _, log_p, post, _ = self._posterior(phi)
        da2 = (self.D * a[0]) ** 2
        p = np.exp(log_p)  # (Q, I)
        counts = self.groups.counts
        mask = self.groups.observed
        weighted = post * counts[:, None]  # (G, Q)
        nn = mask.T @ weighted  # (I, Q)
        p_bar = post @ p  # (G, I) posterior mean of P_i per group
        mp_bar = mask * p_bar
        second = mp_bar.T @ (mp_bar * counts[:, None])
        if np.all(mask == 1.0):
            first = p.T @ (p * weighted.sum(axis=0)[:, None])
        else:
            first = np.zeros((n, n))
            block = max(1, 4_000_000 // (n * p.shape[0]))
            for g0 in range(0, mask.shape[0], block):
                part = slice(g0, g0 + block)
                v = np.sqrt(weighted[part])[:, :, None] * mask[part][:, None, :] * p[None, :, :]
                v = v.reshape(-1, n)
                first += v.T @ v
        hess = da2 * (first - second)
        hess[np.diag_indices(n)] -= da2 * (nn * (p * (1.0 - p)).T).sum(axis=1)
        if self.model == "rasch":
            return hess
        column = self._fd_hessian(phi, np.array([n]))[:, 0]
        full = np.zeros((n + 1, n + 1))
        full[:n, :n] = hess
        full[:, n] = column
        full[n, :] = column
        return full

    def _fd_hessian(self, phi: FloatArray, columns: npt.NDArray[np.int64]) -> FloatArray:
        """Columns of the Hessian by central differences of the exact gradient."""
        k = phi.shape[0]
        out = np.empty((k, columns.shape[0]))
        steps = 1e-5 * np.maximum(1.0, np.abs(phi))
        n = self.n_items
        if self.n_c:
            cc = phi[n + self.n_a :]
            # Keep c + h inside (0, 1).
            steps[n + self.n_a :] = np.minimum(steps[n + self.n_a :], 0.5 * cc * (1 - cc))
        for col, j in enumerate(columns):
            up = phi.copy()
            down = phi.copy()
            up[j] += steps[j]
            down[j] -= steps[j]
            out[:, col] = (self.evaluate(up)[1] - self.evaluate(down)[1]) / (2 * steps[j])
        if columns.shape[0] == k:
            out = 0.5 * (out + out.T)
        return out

    def valid(self, phi: FloatArray) -> bool:
        n = self.n_items
        if self.n_a and np.any(phi[n : n + self.n_a] <= 0):
            return False
        if self.n_c:
            cc = phi[n + self.n_a :]
            if np.any((cc <= 0) | (cc >= 1)):
                return False
        return bool(np.all(np.isfinite(phi)))


def _start(problem: _Problem) -> FloatArray:
    g = problem.groups
    n_right = g.counts @ problem.right
    n_obs = g.counts @ g.observed
    p = (n_right + 0.5) / (n_obs + 1.0)
    c0 = np.zeros_like(p)
    if problem.n_c:
        alpha, beta = problem.c_prior if problem.c_prior is not None else (5.0, 17.0)
        c0 = np.full_like(p, (alpha - 1) / (alpha + beta - 2))
        p = np.clip((p - c0) / (1 - c0), 0.02, 0.98)
    a0 = problem.fixed_a if problem.n_a == 0 else 1.0
    # Logistic ~ normal ogive with slope D a / 1.702; marginal p = Phi(-k b / sqrt(1 + k^2)).
    k = problem.D * a0 / 1.702
    b0 = -ndtri(p) * np.sqrt(1 + k * k) / k
    parts = [np.clip(b0, -_B_BOUND + 1, _B_BOUND - 1), np.full(problem.n_a, a0), c0[: problem.n_c]]
    return np.concatenate(parts)


class _Progress:
    """L-BFGS-B callback reporting (iteration, largest parameter change) onwards."""

    def __init__(
        self, problem: _Problem, phi0: FloatArray, callback: Callable[[int, float], None]
    ) -> None:
        self.problem = problem
        self.previous = phi0
        self.iteration = 0
        self.callback = callback

    def __call__(self, x: FloatArray) -> None:
        phi = self.problem.to_natural(x)
        self.iteration += 1
        self.callback(self.iteration, float(np.max(np.abs(phi - self.previous))))
        self.previous = phi


def solve(
    problem: _Problem,
    *,
    tol: float = 1e-9,
    max_iter: int = 2000,
    callback: Callable[[int, float], None] | None = None,
) -> _Solution:
    """Maximise the marginal likelihood (plus prior) of `problem`.

    `callback`, if given, is called as ``callback(iteration, change)`` after each
    L-BFGS-B iteration and each accepted Newton polishing step, with the largest
    absolute change of a parameter (natural scale) in it.
    """
    phi0 = _start(problem)
    progress = None if callback is None else _Progress(problem, phi0, callback)
    with np.errstate(over="ignore", divide="ignore", under="ignore"):
        result = minimize(
            problem.free_objective,
            problem.to_free(phi0),
            jac=True,
            method="L-BFGS-B",
            bounds=problem.bounds(),
            options={"maxiter": max_iter, "ftol": 1e-15, "gtol": tol, "maxcor": 30},
            callback=progress,
        )
        phi = problem.to_natural(result.x)
        iterations = int(result.nit)
        value, grad = problem.evaluate(phi)
        hess = problem.hessian(phi)
        # Newton polishing with the observed information (kept fixed: chord steps);
        # a step is accepted only if it does not lower the objective.
        moved = False
        for _ in range(5):
            try:
                step = np.linalg.solve(-hess, grad)
            except np.linalg.LinAlgError:
                break
            candidate = phi + step
            if not problem.valid(candidate):
                break
            new_value, new_grad = problem.evaluate(candidate)
            if not new_value >= value - 1e-12 * abs(value):
                break
            iterations += 1
            if callback is not None:
                callback(iterations, float(np.max(np.abs(step))))
            moved = moved or bool(np.max(np.abs(step)) > 1e-6)
            phi, value, grad = candidate, new_value, new_grad
            if np.max(np.abs(step)) < 1e-10:
                break
        if moved:
            hess = problem.hessian(phi)
    info = -hess
    eig = np.linalg.eigvalsh(info)
    positive = bool(eig.min() > 1e-10 * max(1.0, eig.max()))
    cov = np.linalg.inv(info) if positive else np.full_like(info, np.nan)
    free = problem.to_free(phi)
    lower = np.array([lo for lo, _ in problem.bounds()])
    upper = np.array([hi for _, hi in problem.bounds()])
    on_bound = bool(np.any((free <= lower + 1e-6) | (free >= upper - 1e-6)))
    small_gradient = bool(np.max(np.abs(grad)) / problem.total < 1e-6)
    a, b, c = problem.split(phi)
    loglik = problem.loglik_only(phi)
    return _Solution(
        a=a.copy(),
        b=b.copy(),
        c=c.copy(),
        cov=cov,
        loglik=loglik,
        log_prior=value - loglik,
        n_iterations=iterations,
        converged=small_gradient and positive and not on_bound,
    )


def prepare(
    responses: npt.ArrayLike, *, by_score: bool
) -> tuple[Responses, Groups]:
    """Validate responses for marginal estimation and group the candidates."""
    data = validate_responses(responses, min_items=2)
    check_item_variance(data)
    return data, group_candidates(data, by_score=by_score)


def _check_common(n_quadrature: int, D: float) -> None:
    if isinstance(n_quadrature, bool) or not isinstance(n_quadrature, int | np.integer):
        raise ValueError(f"n_quadrature must be an integer >= 2, got {n_quadrature!r}")
    if n_quadrature < 2:
        raise ValueError(f"n_quadrature must be an integer >= 2, got {n_quadrature!r}")
    if not (np.isfinite(D) and D > 0):
        raise ValueError(f"D must be a positive number, got {D!r}")


def _marginal_fit(solution: _Solution, problem: _Problem, n_quadrature: int) -> MarginalFit:
    n = problem.n_items
    se = np.sqrt(np.diag(solution.cov))
    b_se = se[:n]
    a_se = se[n : 2 * n]
    c_se = se[2 * n :] if problem.n_c else np.zeros(n)
    items = ItemParameters.create(b=solution.b, a=solution.a, c=solution.c, D=problem.D)
    return MarginalFit(
        items=items,
        a_se=a_se,
        b_se=b_se,
        c_se=c_se,
        loglik=solution.loglik,
        log_posterior=solution.loglik + solution.log_prior,
        n_iterations=solution.n_iterations,
        converged=solution.converged,
        n_quadrature=int(n_quadrature),
    )


def fit_2pl(
    responses: npt.ArrayLike, *, n_quadrature: int = 21, D: float = 1.0
) -> MarginalFit:
    """Two-parameter logistic model by marginal maximum likelihood.

    Parameters
    ----------
    responses : array_like, shape (n_candidates, n_items)
        1 right, 0 wrong, -1 not answered (treated as missing, not wrong).
    n_quadrature : int
        Number of Gauss-Hermite points for the N(0, 1) ability distribution.
    D : float
        Scaling constant of the logistic (1.0: logistic metric, 1.7: normal metric).

    Returns
    -------
    MarginalFit

    Raises
    ------
    ValueError
        Invalid response codes or NaN, fewer than 2 items, or items answered all
        right or all wrong (named in the message).

    Notes
    -----
    ``P_i(theta) = 1 / (1 + exp(-D a_i (theta - b_i)))`` with ``theta ~ N(0, 1)``
    (Birnbaum 1968; Lord 1980, eq. 2-1 with ``c = 0``); the marginal likelihood and
    its gradient are those of Bock & Aitkin (1981), see the module docstring.
    Candidates with identical response patterns are grouped, so the cost grows
    with the number of distinct patterns.

    References
    ----------
    Bock & Aitkin (1981); Baker & Kim (2004), ch. 6.

    Examples
    --------
    >>> import numpy as np
    >>> from scoring.irt.simulate import simulate_responses
    >>> items = ItemParameters.create(b=[-1, 0, 1, 0.5, -0.5], a=[1.5, 1, 0.8, 1.2, 1])
    >>> x = simulate_responses(items, np.random.default_rng(1).normal(size=2000), seed=2)
    >>> fit = fit_2pl(x)
    >>> fit.converged, bool(np.max(np.abs(fit.items.b - items.b)) < 0.3)
    (True, True)
    """
    _check_common(n_quadrature, D)
    _, groups = prepare(responses, by_score=False)
    problem = _Problem(groups, "2pl", int(n_quadrature), D, 1.0, None)
    return _marginal_fit(solve(problem), problem, n_quadrature)


def fit_3pl(
    responses: npt.ArrayLike,
    *,
    c_prior: tuple[float, float] | None = (5.0, 17.0),
    n_quadrature: int = 21,
    D: float = 1.0,
) -> MarginalFit:
    """Three-parameter logistic model by marginal maximum likelihood (Bayes modal c).

    Parameters
    ----------
    responses : array_like, shape (n_candidates, n_items)
        1 right, 0 wrong, -1 not answered (treated as missing, not wrong).
    c_prior : (alpha, beta) or None
        Beta prior on every lower asymptote ``c``. The default ``(5, 17)`` is
        BILOG-MG's default for five-option items, Beta(20 p + 1, 20 (1 - p) + 1)
        with ``p = 1/5`` (mode 0.2). ``None`` gives plain marginal ML, which is
        often unstable for ``c`` (Mislevy 1986).
    n_quadrature : int
        Number of Gauss-Hermite points for the N(0, 1) ability distribution.
    D : float
        Scaling constant (1.0 logistic metric, 1.7 normal metric).

    Returns
    -------
    MarginalFit
        ``loglik`` is the marginal log-likelihood; ``log_posterior`` adds the log
        prior density of ``c`` (the quantity maximised).

    Raises
    ------
    ValueError
        As `fit_2pl`, and for a prior with alpha or beta below 1.

    Notes
    -----
    ``P_i(theta) = c_i + (1 - c_i) / (1 + exp(-D a_i (theta - b_i)))`` (Lord 1980,
    eq. 2-1). The maximised function is ``log L + sum_i log Beta(c_i; alpha, beta)``
    (Mislevy 1986); for the gradient, ``dP/dz = (1 - c) s (1 - s)`` with
    ``s = logistic(z)`` and ``dP/dc = 1 - s``.

    References
    ----------
    Bock & Aitkin (1981); Mislevy (1986); Zimowski et al. (2003); Baker & Kim
    (2004), ch. 6.

    Examples
    --------
    >>> import numpy as np
    >>> from scoring.irt.simulate import simulate_responses
    >>> items = ItemParameters.create(b=[-1, 0, 1, 0.5, -0.5], a=1.2, c=0.2)
    >>> x = simulate_responses(items, np.random.default_rng(1).normal(size=1000), seed=2)
    >>> fit = fit_3pl(x)
    >>> fit.converged, fit.log_posterior < fit.loglik
    (True, True)
    """
    _check_common(n_quadrature, D)
    if c_prior is not None:
        alpha, beta = (float(v) for v in c_prior)
        if not (np.isfinite(alpha) and np.isfinite(beta) and alpha >= 1 and beta >= 1):
            raise ValueError(f"c_prior must be (alpha, beta) with both >= 1, got {c_prior!r}")
        c_prior = (alpha, beta)
    _, groups = prepare(responses, by_score=False)
    problem = _Problem(groups, "3pl", int(n_quadrature), D, 1.0, c_prior)
    return _marginal_fit(solve(problem), problem, n_quadrature)
