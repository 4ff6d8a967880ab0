"""Item response functions and the building blocks shared by every IRT method.

The three-parameter logistic model (Lord 1980, eq. 2-1; Birnbaum 1968) gives the
probability that a candidate of ability ``theta`` answers item ``i`` correctly::

    P_i(theta) = c_i + (1 - c_i) / (1 + exp(-D a_i (theta - b_i)))

with discrimination ``a``, difficulty ``b``, lower asymptote ``c`` and scaling
constant ``D`` (1 for the logistic metric, 1.7 to approximate the normal ogive).
The Rasch model is the special case ``a = 1, c = 0, D = 1``.

This module holds only the model itself and the numerical pieces used by
estimation, linking, IRT equating and IRT reliability: the response function,
item and test information, the Lord-Wingersky recursion for the distribution of
number-right scores given ability, and Gauss-Hermite quadrature for a normal
ability distribution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import expit

__all__ = [
    "ItemParameters",
    "information",
    "normal_quadrature",
    "probability",
    "score_distribution",
    "test_characteristic",
]

FloatArray = npt.NDArray[np.float64]


def _as_vector(values: npt.ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=float)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got {array!r}")
    return array


@dataclass(frozen=True)
class ItemParameters:
    """Parameters of dichotomous items under the 3PL model (Lord 1980, eq. 2-1).

    Parameters
    ----------
    a : ndarray
        Discriminations, positive.
    b : ndarray
        Difficulties.
    c : ndarray
        Lower asymptotes in [0, 1).
    D : float
        Scaling constant: 1.0 (logistic metric) or 1.7 (normal-ogive metric).

    Examples
    --------
    >>> items = ItemParameters.create(b=[-1.0, 0.0, 1.0])
    >>> items.a.tolist(), items.c.tolist(), items.D
    ([1.0, 1.0, 1.0], [0.0, 0.0, 0.0], 1.0)
    """

    a: FloatArray
    b: FloatArray
    c: FloatArray
    D: float = 1.0

    @classmethod
    def create(
        cls,
        b: npt.ArrayLike,
        a: npt.ArrayLike | None = None,
        c: npt.ArrayLike | None = None,
        D: float = 1.0,
    ) -> ItemParameters:
        """Validate and build parameters; ``a`` defaults to 1 and ``c`` to 0."""
        b_arr = _as_vector(b, "b")
        a_arr = np.ones_like(b_arr) if a is None else _as_vector(a, "a")
        c_arr = np.zeros_like(b_arr) if c is None else _as_vector(c, "c")
        if a_arr.shape == (1,) and b_arr.shape[0] > 1:
            a_arr = np.full_like(b_arr, a_arr[0])
        if c_arr.shape == (1,) and b_arr.shape[0] > 1:
            c_arr = np.full_like(b_arr, c_arr[0])
        if not (a_arr.shape == b_arr.shape == c_arr.shape):
            raise ValueError(
                f"a, b and c must have the same length, got {a_arr.shape[0]}, "
                f"{b_arr.shape[0]} and {c_arr.shape[0]}"
            )
        if np.any(a_arr <= 0):
            raise ValueError(f"a (discrimination) must be positive, got {a_arr!r}")
        if np.any((c_arr < 0) | (c_arr >= 1)):
            raise ValueError(f"c (lower asymptote) must be in [0, 1), got {c_arr!r}")
        if not (np.isfinite(D) and D > 0):
            raise ValueError(f"D must be a positive number, got {D!r}")
        for array in (a_arr, b_arr, c_arr):
            array.setflags(write=False)
        return cls(a=a_arr, b=b_arr, c=c_arr, D=float(D))

    @property
    def n_items(self) -> int:
        """Number of items."""
        return int(self.b.shape[0])


def probability(theta: npt.ArrayLike, items: ItemParameters) -> FloatArray:
    """Probability of a correct response at each ability for each item.

    Parameters
    ----------
    theta : array_like
        Abilities, shape ``(n_theta,)``.
    items : ItemParameters
        Item parameters for ``n_items`` items.

    Returns
    -------
    ndarray
        Shape ``(n_theta, n_items)``.

    Notes
    -----
    ``P_i(theta) = c_i + (1 - c_i) expit(D a_i (theta - b_i))`` (Lord 1980, eq. 2-1).

    References
    ----------
    Lord, F. M. (1980). *Applications of Item Response Theory to Practical Testing
    Problems*. Erlbaum.

    Examples
    --------
    >>> items = ItemParameters.create(b=[0.0])
    >>> probability([0.0], items).tolist()
    [[0.5]]
    """
    t = _as_vector(theta, "theta")
    z = items.D * items.a * (t[:, None] - items.b)
    return items.c + (1.0 - items.c) * expit(z)


def test_characteristic(theta: npt.ArrayLike, items: ItemParameters) -> FloatArray:
    """Expected number-right score at each ability (Lord 1980, eq. 4-3).

    Examples
    --------
    >>> items = ItemParameters.create(b=[0.0, 0.0])
    >>> test_characteristic([0.0], items).tolist()
    [1.0]
    """
    return probability(theta, items).sum(axis=1)


# pytest would otherwise collect the function above as a test.
test_characteristic.__test__ = False  # type: ignore[attr-defined]


def information(theta: npt.ArrayLike, items: ItemParameters) -> FloatArray:
    """Item information at each ability, shape ``(n_theta, n_items)``.

    Notes
    -----
    ``I_i(theta) = D^2 a_i^2 (Q_i / P_i) ((P_i - c_i) / (1 - c_i))^2``
    (Lord 1980, eq. 5-9 for the 3PL); for ``c = 0`` this is ``D^2 a^2 P Q``.
    The test information is the sum over items.

    Examples
    --------
    >>> items = ItemParameters.create(b=[0.0])
    >>> information([0.0], items).tolist()
    [[0.25]]
    """
    p = probability(theta, items)
    q = 1.0 - p
    scaled = (p - items.c) / (1.0 - items.c)
    with np.errstate(divide="ignore", invalid="ignore"):
        info = (items.D * items.a) ** 2 * (q / p) * scaled**2
    return np.nan_to_num(info, nan=0.0)


def score_distribution(p: npt.ArrayLike) -> FloatArray:
    """Distribution of the number-right score given ability (Lord-Wingersky).

    Parameters
    ----------
    p : array_like
        Probabilities of a correct response, shape ``(n_theta, n_items)``
        (for example the output of `probability`).

    Returns
    -------
    ndarray
        Shape ``(n_theta, n_items + 1)``; row ``t`` holds ``P(X = x | theta_t)`` for
        ``x = 0..n_items`` and sums to 1.

    Notes
    -----
    The recursion of Lord & Wingersky (1984): adding item ``r`` to a test of
    ``r - 1`` items, ``f_r(x) = f_{r-1}(x) (1 - p_r) + f_{r-1}(x - 1) p_r``.
    It is vectorised over abilities; the loop runs over items only.

    References
    ----------
    Lord, F. M. & Wingersky, M. S. (1984). Comparison of IRT true-score and
    equipercentile observed-score "equatings". *Applied Psychological
    Measurement*, 8, 453-461. Kolen & Brennan (2014), eq. 6.31.

    Examples
    --------
    >>> score_distribution([[0.5, 0.5]]).tolist()
    [[0.25, 0.5, 0.25]]
    """
    probs = np.asarray(p, dtype=float)
    if probs.ndim != 2:
        raise ValueError(f"p must be two-dimensional (n_theta, n_items), got {probs.shape}")
    if not np.all((probs >= 0) & (probs <= 1)):
        raise ValueError("p must hold probabilities in [0, 1]")
    n_theta, n_items = probs.shape
    dist = np.zeros((n_theta, n_items + 1))
    dist[:, 0] = 1.0
    for r in range(n_items):
        pr = probs[:, r : r + 1]
        # Scores 1..r+1 gain from x-1 with p; scores 0..r keep with 1-p.
        shifted = dist[:, : r + 1] * pr
        dist[:, : r + 1] *= 1.0 - pr
        dist[:, 1 : r + 2] += shifted
    return dist


def normal_quadrature(
    n_points: int = 21, mean: float = 0.0, sd: float = 1.0
) -> tuple[FloatArray, FloatArray]:
    """Gauss-Hermite nodes and weights for a normal ability distribution.

    Parameters
    ----------
    n_points : int
        Number of quadrature points (at least 2).
    mean, sd : float
        Mean and standard deviation of the ability distribution.

    Returns
    -------
    nodes, weights : ndarray
        ``sum(weights * g(nodes))`` approximates ``E[g(theta)]``; weights sum to 1.

    Examples
    --------
    >>> nodes, weights = normal_quadrature(21)
    >>> round(float(weights.sum()), 12), round(float((weights * nodes**2).sum()), 12)
    (1.0, 1.0)
    """
    if isinstance(n_points, bool) or not isinstance(n_points, int | np.integer) or n_points < 2:
        raise ValueError(f"n_points must be an integer >= 2, got {n_points!r}")
    if not (np.isfinite(sd) and sd > 0):
        raise ValueError(f"sd must be positive, got {sd!r}")
    if not np.isfinite(mean):
        raise ValueError(f"mean must be finite, got {mean!r}")
    # Probabilists' Hermite polynomials integrate against exp(-x^2 / 2).
    nodes, weights = np.polynomial.hermite_e.hermegauss(int(n_points))
    weights = weights / weights.sum()
    return mean + sd * nodes, weights
