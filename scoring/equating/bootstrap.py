r"""Bootstrap standard errors of equating (Kolen & Brennan 2014, ch. 7)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scoring._frozen import freeze_arrays
from scoring.equating._common import (
    FloatArray,
    LinearEquating,
    as_frequencies,
    as_joint_frequencies,
    is_integer,
)

__all__ = ["BootstrapSE", "bootstrap_se"]

EquatingMethod = Callable[[FloatArray, FloatArray], "LinearEquating | npt.ArrayLike"]


@dataclass(frozen=True, eq=False)
class BootstrapSE:
    """
    Bootstrap standard errors of an equating (result of `bootstrap_se`).

    Attributes
    ----------
    se : ndarray of float64, shape (Kx + 1,)
        Bootstrap standard error of the equated score at x = 0..Kx (standard
        deviation of the replicates, divisor ``n_boot - 1``).
    estimate : ndarray of float64, shape (Kx + 1,)
        The equated scores from the original data.
    mean : ndarray of float64, shape (Kx + 1,)
        Mean of the replicates (``mean - estimate`` estimates the bias).
    replicates : ndarray of float64, shape (n_boot, Kx + 1)
        The equated scores of every bootstrap replicate.
    n_boot : int
        Number of replicates.
    """

    se: FloatArray
    estimate: FloatArray
    mean: FloatArray
    replicates: FloatArray
    n_boot: int

    def __post_init__(self) -> None:
        freeze_arrays(self)


def _evaluate(result: object, k: int, name: str) -> FloatArray:
    """Equated scores at x = 0..k from a method's result."""
    if isinstance(result, LinearEquating):
        return result(np.arange(k + 1, dtype=np.float64))
    values = np.asarray(result, dtype=np.float64)
    if values.shape != (k + 1,):
        raise ValueError(
            f"method must return a LinearEquating or an array of shape ({k + 1},) "
            f"(one equated score per X score), but returned shape {values.shape} on {name}."
        )
    return values


def bootstrap_se(
    method: EquatingMethod,
    fx: npt.ArrayLike,
    fy: npt.ArrayLike,
    *,
    n_boot: int = 500,
    seed: int | np.random.Generator,
) -> BootstrapSE:
    r"""
    Nonparametric bootstrap standard errors of any equating method.

    Parameters
    ----------
    method : callable
        ``method(fx, fy)`` returning a `LinearEquating` or the equated scores
        for x = 0..Kx, e.g. `linear`, `equipercentile`, `tucker`,
        `frequency_estimation`, or ``functools.partial(equipercentile,
        presmooth=4)``.
    fx, fy : array_like of int
        Either two 1-D count arrays (random groups, X and Y samples) or two
        2-D NEAT tables ``fxv`` and ``fyv`` (populations P and Q). Integer
        counts are required, since the sample sizes are resampled.
    n_boot : int, default 500
        Number of bootstrap replicates (at least 2).
    seed : int or numpy.random.Generator
        Seed of ``numpy.random.default_rng`` (or a generator), required so
        that every standard error is reproducible.

    Returns
    -------
    result : BootstrapSE

    Raises
    ------
    ValueError
        If the tables are invalid or not integer counts, the two tables do
        not have the same number of dimensions, `n_boot` < 2, `method` is
        not callable or returns the wrong shape, or `method` fails on a
        replicate (the message says which).

    Notes
    -----
    Kolen & Brennan (2014), ch. 7 (Efron & Tibshirani 1993): each
    replicate draws :math:`N_X` candidates with replacement from the X sample
    and :math:`N_Y` from the Y sample, i.e. multinomial draws with the
    observed proportions as cell probabilities (for NEAT, over the cells of
    the bivariate tables, so each candidate keeps their total and anchor
    scores). The standard error at x is

    .. math::

        \widehat{se}_{boot}[\hat e_Y(x)] = \sqrt{\frac{\sum_{r=1}^{R}
        [\hat e_{Yr}(x) - \bar e_Y(x)]^2}{R - 1}}.

    All replicates' counts are drawn in one vectorised call per sample; the
    method is then applied replicate by replicate.

    References
    ----------
    .. [1] M. J. Kolen and R. L. Brennan, *Test Equating, Scaling, and
           Linking*, 3rd ed., Springer (2014), ch. 7.
    .. [2] B. Efron and R. J. Tibshirani, *An Introduction to the
           Bootstrap*, Chapman & Hall (1993).

    Examples
    --------
    >>> from scoring.equating import bootstrap_se, linear
    >>> fx = [5, 20, 40, 25, 10]
    >>> fy = [10, 25, 35, 20, 10]
    >>> result = bootstrap_se(linear, fx, fy, n_boot=200, seed=1)
    >>> result.se.shape, bool((result.se > 0).all())
    ((5,), True)
    """
    if not callable(method):
        raise ValueError(f"method must be callable as method(fx, fy), got {method!r}.")
    if not is_integer(n_boot) or n_boot < 2:
        raise ValueError(f"n_boot must be an integer of at least 2, got {n_boot!r}.")
    n_boot = int(n_boot)
    ndim_x, ndim_y = np.ndim(fx), np.ndim(fy)
    if ndim_x != ndim_y or ndim_x not in (1, 2):
        raise ValueError(
            "fx and fy must both be 1-D frequency arrays (random groups) or both 2-D "
            f"NEAT tables, but have {ndim_x} and {ndim_y} dimensions."
        )
    if ndim_x == 1:
        x_counts = as_frequencies(fx, "fx", integer=True)
        y_counts = as_frequencies(fy, "fy", integer=True)
    else:
        x_counts = as_joint_frequencies(fx, "fx", integer=True)
        y_counts = as_joint_frequencies(fy, "fy", integer=True)
    if seed is None or not (is_integer(seed) or isinstance(seed, np.random.Generator)):
        raise ValueError(
            f"seed must be an integer or a numpy Generator (got {seed!r}); bootstrap "
            "standard errors must be reproducible."
        )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    k = x_counts.shape[0] - 1
    estimate = _evaluate(method(x_counts, y_counts), k, "the original data")

    def draw(counts: FloatArray) -> FloatArray:
        flat = counts.ravel()
        n = int(round(flat.sum()))
        sample = rng.multinomial(n, flat / flat.sum(), size=n_boot)
        return sample.reshape((n_boot, *counts.shape)).astype(np.float64)

    x_samples, y_samples = draw(x_counts), draw(y_counts)
    replicates = np.empty((n_boot, k + 1))
    for r in range(n_boot):
        try:
            replicates[r] = _evaluate(method(x_samples[r], y_samples[r]), k, f"replicate {r}")
        except ValueError as exc:
            raise ValueError(f"method failed on bootstrap replicate {r}: {exc}") from exc
    return BootstrapSE(
        se=replicates.std(axis=0, ddof=1),
        estimate=estimate,
        mean=replicates.mean(axis=0),
        replicates=replicates,
        n_boot=n_boot,
    )
