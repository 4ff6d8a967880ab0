"""Per-candidate delivery order (item_bank.ordering): seeded, scenario sets kept together."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from item_bank.ordering import blocks_of, item_order, option_order

# A 12-position form: three scenario sets (2, 4 and 3 questions) among standalone items.
GROUPS: list[str | None] = [None, "s1", "s1", None, "s2", "s2", "s2", "s2", None, "s3",
                            "s3", "s3"]


def _positions_by_group(groups: Sequence[Hashable | None]) -> dict[Hashable, list[int]]:
    out: dict[Hashable, list[int]] = {}
    for position, group in enumerate(groups):
        if group is not None:
            out.setdefault(group, []).append(position)
    return out


def _assert_sets_contiguous_in_authored_order(
    order: list[int], groups: Sequence[Hashable | None]
) -> None:
    where = {position: index for index, position in enumerate(order)}
    for members in _positions_by_group(groups).values():
        shown_at = [where[p] for p in members]
        first = shown_at[0]
        assert shown_at == list(range(first, first + len(members))), (members, order)


def test_blocks_of_groups_scenario_sets() -> None:
    assert blocks_of(GROUPS) == [[0], [1, 2], [3], [4, 5, 6, 7], [8], [9, 10, 11]]
    assert blocks_of([]) == []
    assert blocks_of([None, None]) == [[0], [1]]


def test_same_seed_gives_the_same_order() -> None:
    assert item_order(GROUPS, 20261123) == item_order(list(GROUPS), 20261123)


def test_different_seeds_give_different_orders() -> None:
    groups: list[str | None] = [None] * 40
    orders = {tuple(item_order(groups, seed)) for seed in range(10)}
    assert len(orders) == 10
    assert tuple(range(40)) not in orders


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**62 - 1])
def test_order_is_a_permutation_with_scenario_sets_contiguous(seed: int) -> None:
    order = item_order(GROUPS, seed)

    assert sorted(order) == list(range(len(GROUPS)))
    _assert_sets_contiguous_in_authored_order(order, GROUPS)


def test_without_shuffle_the_authored_order_is_kept() -> None:
    assert item_order(GROUPS, 7, shuffle=False) == list(range(len(GROUPS)))


def test_option_order_is_a_seeded_permutation() -> None:
    options = ["A", "B", "C", "D"]
    shown = option_order(options, 99, 5)

    assert sorted(shown) == options
    assert option_order(options, 99, 5) == shown
    # The salt (the item) and the seed (the candidate) both change the order.
    assert len({tuple(option_order(options, 99, salt)) for salt in range(30)}) > 1
    assert len({tuple(option_order(options, seed, 5)) for seed in range(30)}) > 1
    assert option_order(options, 99, 5, shuffle=False) == options
    assert options == ["A", "B", "C", "D"]  # the argument is not shuffled in place


# --- properties ----------------------------------------------------------------------------

groups_strategy = st.lists(st.one_of(st.none(), st.sampled_from("abcde")), max_size=40)
seeds = st.integers(min_value=0, max_value=2**63 - 1)


@settings(max_examples=200, deadline=None)
@given(groups=groups_strategy, seed=seeds)
def test_property_order_is_a_deterministic_permutation_keeping_sets(
    groups: list[str | None], seed: int
) -> None:
    order = item_order(groups, seed)

    assert sorted(order) == list(range(len(groups)))
    assert item_order(groups, seed) == order
    _assert_sets_contiguous_in_authored_order(order, groups)
    assert item_order(groups, seed, shuffle=False) == [p for b in blocks_of(groups) for p in b]


def _authored(sizes: list[int]) -> list[str | None]:
    """Groups of a form authored block by block: size 1 is a standalone item, 2-4 a set."""
    groups: list[str | None] = []
    for n, size in enumerate(sizes):
        groups.extend([None] if size == 1 else [f"set{n}"] * size)
    return groups


@settings(max_examples=200, deadline=None)
@given(sizes=st.lists(st.integers(1, 4), max_size=25), seed=seeds)
def test_property_blocks_move_whole_and_unshuffled_is_authored_order(
    sizes: list[int], seed: int
) -> None:
    groups = _authored(sizes)
    blocks = blocks_of(groups)
    order = item_order(groups, seed)

    assert item_order(groups, seed, shuffle=False) == list(range(len(groups)))
    assert [len(b) for b in blocks] == sizes
    # The shuffled order is the authored blocks, each intact, in some order.
    shown: list[list[int]] = []
    rest = list(order)
    while rest:
        block = next(b for b in blocks if b[0] == rest[0])
        assert rest[: len(block)] == block
        shown.append(block)
        rest = rest[len(block):]
    assert sorted(shown) == sorted(blocks)


@settings(max_examples=200, deadline=None)
@given(
    options=st.lists(st.text(min_size=1, max_size=3), unique=True, min_size=1, max_size=8),
    seed=seeds, salt=st.integers(min_value=0, max_value=2**31 - 1),
)
def test_property_option_order_is_a_deterministic_permutation(
    options: list[str], seed: int, salt: int
) -> None:
    shown = option_order(options, seed, salt)

    assert sorted(shown) == sorted(options)
    assert option_order(options, seed, salt) == shown
    assert option_order(options, seed, salt, shuffle=False) == options
