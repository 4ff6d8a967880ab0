"""Rasch model estimation: conditional, joint and marginal maximum likelihood.

Under the Rasch model (Rasch 1960) the probability that candidate ``v`` answers
item ``i`` right is

    P(x_vi = 1) = exp(a (theta_v - b_i)) / (1 + exp(a (theta_v - b_i)))

with a discrimination ``a`` common to all items (``a = 1`` in the Rasch model
proper). `fit_rasch` estimates the difficulties ``b`` by

* ``"cml"``, conditional maximum likelihood (Andersen 1970): the likelihood of
  the responses given each candidate's number-right score, which does not
  involve the abilities. It needs the elementary symmetric functions of the
  item parameters (`elementary_symmetric_functions`: the summation algorithm in
  log space), or rather the ratios of them that give the probability of a right
  answer given the score, computed from score distributions (Lord & Wingersky
  1984) with positive terms only;
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
the number of distinct (answered items, score) cells: at most ``n - 1`` cells
when nobody omits, up to one per candidate with scattered omissions. The cells
are evaluated together, vectorised over the cells, in ``O(n^2)`` cheap operations
each (10,000 candidates x 180 items with 2% scattered omissions: 8-10 s on a
shared 2-core machine, against 150-380 s for one ESF computation per pattern).

References
----------
Andersen, E. B. (1970). Asymptotic properties of conditional maximum-likelihood
estimators. *Journal of the Royal Statistical Society B*, 32, 283-301.

Bock, R. D. & Aitkin, M. (1981). Marginal maximum likelihood estimation of item
parameters: application of an EM algorithm. *Psychometrika*, 46, 443-459.

Darroch, J. N. (1964). On the distribution of the number of successes in
independent trials. *Annals of Mathematical Statistics*, 35, 1317-1321.

Fischer, G. H. (1974). *Einfuhrung in die Theorie psychologischer Tests*. Huber.

Fischer, G. H. (1981). On the existence and uniqueness of maximum-likelihood
estimates in the Rasch model. *Psychometrika*, 46, 59-77.

Lord, F. M. & Wingersky, M. S. (1984). Comparison of IRT true-score and
equipercentile observed-score "equatings". *Applied Psychological Measurement*,
8, 453-461.

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

from collections.abc import Callable
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
    IntArray,
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
_Callback = Callable[[int, float], None]

# Largest (items x scores x scores) block evaluated at once in the log-space
# convolutions; bounds the memory to about 16 MB per temporary.
_BLOCK = 2_000_000

# CML evaluates each (answered items, score) cell on its own, vectorised over the
# cells (`_evaluate_by_cell`). True selects the former route, log-space ESFs per
# pattern of answered items (`_evaluate_by_pattern`): the same results, many times
# slower when omissions make nearly every candidate's pattern different. Kept as
# the reference the tests compare against.
_BY_PATTERN = False
# Memory of the suffix table of the cell-by-cell route, which bounds the cells
# evaluated at once, and of each (cells x items) array of a block of cells whose
# Hessian terms are aggregated at once (bytes).
_CELL_BYTES = 64_000_000
_CELL_BLOCK_BYTES = 64_000_000


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


@dataclass(frozen=True)
class _PairTerms:
    """Constants of the Hessian's pair term for the current difficulties."""

    scaled: FloatArray  # 1 / (1 - eps_j / eps_i) off the tie clusters, else 0
    scaled_ratio: FloatArray  # (eps_j / eps_i) / (1 - eps_j / eps_i), else 0
    same: BoolArray  # i and j in the same tie cluster
    within: BoolArray  # same, off the diagonal
    has_ties: bool


