"""Simulation of dichotomous responses under the 3PL model (for tests and studies)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from scoring.irt.model import ItemParameters, probability

__all__ = ["simulate_responses"]


def simulate_responses(
    items: ItemParameters,
    theta: npt.ArrayLike,
    *,
    seed: int | np.random.Generator | None = 0,
    omit_rate: float = 0.0,
) -> npt.NDArray[np.int8]:
    """Draw a response matrix from the 3PL model.

    Parameters
    ----------
    items : ItemParameters
        Item parameters.
    theta : array_like, shape (n_candidates,)
        Abilities of the simulated candidates.
    seed : int or numpy.random.Generator
        Seed of ``numpy.random.default_rng`` (or a generator), for reproducibility.
    omit_rate : float
        Probability in [0, 1) that a response is replaced by -1 (not answered),
        independently of everything else (missing completely at random).

    Returns
    -------
    ndarray of int8, shape (n_candidates, n_items)
        1 right, 0 wrong, -1 not answered.

    Notes
    -----
    ``x_vi = 1`` when ``u_vi < P_i(theta_v)`` for uniform ``u_vi`` (Lord 1980, eq. 2-1).

    Examples
    --------
    >>> items = ItemParameters.create(b=[-9.0, 9.0])
    >>> simulate_responses(items, [0.0, 0.0], seed=1).tolist()
    [[1, 0], [1, 0]]
    """
    if not (0.0 <= omit_rate < 1.0):
        raise ValueError(f"omit_rate must be in [0, 1), got {omit_rate!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    p = probability(theta, items)
    x = (rng.random(p.shape) < p).astype(np.int8)
    if omit_rate > 0:
        x[rng.random(p.shape) < omit_rate] = -1
    return x
