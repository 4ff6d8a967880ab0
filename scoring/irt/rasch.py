"""Rasch model estimation: conditional, joint and marginal maximum likelihood.

Under the Rasch model (Rasch 1960) the probability that candidate ``v`` answers
item ``i`` right is

    P(x_vi = 1) = exp(a (theta_v - b_i)) / (1 + exp(a (theta_v - b_i)))

with a discrimination ``a`` common to all items (``a = 1`` in the Rasch model
proper). `fit_rasch` estimates the difficulties ``b`` by

* ``"cml"``, conditional maximum likelihood (Andersen 1970): the likelihood of
  the responses given each candidate's number-right score, which does not
  involve the abilities. It needs the elementary symmetric functions of the
  item parameters, computed here by the summation algorithm in log space (see
  `elementary_symmetric_functions`);
* ``"jml"``, joint maximum likelihood of items and abilities (Wright & Panchapakesan
  1969), with the ``(I - 1) / I`` bias correction of Wright & Douglas (1977);
* ``"mml"``, marginal maximum likelihood with ``theta ~ N(0, 1)`` integrated out by
  Gauss-Hermite quadrature (Bock & Aitkin 1981; Thissen 1982), optionally with
  one common discrimination estimated, as ``ltm::rasch`` does (Rizopoulos 2006).

Missing responses
-----------------
Not-answered responses (-1) are treated as missing, not wrong: each candidate's
likelihood runs over the items they answered. For CML the candidates are
grouped by the set of items answered and their score on them; each group of
answered items has its own elementary symmetric functions, so the cost grows with
the number of distinct (answered items, score) cells, ``O(n^2)`` each: at most
``n - 1`` cells when nobody omits, up to one per candidate with scattered
omissions (then MML is several times faster).

References
----------
Andersen, E. B. (1970). Asymptotic properties of conditional maximum-likelihood
estimators. *Journal of the Royal Statistical Society B*, 32, 283-301.

Bock, R. D. & Aitkin, M. (1981). Marginal maximum likelihood estimation of item
parameters: application of an EM algorithm. *Psychometrika*, 46, 443-459.

Fischer, G. H. (1974). *Einfuhrung in die Theorie psychologischer Tests*. Huber.

Fischer, G. H. (1981). On the existence and uniqueness of maximum-likelihood
estimates in the Rasch model. *Psychometrika*, 46, 59-77.

Rizopoulos, D. (2006). ltm: An R package for latent variable modelling and item
response theory analyses. *Journal of Statistical Software*, 17(5), 1-25.

Thissen, D. (1982). Marginal maximum likelihood estimation for the one-parameter
logistic model. *Psychometrika*, 47, 175-186.

Verhelst, N. D., Glas, C. A. W. & van der Sluis, A. (1984). Estimation problems
in the Rasch model: the basic symmetric functions. *Computational Statistics
Quarterly*, 1, 245-262.

Wright, B. D. & Douglas, G. A. (1977). Best procedures for sample-free item
analysis. *Applied Psychological Measurement*, 1, 281-295.

Wright, B. D. & Panchapakesan, N. (1969). A procedure for sample-free item
analysis. *Educational and Psychological Measurement*, 29, 23-48.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.special import expit

from scoring.irt import mml
from scoring.irt._data import (
    BoolArray,
    FloatArray,
    Responses,
    check_item_variance,
    freeze,
    group_candidates,
    validate_responses,
)

__all__ = [
    "ElementarySymmetricFunctions",
    "RaschFit",
    "elementary_symmetric_functions",
    "fit_rasch",
]

Method = Literal["cml", "mml", "jml"]

# Largest (items x scores x scores) block evaluated at once in the log-space
# convolutions; bounds the memory to about 16 MB per temporary.
_BLOCK = 2_000_000


# ---------------------------------------------------------------------------
# Elementary symmetric functions
# ---------------------------------------------------------------------------


def _logsumexp(values: FloatArray, axis: int) -> FloatArray:
    """log(sum(exp(values))) along `axis`; all -inf gives -inf without warnings."""
    top = values.max(axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.exp(values - top).sum(axis=axis, keepdims=True)) + top
    return np.squeeze(out, axis=axis)


def _prefix_suffix(log_eps: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Log ESFs of every prefix and suffix of the items (summation algorithm).

    `log_eps` has shape ``(m, n)``: ``m`` independent item sets (an item with
    ``log_eps = -inf`` is absent). ``prefix[:, k, r]`` is ``log gamma_r`` of items
    ``0..k-1`` and ``suffix[:, k, r]`` that of items ``k..n-1``; impossible scores
    hold ``-inf``.
    """
    m, n = log_eps.shape
    prefix = np.full((m, n + 1, n + 1), -np.inf)
    suffix = np.full((m, n + 1, n + 1), -np.inf)
    prefix[:, :, 0] = 0.0
    suffix[:, :, 0] = 0.0
    for k in range(n):
        # gamma_r(items + k) = gamma_r(items) + eps_k gamma_{r-1}(items): a sum of
        # positive terms, so no cancellation (Verhelst et al. 1984).
        prefix[:, k + 1, 1:] = np.logaddexp(
            prefix[:, k, 1:], log_eps[:, k, None] + prefix[:, k, :-1]
        )
        j = n - 1 - k
        suffix[:, j, 1:] = np.logaddexp(
            suffix[:, j + 1, 1:], log_eps[:, j, None] + suffix[:, j + 1, :-1]
        )
    return prefix, suffix


