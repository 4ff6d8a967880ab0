"""The responses CSV (one row per candidate, one column per item) and its options."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from scoring.cli._csv import open_csv, option_labels, strip_cells, wrong_length
from scoring.cli._item_metadata import ItemTable, read_items
from scoring.cli._problems import Problems
from scoring.cli._progress import Progress
from scoring.cli._sources import SourceFile
from scoring.raw import score_choices

__all__ = [
    "ResponseData",
    "add_response_arguments",
    "read_items_and_responses",
    "read_responses",
]

StrArray = npt.NDArray[np.str_]

# Rows of the responses file parsed and checked at a time: bounds the memory of the
# intermediate string arrays while keeping every check vectorised over a block.
_CHUNK_ROWS: Final = 4096


@dataclass(frozen=True, eq=False)
class ResponseData:
    """A validated responses file, items in metadata order (or column order)."""

    source: SourceFile
    item_ids: tuple[str, ...]
    candidate_ids: StrArray
    codes: npt.NDArray[np.int8]
    choices: StrArray | None
    group: StrArray | None

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def n_candidates(self) -> int:
        return int(self.codes.shape[0])


def _valid_cells(
    cells: StrArray, options: Sequence[tuple[str, ...]] | None
) -> npt.NDArray[np.bool_]:
    """Cells that are one of their item's options (or codes, without options), or blank."""
    if options is None:
        return (cells == "1") | (cells == "0") | (cells == "-1") | (cells == "")
    valid = np.ones(cells.shape, dtype=bool)
    for j, opts in enumerate(options):
        valid[:, j] = np.isin(cells[:, j], (*opts, ""))
    return valid


def _invalid_cell(value: str, options: tuple[str, ...] | None) -> str:
    """The problem with a cell that `_valid_cells` rejects."""
    if options is not None:
        return (
            f"{value!r} is not an option of this item ({', '.join(options)}; "
            "blank = not answered)"
        )
    return (
        f"{value!r} is not a response code: use 1 (right), 0 (wrong), "
        "-1 or blank (not answered)"
    )


def _codes(cells: StrArray) -> npt.NDArray[np.int8]:
    """Validated 1/0/-1/blank cells as response codes (blank = -1, not answered)."""
    codes = np.full(cells.shape, -1, dtype=np.int8)
    codes[cells == "1"] = 1
    codes[cells == "0"] = 0
    return codes