def _pair_terms(b: FloatArray) -> _PairTerms:
    n = b.shape[0]
    clusters = _tie_clusters(b)
    same = clusters[:, None] == clusters[None, :]
    cross = ~same
    within = same & ~np.eye(n, dtype=bool)
    d = np.where(cross, b[None, :] - b[:, None], 1.0)  # d_ij = b_j - b_i
    scaled = np.where(cross, 1.0 / -np.expm1(-d), 0.0)  # 1 / (1 - eps_j / eps_i)
    scaled_ratio = np.where(cross, np.exp(-d), 0.0) * scaled
    return _PairTerms(scaled, scaled_ratio, same, within, bool(within.any()))


def _add_pair_terms(
    pair: FloatArray,
    terms: _PairTerms,
    ans: FloatArray,
    local_e: FloatArray,
    local_c: FloatArray,
) -> None:
    """Add ``sum n_r pi_{ij|r}`` of some patterns (or cells) to `pair`, in place.

    `ans` holds the answered items of each row, `local_e` its ``sum n_r pi_{i|r}``
    and `local_c` its ``sum n_r (r - 1) pi_{i|r}``; the result is linear in the
    rows, so a pattern may be split over several rows (one per cell).
    """
    # sum over patterns of sum_r n_r pi_{ij|r} = (E_j - (eps_j/eps_i) E_i) /
    # (1 - eps_j/eps_i) for pairs answered together, as matrix products.
    together = ans.T @ local_e  # local_e.T @ ans is its transpose
    pair += terms.scaled * together - terms.scaled_ratio * together.T
    if terms.has_ties:
        size = ans @ terms.same.astype(np.float64)  # answered items in i's cluster
        rest = local_c - ans * (
            local_e @ terms.scaled.T - local_e * (ans @ terms.scaled_ratio.T)
        )
        tied = np.divide(rest, size - 1.0, out=np.zeros_like(rest), where=size > 1.5)
        tied *= ans
        pair += 0.5 * terms.within * ((tied.T @ ans) + (ans.T @ tied))


def _evaluate_by_pattern(
    b: FloatArray,
    cells: _Cells,
    terms: _PairTerms | None,
    cov: FloatArray,
    pair: FloatArray,
) -> tuple[float, FloatArray]:
    """Log-space ESFs once per pattern of answered items, then each of its cells.

    Returns ``-sum n log gamma_r`` and the expected item totals; adds to `cov` and
    `pair` in place when `terms` (the Hessian is wanted) is given.
    """
    n = b.shape[0]
    log_eps_all = np.where(cells.answered, -b, -np.inf)
    value = 0.0
    expected = np.zeros(n)
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
            if terms is not None:
                np.add.at(local_c, lp, weighted * (r - 1)[:, None])
                cov += weighted.T @ pi
        expected += local_e.sum(axis=0)
        if terms is not None:
            ans = cells.answered[p0:p1].astype(np.float64)
            _add_pair_terms(pair, terms, ans, local_e, local_c)
    return value, expected


def _centring_ability(b: FloatArray, answered: BoolArray, score: IntArray) -> FloatArray:
    """The ability at which each row's expected score on its answered items is its score.

    Newton's method on ``sum_{i answered} expit(theta - b_i) = r`` (increasing in
    theta), from the value that is exact for equal difficulties. Only needs to be
    approximate: it centres the score distribution used by `_cell_conditionals`.
    """
    mask = answered.astype(np.float64)
    n_answered = mask.sum(axis=1)
    theta = np.log(score / (n_answered - score)) + (mask @ b) / n_answered
    for _ in range(50):
        p = expit(theta[:, None] - b[None, :]) * mask
        slope = np.maximum((p * (1.0 - p)).sum(axis=1), 1e-300)
        # Steps are clipped: far in a tail the slope is tiny and a full step overshoots.
        step = np.clip((score - p.sum(axis=1)) / slope, -2.0, 2.0)
        theta += step
        if np.max(np.abs(step)) < 1e-2:
            break
    return theta