def _leave_one_out(prefix: FloatArray, suffix: FloatArray) -> FloatArray:
    """``out[:, i, r] = log gamma_r^{(i)}``, the ESF without item i, r = 0..n-1.

    gamma^{(i)} is the convolution of the ESFs of the items before and after
    item ``i``; every term is positive, so it is accurate to rounding error at
    every score, including scores near the maximum.
    """
    m, n = prefix.shape[0], prefix.shape[1] - 1
    r = np.arange(n)[:, None]
    s = np.arange(n)[None, :]
    # index of the suffix ESF for score r - s; n points at a padded -inf.
    index = np.where(s <= r, r - s, n)
    padded = np.concatenate([suffix, np.full((m, n + 1, 1), -np.inf)], axis=2)
    out = np.empty((m, n, n))
    block = max(1, _BLOCK // (m * n * n))
    for start in range(0, n, block):
        items = np.arange(start, min(n, start + block))
        terms = prefix[:, items, None, :n] + padded[:, items + 1][:, :, index]
        out[:, items] = _logsumexp(terms, axis=3)
    return out


@dataclass(frozen=True, eq=False)
class ElementarySymmetricFunctions:
    """Elementary symmetric functions of ``eps_i = exp(-b_i)``, in logs.

    Attributes
    ----------
    log_gamma : ndarray, shape (n_items + 1,)
        ``log gamma_r`` for ``r = 0..n_items``.
    log_gamma_without : ndarray, shape (n_items, n_items)
        Row ``i`` holds ``log gamma_r^{(i)}`` for ``r = 0..n_items - 1``: the
        functions of all items except item ``i``.

    Notes
    -----
    Logs are kept because ``gamma_r`` overflows a double on long tests.
    """

    log_gamma: FloatArray
    log_gamma_without: FloatArray

    def __post_init__(self) -> None:
        freeze(self)


def elementary_symmetric_functions(difficulty: npt.ArrayLike) -> ElementarySymmetricFunctions:
    """Elementary symmetric functions of Rasch item parameters and their leave-one-out versions.

    Parameters
    ----------
    difficulty : array_like, shape (n_items,)
        Rasch difficulties ``b_i``; the functions are those of ``eps_i = exp(-b_i)``.

    Returns
    -------
    ElementarySymmetricFunctions

    Notes
    -----
    ``gamma_r = sum over item sets S of size r of prod_{i in S} eps_i`` (Fischer
    1974). They are built by the summation algorithm
    ``gamma_r^{(k)} = gamma_r^{(k-1)} + eps_k gamma_{r-1}^{(k-1)}`` (Verhelst, Glas &
    van der Sluis 1984) in log space (``logaddexp``), for every prefix and every
    suffix of the items. The leave-one-out functions are the convolutions
    ``gamma_r^{(i)} = sum_s gamma_s(items < i) gamma_{r-s}(items > i)``. Both steps
    add positive numbers only, so the relative error stays at rounding level for
    every score. The classical alternative
    ``gamma_r^{(i)} = gamma_r - eps_i gamma_{r-1}^{(i)}`` subtracts nearly equal
    numbers at high scores and loses all accuracy near the maximum score on tests of
    a few dozen items. Cost: ``O(n^3)`` operations, ``O(n^2)`` memory.

    References
    ----------
    Fischer (1974); Verhelst, Glas & van der Sluis (1984).

    Examples
    --------
    >>> import numpy as np
    >>> esf = elementary_symmetric_functions(-np.log([1.0, 2.0, 3.0]))
    >>> np.exp(esf.log_gamma).round(6).tolist()
    [1.0, 6.0, 11.0, 6.0]
    >>> np.exp(esf.log_gamma_without[0]).round(6).tolist()
    [1.0, 5.0, 6.0]
    """
    b = np.asarray(difficulty, dtype=float)
    if b.ndim != 1 or b.shape[0] == 0:
        raise ValueError(f"difficulty must be a non-empty 1-D array, got shape {b.shape}")
    if not np.all(np.isfinite(b)):
        raise ValueError("difficulty must be finite")
    prefix, suffix = _prefix_suffix(-b[None, :])
    return ElementarySymmetricFunctions(
        log_gamma=prefix[0, -1].copy(), log_gamma_without=_leave_one_out(prefix, suffix)[0]
    )


# ---------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RaschFit:
    """Result of `fit_rasch`.

    Attributes
    ----------
    method : str
        ``"cml"``, ``"mml"`` or ``"jml"``.
    difficulty : ndarray, shape (n_items,)
        Item difficulties ``b``. CML: they sum to zero. JML: after the bias
        correction (see `correction`).
    difficulty_se : ndarray, shape (n_items,)
        Standard errors of `difficulty`.
    discrimination : float
        The common discrimination ``a``: the fixed value, or the estimate when
        ``discrimination=None`` was requested (MML only).
    discrimination_se : float
        Its standard error; 0 when it was fixed.
    loglik : float
        CML: conditional log-likelihood; MML: marginal log-likelihood; JML: joint
        log-likelihood at the uncorrected estimates, over the candidates used.
    n_iterations : int
        Iterations of the optimiser.
    converged : bool
        Whether the convergence criterion was met.
    n_candidates_used : int
        Candidates whose responses entered the estimation (CML and JML leave out
        candidates with a zero or perfect score on the items they answered).
    correction : float
        Factor applied to the JML difficulties, ``(I - 1) / I``; 1 otherwise.

    Notes
    -----
    Instances compare by identity (``eq=False``).
    """

    method: str
    difficulty: FloatArray
    difficulty_se: FloatArray
    discrimination: float
    discrimination_se: float
    loglik: float
    n_iterations: int
    converged: bool
    n_candidates_used: int
    correction: float = 1.0

    def __post_init__(self) -> None:
        freeze(self)


# ---------------------------------------------------------------------------
# CML
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cells:
    """CML data: candidates grouped by answered items (patterns) and score (cells)."""

    answered: BoolArray  # (n_patterns, n_items)
    pattern: npt.NDArray[np.int64]  # (n_cells,) pattern of each cell, sorted
    score: npt.NDArray[np.int64]  # (n_cells,) score of each cell, 1..n_answered - 1
    count: FloatArray  # (n_cells,) candidates in each cell


def _cml_cells(data: Responses, used: BoolArray) -> _Cells:
    observed = data.observed[used]
    scores = data.scores()[used]
    bits = np.ascontiguousarray(np.packbits(observed, axis=1))
    keys = bits.view(np.dtype((np.void, bits.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    cell_key = inverse.ravel().astype(np.int64) * (data.n_items + 1) + scores
    cells, counts = np.unique(cell_key, return_counts=True)
    return _Cells(
        answered=observed[first],
        pattern=cells // (data.n_items + 1),
        score=cells % (data.n_items + 1),
        count=counts.astype(np.float64),
    )


def _tie_clusters(b: FloatArray, gap: float = 1e-6) -> npt.NDArray[np.int64]:
    """Label items whose difficulties chain together within `gap` (ties)."""
    order = np.argsort(b, kind="stable")
    new_cluster = np.r_[True, np.diff(b[order]) >= gap]
    labels = np.empty(b.shape[0], dtype=np.int64)
    labels[order] = np.cumsum(new_cluster) - 1
    return labels


def _cml_evaluate(
    b: FloatArray, cells: _Cells, *, hessian: bool
) -> tuple[float, FloatArray, FloatArray | None]:
    """``-sum n log gamma_r``, expected item totals and the Hessian of log L_c.

    Notes
    -----
    For a pattern of answered items and a score ``r``, ``pi_{i|r} = eps_i
    gamma_{r-1}^{(i)} / gamma_r`` is the probability of a right answer on item
    ``i`` given the score (Fischer 1974). ``gamma_{r-1}^{(i)}`` is the convolution of
    the ESFs of the items before and after ``i`` evaluated at the one score needed,
    ``sum_s gamma_s(< i) gamma_{r-1-s}(> i)``: positive terms only, ``O(n)`` per item,
    so ``O(n^2)`` per (pattern, score) cell. Then

    * ``d log L_c / d b_i = -s_i + sum n_r pi_{i|r}``;
    * ``d^2 log L_c / d b_i d b_j = -sum n_r Cov(x_i, x_j | r)`` with
      ``P(x_i = x_j = 1 | r) = pi_{ij|r}``. The identity
      ``gamma_{r-1}^{(i)} - gamma_{r-1}^{(j)} = (eps_j - eps_i) gamma_{r-2}^{(i,j)}``
      gives ``pi_{ij|r} = (eps_j pi_{i|r} - eps_i pi_{j|r}) / (eps_j - eps_i)``, whose
      coefficients do not depend on ``r``, so the sum over scores needs only the
      expected totals ``E_i = sum_r n_r pi_{i|r}`` of each pattern. For (near-)tied
      items (``|b_i - b_j| < 1e-6``), where that quotient is 0/0, exchangeability
      and ``sum_{j != i} pi_{ij|r} = (r - 1) pi_{i|r}`` give the tied pairs' value.
    """
    n = b.shape[0]
    log_eps_all = np.where(cells.answered, -b, -np.inf)
    value = 0.0
    expected = np.zeros(n)
    cov = np.zeros((n, n))
    pair = np.zeros((n, n))
    if hessian:
        clusters = _tie_clusters(b)
        same = clusters[:, None] == clusters[None, :]
        cross = ~same
        within = same & ~np.eye(n, dtype=bool)
        has_ties = bool(within.any())
        d = np.where(cross, b[None, :] - b[:, None], 1.0)  # d_ij = b_j - b_i
        scaled = np.where(cross, 1.0 / -np.expm1(-d), 0.0)  # 1 / (1 - eps_j / eps_i)
        scaled_ratio = np.where(cross, np.exp(-d), 0.0) * scaled
    n_patterns = cells.answered.shape[0]
    pattern_block = max(1, _BLOCK // (n + 1) ** 2)
    cell_block = max(1, _BLOCK // (n * n))
    s = np.arange(n)
    for p0 in range(0, n_patterns, pattern_block):
        p1 = min(n_patterns, p0 + pattern_block)
        log_eps = log_eps_all[p0:p1]
        prefix, suffix = _prefix_suffix(log_eps)
        log_gamma = prefix[:, -1]
        c0, c1 = np.searchsorted(cells.pattern, [p0, p1])
        local_e = np.zeros((p1 - p0, n))
        local_c = np.zeros((p1 - p0, n))
        for k0 in range(c0, c1, cell_block):
            k1 = min(c1, k0 + cell_block)
            lp = cells.pattern[k0:k1] - p0
            r = cells.score[k0:k1]
            count = cells.count[k0:k1]
            value -= float(count @ log_gamma[lp, r])
            # log gamma^{(i)}_{r-1} = logsumexp_s prefix[i, s] + suffix[i + 1, r - 1 - s];
            # index n points at an impossible score (-inf) of every suffix i + 1 >= 1.
            idx = (r - 1)[:, None] - s[None, :]
            idx = np.where(idx >= 0, idx, n)
            tail = np.take_along_axis(suffix[lp][:, 1:, :], idx[:, None, :], axis=2)
            loo = _logsumexp(prefix[lp][:, :n, :n] + tail, axis=2)
            log_pi = log_eps[lp] + loo - log_gamma[lp, r][:, None]
            pi = np.exp(log_pi)  # exp(-inf) = 0 for items the pattern did not answer
            weighted = pi * count[:, None]
            np.add.at(local_e, lp, weighted)
            if hessian:
                np.add.at(local_c, lp, weighted * (r - 1)[:, None])
                cov += weighted.T @ pi
        expected += local_e.sum(axis=0)
        if hessian:
            # sum over patterns of sum_r n_r pi_{ij|r} = (E_j - (eps_j/eps_i) E_i) /
            # (1 - eps_j/eps_i) for pairs answered together, as matrix products.
            ans = cells.answered[p0:p1].astype(np.float64)
            pair += scaled * (ans.T @ local_e) - scaled_ratio * (local_e.T @ ans)
            if has_ties:
                size = ans @ same.astype(np.float64)  # answered items in i's cluster
                rest = local_c - ans * (local_e @ scaled.T - local_e * (ans @ scaled_ratio.T))
                tied = np.divide(rest, size - 1.0, out=np.zeros_like(rest), where=size > 1.5)
                tied *= ans
                pair += 0.5 * within * ((tied.T @ ans) + (ans.T @ tied))
    if not hessian:
        return value, expected, None
    # Off the diagonal sum n (pi_i pi_j - pi_ij); on it -sum n pi_i (1 - pi_i).
    hess = cov - pair
    hess[np.diag_indices(n)] = np.diag(cov) - expected
    return value, expected, hess


def _check_existence(data: Responses, used: BoolArray, method: str) -> None:
    """Raise unless the CML/JML difficulties are finite (Fischer 1981).

    Finite estimates exist only if the directed graph with an edge i -> j whenever
    some candidate answered item i right and item j wrong is strongly connected.
    It is not, for example, in an incomplete design without common items, or when
    the responses to some items are perfectly Guttman-ordered.
    """
    right = data.right[used]
    wrong = (data.observed[used] & (right == 0)).astype(np.float64)
    graph = csr_matrix((right.T @ wrong) > 0)
    n_comp, labels = connected_components(graph, directed=True, connection="strong")
    if n_comp > 1:
        sizes = np.bincount(labels)
        smallest = np.flatnonzero(labels == int(np.argmin(sizes)))
        raise ValueError(
            f"responses: the {method.upper()} difficulties are not finite (Fischer 1981): "
            f"the items fall into {n_comp} groups that the responses do not link in both "
            "directions (no candidate answered an item of one group right and an item of "
            f"the other wrong, or the reverse); e.g. items {smallest[:10].tolist()} "
            "(0-based). Typical causes: a disconnected design without common items, or "
            "Guttman-ordered responses."
        )


def _cml(
    data: Responses, *, tol: float, max_iter: int
) -> tuple[FloatArray, FloatArray, float, int, bool, BoolArray]:
    n_items = data.n_items
    scores = data.scores()
    answered = data.n_answered()
    used = (scores > 0) & (scores < answered)
    if not used.any():
        raise ValueError(
            "responses: every candidate has a zero or perfect score on the items they "
            "answered; CML has no information."
        )
    check_item_variance(
        data, used, what=" among candidates without a zero or perfect score"
    )
    _check_existence(data, used, "cml")
    cells = _cml_cells(data, used)
    item_right = data.right[used].sum(axis=0)
    item_n = data.observed[used].sum(axis=0)

    def evaluate(b: FloatArray) -> tuple[float, FloatArray, FloatArray]:
        value, expected, hess = _cml_evaluate(b, cells, hessian=True)
        return value - float(item_right @ b), expected - item_right, hess  # type: ignore[return-value]

    p = (item_right + 0.5) / (item_n + 1.0)
    b = np.log((1 - p) / p)
    b -= b.mean()
    ones = np.full((n_items, n_items), 1.0 / n_items)
    value, grad, hess = evaluate(b)
    info = -hess + ones
    if np.linalg.eigvalsh(info).min() <= 1e-10 * max(1.0, float(item_n.max())):
        raise ValueError(
            "responses: the conditional likelihood does not identify the difficulties "
            "(singular information); check that the answered items link all items."
        )
    converged = False
    iterations = 0
    for iteration in range(1, max_iter + 1):
        iterations = iteration
        # The conditional log-likelihood is concave and invariant to a common shift
        # of b; solving with -H + 11'/n gives the minimum-norm (sum-zero) step.
        step = np.linalg.solve(info, grad)
        step -= step.mean()
        scale = 1.0
        while True:
            candidate = b + scale * step
            new_value, new_grad, new_hess = evaluate(candidate)
            if new_value >= value - 1e-12 * abs(value) or scale < 1e-6:
                break
            scale *= 0.5
        b, value, grad, hess = candidate, new_value, new_grad, new_hess
        info = -hess + ones
        if np.max(np.abs(scale * step)) < tol:
            converged = True
            break
    # Covariance of the sum-zero estimates: Moore-Penrose inverse of -H,
    # (-H + 11'/n)^{-1} - 11'/n since -H 1 = 0.
    cov = np.linalg.inv(info) - ones
    se = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    return b - b.mean(), se, value, iterations, converged, used


# ---------------------------------------------------------------------------
# JML
# ---------------------------------------------------------------------------


def _jml(
    data: Responses, a: float, *, tol: float, max_iter: int
) -> tuple[FloatArray, FloatArray, float, int, bool, int]:
    scores = data.scores()
    answered = data.n_answered()
    used = (scores > 0) & (scores < answered)
    if not used.any():
        raise ValueError(
            "responses: every candidate has a zero or perfect score on the items they "
            "answered; JML has no information."
        )
    check_item_variance(
        data, used, what=" among candidates without a zero or perfect score"
    )
    _check_existence(data, used, "jml")
    subset = Responses(right=data.right[used], observed=data.observed[used])
    groups = group_candidates(subset, by_score=True)
    counts = groups.counts
    mask = groups.observed
    group_score = groups.scores()
    item_right = counts @ (groups.mean_right * mask)
    n_ans = mask.sum(axis=1)
    b = np.log((counts @ mask - item_right + 0.5) / (item_right + 0.5)) / a
    b -= b.mean()
    theta = np.log(group_score / (n_ans - group_score)) / a
    converged = False
    iterations = 0
    for iteration in range(1, max_iter + 1):
        iterations = iteration
        # Person step (all score groups at once), then item step (all items at once).
        p = expit(a * (theta[:, None] - b[None, :]))
        info = a * a * (mask * p * (1 - p)).sum(axis=1)
        d_theta = np.clip(a * (group_score - (mask * p).sum(axis=1)) / info, -1.0, 1.0)
        theta = theta + d_theta
        p = expit(a * (theta[:, None] - b[None, :]))
        info_b = a * a * (counts @ (mask * p * (1 - p)))
        d_b = np.clip(a * (counts @ (mask * p) - item_right) / info_b, -1.0, 1.0)
        b = b + d_b
        shift = b.mean()
        b -= shift
        theta -= shift
        if max(np.max(np.abs(d_b)), np.max(np.abs(d_theta))) < tol:
            converged = True
            break
    z = a * (theta[:, None] - b[None, :])
    loglik = float(
        counts @ (groups.mean_right * mask * z - mask * np.logaddexp(0.0, z)).sum(axis=1)
    )
    p = expit(z)
    se = 1.0 / np.sqrt(a * a * (counts @ (mask * p * (1 - p))))
    return b, se, loglik, iterations, converged, int(used.sum())


# ---------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------


def fit_rasch(
    responses: npt.ArrayLike,
    method: Method = "cml",
    discrimination: float | None = 1.0,
    *,
    n_quadrature: int = 21,
    correct_bias: bool = True,
    tol: float = 1e-9,
    max_iter: int = 500,
) -> RaschFit:
    """Estimate Rasch item difficulties by CML, MML or JML.

    Parameters
    ----------
    responses : array_like, shape (n_candidates, n_items)
        1 right, 0 wrong, -1 not answered. Not-answered responses are treated
        as missing (left out of the candidate's likelihood), not as wrong.
    method : {"cml", "mml", "jml"}
        Conditional, marginal or joint maximum likelihood.
    discrimination : float or None
        The common discrimination ``a`` (1 for the Rasch model). ``None``
        estimates it, which only MML can do (under CML and JML ``a`` is not
        identified separately from the scale of ``b``).
    n_quadrature : int
        Gauss-Hermite points for MML (21 as in ``ltm``; the LSAT estimates move by
        less than 1e-4 between 11 and 61 points).
    correct_bias : bool
        JML only: multiply the difficulties (and their SEs) by ``(I - 1) / I``.
    tol : float
        Convergence tolerance on the largest parameter change (CML, JML).
    max_iter : int
        Maximum number of iterations (Newton steps for CML, alternating person and
        item steps for JML, quasi-Newton steps for MML).

    Returns
    -------
    RaschFit

    Raises
    ------
    ValueError
        Invalid codes or NaN; fewer than 2 items; an unknown method; a
        non-positive discrimination, or ``None`` with CML/JML; items answered all
        right or all wrong (for CML and JML: among the candidates without a zero or
        perfect score), named by 0-based index; for CML and JML, data whose
        difficulties are not finite (Fischer 1981: a disconnected design, or
        Guttman-ordered items), naming some of the items concerned.

    Notes
    -----
    *CML* maximises ``log L_c = -sum_i s_i b_i - sum_r n_r log gamma_r(eps)`` with
    ``s_i`` the number right on item ``i``, ``n_r`` the number of candidates with
    score ``r`` and ``eps_i = exp(-b_i)`` (Andersen 1970; Fischer 1974), by
    Newton-Raphson with the exact Hessian, computed per (answered items, score)
    cell, not per candidate (the identities are in the notes of the private
    ``_cml_evaluate``; the elementary symmetric functions are computed as in
    `elementary_symmetric_functions`). Candidates with a zero or perfect
    score do not contribute; the difficulties are normalised to sum to zero and the
    standard errors come from the Moore-Penrose inverse of the information. With a
    fixed ``a != 1`` the estimates are those for ``a = 1`` divided by ``a``.

    *MML* maximises ``sum_v log integral prod_i P_i(theta)^{x_vi} Q_i(theta)^{1 - x_vi}
    dPhi(theta)`` with ``n_quadrature`` Gauss-Hermite points (Bock & Aitkin 1981);
    candidates are grouped by (answered items, score), a sufficient statistic, so
    the cost does not grow with the number of candidates. This reproduces
    ``ltm::rasch`` (Rizopoulos 2006) on the LSAT data to all published digits.

    *JML* alternates Newton steps for abilities (by score group) and difficulties,
    centring the difficulties at zero, over the candidates without a zero or
    perfect score (their abilities are infinite). JML difficulties are biased
    outwards by about ``I / (I - 1)``; Wright & Douglas (1977) correct them by the
    factor ``(I - 1) / I`` (exact for complete data; with omissions ``I`` is the
    number of items of the form). The standard errors are the usual JML ones,
    ``1 / sqrt(sum_v a^2 P_vi Q_vi)``, scaled by the same factor.

    References
    ----------
    Andersen (1970); Fischer (1974, 1981); Bock & Aitkin (1981); Thissen (1982);
    Rizopoulos (2006); Wright & Panchapakesan (1969); Wright & Douglas (1977);
    Baker & Kim (2004), ch. 5 and 7.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [1, 0, 1], [1, 1, 0], [0, 0, 1]])
    >>> fit = fit_rasch(x, method="cml")
    >>> round(float(fit.difficulty.sum()), 12), fit.converged
    (0.0, True)
    >>> (fit.difficulty.round(4) + 0.0).tolist()
    [-0.5224, 0.0, 0.5224]
    """
    if method not in ("cml", "mml", "jml"):
        raise ValueError(f"method must be 'cml', 'mml' or 'jml', got {method!r}")
    if discrimination is None:
        if method != "mml":
            raise ValueError(
                f"discrimination=None (estimate a common slope) needs method='mml'; "
                f"under {method!r} the slope is not identified"
            )
        a = 1.0
    else:
        a = float(discrimination)
        if not (np.isfinite(a) and a > 0):
            raise ValueError(f"discrimination must be a positive number or None, got {a!r}")
    if not (isinstance(max_iter, int | np.integer) and max_iter >= 1):
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be positive, got {tol!r}")

    if method == "mml":
        mml._check_common(n_quadrature, 1.0)
        data, groups = mml.prepare(responses, by_score=True)
        model: mml.Model = "rasch_common" if discrimination is None else "rasch"
        problem = mml._Problem(groups, model, int(n_quadrature), 1.0, a, None)
        sol = mml.solve(problem, max_iter=int(max_iter))
        se = np.sqrt(np.diag(sol.cov))
        n = data.n_items
        return RaschFit(
            method="mml",
            difficulty=sol.b,
            difficulty_se=se[:n],
            discrimination=float(sol.a[0]),
            discrimination_se=float(se[n]) if discrimination is None else 0.0,
            loglik=sol.loglik,
            n_iterations=sol.n_iterations,
            converged=sol.converged,
            n_candidates_used=data.n_candidates,
        )

    data = validate_responses(responses, min_items=2)
    if method == "cml":
        b, se, value, iterations, converged, used = _cml(data, tol=tol, max_iter=max_iter)
        return RaschFit(
            method="cml",
            difficulty=b / a,
            difficulty_se=se / a,
            discrimination=a,
            discrimination_se=0.0,
            loglik=float(value),
            n_iterations=int(iterations),
            converged=bool(converged),
            n_candidates_used=int(used.sum()),
        )
    b, se, loglik, iterations, converged, n_used = _jml(data, a, tol=tol, max_iter=max_iter)
    factor = (data.n_items - 1) / data.n_items if correct_bias else 1.0
    return RaschFit(
        method="jml",
        difficulty=b * factor,
        difficulty_se=se * factor,
        discrimination=a,
        discrimination_se=0.0,
        loglik=loglik,
        n_iterations=iterations,
        converged=converged,
        n_candidates_used=n_used,
        correction=factor,
    )
