"""The item metadata CSV: item_id, key, domain, scored, options, difficulty."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from scoring.cli._csv import finite_float, open_csv, option_labels
from scoring.cli._problems import Problems
from scoring.cli._sources import SourceFile

__all__ = ["ITEM_COLUMNS", "ItemMeta", "ItemTable", "read_items"]

ITEM_COLUMNS: Final = ("item_id", "key", "domain", "scored", "options", "difficulty")
_SCORED_TRUE: Final = frozenset({"1", "true", "yes", "y", "scored", "operational"})
_SCORED_FALSE: Final = frozenset({"0", "false", "no", "n", "pretest", "unscored"})


@dataclass(frozen=True)
class ItemMeta:
    """One row of the item metadata file."""

    item_id: str
    line: int
    key: tuple[str, ...] | None
    domain: str
    scored: bool
    options: tuple[str, ...]
    difficulty: float | None


@dataclass(frozen=True)
class ItemTable:
    """The item metadata file."""

    source: SourceFile
    items: tuple[ItemMeta, ...]
    has_key: bool
    has_domain: bool
    has_difficulty: bool

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def scored(self) -> npt.NDArray[np.bool_]:
        """True for the scored items, False for the pretest items."""
        return np.array([item.scored for item in self.items], dtype=bool)

    @property
    def keys(self) -> list[frozenset[str]]:
        """The accepted option labels of each item (empty without a key column)."""
        return [frozenset(item.key or ()) for item in self.items]


def read_items(
    path: str, *, default_options: tuple[str, ...], need_key: bool | None, problems: Problems
) -> ItemTable | None:
    """Read and validate the item metadata CSV (see docs/scoring.md).

    ``need_key``: True when responses are option choices (every item needs a key in
    its options), False when they are 0/1/-1 codes (keys are ignored), None to decide
    from the presence of a ``key`` column.
    """
    before = problems.total
    table = open_csv(path, problems)
    if table is None:
        return None
    header_line, names = table.header_line, table.names
    unknown = [name for name in names if name not in ITEM_COLUMNS]
    for name in unknown:
        problems.add(
            path, header_line, name,
            "unknown column; the item metadata columns are " + ", ".join(ITEM_COLUMNS),
        )
    if "item_id" not in names:
        problems.add(path, header_line, "item_id", "missing column (one item id per row)")
    use_key = ("key" in names) if need_key is None else need_key
    if use_key and "key" not in names:
        problems.add(
            path, header_line, "key",
            "missing column: option choices need the keyed option of every item",
        )
    if unknown or "item_id" not in names or (use_key and "key" not in names):
        return None
    col = {name: i for i, name in enumerate(names)}

    def cell(row: list[str], name: str) -> str | None:
        return row[col[name]].strip() if name in col else None

    items: list[ItemMeta] = []
    first_line: dict[str, int] = {}
    for line, row in table.rows(problems):
        item_id = cell(row, "item_id") or ""
        if not item_id:
            problems.add(path, line, "item_id", "empty item id")
            continue
        if item_id in first_line:
            problems.add(
                path, line, "item_id",
                f"item {item_id!r} repeated (first on line {first_line[item_id]})",
            )
            continue
        first_line[item_id] = line
        ok = True

        options = default_options
        options_text = cell(row, "options")
        if options_text:
            parsed = option_labels(options_text)
            if isinstance(parsed, str):
                problems.add(path, line, "options", parsed)
                ok = False
            elif len(parsed) < 2:
                problems.add(path, line, "options", "an item needs at least 2 options")
                ok = False
            else:
                options = parsed

        key: tuple[str, ...] | None = None
        if use_key:
            key_text = cell(row, "key") or ""
            parsed_key = option_labels(key_text) if key_text else "empty key"
            if isinstance(parsed_key, str):
                problems.add(
                    path, line, "key",
                    f"{parsed_key}; give the keyed option, or A|C when several are accepted",
                )
                ok = False
            else:
                outside = [label for label in parsed_key if label not in options]
                if outside:
                    problems.add(
                        path, line, "key",
                        f"{outside[0]!r} is not one of the item's options "
                        f"({', '.join(options)}); check the key or the options",
                    )
                    ok = False
                key = parsed_key

        domain = "all"
        if "domain" in col:
            domain = cell(row, "domain") or ""
            if not domain:
                problems.add(path, line, "domain", "empty domain label")
                ok = False

        scored = True
        scored_text = cell(row, "scored")
        if scored_text is not None:
            lowered = scored_text.lower()
            if lowered in _SCORED_TRUE:
                scored = True
            elif lowered in _SCORED_FALSE:
                scored = False
            else:
                problems.add(
                    path, line, "scored",
                    f"{scored_text!r} is not a scored flag; use 1/0, true/false, yes/no "
                    "or scored/pretest",
                )
                ok = False

        difficulty: float | None = None
        difficulty_text = cell(row, "difficulty")
        if difficulty_text:
            difficulty = finite_float(difficulty_text)
            if difficulty is None:
                problems.add(
                    path, line, "difficulty",
                    f"{difficulty_text!r} is not a finite number (banked Rasch difficulty; "
                    "leave it blank when the item is not banked)",
                )
                ok = False
        if ok:
            items.append(ItemMeta(item_id, line, key, domain, scored, options, difficulty))
    if not first_line and problems.total == before:
        problems.add(path, 0, "file", "has a header but no items")
    if problems.total > before:
        return None
    return ItemTable(
        source=table.source,
        items=tuple(items),
        has_key=use_key,
        has_domain="domain" in col,
        has_difficulty="difficulty" in col,
    )
