"""Reliability of number-right scores and of the pass/fail decision.

Classical indices computed from a scored response matrix (KR-20 / Cronbach's
alpha, KR-21, the standard error of measurement), conditional standard errors
of measurement at each raw score (Lord's binomial error model with Keats'
adjustment, and IRT), the consistency and accuracy of the classification at a
cut score (Livingston & Lewis 1995; Lee 2010), and Haberman's (2008) PRMSE
check of whether a domain subscore adds value over the total score.

Scored response matrices have shape ``(n_candidates, n_items)`` and hold
``1`` (right), ``0`` (wrong) or ``-1`` (omitted), as produced by
`scoring.raw.score_choices`. Every function here follows the number-right
convention of `scoring.raw.raw_scores`: **an omitted response scores 0**, so
it is treated exactly like a wrong answer. Map omissions differently (for
example to missing data) before calling these functions if that is wanted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import stats

from scoring._frozen import freeze_arrays
from scoring.irt.model import (
    ItemParameters,
    information,
    normal_quadrature,
    probability,
    score_distribution,
)

__all__ = [
    "ClassificationIndices",
    "IrtCsem",
    "LivingstonLewis",
    "SubscoreValue",
    "binomial_csem",
    "cronbach_alpha",
    "haberman_prmse",
    "irt_classification",
    "irt_csem",
    "kr20",
    "kr21",
    "livingston_lewis",
    "sem",
]

FloatArray = npt.NDArray[np.float64]

# Gauss-Legendre nodes per side of the cut for the Livingston-Lewis integrals.
_LL_NODES: Final = 96
# Thetas per Lord-Wingersky block in irt_classification (bounds memory use).
_THETA_BLOCK: Final = 4096


class _FrozenArrays:
    """Mixin for frozen dataclasses: own read-only copies of array fields."""

    def __post_init__(self) -> None:
        freeze_arrays(self)


# ---------------------------------------------------------------------------
# Input validation shared by reliability, item_analysis and domains
# ---------------------------------------------------------------------------


def _right_matrix(
    responses: npt.ArrayLike,
    name: str = "responses",
    *,
    min_candidates: int = 2,
    min_items: int = 1,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Validate a scored response matrix; return (right, omitted) boolean masks.

    Integer inputs are checked with two reductions (min and max), so that a
    100,000 x 180 matrix is validated in a few milliseconds.
    """
    u = np.asarray(responses)
    if u.dtype.kind == "b":
        u = u.view(np.int8) if u.dtype.itemsize == 1 else u.astype(np.int8)
    if u.dtype.kind == "O":
        try:
            u = u.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must contain only 1 (right), 0 (wrong) or -1 (omitted), "
                "but holds a non-numeric value."
            ) from None
    if u.dtype.kind not in "iuf":
        raise ValueError(
            f"{name} must contain only 1 (right), 0 (wrong) or -1 (omitted), "
            f"but has non-numeric dtype {u.dtype}."
        )
    if u.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_candidates, n_items), but has shape {u.shape}.")
    n, k = u.shape
    if n < min_candidates:
        raise ValueError(
            f"{name} must have at least {min_candidates} candidates (rows), but has {n}; "
            "a variance or correlation needs at least two candidates."
        )
    if k < min_items:
        raise ValueError(f"{name} must have at least {min_items} items (columns), but has {k}.")
    if u.dtype.kind in "iu":
        ok = int(u.min()) >= -1 and int(u.max()) <= 1
    else:
        ok = bool(((u == 1) | (u == 0) | (u == -1)).all())
    if not ok:
        bad_mask = ~((u == 1) | (u == 0) | (u == -1))
        bad = tuple(int(i) for i in np.argwhere(bad_mask)[0])
        value = u[bad].item()
        raise ValueError(
            f"{name} must contain only 1 (right), 0 (wrong) or -1 (omitted), but "
            f"{name}[{bad[0]}, {bad[1]}] is {value!r} ({int(bad_mask.sum())} invalid entries)."
        )
    return u == 1, u == -1


def _domain_index(
    domains: Sequence[str], n_items: int, name: str = "domains"
) -> tuple[tuple[str, ...], npt.NDArray[np.intp]]:
    """Return the domain labels in order of first appearance and each item's index."""
    if isinstance(domains, str):
        raise ValueError(f"{name} must be a sequence of labels, one per item, not a str.")
    labels = list(domains)
    if len(labels) != n_items:
        raise ValueError(
            f"{name} must have one label per item: responses has {n_items} items "
            f"but {name} has length {len(labels)}."
        )
    for j, label in enumerate(labels):
        if not isinstance(label, str):
            raise ValueError(f"{name}[{j}] must be a str, but is {label!r}.")
    unique = tuple(dict.fromkeys(labels))
    position = {label: d for d, label in enumerate(unique)}
    return unique, np.array([position[label] for label in labels], dtype=np.intp)


