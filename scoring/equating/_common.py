r"""Shared pieces of the equating methods.

Validation of frequency tables, the linear equating function, moments of a
frequency distribution, and the Kolen & Brennan percentile-point function
(the inverse of the percentile-rank function) on which every equipercentile
method rests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scoring.percentiles import _as_counts, percentile_ranks

__all__ = [
    "FrequencyMoments",
    "LinearEquating",
    "bivariate_frequencies",
    "frequency_moments",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Two cumulative proportions closer than this are treated as equal when the
# inverse percentile-rank function looks for the first score whose cumulative
# proportion *exceeds* a percentile rank, so that rounding in F(x) and G(y)
# (e.g. after scaling all counts by a constant) cannot flip the choice of
# y_U* at a tie.
_TIE_TOLERANCE = 1e-12


def is_integer(value: object) -> bool:
    """True for a Python or numpy integer (not a bool, not a float)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def as_frequencies(
    freq: npt.ArrayLike, name: str, *, integer: bool = False
) -> FloatArray:
    """Validate a 1-D frequency array and return it as float64."""
    counts = _as_counts(freq, name)
    if integer and not np.all(counts == np.round(counts)):
        bad = int(np.flatnonzero(counts != np.round(counts))[0])
        raise ValueError(
            f"{name}[{bad}] is {float(counts[bad])!r}; integer counts are required here."
        )
    return counts


def as_joint_frequencies(
    table: npt.ArrayLike, name: str, *, integer: bool = False
) -> FloatArray:
    """Validate a 2-D (total score x anchor score) count table and return it as float64."""
    a = np.asarray(table)
    if a.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold numeric counts, but has dtype {a.dtype}.")
    if a.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D table of counts indexed by (total score, anchor score), "
            f"but has shape {a.shape}."
        )
    if a.size == 0:
        raise ValueError(f"{name} is empty (shape {a.shape}).")
    a = a.astype(np.float64)
    finite = np.isfinite(a)
    if not finite.all():
        bad = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(f"{name}[{bad[0]}, {bad[1]}] is {float(a[bad])!r}; counts must be finite.")
    if (a < 0).any():
        bad = tuple(int(i) for i in np.argwhere(a < 0)[0])
        raise ValueError(
            f"{name}[{bad[0]}, {bad[1]}] is {float(a[bad])!r}; counts must not be negative."
        )
    if not a.sum() > 0:
        raise ValueError(f"{name} has no candidates: all counts are zero.")
    if integer and not np.all(a == np.round(a)):
        raise ValueError(f"{name} must hold integer counts here.")
    return a


@dataclass(frozen=True)
class LinearEquating:
    r"""
    A linear equating function :math:`l_Y(x) = \text{slope} \cdot x + \text{intercept}`.

    Returned by every linear method (random groups, Tucker, Levine, chained
    linear). Calling the object applies it to scores.

    Attributes
    ----------
    slope : float
        Finite and non-zero.
    intercept : float
        Finite.

    Examples
    --------
    >>> from scoring.equating import LinearEquating
    >>> lin = LinearEquating(slope=1.1, intercept=-2.0)
    >>> lin([0, 10, 20])
    array([-2.,  9., 20.])
    >>> float(lin.inverse()(9.0))
    10.0
    """

    slope: float
    intercept: float

    def __post_init__(self) -> None:
        slope = float(self.slope)
        intercept = float(self.intercept)
        if not (math.isfinite(slope) and math.isfinite(intercept)):
            raise ValueError(
                f"slope and intercept must be finite, got slope={slope!r}, "
                f"intercept={intercept!r}."
            )
        if slope == 0.0:
            raise ValueError("slope must be non-zero for an equating function.")
        object.__setattr__(self, "slope", slope)
        object.__setattr__(self, "intercept", intercept)

    def __call__(self, x: npt.ArrayLike) -> FloatArray:
        """Equated scores ``slope * x + intercept`` (same shape as `x`)."""
        return self.slope * np.asarray(x, dtype=np.float64) + self.intercept

    def inverse(self) -> LinearEquating:
        """
        The inverse function, from the Y scale back to the X scale.

        Returns
        -------
        inverse : LinearEquating
            :math:`x = (y - \\text{intercept}) / \\text{slope}`.
        """
        return LinearEquating(1.0 / self.slope, -self.intercept / self.slope)


@dataclass(frozen=True)
class FrequencyMoments:
    """
    Population moments of a frequency distribution (result of `frequency_moments`).

    Attributes
    ----------
    n : float
        Total frequency (number of candidates for counts).
    mean : float
    sd : float
        Population standard deviation (divisor n, numpy ``ddof=0``).
    skewness : float
        Third standardised moment; 0 when ``sd == 0`` (a convention).
    kurtosis : float
        Fourth standardised moment (3 for a normal distribution, not the
        excess); 0 when ``sd == 0`` (a convention).
    """

    n: float
    mean: float
    sd: float
    skewness: float
    kurtosis: float