def read_responses(
    path: str,
    *,
    id_column: str,
    items: ItemTable | None,
    choices: bool,
    group_column: str | None,
    problems: Problems,
    progress: Progress,
    ignore_columns: Sequence[str] = (),
) -> ResponseData | None:
    """Read and validate a responses CSV: one row per candidate, one column per item.

    With ``choices`` the cells are option labels (blank = not answered) checked
    against each item's options and scored by `scoring.raw.score_choices`; otherwise
    they are codes 1 (right), 0 (wrong), -1 or blank (not answered).
    """
    before = problems.total
    csv_file = open_csv(path, problems)
    if csv_file is None:
        return None
    source = csv_file.source
    total_lines = max(1, source.text.count("\n"))
    # Stripping 18 million cells costs seconds; a file without blanks or tabs needs none.
    needs_strip = " " in source.text or "\t" in source.text
    header_line, names = csv_file.header_line, csv_file.names
    n_columns = len(names)
    ok = True
    id_index: int | None = None
    if id_column:
        if id_column in names:
            id_index = names.index(id_column)
        else:
            problems.add(
                path, header_line, id_column,
                "missing candidate id column (name it with --id-column; --id-column '' "
                "numbers the candidates 1, 2, ... in file order)",
            )
            ok = False
    group_index: int | None = None
    if group_column:
        if group_column in names:
            group_index = names.index(group_column)
        else:
            problems.add(path, header_line, group_column, "missing group column (--group-column)")
            ok = False
    for name in ignore_columns:
        if name not in names:
            problems.add(path, header_line, name, "missing column (--ignore-column)")
            ok = False
    item_positions = [
        i for i, name in enumerate(names)
        if i != id_index and i != group_index and name not in ignore_columns
    ]
    if items is not None:
        known = {item.item_id: item for item in items.items}
        for i in item_positions:
            if names[i] not in known:
                problems.add(
                    path, header_line, names[i],
                    f"unknown item column: no item_id {names[i]!r} in {items.path} "
                    "(--ignore-column NAME skips a column that is not an item)",
                )
                ok = False
        present = {names[i] for i in item_positions}
        for item in items.items:
            if item.item_id not in present:
                problems.add(
                    path, header_line, item.item_id,
                    f"no column for item {item.item_id!r} ({items.path}:{item.line})",
                )
                ok = False
        item_ids = tuple(item.item_id for item in items.items)
        columns = np.array([names.index(item_id) for item_id in item_ids if item_id in names])
    else:
        item_ids = tuple(names[i] for i in item_positions)
        columns = np.array(item_positions, dtype=np.intp)
    if not item_ids:
        problems.add(path, header_line, "header", "no item columns")
        ok = False
    if not ok:
        return None

    options: list[tuple[str, ...]] | None = None
    keys: list[frozenset[str]] = []
    if choices:
        assert items is not None
        options = [item.options for item in items.items]
        keys = items.keys

    label_width = max((len(label) for opts in options or () for label in opts), default=1)
    id_blocks: list[StrArray] = []
    code_blocks: list[npt.NDArray[np.int8]] = []
    choice_blocks: list[StrArray] = []
    group_blocks: list[StrArray] = []
    line_blocks: list[npt.NDArray[np.int64]] = []
    n_rows = 0

    def flush(block: list[tuple[int, list[str]]]) -> None:
        nonlocal n_rows
        lines = np.fromiter((line for line, _ in block), dtype=np.int64, count=len(block))
        lengths = np.fromiter((len(row) for _, row in block), dtype=np.int64, count=len(block))
        ragged = lengths != n_columns
        bad_rows = np.flatnonzero(ragged)
        problems.add_many(path, bad_rows.size, lambda i: (
            int(lines[bad_rows[i]]), "row", wrong_length(int(lengths[bad_rows[i]]), n_columns)
        ))
        rows = [row for (_, row), bad in zip(block, ragged, strict=True) if not bad]
        lines = lines[~ragged]
        first_row = n_rows
        n_rows += len(block)
        if not rows:
            return
        fields = np.array(rows, dtype=str)
        if needs_strip:
            fields = strip_cells(fields)
        if id_index is None:
            ids = np.arange(first_row + 1, first_row + 1 + len(block))[~ragged].astype(str)
        else:
            ids = fields[:, id_index]
            empty = np.flatnonzero(ids == "")
            problems.add_many(path, empty.size, lambda i: (
                int(lines[empty[i]]), id_column, "empty candidate id"
            ))
        if group_index is not None:
            group_blocks.append(fields[:, group_index])
        cells = fields[:, columns]
        bad = np.argwhere(~_valid_cells(cells, options))

        def describe(i: int) -> tuple[int, str, str]:
            r, j = bad[i]
            item_options = None if options is None else options[j]
            return int(lines[r]), item_ids[j], _invalid_cell(str(cells[r, j]), item_options)

        problems.add_many(path, len(bad), describe)
        if problems:
            return  # nothing will be scored; keep checking the rest of the file
        if choices:
            # The block's string width is that of its longest cell, often a candidate id;
            # validated choices fit the longest option label (4 bytes a cell for "A"),
            # and single characters take the fastest path of score_choices.
            narrow = cells.astype(f"U{label_width}")
            code_blocks.append(score_choices(narrow, keys))
            choice_blocks.append(narrow)
        else:
            code_blocks.append(_codes(cells))
        id_blocks.append(ids)
        line_blocks.append(lines)

    block: list[tuple[int, list[str]]] = []
    for record in csv_file.records:
        block.append(record)
        if len(block) == _CHUNK_ROWS:
            flush(block)
            block = []
            progress.update(record[0] / total_lines)
    if block:
        flush(block)
    if n_rows == 0 and problems.total == before:
        problems.add(path, 0, "file", "has a header but no candidate rows")
    if problems:
        return None

    candidate_ids = np.concatenate(id_blocks)
    all_lines = np.concatenate(line_blocks)
    _, first_index, inverse = np.unique(candidate_ids, return_index=True, return_inverse=True)
    first_row = first_index[inverse.ravel()]
    repeated = np.flatnonzero(first_row != np.arange(candidate_ids.size))
    if repeated.size:
        problems.add_many(path, repeated.size, lambda i: (
            int(all_lines[repeated[i]]), id_column or "candidate",
            f"candidate id {str(candidate_ids[repeated[i]])!r} repeated "
            f"(first on line {int(all_lines[first_row[repeated[i]]])})",
        ))
        return None
    return ResponseData(
        source=source,
        item_ids=item_ids,
        candidate_ids=candidate_ids,
        codes=np.concatenate(code_blocks, axis=0),
        choices=np.concatenate(choice_blocks, axis=0) if choices else None,
        group=np.concatenate(group_blocks) if group_index is not None else None,
    )