def _check_probability(value: float, name: str, *, open_low: bool = True) -> float:
    """Validate a reliability-like number in (0, 1) (or [0, 1) when not open_low)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}.") from None
    low_ok = v > 0.0 if open_low else v >= 0.0
    if not (math.isfinite(v) and low_ok and v < 1.0):
        interval = "(0, 1)" if open_low else "[0, 1)"
        raise ValueError(f"{name} must lie in {interval}, got {value!r}.")
    return v


# ---------------------------------------------------------------------------
# Internal consistency and the standard error of measurement
# ---------------------------------------------------------------------------


def _kr20_from_right(right: npt.NDArray[np.bool_]) -> tuple[float, float]:
    """Return (KR-20, sample variance of totals) for a validated right mask."""
    n, k = right.shape
    if k < 2:
        raise ValueError(f"responses must have at least 2 items for KR-20, but has {k}.")
    p = right.sum(axis=0, dtype=np.int64) / n
    total = right.sum(axis=1, dtype=np.int64)
    var_total = float(total.var(ddof=1))
    if var_total == 0.0:
        raise ValueError(
            "responses: every candidate has the same raw score, so the total-score "
            "variance is 0 and KR-20 / alpha is undefined."
        )
    # Item variances with the same ddof as the total (ratio is ddof-invariant).
    var_items = float((p * (1.0 - p)).sum()) * n / (n - 1)
    return k / (k - 1) * (1.0 - var_items / var_total), var_total


def kr20(responses: npt.ArrayLike) -> float:
    r"""
    Kuder-Richardson formula 20 (equal to Cronbach's alpha for 0/1 items).

    Parameters
    ----------
    responses : array_like, shape (n_candidates, n_items)
        Scored responses: 1 right, 0 wrong, -1 omitted. Omitted responses
        score 0 (number-right convention, as in `scoring.raw.raw_scores`).

    Returns
    -------
    float
        KR-20. At most 1; negative when the items correlate negatively on
        average.

    Raises
    ------
    ValueError
        If `responses` is not 2-D, holds a value other than -1, 0, 1 (NaN
        included), has fewer than 2 candidates or 2 items, or if every
        candidate has the same raw score (zero total variance).

    Notes
    -----
    With :math:`K` items, proportions correct :math:`p_j`, :math:`q_j = 1 - p_j`
    and :math:`\sigma^2_X` the variance of the number-right score,

    .. math:: \mathrm{KR20} = \frac{K}{K-1}\left(1 - \frac{\sum_j p_j q_j}{\sigma^2_X}\right).

    Item and total variances use the same divisor, so the value does not
    depend on ``ddof`` and equals Cronbach's alpha of the 0/1 matrix.
    Items everyone answered right (or wrong) contribute zero variance and
    leave KR-20 finite.

    References
    ----------
    Kuder, G. F. & Richardson, M. W. (1937). The theory of the estimation of
    test reliability. *Psychometrika*, 2, 151-160.
    Kolen, M. J. & Brennan, R. L. (2014). *Test Equating, Scaling, and
    Linking* (3rd ed.). Springer.

    Examples
    --------
    >>> round(kr20([[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]]), 4)
    0.75
    """
    right, _ = _right_matrix(responses, min_items=2)
    return _kr20_from_right(right)[0]


def cronbach_alpha(scores: npt.ArrayLike) -> float:
    r"""
    Cronbach's coefficient alpha of item scores (0/1 or partial credit).

    Parameters
    ----------
    scores : array_like, shape (n_candidates, n_items)
        Non-negative, finite item scores. Unlike `kr20` there are no
        response codes: ``-1`` is rejected, because for a scored response
        matrix it means "omitted" and must be mapped to a score first (or
        use `kr20`, which scores it 0).

    Returns
    -------
    float
        Alpha; equal to `kr20` for a 0/1 matrix.

    Raises
    ------
    ValueError
        If `scores` is not 2-D numeric, holds NaN, infinite or negative
        values, has fewer than 2 candidates or 2 items, or if the total
        score has zero variance.

    Notes
    -----
    .. math:: \alpha = \frac{K}{K-1}\left(1 - \frac{\sum_j \sigma^2_j}{\sigma^2_X}\right)

    with sample variances (any common divisor gives the same value).

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of
    tests. *Psychometrika*, 16, 297-334.

    Examples
    --------
    >>> round(cronbach_alpha([[2, 1, 2], [1, 1, 0], [1, 0, 0], [0, 0, 1]]), 4)
    0.6977
    """
    s = np.asarray(scores)
    if s.dtype.kind not in "biuf":
        raise ValueError(f"scores must be numeric, but has dtype {s.dtype}.")
    if s.ndim != 2:
        raise ValueError(f"scores must be 2-D (n_candidates, n_items), but has shape {s.shape}.")
    n, k = s.shape
    if n < 2:
        raise ValueError(f"scores must have at least 2 candidates (rows), but has {n}.")
    if k < 2:
        raise ValueError(f"scores must have at least 2 items (columns), but has {k}.")
    s = s.astype(np.float64)
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite, but contains NaN or infinity.")
    if (s < 0).any():
        raise ValueError(
            "scores must be non-negative item scores; -1 in a scored response matrix "
            "means 'omitted': use kr20 (which scores it 0) or map it to a score first."
        )
    var_total = float(s.sum(axis=1).var(ddof=1))
    if var_total == 0.0:
        raise ValueError("scores: the total score has zero variance, so alpha is undefined.")
    return k / (k - 1) * (1.0 - float(s.var(axis=0, ddof=1).sum()) / var_total)


def kr21(responses: npt.ArrayLike, ddof: int = 0) -> float:
    r"""
    Kuder-Richardson formula 21.

    Parameters
    ----------
    responses : array_like, shape (n_candidates, n_items)
        Scored responses (1, 0, -1; omitted scores 0).
    ddof : {0, 1}
        Divisor of the total-score variance: ``N - ddof``. The default 0
        (population moments) is the form in which the mean of Lord's
        binomial error variance over the score distribution equals the
        KR-21 error variance exactly (see `binomial_csem`).

    Returns
    -------
    float
        KR-21, a lower bound of KR-20 (equal when all items are equally
        difficult).

    Raises
    ------
    ValueError
        As for `kr20`; also if `ddof` is not 0 or 1.

    Notes
    -----
    With mean :math:`\mu` and variance :math:`\sigma^2` of the number-right
    score on :math:`K` items,

    .. math:: \mathrm{KR21} = \frac{K}{K-1}\left(1 - \frac{\mu (K - \mu)}{K \sigma^2}\right).

    References
    ----------
    Kuder, G. F. & Richardson, M. W. (1937). *Psychometrika*, 2, 151-160.
    Lord, F. M. & Novick, M. R. (1968). *Statistical Theories of Mental Test
    Scores*, sec. 23.

    Examples
    --------
    >>> round(kr21([[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]]), 4)
    0.6
    """
    if ddof not in (0, 1):
        raise ValueError(f"ddof must be 0 or 1, got {ddof!r}.")
    right, _ = _right_matrix(responses, min_items=2)
    k = right.shape[1]
    total = right.sum(axis=1, dtype=np.int64)
    var = float(total.var(ddof=ddof))
    if var == 0.0:
        raise ValueError(
            "responses: every candidate has the same raw score, so KR-21 is undefined."
        )
    mean = float(total.mean())
    return k / (k - 1) * (1.0 - mean * (k - mean) / (k * var))


def sem(responses: npt.ArrayLike) -> float:
    r"""
    Standard error of measurement of the number-right score.

    Parameters
    ----------
    responses : array_like, shape (n_candidates, n_items)
        Scored responses (1, 0, -1; omitted scores 0).

    Returns
    -------
    float
        :math:`s_X \sqrt{1 - \mathrm{KR20}}` in raw-score points.

    Raises
    ------
    ValueError
        As for `kr20`.

    Notes
    -----
    :math:`s_X` is the sample standard deviation (``ddof=1``) of the
    number-right scores (project convention).

    References
    ----------
    Lord, F. M. & Novick, M. R. (1968). *Statistical Theories of Mental Test
    Scores*, eq. 3.8.4. Kolen & Brennan (2014).

    Examples
    --------
    >>> round(sem([[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]]), 4)
    0.6455
    """
    right, _ = _right_matrix(responses, min_items=2)
    reliability, var_total = _kr20_from_right(right)
    # Perfectly consistent items give KR-20 = 1 up to rounding (1 + 2e-16): SEM 0, not NaN.
    return math.sqrt(var_total * max(0.0, 1.0 - reliability))


# ---------------------------------------------------------------------------
# Conditional standard errors of measurement
# ---------------------------------------------------------------------------


def binomial_csem(
    n_items: int, *, reliability: float | None = None, kr21: float | None = None
) -> FloatArray:
    r"""
    Conditional SEM at each raw score under Lord's binomial error model.

    Parameters
    ----------
    n_items : int
        Number of (dichotomous) items :math:`K`, at least 2.
    reliability, kr21 : float, optional
        Give both to apply Keats' adjustment: ``reliability`` is the test's
        reliability (e.g. `kr20`) and ``kr21`` its KR-21 (`kr21`, computed
        with the same data and ``ddof=0``).

    Returns
    -------
    ndarray of float64, shape (K + 1,)
        CSEM at raw scores ``x = 0..K``, in raw-score points.

    Raises
    ------
    ValueError
        If `n_items` is not an integer >= 2, if only one of `reliability`
        and `kr21` is given, if `reliability` exceeds 1 or `kr21` is not
        below 1.

    Notes
    -----
    Lord's binomial error model treats the items as a random sample from a
    domain, so the error variance of a candidate with true proportion
    :math:`\zeta` is binomial; its unbiased estimate at observed score
    :math:`x` is

    .. math:: \mathrm{CSEM}(x) = \sqrt{\frac{x (K - x)}{K - 1}}.

    Averaged over the score distribution (population moments),
    :math:`E[\mathrm{CSEM}^2(X)] = \sigma^2_X (1 - \mathrm{KR21})`, the
    KR-21 error variance. Keats' adjustment rescales the error variances so
    that their mean is the error variance implied by the chosen reliability:

    .. math:: \mathrm{CSEM}_{K}(x) = \mathrm{CSEM}(x)
              \sqrt{\frac{1 - \rho}{1 - \mathrm{KR21}}}.

    CSEM is 0 at ``x = 0`` and ``x = K``.

    References
    ----------
    Lord, F. M. (1955). Estimating test reliability. *Educational and
    Psychological Measurement*, 15, 325-336.
    Lord, F. M. (1957). Do tests of the same length have the same standard
    error of measurement? *Educational and Psychological Measurement*, 17,
    510-521.
    Keats, J. A. (1957). Estimation of error variances of test scores.
    *Psychometrika*, 22, 29-41.
    Kolen, M. J., Hanson, B. A. & Brennan, R. L. (1992). Conditional
    standard errors of measurement for scale scores. *Journal of
    Educational Measurement*, 29, 285-307.

    Examples
    --------
    >>> binomial_csem(4).round(4)
    array([0.    , 1.    , 1.1547, 1.    , 0.    ])
    >>> binomial_csem(4, reliability=0.8, kr21=0.75).round(4)
    array([0.    , 0.8944, 1.0328, 0.8944, 0.    ])
    """
    if isinstance(n_items, bool) or not isinstance(n_items, int | np.integer) or n_items < 2:
        raise ValueError(f"n_items must be an integer >= 2, got {n_items!r}.")
    k = int(n_items)
    x = np.arange(k + 1, dtype=np.float64)
    csem = np.sqrt(x * (k - x) / (k - 1))
    if (reliability is None) != (kr21 is None):
        raise ValueError(
            "Keats' adjustment needs both reliability and kr21; give both or neither."
        )
    if reliability is not None and kr21 is not None:
        rel, k21 = float(reliability), float(kr21)
        if not (math.isfinite(rel) and rel <= 1.0):
            raise ValueError(f"reliability must be a finite number <= 1, got {reliability!r}.")
        if not (math.isfinite(k21) and k21 < 1.0):
            raise ValueError(f"kr21 must be a finite number below 1, got {kr21!r}.")
        csem = csem * math.sqrt((1.0 - rel) / (1.0 - k21))
    return csem


@dataclass(frozen=True, eq=False)
class IrtCsem(_FrozenArrays):
    """
    Result of `irt_csem`: IRT conditional SEMs at each raw score.

    Attributes
    ----------
    score : ndarray of float64, shape (K + 1,)
        Raw scores ``0..K``.
    theta : ndarray of float64, shape (K + 1,)
        Ability whose expected raw score (test characteristic curve) equals
        ``score``: ``-inf`` for scores at or below the sum of the lower
        asymptotes (``0`` when ``c = 0``), ``+inf`` for ``K``.
    csem : ndarray of float64, shape (K + 1,)
        Raw-score CSEM: standard deviation of the number-right score given
        ``theta``, i.e. of the Lord-Wingersky distribution,
        ``sqrt(sum_i P_i (1 - P_i))``; at infinite ``theta`` its limit
        (0 at ``K``; ``sqrt(sum c (1 - c))`` at the bottom).
    csem_theta : ndarray of float64, shape (K + 1,)
        Theta-scale SEM ``1 / sqrt(I(theta))`` (inverse square root of the
        test information); ``inf`` where ``theta`` is infinite.
    """

    score: FloatArray
    theta: FloatArray
    csem: FloatArray
    csem_theta: FloatArray


def _theta_for_true_score(targets: FloatArray, items: ItemParameters) -> FloatArray:
    """Solve TCC(theta) = target for targets strictly inside (sum c, K), vectorised."""
    lo = np.full(targets.shape, -8.0)
    hi = np.full(targets.shape, 8.0)
    # Widen the bracket where needed (flat TCCs from small discriminations).
    for _ in range(60):
        low_bad = probability(lo, items).sum(axis=1) > targets
        high_bad = probability(hi, items).sum(axis=1) < targets
        if not (low_bad.any() or high_bad.any()):
            break
        lo[low_bad] *= 2.0
        hi[high_bad] *= 2.0
    # Bisection: the TCC is increasing in theta because every a > 0.
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        above = probability(mid, items).sum(axis=1) > targets
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
        if float(np.max(hi - lo)) < 1e-12:
            break
    return 0.5 * (lo + hi)


def irt_csem(items: ItemParameters) -> IrtCsem:
    r"""
    IRT conditional SEM at each raw score, on the raw and the theta scale.

    Parameters
    ----------
    items : ItemParameters
        Item parameters of the form (`scoring.irt.model.ItemParameters`).

    Returns
    -------
    IrtCsem
        Raw scores, the abilities :math:`\theta_x` with
        :math:`\tau(\theta_x) = x`, the raw-score CSEM and the theta-scale
        SEM at those abilities.

    Notes
    -----
    The number-right score given :math:`\theta` is a sum of independent
    Bernoulli variables, so its distribution is the Lord-Wingersky
    recursion and its variance is exactly

    .. math:: \sigma^2(X \mid \theta) = \sum_i P_i(\theta) (1 - P_i(\theta)).

    The raw-score CSEM at score :math:`x` is this standard deviation at the
    ability :math:`\theta_x` solving :math:`\tau(\theta_x) = \sum_i
    P_i(\theta_x) = x` (found by bisection: :math:`\tau` is increasing).
    ``csem_theta`` is :math:`1/\sqrt{I(\theta_x)}`, the asymptotic SE of the
    maximum-likelihood ability estimate (Lord 1980, eq. 5-5).

    References
    ----------
    Lord, F. M. (1980). *Applications of Item Response Theory to Practical
    Testing Problems*. Erlbaum, ch. 4-5.
    Lord, F. M. & Wingersky, M. S. (1984). *Applied Psychological
    Measurement*, 8, 453-461.
    Kolen, M. J., Zeng, L. & Hanson, B. A. (1996). Conditional standard
    errors of measurement for scale scores using IRT. *Journal of
    Educational Measurement*, 33, 129-140.

    Examples
    --------
    >>> from scoring.irt.model import ItemParameters
    >>> result = irt_csem(ItemParameters.create(b=[0.0, 0.0]))
    >>> result.theta.round(6) + 0.0
    array([-inf,   0.,  inf])
    >>> result.csem.round(4), result.csem_theta.round(4)
    (array([0.    , 0.7071, 0.    ]), array([   inf, 1.4142,    inf]))
    """
    if not isinstance(items, ItemParameters):
        raise ValueError(f"items must be an ItemParameters instance, got {type(items).__name__}.")
    k = items.n_items
    score = np.arange(k + 1, dtype=np.float64)
    floor = float(items.c.sum())
    inside = (score > floor) & (score < k)
    theta = np.where(score >= k, np.inf, -np.inf)
    theta[inside] = _theta_for_true_score(score[inside], items)

    csem = np.empty(k + 1)
    csem_theta = np.full(k + 1, np.inf)
    csem[score >= k] = 0.0
    csem[~inside & (score < k)] = math.sqrt(float((items.c * (1.0 - items.c)).sum()))
    if inside.any():
        p = probability(theta[inside], items)
        csem[inside] = np.sqrt((p * (1.0 - p)).sum(axis=1))
        csem_theta[inside] = 1.0 / np.sqrt(information(theta[inside], items).sum(axis=1))
    return IrtCsem(score=score, theta=theta, csem=csem, csem_theta=csem_theta)


# ---------------------------------------------------------------------------
# Classification consistency and accuracy
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ClassificationIndices(_FrozenArrays):
    """
    Consistency and accuracy of a pass/fail classification at one cut.

    Attributes
    ----------
    consistency : float
        Probability that two independent administrations of parallel forms
        classify a candidate the same way (Livingston & Lewis's P).
    kappa : float
        Cohen's kappa of that agreement: ``(P - P_c) / (1 - P_c)``;
        never above `consistency`. NaN if ``P_c == 1``.
    chance_consistency : float
        Agreement expected by chance, ``P_c = pass_rate**2 + (1 - pass_rate)**2``.
    accuracy : float
        Probability that the observed classification equals the one based
        on the true score; ``accuracy = 1 - false_positive - false_negative``.
    false_positive : float
        Probability of passing with a true score below the cut.
    false_negative : float
        Probability of failing with a true score at or above the cut.
    pass_rate : float
        Model-implied probability of an observed pass.
    true_pass_rate : float
        Model-implied probability of a true score at or above the cut.
    """

    consistency: float
    kappa: float
    chance_consistency: float
    accuracy: float
    false_positive: float
    false_negative: float
    pass_rate: float
    true_pass_rate: float


def _indices(
    weights: FloatArray, pass_prob: FloatArray, true_pass: npt.NDArray[np.bool_]
) -> dict[str, float]:
    """Classification indices from a discrete true-score distribution."""
    w = weights / weights.sum()
    pass_rate = float(np.dot(w, pass_prob))
    consistency = float(np.dot(w, pass_prob**2 + (1.0 - pass_prob) ** 2))
    chance = pass_rate**2 + (1.0 - pass_rate) ** 2
    kappa = (consistency - chance) / (1.0 - chance) if chance < 1.0 else math.nan
    false_positive = float(np.dot(w[~true_pass], pass_prob[~true_pass]))
    false_negative = float(np.dot(w[true_pass], 1.0 - pass_prob[true_pass]))
    return {
        "consistency": consistency,
        "kappa": kappa,
        "chance_consistency": chance,
        "accuracy": 1.0 - false_positive - false_negative,
        "false_positive": false_positive,
        "false_negative": false_negative,
        "pass_rate": pass_rate,
        "true_pass_rate": float(w[true_pass].sum()),
    }


@dataclass(frozen=True, eq=False)
class LivingstonLewis(ClassificationIndices):
    """
    Result of `livingston_lewis`: the indices plus the fitted model.

    Attributes
    ----------
    effective_length : int
        Effective test length ``n`` (rounded, at least 1) used for the
        binomial error model.
    effective_length_exact : float
        Unrounded effective test length.
    cut_effective : float
        The cut on the effective-length scale, ``n (cut - min) / (max - min)``;
        an observed pass is ``X_n >= cut_effective``.
    true_alpha, true_beta : float
        Shape parameters of the fitted beta true-score distribution.
    true_lower, true_upper : float
        Its limits on the proportion-correct scale, within [0, 1].
    n_beta_parameters : int
        4, 3 or 2: how many parameters of the beta distribution were
        fitted (see Notes of `livingston_lewis`).
    """

    effective_length: int
    effective_length_exact: float
    cut_effective: float
    true_alpha: float
    true_beta: float
    true_lower: float
    true_upper: float
    n_beta_parameters: int


@dataclass(frozen=True)
class _Beta:
    alpha: float
    beta: float
    lower: float
    upper: float
    n_parameters: int


_BOUND_TOL: Final = 1e-9


def _fit_beta4(mean: float, var: float, mu3: float, mu4: float) -> _Beta | None:
    """Four-parameter beta with the given first four moments (method of moments)."""
    g1sq = mu3**2 / var**3
    b2 = mu4 / var**2
    num = 6.0 * (b2 - g1sq - 1.0)
    den = 6.0 + 3.0 * g1sq - 2.0 * b2
    if not (num > 0.0 and den > 0.0):
        return None
    nu = num / den
    if g1sq < 1e-14:
        a = b = nu / 2.0
    else:
        d = 1.0 / math.sqrt(1.0 + 16.0 * (nu + 1.0) / ((nu + 2.0) ** 2 * g1sq))
        # Positive skew puts the mode near the lower limit: alpha < beta.
        a = nu / 2.0 * (1.0 - math.copysign(d, mu3))
        b = nu - a
    width = math.sqrt(var) * math.sqrt((nu + 2.0) ** 2 * g1sq + 16.0 * (nu + 1.0)) / 2.0
    lower = mean - a / nu * width
    return _Beta(a, b, lower, lower + width, 4)


def _fit_beta3_lower(mean: float, var: float, mu3: float, lower: float) -> _Beta | None:
    """Three-parameter beta with a fixed lower limit, matching three moments.

    With raw moments ``M_k`` of ``T - lower`` and ``r1 = M1``, ``r2 = M2 / M1``,
    ``r3 = M3 / M2``: ``w a = r1 nu``, ``w (a + 1) = r2 (nu + 1)`` and
    ``w (a + 2) = r3 (nu + 2)``, which is linear in ``nu``.
    """
    m1 = mean - lower
    m2 = var + m1**2
    m3 = mu3 + 3.0 * m1 * var + m1**3
    if not (m1 > 0.0 and m2 > 0.0):
        return None
    r1, r2, r3 = m1, m2 / m1, m3 / m2
    den = 2.0 * r2 - r1 - r3
    if den == 0.0:
        return None
    nu = 2.0 * (r3 - r2) / den
    width = r2 * (nu + 1.0) - r1 * nu
    if not (nu > 0.0 and width > 0.0):
        return None
    a = r1 * nu / width
    b = nu - a
    if not (a > 0.0 and b > 0.0):
        return None
    return _Beta(a, b, lower, lower + width, 3)


def _fit_true_beta(mean: float, var: float, mu3: float, mu4: float | None) -> _Beta:
    """Fit the true-proportion distribution: 4, else 3, else 2 beta parameters."""

    def inside(fit: _Beta | None) -> bool:
        return (
            fit is not None
            and fit.alpha > 0.0
            and fit.beta > 0.0
            and fit.lower >= -_BOUND_TOL
            and fit.upper <= 1.0 + _BOUND_TOL
        )

    def clipped(fit: _Beta) -> _Beta:
        lower = min(max(fit.lower, 0.0), 1.0)
        upper = min(max(fit.upper, lower), 1.0)
        return _Beta(fit.alpha, fit.beta, lower, upper, fit.n_parameters)

    four = _fit_beta4(mean, var, mu3, mu4) if mu4 is not None else None
    if four is not None and inside(four):
        return clipped(four)
    # Fix the limit that the four-parameter fit violated (or try both).
    low_violated = four is None or four.lower < 0.0
    high_violated = four is None or four.upper > 1.0
    if mu4 is not None and not (four is not None and low_violated and high_violated):
        if low_violated:
            three = _fit_beta3_lower(mean, var, mu3, 0.0)
            if three is not None and inside(three):
                return clipped(three)
        if high_violated:
            # Reflect T -> 1 - T so that the fixed limit is a lower one.
            three = _fit_beta3_lower(1.0 - mean, var, -mu3, 0.0)
            if three is not None:
                three = _Beta(three.beta, three.alpha, 1.0 - three.upper, 1.0, 3)
                if inside(three):
                    return clipped(three)
    nu = mean * (1.0 - mean) / var - 1.0
    if not (nu > 0.0 and 0.0 < mean < 1.0):
        raise ValueError(
            "livingston_lewis: the estimated true-score moments are impossible for a "
            f"distribution on [0, 1] (mean {mean:.6g}, variance {var:.6g}); check "
            "reliability, min_score and max_score."
        )
    return _Beta(mean * nu, (1.0 - mean) * nu, 0.0, 1.0, 2)


def livingston_lewis(
    scores: npt.ArrayLike,
    *,
    cut: float,
    reliability: float,
    max_score: float,
    min_score: float = 0.0,
    weights: npt.ArrayLike | None = None,
) -> LivingstonLewis:
    r"""
    Decision consistency and accuracy by the Livingston-Lewis method.

    Parameters
    ----------
    scores : array_like, shape (n_candidates,)
        Observed total scores (number-right or any composite), within
        ``[min_score, max_score]``.
    cut : float
        Passing score on the same scale: a candidate passes when
        ``score >= cut``. Must lie in ``(min_score, max_score]``.
    reliability : float
        Reliability of the scores, in (0, 1) (e.g. `kr20`).
    max_score, min_score : float
        Maximum and minimum possible scores.
    weights : array_like, shape (n_candidates,), optional
        Non-negative frequency weights (e.g. counts when `scores` lists the
        distinct score values). Default: 1 for every score.

    Returns
    -------
    LivingstonLewis
        Consistency, kappa, accuracy, false positive / negative rates and
        the fitted effective test length and true-score distribution.

    Raises
    ------
    ValueError
        If `scores` is not 1-D, has fewer than 2 values, NaN or values
        outside ``[min_score, max_score]``, has zero variance; if `cut` is
        outside ``(min_score, max_score]``; if `reliability` is outside
        (0, 1); if `weights` are negative or mismatched.

    Notes
    -----
    1. Scores are rescaled to proportions :math:`x' = (x - x_{min}) /
       (x_{max} - x_{min})`, with mean :math:`\mu`, variance
       :math:`\sigma^2` (population moments, weighted) and reliability
       :math:`\rho`. The *effective test length* is the number of
       binomial items that would give this reliability (L&L eq. 6):

       .. math:: n = \frac{\mu (1 - \mu) - \rho \sigma^2}{\sigma^2 (1 - \rho)},

       rounded to the nearest integer (at least 1).
    2. The true proportion :math:`T` has the raw moments (Lord 1965)
       :math:`E[T^k] = E[X_n^{[k]}] / n^{[k]}`, where :math:`X_n = n x'`
       and :math:`a^{[k]} = a (a - 1) \cdots (a - k + 1)`.
    3. A four-parameter beta (shapes :math:`\alpha, \beta`, limits
       :math:`0 \le l < u \le 1`) is fitted to the first four moments by
       the method of moments (Hanson 1991). If it has no solution or a
       limit falls outside [0, 1], the violated limit is fixed at 0 or 1
       and a three-parameter beta is fitted to three moments; if that
       also fails (or both limits are violated, or :math:`n < 4`), a
       two-parameter beta on [0, 1] is fitted to the mean and variance.
    4. Given :math:`T = t`, the score on a form of length :math:`n` is
       binomial(:math:`n, t`). With :math:`c' = (c - x_{min}) / (x_{max} -
       x_{min})`, an observed pass is :math:`X_n \ge n c'` and a true pass is
       :math:`t \ge c'`. With :math:`P(t) = \Pr(X_n \ge n c' \mid t)`:

       .. math::

          P_{cons} = E[P(T)^2 + (1 - P(T))^2], \quad
          \kappa = \frac{P_{cons} - P_c}{1 - P_c}, \quad
          P_c = \bar P^2 + (1 - \bar P)^2, \quad \bar P = E[P(T)],

          \mathrm{FP} = E[P(T); T < c'], \quad
          \mathrm{FN} = E[1 - P(T); T \ge c'], \quad
          \mathrm{accuracy} = 1 - \mathrm{FP} - \mathrm{FN}.

       The expectations are computed by Gauss-Legendre quadrature in the
       probability scale of the fitted beta, separately below and above
       the true cut (so the jump of the true classification is exact).

    References
    ----------
    Livingston, S. A. & Lewis, C. (1995). Estimating the consistency and
    accuracy of classifications based on test scores. *Journal of
    Educational Measurement*, 32, 179-197.
    Lord, F. M. (1965). A strong true-score theory, with applications.
    *Psychometrika*, 30, 239-270.
    Hanson, B. A. (1991). *Method of moments estimates for the
    four-parameter beta compound binomial model and the calculation of
    classification consistency indexes* (ACT Research Report 91-5).
    Brennan, R. L. (2004). *BB-CLASS* (CASMA Research Report 4).

    Examples
    --------
    >>> import numpy as np
    >>> scores = np.arange(11)
    >>> counts = [1, 2, 4, 7, 10, 12, 10, 7, 4, 2, 1]
    >>> result = livingston_lewis(scores, weights=counts, cut=6,
    ...                           reliability=0.6, max_score=10)
    >>> result.effective_length
    13
    >>> round(result.consistency, 3), round(result.kappa, 3), round(result.accuracy, 3)
    (0.733, 0.425, 0.801)
    """
    x = np.asarray(scores)
    if x.dtype.kind not in "biuf":
        raise ValueError(f"scores must be numeric, but has dtype {x.dtype}.")
    x = x.astype(np.float64)
    if x.ndim != 1:
        raise ValueError(f"scores must be 1-D (one total score per candidate), got {x.shape}.")
    if x.shape[0] < 2:
        raise ValueError(f"scores must hold at least 2 scores, got {x.shape[0]}.")
    if not np.isfinite(x).all():
        raise ValueError("scores must be finite, but contains NaN or infinity.")
    lo_s, hi_s = float(min_score), float(max_score)
    if not (math.isfinite(lo_s) and math.isfinite(hi_s) and hi_s > lo_s):
        raise ValueError(
            f"max_score must exceed min_score (both finite), got {min_score!r}, {max_score!r}."
        )
    if x.min() < lo_s or x.max() > hi_s:
        raise ValueError(
            f"scores must lie in [min_score, max_score] = [{lo_s:g}, {hi_s:g}], "
            f"but range from {x.min():g} to {x.max():g}."
        )
    c = float(cut)
    if not (math.isfinite(c) and lo_s < c <= hi_s):
        raise ValueError(
            f"cut must lie in (min_score, max_score] = ({lo_s:g}, {hi_s:g}], got {cut!r}."
        )
    rho = _check_probability(reliability, "reliability")
    if weights is None:
        w = np.ones_like(x)
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != x.shape:
            raise ValueError(f"weights must have shape {x.shape} like scores, got {w.shape}.")
        if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ValueError("weights must be finite, non-negative and not all zero.")
    w = w / w.sum()

    prop = (x - lo_s) / (hi_s - lo_s)
    mean = float(np.dot(w, prop))
    var = float(np.dot(w, (prop - mean) ** 2))
    if var <= 0.0:
        raise ValueError("scores have zero variance; the classification model is undefined.")
    n_exact = (mean * (1.0 - mean) - rho * var) / (var * (1.0 - rho))
    n = max(1, round(n_exact))

    # True-score moments from the factorial moments of X_n (Lord 1965).
    xn = n * prop
    falling = np.ones_like(xn)
    raw_t = []
    for k in range(min(n, 4)):
        falling = falling * (xn - k)
        raw_t.append(float(np.dot(w, falling)) / math.perm(n, k + 1))
    t_mean = raw_t[0]
    if n >= 2:
        t_var = raw_t[1] - t_mean**2
    else:
        t_var = rho * var
    if n >= 4:
        m2, m3, m4 = raw_t[1], raw_t[2], raw_t[3]
        mu3 = m3 - 3.0 * t_mean * m2 + 2.0 * t_mean**3
        mu4 = m4 - 4.0 * t_mean * m3 + 6.0 * t_mean**2 * m2 - 3.0 * t_mean**4
        fit = _fit_true_beta(t_mean, t_var, mu3, mu4) if t_var > 0 else None
    else:
        fit = _fit_true_beta(t_mean, t_var, 0.0, None) if t_var > 0 else None
    if fit is None:
        raise ValueError(
            "livingston_lewis: the estimated true-score variance is not positive; "
            "check reliability and the scores."
        )

    cut_prop = (c - lo_s) / (hi_s - lo_s)
    cut_eff = n * cut_prop
    k_pass = math.ceil(cut_eff - 1e-9)
    width = fit.upper - fit.lower
    beta_dist = stats.beta(fit.alpha, fit.beta)
    s_cut = (cut_prop - fit.lower) / width if width > 0 else (0.0 if cut_prop <= fit.lower else 1.0)
    f_cut = float(beta_dist.cdf(min(max(s_cut, 0.0), 1.0)))
    # Gauss-Legendre in probability space, split at the true cut.
    g_nodes, g_weights = np.polynomial.legendre.leggauss(_LL_NODES)
    u01 = (g_nodes + 1.0) / 2.0
    probs = np.concatenate([f_cut * u01, f_cut + (1.0 - f_cut) * u01])
    node_w = np.concatenate([f_cut * g_weights, (1.0 - f_cut) * g_weights]) / 2.0
    true_pass = np.concatenate([np.zeros(_LL_NODES, bool), np.ones(_LL_NODES, bool)])
    t = fit.lower + width * beta_dist.ppf(probs)
    pass_prob = stats.binom.sf(k_pass - 1, n, t)
    keep = node_w > 0
    values = _indices(node_w[keep], pass_prob[keep], true_pass[keep])
    return LivingstonLewis(
        **values,
        effective_length=int(n),
        effective_length_exact=float(n_exact),
        cut_effective=float(cut_eff),
        true_alpha=float(fit.alpha),
        true_beta=float(fit.beta),
        true_lower=float(fit.lower),
        true_upper=float(fit.upper),
        n_beta_parameters=fit.n_parameters,
    )


def irt_classification(
    items: ItemParameters,
    cut: float,
    theta: npt.ArrayLike | None = None,
    weights: npt.ArrayLike | None = None,
    n_quadrature: int = 41,
) -> ClassificationIndices:
    r"""
    IRT-based decision consistency and accuracy of a number-right cut (Lee 2010).

    Parameters
    ----------
    items : ItemParameters
        Parameters of the form's scored items.
    cut : float
        Raw (number-right) passing score: pass when ``X >= cut``; in
        ``(0, K]``.
    theta : array_like, shape (n,), optional
        Abilities over which to average. Either quadrature nodes of an
        ability distribution (with `weights`; Lee's D method) or the
        candidates' estimated abilities (equal weights; Lee's P method).
        Default: `n_quadrature` Gauss-Hermite nodes of N(0, 1).
    weights : array_like, shape (n,), optional
        Non-negative weights of `theta`; default equal weights.
    n_quadrature : int
        Number of N(0, 1) quadrature nodes when `theta` is not given.

    Returns
    -------
    ClassificationIndices

    Raises
    ------
    ValueError
        If `cut` is outside ``(0, K]``, `theta` is not finite 1-D, or
        `weights` is mismatched, negative or all zero.

    Notes
    -----
    At each ability :math:`\theta` the number-right distribution
    :math:`f(x \mid \theta)` comes from the Lord-Wingersky recursion, so
    :math:`P(\theta) = \sum_{x \ge c} f(x \mid \theta)` is the probability of
    passing one form. A candidate's true status is a pass when the true
    score :math:`\tau(\theta) = \sum_i P_i(\theta) \ge c`. Consistency is
    :math:`\sum_\theta w(\theta) [P^2 + (1 - P)^2]`, accuracy
    :math:`\sum_\theta w(\theta) [1\{\tau \ge c\} P + 1\{\tau < c\} (1 - P)]`,
    and kappa, false positive and false negative rates are formed as in
    `livingston_lewis`.

    References
    ----------
    Lee, W.-C. (2010). Classification consistency and accuracy for complex
    assessments using item response theory. *Journal of Educational
    Measurement*, 47, 1-17.
    Lord, F. M. & Wingersky, M. S. (1984). *Applied Psychological
    Measurement*, 8, 453-461.

    Examples
    --------
    >>> from scoring.irt.model import ItemParameters
    >>> items = ItemParameters.create(b=[-1.0, -0.5, 0.0, 0.5, 1.0] * 4)
    >>> result = irt_classification(items, cut=12)
    >>> round(result.consistency, 3), round(result.accuracy, 3)
    (0.813, 0.87)
    """
    if not isinstance(items, ItemParameters):
        raise ValueError(f"items must be an ItemParameters instance, got {type(items).__name__}.")
    k = items.n_items
    c = float(cut)
    if not (math.isfinite(c) and 0.0 < c <= k):
        raise ValueError(f"cut must lie in (0, n_items] = (0, {k}], got {cut!r}.")
    if theta is None:
        nodes, w = normal_quadrature(n_quadrature)
        if weights is not None:
            raise ValueError("weights needs theta: give the nodes the weights belong to.")
    else:
        nodes = np.asarray(theta, dtype=np.float64)
        if nodes.ndim != 1 or nodes.size == 0:
            raise ValueError(f"theta must be a non-empty 1-D array, got shape {nodes.shape}.")
        if not np.isfinite(nodes).all():
            raise ValueError("theta must be finite, but contains NaN or infinity.")
        if weights is None:
            w = np.ones_like(nodes)
        else:
            w = np.asarray(weights, dtype=np.float64)
            if w.shape != nodes.shape:
                raise ValueError(
                    f"weights must have shape {nodes.shape} like theta, got {w.shape}."
                )
            if not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
                raise ValueError("weights must be finite, non-negative and not all zero.")
    k_pass = math.ceil(c - 1e-9)
    pass_prob = np.empty(nodes.shape[0])
    for start in range(0, nodes.shape[0], _THETA_BLOCK):
        block = nodes[start : start + _THETA_BLOCK]
        dist = score_distribution(probability(block, items))
        pass_prob[start : start + block.shape[0]] = dist[:, k_pass:].sum(axis=1)
    np.clip(pass_prob, 0.0, 1.0, out=pass_prob)
    true_pass = probability(nodes, items).sum(axis=1) >= c
    return ClassificationIndices(**_indices(w, pass_prob, true_pass))


# ---------------------------------------------------------------------------
# Haberman's subscore value-added check
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SubscoreValue(_FrozenArrays):
    """
    Result of `haberman_prmse`, one entry per domain.

    Attributes
    ----------
    domain_labels : tuple of str
        Domains in order of first appearance.
    n_items : ndarray of int64
        Items per domain.
    reliability : ndarray of float64
        Subscore reliability used (alpha of the domain's items unless given).
    prmse_subscore : ndarray of float64
        PRMSE of the observed subscore as a predictor of the true subscore
        (equals `reliability`).
    prmse_total : ndarray of float64
        PRMSE of the observed total score as a predictor of the true subscore.
    value_added_ratio : ndarray of float64
        ``prmse_subscore / prmse_total`` (Feinberg & Wainer 2014).
    adds_value : ndarray of bool
        ``prmse_subscore > prmse_total``; False where either is NaN.
    """

    domain_labels: tuple[str, ...]
    n_items: npt.NDArray[np.int64]
    reliability: FloatArray
    prmse_subscore: FloatArray
    prmse_total: FloatArray
    value_added_ratio: FloatArray
    adds_value: npt.NDArray[np.bool_]


def haberman_prmse(
    responses: npt.ArrayLike,
    domains: Sequence[str],
    reliabilities: npt.ArrayLike | None = None,
) -> SubscoreValue:
    r"""
    Haberman's PRMSE check: does a domain subscore add value over the total?

    Parameters
    ----------
    responses : array_like, shape (n_candidates, n_items)
        Scored responses (1, 0, -1; omitted scores 0).
    domains : sequence of str, length n_items
        Domain label of each item; the total score is the sum of all items.
    reliabilities : array_like, shape (n_domains,), optional
        Subscore reliabilities to use instead of alpha, in (0, 1], in the
        order of first appearance of the domains (e.g. from a stratified or
        IRT estimate).

    Returns
    -------
    SubscoreValue

    Raises
    ------
    ValueError
        For invalid `responses` (see `kr20`) or `domains` (not one ``str``
        per item), zero total-score variance, or `reliabilities` of the
        wrong shape or outside (0, 1].

    Notes
    -----
    For subscore :math:`s` with reliability :math:`\rho_s` and total
    :math:`x` (which contains :math:`s`), the true subscore :math:`\tau_s`
    is predicted by linear regression on either observed score. The
    proportional reduction in mean squared error (Haberman 2008) is
    :math:`\mathrm{PRMSE}_s = \rho_s` for the subscore and

    .. math::

       \mathrm{PRMSE}_x = \frac{\mathrm{Cov}(\tau_s, x)^2}{\mathrm{Var}(\tau_s)
       \mathrm{Var}(x)}, \quad
       \mathrm{Cov}(\tau_s, x) = \mathrm{Cov}(s, x) - (1 - \rho_s) \mathrm{Var}(s),
       \quad \mathrm{Var}(\tau_s) = \rho_s \mathrm{Var}(s)

    for the total, because the subscore's measurement error is part of
    :math:`x` and uncorrelated with everything else. The subscore adds
    value when :math:`\mathrm{PRMSE}_s > \mathrm{PRMSE}_x`. With a single
    domain (:math:`s = x`) both equal :math:`\rho`; with
    :math:`\rho_s = 1`, :math:`\mathrm{PRMSE}_x = \mathrm{corr}(s, x)^2`.
    A domain with one item (alpha undefined) or a constant subscore gets
    NaN unless its reliability is given.

    References
    ----------
    Haberman, S. J. (2008). When can subscores have value? *Journal of
    Educational and Behavioral Statistics*, 33, 204-229.
    Feinberg, R. A. & Wainer, H. (2014). A simple equation to predict a
    subscore's value. *Educational Measurement: Issues and Practice*,
    33(3), 55-56.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> theta = rng.normal(size=(2000, 1))
    >>> responses = (rng.random((2000, 10)) < 1 / (1 + np.exp(-theta))).astype(int)
    >>> result = haberman_prmse(responses, ["a"] * 5 + ["b"] * 5)
    >>> result.adds_value
    array([False, False])
    """
    right, _ = _right_matrix(responses, min_items=1)
    n, k = right.shape
    labels, index = _domain_index(domains, k)
    n_domains = len(labels)
    x = right.astype(np.float64)
    total = x.sum(axis=1)
    var_x = float(total.var(ddof=1))
    if var_x == 0.0:
        raise ValueError("responses: the total score has zero variance; PRMSE is undefined.")
    n_items = np.bincount(index, minlength=n_domains).astype(np.int64)
    membership = np.zeros((k, n_domains))
    membership[np.arange(k), index] = 1.0
    sub = x @ membership
    var_s = sub.var(axis=0, ddof=1)
    cov_sx = ((sub - sub.mean(axis=0)) * (total - total.mean())[:, None]).sum(axis=0) / (n - 1)
    item_var = x.var(axis=0, ddof=1)

    if reliabilities is None:
        rel = np.full(n_domains, np.nan)
        ok = (n_items >= 2) & (var_s > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = n_items / (n_items - 1.0) * (1.0 - (item_var @ membership) / var_s)
        rel[ok] = alpha[ok]
    else:
        rel = np.asarray(reliabilities, dtype=np.float64)
        if rel.shape != (n_domains,):
            raise ValueError(
                f"reliabilities must have one value per domain, shape ({n_domains},), "
                f"got {rel.shape}."
            )
        if not (np.isfinite(rel).all() and (rel > 0).all() and (rel <= 1).all()):
            raise ValueError(f"reliabilities must lie in (0, 1], got {rel!r}.")
    with np.errstate(divide="ignore", invalid="ignore"):
        cov_true = cov_sx - (1.0 - rel) * var_s
        prmse_x = cov_true**2 / (rel * var_s * var_x)
        bad = ~(rel > 0) | ~(var_s > 0)
        prmse_x[bad] = np.nan
        ratio = rel / prmse_x
    adds = np.zeros(n_domains, dtype=bool)
    valid = np.isfinite(rel) & np.isfinite(prmse_x)
    adds[valid] = rel[valid] > prmse_x[valid]
    return SubscoreValue(
        domain_labels=labels,
        n_items=n_items,
        reliability=rel,
        prmse_subscore=rel.copy(),
        prmse_total=prmse_x,
        value_added_ratio=ratio,
        adds_value=adds,
    )