def frequency_moments(
    freq: npt.ArrayLike, scores: npt.ArrayLike | None = None
) -> FrequencyMoments:
    r"""
    Mean, SD, skewness and kurtosis of a frequency distribution.

    Parameters
    ----------
    freq : array_like, shape (K + 1,)
        Counts (non-negative weights).
    scores : array_like, shape (K + 1,), optional
        The value carried by each entry of `freq`. Default: the raw scores
        ``0..K``. Pass equated scores ``e_Y(x)`` to obtain the moments of the
        equated scores in the X population.

    Returns
    -------
    moments : FrequencyMoments

    Raises
    ------
    ValueError
        If `freq` is invalid or `scores` has another length or holds NaN.

    Notes
    -----
    Population moments (Kolen & Brennan 2014, ch. 2), with
    :math:`p_j = f_j / \sum f`:
    :math:`\mu = \sum p_j x_j`, :math:`\sigma^2 = \sum p_j (x_j - \mu)^2`,
    skewness :math:`\sum p_j (x_j - \mu)^3 / \sigma^3`, kurtosis
    :math:`\sum p_j (x_j - \mu)^4 / \sigma^4`.

    Examples
    --------
    >>> from scoring.equating import frequency_moments
    >>> m = frequency_moments([2, 3, 2, 2, 1])
    >>> round(m.mean, 4), round(m.sd, 4)
    (1.7, 1.2689)
    """
    f = as_frequencies(freq, "freq")
    if scores is None:
        x = np.arange(f.size, dtype=np.float64)
    else:
        x = np.asarray(scores, dtype=np.float64)
        if x.shape != f.shape:
            raise ValueError(
                f"scores must have the shape of freq {f.shape}, but has shape {x.shape}."
            )
        if not np.isfinite(x).all():
            raise ValueError("scores must be finite.")
    n = float(f.sum())
    p = f / n
    mean = float(p @ x)
    dev = x - mean
    var = float(p @ dev**2)
    sd = math.sqrt(var)
    if sd > 0:
        skew = float(p @ dev**3) / sd**3
        kurt = float(p @ dev**4) / var**2
    else:
        skew = kurt = 0.0
    return FrequencyMoments(n=n, mean=mean, sd=sd, skewness=skew, kurtosis=kurt)


def bivariate_frequencies(
    total: npt.ArrayLike,
    anchor: npt.ArrayLike,
    max_total: int | None = None,
    max_anchor: int | None = None,
) -> IntArray:
    """
    Bivariate count table of (total score, anchor score) for a NEAT design.

    Parameters
    ----------
    total, anchor : array_like of int, shape (n_candidates,)
        Each candidate's total score on the form and score on the anchor
        items (non-negative integers).
    max_total, max_anchor : int, optional
        Maximum possible scores Kx and Kv. Default: the highest observed.

    Returns
    -------
    table : ndarray of int64, shape (max_total + 1, max_anchor + 1)
        ``table[x, v]`` is the number of candidates with total ``x`` and
        anchor score ``v`` (the ``fxv`` / ``fyv`` of the NEAT methods).

    Raises
    ------
    ValueError
        If the arrays are empty, differ in length, hold negative,
        non-integer or NaN values, or exceed the maxima.

    Examples
    --------
    >>> from scoring.equating import bivariate_frequencies
    >>> bivariate_frequencies([3, 2, 3], [1, 0, 1], max_total=3, max_anchor=2)
    array([[0, 0, 0],
           [0, 0, 0],
           [1, 0, 0],
           [0, 2, 0]])
    """
    x = _integer_scores(total, "total", max_total)
    v = _integer_scores(anchor, "anchor", max_anchor)
    if x.size != v.size:
        raise ValueError(
            f"total and anchor must have one entry per candidate, but have lengths "
            f"{x.size} and {v.size}."
        )
    kx = int(x.max()) if max_total is None else int(max_total)
    kv = int(v.max()) if max_anchor is None else int(max_anchor)
    flat = np.bincount(x * (kv + 1) + v, minlength=(kx + 1) * (kv + 1))
    return flat.reshape(kx + 1, kv + 1).astype(np.int64)


def _integer_scores(values: npt.ArrayLike, name: str, maximum: int | None) -> IntArray:
    s = np.asarray(values)
    if s.dtype.kind not in "iuf":
        raise ValueError(f"{name} must hold numeric scores, but has dtype {s.dtype}.")
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, but has shape {s.shape}.")
    if s.dtype.kind == "f" and (not np.isfinite(s).all() or not np.all(s == np.round(s))):
        raise ValueError(f"{name} must hold integer scores (no NaN or fractions).")
    s = s.astype(np.int64)
    if (s < 0).any():
        raise ValueError(f"{name} must be non-negative, but its minimum is {int(s.min())}.")
    if maximum is not None:
        if int(maximum) != maximum or maximum < 0:
            raise ValueError(f"max_{name} must be a non-negative integer, got {maximum!r}.")
        if s.max() > maximum:
            raise ValueError(f"{name} exceeds max_{name}={maximum}: maximum is {int(s.max())}.")
    return s