def _use_choices(args: argparse.Namespace, problems: Problems) -> bool | None:
    """True for option choices, False for codes, None to decide from the metadata."""
    fmt = args.response_format
    if fmt == "choices" and not args.items:
        problems.option(
            "--response-format", "option choices need --items (the keyed option of each item)"
        )
    return {"auto": None, "choices": True, "codes": False}[fmt]


def _default_options(args: argparse.Namespace, problems: Problems) -> tuple[str, ...]:
    parsed = option_labels(args.options)
    if isinstance(parsed, str):
        problems.option("--options", parsed)
        return ("A", "B", "C", "D")
    if len(parsed) < 2:
        problems.option("--options", "at least 2 option labels are needed")
    return parsed


def read_items_and_responses(
    args: argparse.Namespace,
    problems: Problems,
    progress: Progress,
    *,
    group_column: str | None = None,
) -> tuple[ItemTable | None, ResponseData]:
    """The inputs of `add_response_arguments`, read and checked; raises on any problem."""
    use_choices = _use_choices(args, problems)
    default_options = _default_options(args, problems)
    items: ItemTable | None = None
    if args.items:
        progress.step("reading item metadata")
        items = read_items(
            args.items, default_options=default_options, need_key=use_choices,
            problems=problems,
        )
        if items is None:
            problems.raise_if_any()
    choices = bool(items is not None and items.has_key)
    progress.step("reading responses")
    responses = read_responses(
        args.responses,
        id_column=args.id_column,
        items=items,
        choices=choices,
        group_column=group_column,
        problems=problems,
        progress=progress,
        ignore_columns=tuple(args.ignore_column or ()),
    )
    problems.raise_if_any()
    assert responses is not None
    return items, responses


def add_response_arguments(parser: argparse.ArgumentParser, *, items_required: bool) -> None:
    """The responses file, the item metadata and how to read them."""
    parser.add_argument(
        "responses", help="responses CSV: a candidate id column + one column per item"
    )
    parser.add_argument(
        "--items", required=items_required, metavar="CSV",
        help="item metadata CSV: item_id, key, domain, scored, options, difficulty",
    )
    parser.add_argument(
        "--id-column", default="candidate_id", metavar="NAME",
        help="candidate id column of the responses (default: candidate_id; '' = none, "
        "candidates are numbered 1, 2, ... in file order)",
    )
    parser.add_argument(
        "--response-format", choices=("auto", "choices", "codes"), default="auto",
        help="cells are option choices (A-D, blank = not answered) or codes 1/0/-1; "
        "auto (default): choices when the item metadata has a key column",
    )
    parser.add_argument(
        "--ignore-column", action="append", metavar="NAME",
        help="a responses column that is neither the id nor an item (repeatable)",
    )
    parser.add_argument(
        "--options", default="ABCD",
        help="option labels of items without an options column: ABCD or A|B|C|D (default ABCD)",
    )