def _cell_conditionals(
    b: FloatArray, answered: BoolArray, score: IntArray, workspace: FloatArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """``log gamma_r`` and ``pi_{i|r}`` of each row's answered items at its score ``r``.

    Parameters
    ----------
    b : ndarray, shape (n_items,)
        Difficulties.
    answered : ndarray of bool, shape (m, n_items)
        The items answered in each row (a cell of candidates).
    score : ndarray of int, shape (m,)
        Each row's score, ``1 <= r <= n_answered - 1``. The work is banded by the
        rows' largest and smallest ``min(r - 1, n_answered - r)``, so rows with
        similar values of it are best evaluated together.
    workspace : ndarray, optional
        A flat float array of at least ``(n_items + 1) (t + 2) m`` elements, ``t``
        the largest band, reused for the suffix table (saves fresh memory per call).

    Returns
    -------
    log_gamma : ndarray, shape (m,)
        ``log gamma_r`` of the row's answered items at its score.
    pi : ndarray, shape (m, n_items)
        ``pi_{i|r} = eps_i gamma_{r-1}^{(i)} / gamma_r``; 0 for unanswered items.

    Notes
    -----
    For any ``theta``, with ``p_i = expit(theta - b_i)``, ``gamma_s e^{s theta} /
    prod_i (1 + eps_i e^theta)`` is the probability ``P(S = s | theta)`` of score
    ``s`` (Andersen 1970; Fischer 1974). So ``pi_{i|r} = p_i P(S^{(i)} = r - 1) /
    P(S = r)``, ``S^{(i)}`` being the score without item ``i``, and
    ``sum_i p_i P(S^{(i)} = r - 1) = r P(S = r)``. ``theta`` is chosen per row so
    that the expected score is ``r`` (`_centring_ability`), which makes ``r`` the
    mode of ``S`` (Darroch 1964), so ``P(S = r)`` is about the largest of the
    ``n + 1`` probabilities, at least about ``1 / (n + 1)``: the values that matter
    are far from underflow, whatever the spread of the difficulties.

    ``P(S^{(i)} = t) = sum_s P(S_{<i} = s) P(S_{>i} = t - s)``, with the score
    distributions of every prefix and suffix of the items built by the Lord &
    Wingersky (1984) recursion ``P_{k+1}(s) = (1 - p_k) P_k(s) + p_k P_k(s - 1)``,
    vectorised over the rows with one loop over the items: a sum of positive terms,
    so no cancellation, as in the summation algorithm of Verhelst et al. (1984). The
    suffix distributions are stored read backwards from each row's target,
    ``R_j(s) = P(S_{>=j} = t - s)``, which turns the convolution into a dot product
    over ``s``, and only scores ``s <= t`` are kept. To save a multiplication per
    step the recursions run on the odds ``rho_k = p_k / (1 - p_k)``,
    ``R_j(s) = R_{j+1}(s) + rho_j R_{j+1}(s + 1)``, i.e. on ``P`` divided by
    ``prod (1 - p_k)``; every few items (before that product could overflow) the
    tables are normalised back to probabilities and the log factor is recorded.
    When ``t`` lies in the upper half, right and wrong are swapped (``theta - b`` ->
    ``b - theta``, ``t`` -> ``n_answered - 1 - t``), which halves the work on
    high scores. Cost ``O(n t)`` cheap operations and memory per row.
    """
    m, n = answered.shape
    theta = _centring_ability(b, answered, score)
    z = theta[:, None] - b[None, :]
    n_answered = answered.sum(axis=1)
    target = score - 1
    flip = 2 * target > n_answered - 1
    t = np.where(flip, n_answered - 1 - target, target)
    # Log odds of the counted answer (right, or wrong when flipped), by item; -inf
    # for unanswered items: odds 0, a factor 1 in every recursion.
    logodds = np.where(answered, np.where(flip[:, None], -z, z), -np.inf).T
    with np.errstate(over="ignore"):
        rho = np.exp(np.minimum(logodds, 700.0))
    plus = np.logaddexp(0.0, z)  # log(1 + e^{theta - b})
    # -log(1 - p_k) of the counted answer, log(1 + e^{b - theta}) = plus - z when
    # flipped; 0 when unanswered.
    softplus = np.where(answered, plus - np.where(flip[:, None], z, 0.0), 0.0).T
    # Normalise every `every` items: the odds tables grow by at most
    # exp(every * max softplus) <= e^500 in between.
    every = max(1, int(500.0 // max(float(softplus.max()), 1e-300)))
    t_lo, t_hi = int(t.min()), int(t.max())
    width = t_hi + 2  # scores 0..t_hi, plus a zero row for the shift
    # Every entry read below is written first or zeroed explicitly (np.empty avoids
    # touching the whole table twice).
    size = (n + 1) * width * m
    if workspace is None or workspace.shape[0] < size:
        workspace = np.empty(size)
    suffix = workspace[:size].reshape(n + 1, width, m)
    suffix[:, t_hi + 1] = 0.0
    suffix[n, : t_hi + 1] = 0.0
    suffix[n, t, np.arange(m)] = 1.0
    suffix_log = np.zeros((n + 1, m))  # suffix[j] * exp(suffix_log[j]) = odds table
    tail = np.cumsum(softplus[::-1], axis=0)[::-1]  # sum of softplus over items >= j
    last = np.zeros(m)
    for j in range(n - 1, -1, -1):
        # R_j(s) = 0 for every row below t_lo - (n - j): those points need more
        # than the n - j items left.
        lo = max(0, t_lo - (n - j))
        now, after = suffix[j], suffix[j + 1]
        if t_lo - (n - j) >= 0:
            after[lo] = 0.0  # R_{j+1} was computed from lo + 1 only
        np.multiply(after[lo + 1 : t_hi + 2], rho[j], out=now[lo : t_hi + 1])
        now[lo : t_hi + 1] += after[lo : t_hi + 1]
        if (n - j) % every == 0:
            now[lo : t_hi + 1] *= np.exp(last - tail[j])
            last = tail[j]
        suffix_log[j] = last
    prefix = np.zeros((width, m))
    prefix[0] = 1.0
    prefix_log = np.zeros(m)
    head = np.zeros(m)  # sum of softplus over items < i
    loo = np.zeros((n, m))  # odds-table dot products, log factors in loo_log
    loo_log = np.empty((n, m))
    moved = np.empty((width, m))
    for i in range(n):
        # P_i(s) = 0 above i and R_{i+1}(s) = 0 below t_lo - (n - 1 - i).
        lo, hi = max(0, t_lo - (n - 1 - i)), min(i, t_hi) + 1
        if lo < hi:
            np.einsum("sm,sm->m", prefix[lo:hi], suffix[i + 1, lo:hi], out=loo[i])
        loo_log[i] = prefix_log + suffix_log[i + 1]
        top = min(i + 1, t_hi) + 1
        np.multiply(prefix[: top - 1], rho[i], out=moved[1:top])
        prefix[1:top] += moved[1:top]
        head = head + softplus[i]
        if (i + 1) % every == 0:
            prefix[:top] *= np.exp(prefix_log - head)
            prefix_log = head
    # log P(S^{(i)} = t | theta) = log(odds sum) - sum_{k != i} softplus_k; then
    # log P(x_i = 1, S = r | theta) adds log p_i = -log(1 + e^{-z_i}).
    with np.errstate(divide="ignore"):
        log_joint = np.log(loo) + loo_log - (tail[0] - softplus) + (z - plus).T
    log_joint = np.where(answered.T, log_joint, -np.inf)
    log_total = _logsumexp(log_joint, axis=0)  # log(r P(S = r | theta))
    pi = (score * np.exp(log_joint - log_total)).T
    plus_sum = np.where(answered, plus, 0.0).sum(axis=1)
    log_gamma = log_total - np.log(score) - score * theta + plus_sum
    return log_gamma, pi


def _score_chunks(sorted_band: IntArray, n_items: int) -> list[slice]:
    """Consecutive chunks of cells, sorted by band, for `_cell_conditionals`.

    A chunk of ``m`` cells whose largest band (``min(r - 1, n_answered - r)``) is
    ``t`` needs a suffix table of ``8 (n_items + 1) (t + 2) m`` bytes; chunks stay
    within ``_CELL_BYTES``, and their (items x cells) work arrays within a quarter
    of it.
    """
    max_rows = max(1, _CELL_BYTES // (32 * n_items))
    chunks = []
    start, total = 0, sorted_band.shape[0]
    while start < total:
        # Largest k such that the k cells from `start` fit the budget (the table
        # grows with both k and the last, largest, band).
        size = np.arange(1, total - start + 1)
        fits = size * 8 * (n_items + 1) * (sorted_band[start:] + 2) <= _CELL_BYTES
        k = int(np.argmin(fits)) if not fits.all() else total - start
        stop = start + max(1, min(k, max_rows))
        chunks.append(slice(start, stop))
        start = stop
    return chunks


def _evaluate_by_cell(
    b: FloatArray,
    cells: _Cells,
    terms: _PairTerms | None,
    cov: FloatArray,
    pair: FloatArray,
) -> tuple[float, FloatArray]:
    """Each (answered items, score) cell on its own, vectorised over the cells.

    Same outputs as `_evaluate_by_pattern`; see `_cell_conditionals`.
    """
    n = b.shape[0]
    value = 0.0
    expected = np.zeros(n)
    # Cells in band order (the work of _cell_conditionals is banded by it),
    # aggregated in blocks: large matrix products, bounded memory.
    n_answered = cells.answered.sum(axis=1)[cells.pattern]
    band = np.minimum(cells.score - 1, n_answered - cells.score)
    order = np.argsort(band, kind="stable")
    block = max(64, _CELL_BLOCK_BYTES // (8 * n))
    # One suffix table reused by every chunk (fresh memory costs page faults).
    largest = (n + 1) * (int(band.max()) + 2) * min(block, order.shape[0])
    workspace = np.empty(max(min(_CELL_BYTES // 8, largest), (n + 1) * (n + 2)))
    for start in range(0, order.shape[0], block):
        rows = order[start : start + block]
        r = cells.score[rows]
        count = cells.count[rows]
        answered = cells.answered[cells.pattern[rows]]
        log_gamma = np.empty(rows.shape[0])
        pi = np.empty((rows.shape[0], n))
        for chunk in _score_chunks(band[rows], n):
            log_gamma[chunk], pi[chunk] = _cell_conditionals(
                b, answered[chunk], r[chunk], workspace
            )
        value -= float(count @ log_gamma)
        weighted = pi * count[:, None]
        expected += weighted.sum(axis=0)
        if terms is not None:
            cov += weighted.T @ pi
            local_c = weighted * (r - 1)[:, None]
            _add_pair_terms(pair, terms, answered.astype(np.float64), weighted, local_c)
    return value, expected


def _cml_evaluate(
    b: FloatArray, cells: _Cells, *, hessian: bool
) -> tuple[float, FloatArray, FloatArray | None]:
    """``-sum n log gamma_r``, expected item totals and the Hessian of log L_c.

    Notes
    -----
    For a pattern of answered items and a score ``r``, ``pi_{i|r} = eps_i
    gamma_{r-1}^{(i)} / gamma_r`` is the probability of a right answer on item
    ``i`` given the score (Fischer 1974). The cells are evaluated together,
    vectorised over the cells, with score distributions at a centring ability in
    place of the ESFs (`_cell_conditionals`): ``O(n^2)`` cheap operations per cell
    (fewer for scores near 0 or the maximum), whether or not candidates share a
    pattern of answered items. (`_evaluate_by_pattern`, selected by ``_BY_PATTERN``,
    is the former route: log-space ESFs of all prefixes and suffixes of each
    pattern's items, then ``gamma_{r-1}^{(i)} = sum_s gamma_s(< i) gamma_{r-1-s}(> i)``
    per cell; the same values, but much slower per cell, and with scattered
    omissions there is about one pattern per candidate.) Either way only positive
    terms are added. Then

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
    cov = np.zeros((n, n))
    pair = np.zeros((n, n))
    terms = _pair_terms(b) if hessian else None
    evaluate = _evaluate_by_pattern if _BY_PATTERN else _evaluate_by_cell
    value, expected = evaluate(b, cells, terms, cov, pair)
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
    data: Responses, *, tol: float, max_iter: int, callback: _Callback | None = None
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
        change = float(np.max(np.abs(scale * step)))
        if callback is not None:
            callback(iteration, change)
        if change < tol:
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
    data: Responses,
    a: float,
    *,
    tol: float,
    max_iter: int,
    callback: _Callback | None = None,
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
        change = float(max(np.max(np.abs(d_b)), np.max(np.abs(d_theta))))
        if callback is not None:
            callback(iteration, change)
        if change < tol:
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
    callback: Callable[[int, float], None] | None = None,
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
    callback : callable, optional
        Called as ``callback(iteration, change)`` after each iteration, with the
        1-based iteration number and the largest absolute change of a parameter in
        that iteration (CML: difficulties after the line search; JML: difficulties
        and abilities; MML: the parameters after each quasi-Newton iteration, then
        after each Newton polishing step, numbered on), e.g. to drive a progress
        bar. It must not modify its arguments; an exception it raises stops the
        estimation and propagates.

    Returns
    -------
    RaschFit

    Raises
    ------
    ValueError
        Invalid codes or NaN; fewer than 2 items; an unknown method; a
        non-positive discrimination, or ``None`` with CML/JML; a `callback` that is
        not callable; items answered all right or all wrong (for CML and JML: among
        the candidates without a zero or perfect score), named by 0-based index;
        for CML and JML, data whose
        difficulties are not finite (Fischer 1981: a disconnected design, or
        Guttman-ordered items), naming some of the items concerned.

    Notes
    -----
    *CML* maximises ``log L_c = -sum_i s_i b_i - sum_r n_r log gamma_r(eps)`` with
    ``s_i`` the number right on item ``i``, ``n_r`` the number of candidates with
    score ``r`` and ``eps_i = exp(-b_i)`` (Andersen 1970; Fischer 1974), by
    Newton-Raphson with the exact Hessian, computed per (answered items, score)
    cell, not per candidate (the identities are in the notes of the private
    ``_cml_evaluate``). The ratios ``gamma_{r-1}^{(i)} / gamma_r`` it needs are
    computed, vectorised over the cells, from score distributions at an ability
    centred on each cell's score, adding positive terms only (notes of the private
    ``_cell_conditionals``): as accurate as the log-space summation algorithm of
    `elementary_symmetric_functions`, and ``O(n^2)`` per cell, so scattered
    omissions, which give nearly every candidate their own cell, cost about
    ``O(N n^2)`` per iteration. Candidates with a zero or perfect
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
    Andersen (1970); Fischer (1974, 1981); Verhelst, Glas & van der Sluis (1984);
    Lord & Wingersky (1984); Darroch (1964); Bock & Aitkin (1981); Thissen (1982);
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
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable or None, got {type(callback).__name__}")

    if method == "mml":
        mml._check_common(n_quadrature, 1.0)
        data, groups = mml.prepare(responses, by_score=True)
        model: mml.Model = "rasch_common" if discrimination is None else "rasch"
        problem = mml._Problem(groups, model, int(n_quadrature), 1.0, a, None)
        sol = mml.solve(problem, max_iter=int(max_iter), callback=callback)
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
        b, se, value, iterations, converged, used = _cml(
            data, tol=tol, max_iter=max_iter, callback=callback
        )
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
    b, se, loglik, iterations, converged, n_used = _jml(
        data, a, tol=tol, max_iter=max_iter, callback=callback
    )
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