def mean_sd(freq: FloatArray) -> tuple[float, float]:
    """Population mean and SD of validated counts indexed by score 0..K."""
    p = freq / freq.sum()
    x = np.arange(freq.size, dtype=np.float64)
    mean = float(p @ x)
    return mean, math.sqrt(float(p @ (x - mean) ** 2))


def percentile_points(q: npt.ArrayLike, fy: FloatArray) -> FloatArray:
    r"""
    Kolen & Brennan's inverse percentile-rank function :math:`P_Y^{-1}`.

    Parameters
    ----------
    q : array_like
        Percentile ranks divided by 100 (proportions in [0, 1]).
    fy : ndarray, shape (Ky + 1,)
        Validated counts of Y.

    Returns
    -------
    y : ndarray, shape of `q`

    Notes
    -----
    Kolen & Brennan (2014), eq. 2.18: with :math:`y_U^*` the smallest integer
    score whose cumulative proportion :math:`G(y_U^*)` exceeds q,

    .. math::

        P_Y^{-1}(q) = \frac{q - G(y_U^* - 1)}{g(y_U^*)} + y_U^* - .5 .

    For q = 1 no score qualifies and the result is :math:`K_Y + .5`
    (Kolen & Brennan). For q = 0 the formula gives :math:`y_U^* - .5` with
    :math:`y_U^*` the lowest score with positive frequency.
    """
    g = fy / fy.sum()
    cum = np.cumsum(fy) / fy.sum()
    k = g.size - 1
    qs = np.asarray(q, dtype=np.float64)
    # First score whose cumulative proportion exceeds q (ties within tolerance
    # do not count as exceeding, as in exact arithmetic).
    upper = np.searchsorted(cum, qs + _TIE_TOLERANCE, side="right")
    top = upper > k
    yu = np.minimum(upper, k)
    below = np.where(yu > 0, cum[np.maximum(yu - 1, 0)], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.clip((qs - below) / g[yu], 0.0, 1.0)
    return np.where(top, k + 0.5, fraction + yu - 0.5)


def equipercentile_core(fx: FloatArray, fy: FloatArray) -> FloatArray:
    """Unsmoothed K&B equipercentile equivalents e_Y(x), x = 0..Kx (validated input)."""
    return percentile_points(percentile_ranks(fx) / 100.0, fy)


def se_equipercentile_core(fx: FloatArray, fy: FloatArray) -> FloatArray:
    r"""
    Delta-method standard errors of unsmoothed random-groups equipercentile equating.

    Notes
    -----
    Kolen & Brennan (2014), ch. 7 (Lord 1982): with q = P(x)/100,
    :math:`g_0 = g(y_U^*)` and :math:`G_- = G(y_U^* - 1)`,

    .. math::

        \operatorname{var}[\hat e_Y(x)] \approx \frac{1}{g_0^2}\left\{
        \frac{q (1 - q)}{N_X} + \frac{G_- - q^2 + (q - G_-)^2 / g_0}{N_Y}
        \right\},

    which equals K&B's form
    :math:`\{q(1-q)(N_X + N_Y)/(N_X N_Y) - (G(y_U^*) - q)(q - G_-)/(N_Y g_0)\}/g_0^2`.
    NaN where q is 0 or 1 (the equivalent is then a convention, not an
    estimate).
    """
    nx, ny = float(fx.sum()), float(fy.sum())
    q = percentile_ranks(fx) / 100.0
    g = fy / ny
    cum = np.cumsum(fy) / ny
    k = g.size - 1
    upper = np.searchsorted(cum, q + _TIE_TOLERANCE, side="right")
    yu = np.minimum(upper, k)
    g0 = g[yu]
    below = np.where(yu > 0, cum[np.maximum(yu - 1, 0)], 0.0)
    defined = (upper <= k) & (q > 0) & (q < 1) & (g0 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = (q * (1 - q) / nx + (below - q**2 + (q - below) ** 2 / g0) / ny) / g0**2
    return np.where(defined, np.sqrt(np.maximum(var, 0.0)), np.nan)


def resolve_w1(w1: float | None, n_p: float, n_q: float) -> float:
    """Weight of population P in the synthetic population (None = proportional)."""
    if w1 is None:
        return n_p / (n_p + n_q)
    try:
        value = float(w1)
    except (TypeError, ValueError):
        raise ValueError(f"w1 must be a number in [0, 1] or None, got {w1!r}.") from None
    if not (0.0 <= value <= 1.0):
        raise ValueError(f"w1 must be in [0, 1] (the weight of population P), got {w1!r}.")
    return value
