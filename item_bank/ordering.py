"""Per-candidate delivery order: items shuffled in blocks, options shuffled per item.

A scenario set is one block (its questions stay together, in authored order, under their
vignette); every other item is a block of one. Everything is derived from one seed, stored
with the attempt, so a resume shows the same order.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np


def blocks_of(groups: Sequence[Hashable | None]) -> list[list[int]]:
    """Group consecutive positions (0-based) that share a non-None group key."""
    blocks: list[list[int]] = []
    seen: dict[Hashable, list[int]] = {}
    for position, group in enumerate(groups):
        if group is None:
            blocks.append([position])
        elif group in seen:
            seen[group].append(position)
        else:
            seen[group] = [position]
            blocks.append(seen[group])
    return blocks


def item_order(
    groups: Sequence[Hashable | None], seed: int, shuffle: bool = True
) -> list[int]:
    """Delivery order of form positions (0-based), keeping scenario sets together."""
    blocks = blocks_of(groups)
    if shuffle:
        rng = np.random.default_rng([seed, 1])
        blocks = [blocks[i] for i in rng.permutation(len(blocks))]
    return [p for block in blocks for p in block]


def option_order(
    option_ids: Sequence[str], seed: int, salt: int, shuffle: bool = True
) -> list[str]:
    """Options of one item in the order shown; ``salt`` tells items apart."""
    if not shuffle:
        return list(option_ids)
    rng = np.random.default_rng([seed, 2, salt])
    return [option_ids[i] for i in rng.permutation(len(option_ids))]
