"""Command line for the scoring engine: ``python -m scoring <command> ...``.

Commands
--------
score
    Responses + item metadata -> scores (CSV and JSON), the raw-to-scale conversion
    table (versioned JSON and CSV) and a summary (N, mean, SD, KR-20, SEM).
items
    Item analysis (p, point-biserials, alpha if deleted, distractors, flags, optional
    Mantel-Haenszel DIF), CSV and JSON.
equate
    Form X and form Y score files (random groups, or NEAT with anchor scores) -> the
    equating function by a chosen method, optionally composed with the base form's
    conversion table.
calibrate
    Rasch item difficulties (CML, MML or JML) with infit/outfit, optionally person
    abilities.

Every command reads and validates all of its inputs before it writes anything. An
input problem is reported on stderr as ``file:line: field: message`` (line 1 is the
header row; line 0 means the file as a whole; problems with options are reported as
``command line: --option: message``), the exit status is 2 and no file is written.
Outputs are deterministic: the same inputs and options give byte-identical files.
docs/scoring.md describes every file format.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import functools
import hashlib
import io
import json
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from types import TracebackType
from typing import Any, Final, TextIO

import numpy as np
import numpy.typing as npt

from scoring import equating, irt
from scoring.domains import domain_report
from scoring.item_analysis import (
    DistractorAnalysis,
    ItemStatistics,
    distractor_analysis,
    flags,
    item_statistics,
    mantel_haenszel,
)
from scoring.percentiles import NormGroupRanks, norm_group_ranks
from scoring.raw import raw_scores
from scoring.reliability import binomial_csem, kr20, kr21, sem
from scoring.scaling import (
    ConversionTable,
    ScaleSpec,
    equated_conversion,
    linear_conversion,
    rasch_conversion,
)

__all__ = ["InputError", "Problem", "build_parser", "main"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
StrArray = npt.NDArray[np.str_]

EXIT_OK: Final = 0
EXIT_WRITE_FAILED: Final = 1
EXIT_INPUT: Final = 2

OUTPUT_FORMAT_VERSION: Final = 1
"""Version of the JSON layouts written by this command line (``format_version``)."""

MAX_REPORTED: Final = 50
"""At most this many problems are printed; the rest are counted."""

COMMAND_LINE: Final = "command line"

# Rows of the responses file parsed and checked at a time: bounds the memory of the
# intermediate string arrays while keeping every check vectorised over a block.
_CHUNK_ROWS: Final = 4096

ITEM_COLUMNS: Final = ("item_id", "key", "domain", "scored", "options", "difficulty")
_SCORED_TRUE: Final = frozenset({"1", "true", "yes", "y", "scored", "operational"})
_SCORED_FALSE: Final = frozenset({"0", "false", "no", "n", "pretest", "unscored"})
_CODES: Final = {"1": 1, "0": 0, "-1": -1, "": -1}

RANDOM_METHODS: Final = ("mean", "linear", "equipercentile")
NEAT_METHODS: Final = (
    "tucker",
    "levine_observed",
    "levine_true",
    "chained_linear",
    "frequency_estimation",
    "chained_equipercentile",
)


# ---------------------------------------------------------------------------
# Problems
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One input problem: where it is and what is wrong.

    ``line`` is 1-based (the header is line 1), 0 for the file as a whole, and None
    for a command-line option (then ``source`` is ``"command line"``).

    Examples
    --------
    >>> str(Problem("responses.csv", 7, "Q3", "'x' is not a response code"))
    "responses.csv:7: Q3: 'x' is not a response code"
    >>> str(Problem("command line", None, "--passing", "must lie on the grid"))
    'command line: --passing: must lie on the grid'
    """

    source: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.field}: {self.message}"


class InputError(Exception):
    """The inputs have problems; nothing was written (exit status 2)."""

    def __init__(self, problems: Sequence[Problem], total: int | None = None) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = tuple(problems)
        self.total = len(self.problems) if total is None else total


class Problems:
    """Collects problems so that one run reports all of them, not just the first."""

    def __init__(self) -> None:
        self._items: list[Problem] = []
        self.total = 0

    def add(self, source: str, line: int | None, field: str, message: str) -> None:
        self.total += 1
        if len(self._items) < MAX_REPORTED:
            self._items.append(Problem(source, line, field, message))

    def option(self, option: str, message: str) -> None:
        self.add(COMMAND_LINE, None, option, message)

    def add_many(
        self, source: str, count: int, describe: Callable[[int], tuple[int, str, str]]
    ) -> None:
        """Add `count` problems; ``describe(i)`` gives (line, field, message) of the i-th.

        Only the problems that will be printed are described, so a file with millions
        of bad cells costs no more than one with fifty.
        """
        keep = min(count, MAX_REPORTED - len(self._items))
        for i in range(keep):
            self.add(source, *describe(i))
        self.total += count - keep

    def __bool__(self) -> bool:
        return self.total > 0

    def raise_if_any(self) -> None:
        if self.total:
            raise InputError(self._items, self.total)


# ---------------------------------------------------------------------------
# Progress
# ---------------------------------------------------------------------------


class Progress:
    """A small progress display on stderr, never on stdout or in the output files.

    On a terminal it redraws one line (a bar, the current step and the elapsed time,
    refreshed by a background thread while a long step such as a calibration runs);
    otherwise, when forced with ``--progress``, it prints one line per step. Disabled,
    it does nothing.
    """

    _WIDTH: Final = 24

    def __init__(
        self,
        title: str,
        n_steps: int,
        *,
        enabled: bool,
        stream: TextIO,
        redraw: bool,
    ) -> None:
        self.title = title
        self.n_steps = max(1, n_steps)
        self.enabled = enabled
        self.stream = stream
        self.redraw = redraw and enabled
        self._step = 0
        self._fraction = 0.0
        self._description = ""
        self._start = time.monotonic()
        self._step_start = self._start
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self.redraw:
            self._thread = threading.Thread(target=self._tick, daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if not self.enabled:
            return
        elapsed = time.monotonic() - self._start
        if exc_type is None:
            with self._lock:
                self._step, self._fraction, self._description = self.n_steps, 0.0, "done"
            if self.redraw:
                self._draw()
                self.stream.write("\n")
            else:
                self.stream.write(f"{self.title}: done in {elapsed:.1f}s\n")
        elif self.redraw:
            self.stream.write("\n")
        self.stream.flush()

    def step(self, description: str) -> None:
        """Start the next step."""
        if not self.enabled:
            return
        with self._lock:
            if self._description and not self.redraw:
                took = time.monotonic() - self._step_start
                self.stream.write(f"{self.title}: {self._description} took {took:.1f}s\n")
            self._step = min(self._step + (1 if self._description else 0), self.n_steps - 1)
            self._fraction = 0.0
            self._description = description
            self._step_start = time.monotonic()
            if not self.redraw:
                self.stream.write(
                    f"{self.title}: step {self._step + 1}/{self.n_steps}: {description}\n"
                )
                self.stream.flush()
        if self.redraw:
            self._draw()

    def update(self, fraction: float) -> None:
        """Report progress within the current step (0..1)."""
        if not self.enabled:
            return
        with self._lock:
            self._fraction = min(max(fraction, 0.0), 1.0)

    def _tick(self) -> None:
        while not self._stop.wait(0.2):
            self._draw()

    def _draw(self) -> None:
        with self._lock:
            done = (self._step + self._fraction) / self.n_steps
            filled = int(round(done * self._WIDTH))
            bar = "#" * filled + "-" * (self._WIDTH - filled)
            elapsed = time.monotonic() - self._start
            step = min(self._step + 1, self.n_steps)
            text = (
                f"\r{self.title} [{bar}] {100 * done:3.0f}% "
                f"{step}/{self.n_steps} {self._description} {elapsed:5.1f}s"
            )
            self.stream.write(text.ljust(100)[:100])
            self.stream.flush()


# ---------------------------------------------------------------------------
# Reading CSV files
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceFile:
    """An input file read as text, with its SHA-256 (recorded in the JSON outputs)."""

    path: str
    text: str
    sha256: str


def _read_source(path: str, problems: Problems) -> SourceFile | None:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        problems.add(path, 0, "file", "no such file")
        return None
    except IsADirectoryError:
        problems.add(path, 0, "file", "is a directory, not a file")
        return None
    except OSError as exc:
        problems.add(path, 0, "file", f"cannot be read: {exc.strerror or exc}")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.add(
            path, line, "encoding",
            f"byte 0x{data[exc.start]:02x} is not valid UTF-8; save the file as UTF-8",
        )
        return None
    return SourceFile(path, text, hashlib.sha256(data).hexdigest())


def _records(source: SourceFile, problems: Problems) -> Iterator[tuple[int, list[str]]]:
    """(first line, fields) of every non-empty CSV record."""
    reader = csv.reader(io.StringIO(source.text, newline=""), strict=True)
    start = 1
    try:
        for row in reader:
            if row:
                yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        problems.add(source.path, reader.line_num, "csv", f"malformed CSV: {exc}")


def _header(
    source: SourceFile, records: Iterator[tuple[int, list[str]]], problems: Problems
) -> tuple[int, tuple[str, ...]] | None:
    before = problems.total
    first = next(records, None)
    if first is None:
        if problems.total == before:  # not already reported as malformed CSV
            problems.add(source.path, 0, "file", "is empty; expected a header row")
        return None
    line, row = first
    names = tuple(cell.strip() for cell in row)
    seen: dict[str, int] = {}
    ok = True
    for i, name in enumerate(names):
        if not name:
            problems.add(source.path, line, f"column {i + 1}", "empty column name")
            ok = False
        elif name in seen:
            problems.add(
                source.path, line, name,
                f"column name repeated (columns {seen[name] + 1} and {i + 1})",
            )
            ok = False
        else:
            seen[name] = i
    return (line, names) if ok else None


def _labels(text: str) -> tuple[str, ...] | str:
    """Option labels written as "ABCD" (one character each) or "A|B|C|D".

    Returns the labels, or an error message.

    Examples
    --------
    >>> _labels("ABCD"), _labels("A|C"), _labels("A|B|A")
    (('A', 'B', 'C', 'D'), ('A', 'C'), "option label 'A' repeated")
    """
    if "|" in text:
        labels = tuple(part.strip() for part in text.split("|"))
    else:
        labels = tuple(ch for ch in text if not ch.isspace())
    if not labels or any(not label for label in labels):
        return "empty option label; write the labels as ABCD or A|B|C|D"
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        return f"option label {repeated[0]!r} repeated"
    return labels


def _strip(table: StrArray) -> StrArray:
    """Strip surrounding whitespace from every cell (numpy 2 ufunc when available)."""
    strings = getattr(np, "strings", None)
    if strings is not None and hasattr(strings, "strip"):
        return strings.strip(table)
    return np.char.strip(table)


def _finite_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


# ---------------------------------------------------------------------------
# Item metadata
# ---------------------------------------------------------------------------


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


def read_items(
    path: str, *, default_options: tuple[str, ...], need_key: bool | None, problems: Problems
) -> ItemTable | None:
    """Read and validate the item metadata CSV (see docs/scoring.md).

    ``need_key``: True when responses are option choices (every item needs a key in
    its options), False when they are 0/1/-1 codes (keys are ignored), None to decide
    from the presence of a ``key`` column.
    """
    before = problems.total
    source = _read_source(path, problems)
    if source is None:
        return None
    records = _records(source, problems)
    head = _header(source, records, problems)
    if head is None:
        return None
    header_line, names = head
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
    for line, row in records:
        if len(row) != len(names):
            problems.add(
                path, line, "row", f"has {len(row)} fields but the header has {len(names)}"
            )
            continue
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
            parsed = _labels(options_text)
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
            parsed_key = _labels(key_text) if key_text else "empty key"
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
            difficulty = _finite_float(difficulty_text)
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
        source=source,
        items=tuple(items),
        has_key=use_key,
        has_domain="domain" in col,
        has_difficulty="difficulty" in col,
    )


# ---------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------


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
    against each item's options and scored by the rule of `scoring.raw.score_choices`;
    otherwise they are codes 1 (right), 0 (wrong), -1 or blank (not answered).
    """
    before = problems.total
    source = _read_source(path, problems)
    if source is None:
        return None
    total_lines = max(1, source.text.count("\n"))
    # Stripping 18 million cells costs seconds; a file without blanks or tabs needs none.
    needs_strip = " " in source.text or "\t" in source.text
    records = _records(source, problems)
    head = _header(source, records, problems)
    if head is None:
        return None
    header_line, names = head
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

    options: list[tuple[str, ...]] = []
    keys: list[frozenset[str]] = []
    if choices:
        assert items is not None
        for item in items.items:
            options.append(item.options)
            keys.append(frozenset(item.key or ()))

    label_width = max((len(label) for opts in options for label in opts), default=1)
    id_blocks: list[StrArray] = []
    code_blocks: list[npt.NDArray[np.int8]] = []
    choice_blocks: list[StrArray] = []
    group_blocks: list[StrArray] = []
    line_blocks: list[IntArray] = []
    n_rows = 0

    def flush(block: list[tuple[int, list[str]]]) -> None:
        nonlocal n_rows
        lines = np.fromiter((line for line, _ in block), dtype=np.int64, count=len(block))
        lengths = np.fromiter((len(row) for _, row in block), dtype=np.int64, count=len(block))
        ragged = lengths != n_columns
        bad_rows = np.flatnonzero(ragged)
        problems.add_many(path, bad_rows.size, lambda i: (
            int(lines[bad_rows[i]]), "row",
            f"has {int(lengths[bad_rows[i]])} fields but the header has {n_columns}",
        ))
        rows = [row for (_, row), bad in zip(block, ragged, strict=True) if not bad]
        lines = lines[~ragged]
        first_row = n_rows
        n_rows += len(block)
        if not rows:
            return
        table = np.array(rows, dtype=str)
        if needs_strip:
            table = _strip(table)
        if id_index is None:
            ids = np.arange(first_row + 1, first_row + 1 + len(block))[~ragged].astype(str)
        else:
            ids = table[:, id_index]
            empty = np.flatnonzero(ids == "")
            problems.add_many(path, empty.size, lambda i: (
                int(lines[empty[i]]), id_column, "empty candidate id"
            ))
        if group_index is not None:
            group_blocks.append(table[:, group_index])
        cells = table[:, columns]
        if choices:
            valid = np.ones(cells.shape, dtype=bool)
            for j, opts in enumerate(options):
                valid[:, j] = np.isin(cells[:, j], (*opts, ""))
        else:
            valid = (cells == "1") | (cells == "0") | (cells == "-1") | (cells == "")
        bad = np.argwhere(~valid)

        def describe(i: int) -> tuple[int, str, str]:
            r, j = bad[i]
            value = str(cells[r, j])
            if choices:
                message = (
                    f"{value!r} is not an option of this item ({', '.join(options[j])}; "
                    "blank = not answered)"
                )
            else:
                message = (
                    f"{value!r} is not a response code: use 1 (right), 0 (wrong), "
                    "-1 or blank (not answered)"
                )
            return int(lines[r]), item_ids[j], message

        problems.add_many(path, len(bad), describe)
        if problems:
            return  # nothing will be scored; keep checking the rest of the file
        if choices:
            codes = _score_cells(cells, keys)
            # The block's string width is that of its longest cell, often a candidate id;
            # validated choices fit the longest option label (4 bytes a cell for "A").
            choice_blocks.append(cells.astype(f"U{label_width}"))
        else:
            codes = np.full(cells.shape, -1, dtype=np.int8)
            codes[cells == "1"] = 1
            codes[cells == "0"] = 0
        code_blocks.append(codes)
        id_blocks.append(ids)
        line_blocks.append(lines)

    block: list[tuple[int, list[str]]] = []
    for record in records:
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


def _score_cells(cells: StrArray, keys: Sequence[frozenset[str]]) -> npt.NDArray[np.int8]:
    """`scoring.raw.score_choices` for a validated string array, without object arrays.

    The rule is the library's: 1 where the choice is one of the item's accepted labels,
    -1 where the cell is blank (not answered), 0 otherwise. Working on the fixed-width
    string array directly is about ten times faster than converting 18 million cells
    to Python objects (the tests check that both give the same matrix).
    """
    codes = np.zeros(cells.shape, dtype=np.int8)
    for j, key in enumerate(keys):
        codes[:, j] = np.isin(cells[:, j], sorted(key))
    codes[cells == ""] = -1
    return codes


def _use_choices(args: argparse.Namespace, problems: Problems) -> bool | None:
    """True for option choices, False for codes, None to decide from the metadata."""
    fmt = args.response_format
    if fmt == "choices" and not args.items:
        problems.option(
            "--response-format", "option choices need --items (the keyed option of each item)"
        )
    return {"auto": None, "choices": True, "codes": False}[fmt]


def _default_options(args: argparse.Namespace, problems: Problems) -> tuple[str, ...]:
    parsed = _labels(args.options)
    if isinstance(parsed, str):
        problems.option("--options", parsed)
        return ("A", "B", "C", "D")
    if len(parsed) < 2:
        problems.option("--options", "at least 2 option labels are needed")
    return parsed


def _read_items_and_responses(
    args: argparse.Namespace,
    problems: Problems,
    progress: Progress,
    *,
    group_column: str | None = None,
) -> tuple[ItemTable | None, ResponseData]:
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


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def _num(value: Any) -> Any:
    """A JSON value: Python int/float/bool/str, None for NaN, infinities or None."""
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.str_):
        return str(value)
    return value


def _cell(value: Any) -> str:
    """A CSV cell: shortest round-trip float text, integral floats without '.0'.

    Examples
    --------
    >>> _cell(500.0), _cell(0.1), _cell(float("nan")), _cell(3), _cell(None)
    ('500', '0.1', '', '3', '')
    """
    v = _num(value)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    return str(v)


def _json_list(values: npt.ArrayLike | Sequence[Any]) -> list[Any]:
    return [_num(v) for v in np.asarray(values).tolist()]


def _csv_text(
    header: Sequence[str], rows: Iterator[Sequence[Any]] | Sequence[Sequence[Any]]
) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def _column_text(values: npt.ArrayLike | Sequence[Any]) -> list[str]:
    """One CSV column as text, formatted column-wise (fast for 100,000 rows)."""
    array = np.asarray(values)
    if array.dtype.kind == "b":
        return ["1" if v else "0" for v in array.tolist()]
    if array.dtype.kind in "iu":
        return [str(v) for v in array.tolist()]
    if array.dtype.kind == "f":
        def text(v: float) -> str:
            if not math.isfinite(v):
                return ""
            return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)

        return [text(v) for v in array.tolist()]
    if array.dtype.kind == "U":
        return array.tolist()
    return [_cell(v) for v in (values if not isinstance(values, np.ndarray) else array.tolist())]


def _csv_columns(header: Sequence[str], columns: Sequence[npt.ArrayLike | Sequence[Any]]) -> str:
    """A CSV file from columns of equal length."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(zip(*(_column_text(c) for c in columns), strict=True))
    return buffer.getvalue()


def _json_text(document: dict[str, Any], *, one_per_line: str | None = None) -> str:
    """Indented JSON; the list under `one_per_line` is written one compact record a line.

    A long list of records (100,000 candidates) indented member by member would be
    slow to write and to read by eye; one record per line is both fast (the C encoder)
    and easy to grep or diff.
    """
    options: dict[str, Any] = {"ensure_ascii": False, "allow_nan": False}
    if one_per_line is None:
        return json.dumps(document, indent=2, **options) + "\n"
    head = {name: value for name, value in document.items() if name != one_per_line}
    text = json.dumps(head, indent=2, **options)
    body = ",\n".join(
        "    " + json.dumps(record, separators=(", ", ": "), **options)
        for record in document[one_per_line]
    )
    listing = f"[\n{body}\n  ]" if body else "[]"
    return f"{text[:-2]},\n  {json.dumps(one_per_line)}: {listing}\n}}\n"


def _generator() -> str:
    try:
        return f"exam-platform {importlib_metadata.version('exam-platform')} scoring"
    except importlib_metadata.PackageNotFoundError:
        return "exam-platform scoring"


def _inputs(*sources: SourceFile | None) -> list[dict[str, str]]:
    return [{"path": s.path, "sha256": s.sha256} for s in sources if s is not None]


class OutputPlan:
    """The files a command will write, checked before anything is computed or written."""

    def __init__(self, directory: str, names: Sequence[str], *, force: bool) -> None:
        self.directory = Path(directory)
        self.names = list(names)
        self.force = force
        self.contents: dict[str, str] = {}
        self.message = ""

    def check(self, problems: Problems) -> None:
        if self.directory.exists() and not self.directory.is_dir():
            problems.option("--out", f"{self.directory} exists and is not a directory")
            return
        if self.force:
            return
        for name in self.names:
            target = self.directory / name
            if target.exists():
                problems.option(
                    "--out", f"{target} already exists (use --force to replace it)"
                )

    def add(self, name: str, content: str) -> None:
        if name not in self.names:
            self.names.append(name)
        self.contents[name] = content

    def write(self) -> list[Path]:
        """Write every file, or none: all go to temporary names first, then renamed."""
        self.directory.mkdir(parents=True, exist_ok=True)
        moves: list[tuple[Path, Path]] = []
        try:
            for name in self.names:
                temp = self.directory / f".{name}.{os.getpid()}.tmp"
                moves.append((temp, self.directory / name))
                temp.write_text(self.contents[name], encoding="utf-8", newline="")
        except OSError:
            for temp, _ in moves:
                temp.unlink(missing_ok=True)
            raise
        for temp, target in moves:
            os.replace(temp, target)
        return [target for _, target in moves]


# ---------------------------------------------------------------------------
# score
# ---------------------------------------------------------------------------


def _scale_from_options(args: argparse.Namespace, problems: Problems) -> ScaleSpec | None:
    missing = [
        option
        for option, value in (
            ("--scale-min", args.scale_min),
            ("--scale-max", args.scale_max),
            ("--passing", args.passing),
        )
        if value is None
    ]
    for option in missing:
        problems.option(option, "required with --cut-raw or --cut-theta (the reporting scale)")
    if missing:
        return None
    try:
        return ScaleSpec(args.scale_min, args.scale_max, args.passing, args.increment)
    except ValueError as exc:
        text = str(exc)
        option = "--increment"
        for name, flag in (
            ("ScaleSpec.passing", "--passing"),
            ("ScaleSpec.maximum", "--scale-max"),
            ("ScaleSpec.minimum", "--scale-min"),
        ):
            if text.startswith(name):
                option = flag
                break
        problems.option(option, text)
        return None


def _summary_stats(values: npt.ArrayLike) -> dict[str, Any]:
    x = np.asarray(values, dtype=np.float64)
    return {
        "mean": _num(x.mean()),
        "sd": _num(x.std(ddof=1)) if x.size > 1 else None,
        "min": _num(x.min()),
        "max": _num(x.max()),
    }


def _read_norm_freq(
    path: str, n_scored: int, definition: str | None, problems: Problems
) -> tuple[SourceFile | None, NormGroupRanks | None]:
    before = problems.total
    source = _read_source(path, problems)
    if source is None:
        return None, None
    records = _records(source, problems)
    head = _header(source, records, problems)
    if head is None:
        return source, None
    header_line, names = head
    if "score" not in names or "count" not in names:
        for name in ("score", "count"):
            if name not in names:
                problems.add(path, header_line, name, "missing column (score,count)")
        return source, None
    i_score, i_count = names.index("score"), names.index("count")
    counts = np.zeros(n_scored + 1, dtype=np.int64)
    seen: dict[int, int] = {}
    for line, row in records:
        if len(row) != len(names):
            problems.add(
                path, line, "row", f"has {len(row)} fields but the header has {len(names)}"
            )
            continue
        score_text, count_text = row[i_score].strip(), row[i_count].strip()
        if not score_text.isdigit() or int(score_text) > n_scored:
            problems.add(
                path, line, "score",
                f"{score_text!r} is not a raw score 0..{n_scored} (the number of scored items)",
            )
            continue
        if not count_text.isdigit():
            problems.add(path, line, "count", f"{count_text!r} is not a non-negative integer")
            continue
        score = int(score_text)
        if score in seen:
            problems.add(
                path, line, "score", f"score {score} repeated (first on line {seen[score]})"
            )
            continue
        seen[score] = line
        counts[score] = int(count_text)
    if problems.total > before:
        return source, None
    if counts.sum() == 0:
        problems.add(path, 0, "count", "the norm group has no candidates (all counts are 0)")
        return source, None
    norm = norm_group_ranks(counts, definition or f"norm group of {path}", kind="freq")
    return source, norm


def _score(args: argparse.Namespace, progress: Progress) -> OutputPlan:
    problems = Problems()
    plan = OutputPlan(
        args.out,
        ["scores.csv", "scores.json", "conversion.json", "conversion.csv", "summary.json"],
        force=args.force,
    )
    plan.check(problems)
    ways = [w for w in (args.cut_raw, args.cut_theta, args.conversion) if w is not None]
    if len(ways) != 1:
        problems.option(
            "--cut-raw",
            "give exactly one of --cut-raw (linear conversion), --cut-theta (Rasch "
            "conversion from banked difficulties) or --conversion (an existing table)",
        )
    scale = None
    if args.conversion is None and len(ways) == 1:
        scale = _scale_from_options(args, problems)
    elif args.conversion is not None:
        for option, value in (
            ("--scale-min", args.scale_min), ("--scale-max", args.scale_max),
            ("--passing", args.passing),
        ):
            if value is not None:
                problems.option(option, "not used with --conversion (the table has its scale)")
    if args.band_z < 0 or not math.isfinite(args.band_z):
        problems.option("--band-z", f"must be a number >= 0, got {args.band_z}")
    if args.min_domain_items < 2:
        problems.option("--min-domain-items", f"must be at least 2, got {args.min_domain_items}")
    if args.norm_definition is not None and not args.norm_definition.strip():
        problems.option("--norm-definition", "must not be empty")

    table_source: SourceFile | None = None
    base_table: ConversionTable | None = None
    if args.conversion is not None:
        table_source = _read_source(args.conversion, problems)
        if table_source is not None:
            try:
                base_table = ConversionTable.from_json(table_source.text)
            except ValueError as exc:
                problems.add(args.conversion, 0, "conversion", str(exc))

    items, responses = _read_items_and_responses(args, problems, progress)
    assert items is not None  # --items is required for score
    scored = np.array([item.scored for item in items.items], dtype=bool)
    n_scored = int(scored.sum())
    if n_scored == 0:
        problems.add(
            items.path, 0, "scored",
            "every item is marked pretest; at least one item must be scored",
        )
        problems.raise_if_any()
    if args.cut_raw is not None and not (0 < args.cut_raw <= n_scored):
        problems.option(
            "--cut-raw", f"must lie in (0, {n_scored}] (the number of scored items), "
            f"got {args.cut_raw:g}",
        )
    if args.cut_theta is not None:
        if not math.isfinite(args.cut_theta):
            problems.option("--cut-theta", "must be a finite number")
        if not items.has_difficulty:
            problems.add(
                items.path, 1, "difficulty",
                "missing column: --cut-theta needs the banked Rasch difficulty of every "
                "scored item",
            )
        else:
            for item in items.items:
                if item.scored and item.difficulty is None:
                    problems.add(
                        items.path, item.line, "difficulty",
                        f"scored item {item.item_id!r} has no banked difficulty "
                        "(needed by --cut-theta)",
                    )
    if base_table is not None:
        if base_table.n_items != n_scored:
            problems.add(
                args.conversion, 0, "raw",
                f"the table covers raw scores 0..{base_table.n_items} but {items.path} "
                f"has {n_scored} scored items",
            )
        elif base_table.cut_raw <= 0:
            problems.add(
                args.conversion, 0, "cut_raw",
                "the raw cut is 0 (everyone passes); domain bands need a positive cut",
            )
    norm_source: SourceFile | None = None
    norm: NormGroupRanks | None = None
    if args.norm_freq is not None:
        norm_source, norm = _read_norm_freq(
            args.norm_freq, n_scored, args.norm_definition, problems
        )
    problems.raise_if_any()

    progress.step("scoring")
    codes = responses.codes
    domains = [item.domain for item in items.items]
    raw = raw_scores(codes, scored=scored, domains=domains)
    total = raw.total
    n = responses.n_candidates
    operational = codes[:, scored]
    reliability: dict[str, Any] = {"kr20": None, "kr21": None, "sem": None, "note": None}
    try:
        reliability["kr20"] = kr20(operational)
        reliability["kr21"] = kr21(operational)
        reliability["sem"] = sem(operational)
    except ValueError as exc:
        reliability["note"] = f"not computed: {exc}"
    progress.update(0.3)

    form_metadata: dict[str, Any] = {
        "form": args.form,
        "items_file": items.path,
        "n_scored_items": n_scored,
    }
    theta_table: FloatArray | None = None
    theta_se: FloatArray | None = None
    if base_table is not None:
        table = base_table
    elif args.cut_raw is not None:
        assert scale is not None
        csem_raw = _binomial_csem(n_scored, reliability["kr20"], reliability["kr21"])
        table = linear_conversion(
            n_scored, args.cut_raw, scale, version=args.table_version, metadata=form_metadata
        )
        if csem_raw is not None:
            slope = float(table.unrounded[-1] - table.unrounded[0]) / n_scored
            table = dataclasses.replace(table, csem=csem_raw * slope)
    else:
        assert scale is not None and args.cut_theta is not None
        difficulty = np.array([item.difficulty for item in items.items if item.scored], dtype=float)
        try:
            pre = irt.pre_equate({"b": difficulty}, theta_cut=args.cut_theta, D=1.0)
            theta_table, theta_se = np.asarray(pre.theta), np.asarray(pre.se)
            table = rasch_conversion(
                theta_table, args.cut_theta, scale,
                version=args.table_version, metadata=form_metadata,
            )
        except ValueError as exc:
            problems.option("--cut-theta", str(exc))
            problems.raise_if_any()
            raise AssertionError("unreachable") from exc
        slope = float(table.unrounded[-1] - table.unrounded[0]) / float(
            theta_table[-1] - theta_table[0]
        )
        table = dataclasses.replace(table, csem=theta_se * slope)
        if table.cut_raw <= 0:
            problems.option(
                "--cut-theta",
                f"{args.cut_theta:g} is at or below the ability of a zero score "
                f"({theta_table[0]:.4g}): everyone would pass",
            )
            problems.raise_if_any()
    progress.update(0.5)

    scaled = table.lookup(total)
    passed = table.passed(total)
    if norm is None:
        norm = norm_group_ranks(
            total,
            args.norm_definition or f"all {n} candidates in {responses.path}",
            kind="scores",
            max_score=n_scored,
        )
    ranks = norm.rank_of(total)
    report = domain_report(
        codes,
        domains,
        cut_proportion=table.cut_raw / n_scored,
        z=args.band_z,
        min_items=args.min_domain_items,
        scored=scored,
    )
    percent = 100.0 * total / n_scored
    theta_of_candidate = theta_table[total] if theta_table is not None else None
    progress.update(0.8)

    summary = {
        "n_candidates": n,
        "n_items": len(items.items),
        "n_scored_items": n_scored,
        "n_pretest_items": len(items.items) - n_scored,
        "raw": _summary_stats(total),
        "scaled": _summary_stats(scaled),
        "kr20": _num(reliability["kr20"]),
        "sem": _num(reliability["sem"]),
        "reliability_note": reliability["note"],
        "cut_raw": _num(table.cut_raw),
        "passing_raw": table.passing_raw,
        "passing_scaled": _num(table.scale.passing),
        "n_passed": int(passed.sum()),
        "pass_rate": _num(passed.mean()),
        "norm_group": {"definition": norm.definition, "n": norm.n},
    }

    progress.step("writing")
    domain_labels = report.domain_labels
    header = [
        "candidate_id", "raw", "percent", "wrong", "omitted", "scaled", "result",
        "percentile_rank",
    ]
    if theta_of_candidate is not None:
        header.append("theta")
    for label in domain_labels:
        header += [f"domain_raw:{label}", f"domain_percent:{label}", f"domain_band:{label}"]
    result = np.where(passed, "pass", "fail")
    columns: list[npt.NDArray[Any]] = [
        responses.candidate_ids, total, percent, raw.wrong, raw.omitted, scaled, result, ranks,
    ]
    if theta_of_candidate is not None:
        columns.append(theta_of_candidate)
    for d in range(len(domain_labels)):
        columns += [report.raw[:, d], report.percent[:, d], report.band[:, d]]
    plan.add("scores.csv", _csv_columns(header, columns))

    # Plain Python lists first: indexing numpy arrays element by element is slow.
    fields = {
        "candidate_id": responses.candidate_ids.tolist(),
        "raw": total.tolist(),
        "percent": percent.tolist(),
        "wrong": raw.wrong.tolist(),
        "omitted": raw.omitted.tolist(),
        "scaled": scaled.tolist(),
        "passed": passed.tolist(),
        "percentile_rank": ranks.tolist(),
    }
    if theta_of_candidate is not None:
        fields["theta"] = theta_of_candidate.tolist()
    names = list(fields)
    domain_columns = [
        (label, report.raw[:, d].tolist(), report.percent[:, d].tolist(),
         report.band[:, d].tolist())
        for d, label in enumerate(domain_labels)
    ]

    def candidates() -> Iterator[dict[str, Any]]:
        # A generator, so that only one candidate's record exists at a time.
        for i, values in enumerate(zip(*fields.values(), strict=True)):
            entry: dict[str, Any] = dict(zip(names, values, strict=True))
            entry["domains"] = [
                {"domain": label, "raw": d_raw[i], "percent": d_percent[i], "band": d_band[i]}
                for label, d_raw, d_percent, d_band in domain_columns
            ]
            yield entry

    domains_doc = [
        {
            "domain": label,
            "n_items": int(report.n_items[d]),
            "reported": bool(report.reported[d]),
            "cut_raw": _num(report.cut_raw[d]),
            "csem_at_cut": _num(report.csem_at_cut[d]),
            "near_low_percent": _num(report.near_low[d]),
            "near_high_percent": _num(report.near_high[d]),
        }
        for d, label in enumerate(domain_labels)
    ]
    inputs = _inputs(responses.source, items.source, table_source, norm_source)
    conversion_doc = {
        "version": table.version,
        "method": table.method,
        "file": "conversion.json",
        "scale": table.scale.to_dict(),
    }
    plan.add("summary.json", _json_text({
        "format": "scoring.ScoreSummary",
        "format_version": OUTPUT_FORMAT_VERSION,
        "generator": _generator(),
        "inputs": inputs,
        "conversion": conversion_doc,
        **summary,
    }))
    plan.add("scores.json", _json_text({
        "format": "scoring.Scores",
        "format_version": OUTPUT_FORMAT_VERSION,
        "generator": _generator(),
        "inputs": inputs,
        "conversion": conversion_doc,
        "summary": summary,
        "domain_bands": {
            "cut_proportion": report.cut_proportion,
            "z": report.z,
            "min_items": report.min_items,
            "domains": domains_doc,
        },
        "candidates": candidates(),
    }, one_per_line="candidates"))
    plan.add("conversion.json", table.to_json() + "\n")
    freq = np.bincount(total, minlength=n_scored + 1)
    conv_header = ["raw", "unrounded", "scaled", "result", "csem", "frequency", "percentile_rank"]
    conv_columns: list[npt.NDArray[Any]] = [
        table.raw, table.unrounded, table.scaled,
        np.where(table.passed(table.raw), "pass", "fail"),
        table.csem if table.csem is not None else np.full(n_scored + 1, np.nan),
        freq, norm.ranks,
    ]
    if theta_table is not None and theta_se is not None:
        conv_header += ["theta", "theta_se"]
        conv_columns += [theta_table, theta_se]
    plan.add("conversion.csv", _csv_columns(conv_header, conv_columns))
    plan.message = (
        f"{n} candidates, {n_scored} scored items: raw mean {total.mean():.4g}, "
        f"KR-20 {_fmt(reliability['kr20'])}, SEM {_fmt(reliability['sem'])}, "
        f"{int(passed.sum())} passed ({100 * passed.mean():.1f}%)"
    )
    return plan


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _binomial_csem(
    n_items: int, reliability: float | None, kr21_value: float | None
) -> FloatArray | None:
    """Lord's binomial CSEM with Keats' adjustment when the reliabilities are known."""
    if n_items < 2:
        return None
    if reliability is not None and kr21_value is not None and kr21_value < 1 and reliability <= 1:
        try:
            return binomial_csem(n_items, reliability=reliability, kr21=kr21_value)
        except ValueError:
            pass
    return binomial_csem(n_items)


# ---------------------------------------------------------------------------
# items
# ---------------------------------------------------------------------------


def _items(args: argparse.Namespace, progress: Progress) -> OutputPlan:
    problems = Problems()
    plan = OutputPlan(args.out, ["item_analysis.csv", "item_analysis.json"], force=args.force)
    plan.check(problems)
    dif_options = (args.group_column, args.reference, args.focal)
    if any(v is not None for v in dif_options) and not all(v is not None for v in dif_options):
        problems.option(
            "--group-column", "DIF needs all three of --group-column, --reference and --focal"
        )
    if args.reference is not None and args.reference == args.focal:
        problems.option("--focal", "must differ from --reference")
    if not 0 < args.dif_alpha < 1:
        problems.option("--dif-alpha", f"must lie in (0, 1), got {args.dif_alpha}")
    for option, value in (
        ("--too-hard", args.too_hard), ("--too-easy", args.too_easy),
        ("--low-r", args.low_r), ("--distractor-r", args.distractor_r),
    ):
        if not math.isfinite(value):
            problems.option(option, "must be a finite number")
    if args.too_hard > args.too_easy:
        problems.option("--too-hard", f"must not exceed --too-easy ({args.too_easy})")
    items, responses = _read_items_and_responses(
        args, problems, progress, group_column=args.group_column
    )
    n, k = responses.codes.shape
    scored = (
        np.array([item.scored for item in items.items], dtype=bool)
        if items is not None else np.ones(k, dtype=bool)
    )
    n_scored = int(scored.sum())
    where = items.path if items is not None else responses.path
    if n_scored < 2:
        problems.add(
            where, 0, "scored",
            f"item analysis needs at least 2 scored items (the total score), found {n_scored}",
        )
    if n < 2:
        problems.add(responses.path, 0, "file", "item analysis needs at least 2 candidates")
    dif = args.group_column is not None and args.reference is not None and args.focal is not None
    if dif and responses.group is not None:
        for option, label in (("--reference", args.reference), ("--focal", args.focal)):
            if not np.any(responses.group == label):
                problems.add(
                    responses.path, 1, args.group_column,
                    f"no candidate in group {label!r} ({option})",
                )
    problems.raise_if_any()

    progress.step("item statistics")
    codes = responses.codes
    operational = codes[:, scored]
    pretest = np.flatnonzero(~scored)
    base = item_statistics(operational)
    p = np.empty(k)
    pb = np.empty(k)
    cpb = np.empty(k)
    alpha_del = np.full(k, np.nan)
    omitted = np.empty(k)
    p[scored], pb[scored], cpb[scored] = base.p, base.point_biserial, base.corrected_point_biserial
    alpha_del[scored], omitted[scored] = base.alpha_if_deleted, base.omitted
    # A pretest item is analysed against the operational total (the scored items plus
    # itself), so that pretest items do not change each other's statistics: one library
    # call per pretest item on the scored columns plus that item.
    augmented = np.empty((n, n_scored + 1), dtype=codes.dtype)
    augmented[:, :n_scored] = operational
    for count, j in enumerate(pretest):
        augmented[:, -1] = codes[:, j]
        one = item_statistics(augmented)
        p[j], pb[j], cpb[j], omitted[j] = (
            one.p[-1], one.point_biserial[-1], one.corrected_point_biserial[-1], one.omitted[-1]
        )
        progress.update((count + 1) / max(1, pretest.size))
    statistics = ItemStatistics(
        p=p, point_biserial=pb, corrected_point_biserial=cpb, alpha_if_deleted=alpha_del,
        omitted=omitted, alpha=base.alpha, n_candidates=n,
    )

    distractors: DistractorAnalysis | None = None
    options: tuple[str, ...] = ()
    if responses.choices is not None and items is not None:
        progress.step("distractor analysis")
        options = tuple(dict.fromkeys(o for item in items.items for o in item.options))
        keys = [frozenset(item.key or ()) for item in items.items]
        choices = responses.choices
        scored_keys = [key for key, s in zip(keys, scored, strict=True) if s]
        base_d = distractor_analysis(choices[:, scored], scored_keys, options)
        shape = (k, len(options))
        proportion = np.empty(shape)
        mean_total = np.empty(shape)
        rest_r = np.empty(shape)
        is_key = np.zeros(shape, dtype=bool)
        d_omitted = np.empty(k)
        d_p = np.empty(k)
        proportion[scored], mean_total[scored] = base_d.proportion, base_d.mean_total
        rest_r[scored], is_key[scored] = base_d.option_rest_correlation, base_d.is_key
        d_omitted[scored], d_p[scored] = base_d.omitted, base_d.p
        augmented_choices = np.empty((n, n_scored + 1), dtype=choices.dtype)
        augmented_choices[:, :n_scored] = choices[:, scored]
        for count, j in enumerate(pretest):
            augmented_choices[:, -1] = choices[:, j]
            one_d = distractor_analysis(augmented_choices, [*scored_keys, keys[j]], options)
            proportion[j], mean_total[j] = one_d.proportion[-1], one_d.mean_total[-1]
            rest_r[j], is_key[j] = one_d.option_rest_correlation[-1], one_d.is_key[-1]
            d_omitted[j], d_p[j] = one_d.omitted[-1], one_d.p[-1]
            progress.update((count + 1) / max(1, pretest.size))
        distractors = DistractorAnalysis(
            options=options, is_key=is_key, proportion=proportion, mean_total=mean_total,
            option_rest_correlation=rest_r, omitted=d_omitted, p=d_p, n_candidates=n,
        )

    item_flags = flags(
        statistics, distractors, too_hard_p=args.too_hard, too_easy_p=args.too_easy,
        low_discrimination_r=args.low_r, distractor_r=args.distractor_r,
    )
    reasons = item_flags.reasons()

    dif_rows: dict[str, FloatArray | StrArray] | None = None
    dif_doc: dict[str, Any] | None = None
    if dif:
        progress.step("Mantel-Haenszel DIF")
        group = responses.group
        assert group is not None
        base_m = mantel_haenszel(
            operational, group, reference=args.reference, focal=args.focal,
            purify=args.purify, alpha=args.dif_alpha,
        )
        names = ("alpha_mh", "d_dif", "se_d_dif", "chi_square", "p_value")
        dif_rows = {name: np.full(k, np.nan) for name in names}
        dif_rows["category"] = np.full(k, "NA", dtype="<U2")
        for name in names:
            dif_rows[name][scored] = getattr(base_m, name)
        dif_rows["category"][scored] = base_m.signed_category
        for count, j in enumerate(pretest):
            augmented[:, -1] = codes[:, j]
            one_m = mantel_haenszel(
                augmented, group,
                reference=args.reference, focal=args.focal, purify=args.purify,
                alpha=args.dif_alpha,
            )
            for name in names:
                dif_rows[name][j] = getattr(one_m, name)[-1]
            dif_rows["category"][j] = one_m.signed_category[-1]
            progress.update((count + 1) / max(1, pretest.size))
        dif_doc = {
            "group_column": args.group_column,
            "reference": args.reference,
            "focal": args.focal,
            "n_reference": base_m.n_reference,
            "n_focal": base_m.n_focal,
            "purify": bool(args.purify),
            "alpha": args.dif_alpha,
        }

    progress.step("writing")
    meta = items.items if items is not None else None
    header = [
        "item_id", "domain", "scored", "key", "p", "omitted", "point_biserial",
        "corrected_point_biserial", "alpha_if_deleted", "flags",
    ]
    for o in options:
        header += [f"option_proportion:{o}", f"option_mean_total:{o}", f"option_rest_r:{o}"]
    if dif_rows is not None:
        header += [
            "mh_alpha", "mh_d_dif", "mh_se_d_dif", "mh_chi_square", "mh_p_value", "ets_category"
        ]
    rows = []
    item_docs = []
    for j, item_id in enumerate(responses.item_ids):
        domain = meta[j].domain if meta is not None else "all"
        key = "|".join(meta[j].key or ()) if meta is not None and meta[j].key else ""
        row: list[Any] = [
            item_id, domain, "scored" if scored[j] else "pretest", key, p[j], omitted[j],
            pb[j], cpb[j], alpha_del[j], ";".join(reasons[j]),
        ]
        doc: dict[str, Any] = {
            "item_id": item_id,
            "domain": domain,
            "scored": bool(scored[j]),
            "key": list(meta[j].key) if meta is not None and meta[j].key else None,
            "p": _num(p[j]),
            "omitted": _num(omitted[j]),
            "point_biserial": _num(pb[j]),
            "corrected_point_biserial": _num(cpb[j]),
            "alpha_if_deleted": _num(alpha_del[j]),
            "flags": list(reasons[j]),
        }
        if distractors is not None:
            doc["options"] = []
            for o_index, o in enumerate(options):
                row += [
                    distractors.proportion[j, o_index], distractors.mean_total[j, o_index],
                    distractors.option_rest_correlation[j, o_index],
                ]
                doc["options"].append({
                    "label": o,
                    "key": bool(distractors.is_key[j, o_index]),
                    "proportion": _num(distractors.proportion[j, o_index]),
                    "mean_total": _num(distractors.mean_total[j, o_index]),
                    "rest_correlation": _num(distractors.option_rest_correlation[j, o_index]),
                })
        if dif_rows is not None:
            values = [dif_rows[name][j] for name in
                      ("alpha_mh", "d_dif", "se_d_dif", "chi_square", "p_value")]
            row += [*values, str(dif_rows["category"][j])]
            doc["dif"] = {
                "alpha_mh": _num(values[0]), "d_dif": _num(values[1]),
                "se_d_dif": _num(values[2]), "chi_square": _num(values[3]),
                "p_value": _num(values[4]), "ets_category": str(dif_rows["category"][j]),
            }
        rows.append(row)
        item_docs.append(doc)
    plan.add("item_analysis.csv", _csv_text(header, rows))
    plan.add("item_analysis.json", _json_text({
        "format": "scoring.ItemAnalysis",
        "format_version": OUTPUT_FORMAT_VERSION,
        "generator": _generator(),
        "inputs": _inputs(responses.source, items.source if items is not None else None),
        "n_candidates": n,
        "n_items": k,
        "n_scored_items": n_scored,
        "alpha": _num(base.alpha),
        "thresholds": {
            "too_hard_p": args.too_hard, "too_easy_p": args.too_easy,
            "low_discrimination_r": args.low_r, "distractor_r": args.distractor_r,
        },
        "dif": dif_doc,
        "items": item_docs,
    }))
    plan.message = (
        f"{n} candidates, {k} items ({n_scored} scored): alpha {_fmt(_num(base.alpha))}, "
        f"{int(item_flags.flagged.sum())} items flagged"
    )
    return plan


# ---------------------------------------------------------------------------
# equate
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ScoreCounts:
    """A score file as counts: (K + 1,) or, with an anchor, (K + 1, Kv + 1)."""

    source: SourceFile
    counts: IntArray


def read_scores(
    path: str,
    *,
    score_column: str | None,
    anchor_column: str | None,
    max_score: int | None,
    max_anchor: int | None,
    internal_anchor: bool,
    problems: Problems,
) -> ScoreCounts | None:
    """Read a score file: one row per candidate, or a frequency table with ``count``."""
    before = problems.total
    source = _read_source(path, problems)
    if source is None:
        return None
    records = _records(source, problems)
    head = _header(source, records, problems)
    if head is None:
        return None
    header_line, names = head
    if score_column is None:
        score_column = next((c for c in ("total", "score", "raw") if c in names), "total")
    needed = [score_column] + ([anchor_column] if anchor_column else [])
    missing = [c for c in needed if c not in names]
    for c in missing:
        problems.add(path, header_line, c, "missing column")
    if missing:
        return None
    i_score = names.index(score_column)
    i_anchor = names.index(anchor_column) if anchor_column else None
    i_count = names.index("count") if "count" in names else None
    scores: list[int] = []
    anchors: list[int] = []
    weights: list[int] = []
    for line, row in records:
        if len(row) != len(names):
            problems.add(
                path, line, "row", f"has {len(row)} fields but the header has {len(names)}"
            )
            continue
        values = []
        for column, index, limit in (
            (score_column, i_score, max_score),
            (anchor_column, i_anchor, max_anchor),
            ("count", i_count, None),
        ):
            if index is None:
                continue
            text = row[index].strip()
            if not text.isdigit():
                problems.add(path, line, str(column), f"{text!r} is not a non-negative integer")
                break
            if limit is not None and int(text) > limit:
                problems.add(path, line, str(column), f"{text} exceeds the maximum score {limit}")
                break
            values.append(int(text))
        else:
            if i_anchor is not None and internal_anchor and values[1] > values[0]:
                problems.add(
                    path, line, str(anchor_column),
                    f"anchor score {values[1]} exceeds the total {values[0]}, impossible with "
                    "an internal anchor (use --anchor external if the anchor is not part of "
                    "the total)",
                )
                continue
            scores.append(values[0])
            if i_anchor is not None:
                anchors.append(values[1])
            weights.append(values[-1] if i_count is not None else 1)
    if not scores and problems.total == before:
        problems.add(path, 0, "file", "has a header but no scores")
    if problems.total > before:
        return None
    s = np.array(scores, dtype=np.int64)
    w = np.array(weights, dtype=np.int64)
    k = int(s.max()) if max_score is None else max_score
    if i_anchor is None:
        counts = np.bincount(s, weights=w, minlength=k + 1).astype(np.int64)
    else:
        v = np.array(anchors, dtype=np.int64)
        kv = int(v.max()) if max_anchor is None else max_anchor
        flat = np.bincount(s * (kv + 1) + v, weights=w, minlength=(k + 1) * (kv + 1))
        counts = flat.astype(np.int64).reshape(k + 1, kv + 1)
    if counts.sum() == 0:
        problems.add(path, 0, "count", "no candidates (all counts are 0)")
        return None
    return ScoreCounts(source, counts)


def _equating_function(
    args: argparse.Namespace,
) -> Callable[[npt.ArrayLike, npt.ArrayLike], equating.LinearEquating | FloatArray]:
    method = args.method
    if args.design == "random":
        if method == "mean":
            return equating.mean_equating
        if method == "linear":
            return equating.linear
        return functools.partial(
            equating.equipercentile, presmooth=args.presmooth, postsmooth=args.postsmooth
        )
    w1 = args.w1
    anchor = args.anchor
    table: dict[str, Callable[..., Any]] = {
        "tucker": functools.partial(equating.tucker, w1=w1, anchor=anchor),
        "levine_observed": functools.partial(equating.levine_observed, w1=w1, anchor=anchor),
        "levine_true": functools.partial(equating.levine_true, anchor=anchor),
        "chained_linear": equating.chained_linear,
        "frequency_estimation": functools.partial(equating.frequency_estimation, w1=w1),
        "chained_equipercentile": equating.chained_equipercentile,
    }
    return table[method]


def _equate(args: argparse.Namespace, progress: Progress) -> OutputPlan:
    problems = Problems()
    names = ["equating.csv", "equating.json"]
    if args.base_conversion is not None:
        names += ["conversion.json", "conversion.csv"]
    plan = OutputPlan(args.out, names, force=args.force)
    plan.check(problems)
    methods = RANDOM_METHODS if args.design == "random" else NEAT_METHODS
    if args.method not in methods:
        problems.option(
            "--method",
            f"{args.method!r} is not a {args.design} design method; choose one of "
            + ", ".join(methods),
        )
    neat = args.design == "neat"
    if args.w1 is not None:
        if args.method not in ("tucker", "levine_observed", "frequency_estimation"):
            problems.option("--w1", "only tucker, levine_observed and frequency_estimation use it")
        elif not 0 <= args.w1 <= 1:
            problems.option("--w1", f"must lie in [0, 1], got {args.w1}")
    if args.anchor != "internal" and args.method not in (
        "tucker", "levine_observed", "levine_true"
    ):
        problems.option("--anchor", "only tucker, levine_observed and levine_true use it")
    if (args.presmooth is not None or args.postsmooth is not None) and not (
        args.design == "random" and args.method == "equipercentile"
    ):
        problems.option("--presmooth", "smoothing applies to random-groups equipercentile only")
    if args.presmooth is not None and args.postsmooth is not None:
        problems.option("--postsmooth", "give --presmooth or --postsmooth, not both")
    if args.presmooth is not None and args.presmooth < 1:
        problems.option("--presmooth", f"the log-linear degree must be >= 1, got {args.presmooth}")
    if args.postsmooth is not None and not (
        args.postsmooth >= 0 and math.isfinite(args.postsmooth)
    ):
        problems.option("--postsmooth", f"must be a number >= 0, got {args.postsmooth}")
    if args.se == "delta" and not (
        args.design == "random" and args.method in ("linear", "equipercentile")
        and args.presmooth is None and args.postsmooth is None
    ):
        problems.option(
            "--se", "delta-method standard errors exist for random-groups linear and "
            "unsmoothed equipercentile equating; use --se bootstrap",
        )
    if args.bootstrap < 2:
        problems.option("--bootstrap", f"must be at least 2 replicates, got {args.bootstrap}")
    if not neat and (args.anchor_max is not None):
        problems.option("--anchor-max", "only the neat design has anchor scores")
    for option, value in (("--x-max", args.x_max), ("--y-max", args.y_max),
                          ("--anchor-max", args.anchor_max)):
        if value is not None and value < 1:
            problems.option(option, f"must be a positive integer, got {value}")
    problems.raise_if_any()

    progress.step("reading score files")
    anchor_column = args.anchor_column if neat else None
    internal = args.anchor == "internal"
    x = read_scores(
        args.x, score_column=args.score_column, anchor_column=anchor_column,
        max_score=args.x_max, max_anchor=args.anchor_max, internal_anchor=internal,
        problems=problems,
    )
    y = read_scores(
        args.y, score_column=args.score_column, anchor_column=anchor_column,
        max_score=args.y_max, max_anchor=args.anchor_max, internal_anchor=internal,
        problems=problems,
    )
    base_source: SourceFile | None = None
    base: ConversionTable | None = None
    if args.base_conversion is not None:
        base_source = _read_source(args.base_conversion, problems)
        if base_source is not None:
            try:
                base = ConversionTable.from_json(base_source.text)
            except ValueError as exc:
                problems.add(args.base_conversion, 0, "conversion", str(exc))
    problems.raise_if_any()
    assert x is not None and y is not None
    if neat and x.counts.shape[1] != y.counts.shape[1]:
        problems.add(
            args.y, 0, args.anchor_column,
            f"anchor scores run to {y.counts.shape[1] - 1} here but to "
            f"{x.counts.shape[1] - 1} in {args.x}; give --anchor-max",
        )
    ky = y.counts.shape[0] - 1
    if base is not None and base.n_items != ky:
        problems.add(
            args.base_conversion, 0, "raw",
            f"the base table covers raw scores 0..{base.n_items} but form Y scores run to "
            f"{ky}; the base table must be form Y's (check --y-max)",
        )
    problems.raise_if_any()

    progress.step(f"equating ({args.method})")
    function = _equating_function(args)
    kx = x.counts.shape[0] - 1
    scores = np.arange(kx + 1, dtype=np.float64)
    try:
        result = function(x.counts, y.counts)
    except ValueError as exc:
        problems.add(args.x, 0, args.method, str(exc))
        problems.raise_if_any()
        raise AssertionError("unreachable") from exc
    linear_fn = result if isinstance(result, equating.LinearEquating) else None
    equated = linear_fn(scores) if linear_fn is not None else np.asarray(result, dtype=float)

    se: FloatArray | None = None
    se_doc: dict[str, Any] | None = None
    if args.se == "delta":
        se = (equating.se_linear(x.counts, y.counts) if args.method == "linear"
              else equating.se_equipercentile(x.counts, y.counts))
        se_doc = {"method": "delta"}
    elif args.se == "bootstrap":
        progress.step(f"bootstrap standard errors ({args.bootstrap} replicates)")
        try:
            boot = equating.bootstrap_se(
                function, x.counts, y.counts, n_boot=args.bootstrap, seed=args.seed
            )
        except ValueError as exc:
            problems.add(args.x, 0, "bootstrap", str(exc))
            problems.raise_if_any()
            raise AssertionError("unreachable") from exc
        se = np.asarray(boot.se)
        se_doc = {"method": "bootstrap", "replicates": args.bootstrap, "seed": args.seed}

    fx = x.counts.sum(axis=1) if neat else x.counts
    fy = y.counts.sum(axis=1) if neat else y.counts
    moments = {
        "x": dataclasses.asdict(equating.frequency_moments(fx)),
        "y": dataclasses.asdict(equating.frequency_moments(fy)),
        "equated": dataclasses.asdict(equating.frequency_moments(fx, scores=equated)),
    }
    table: ConversionTable | None = None
    if base is not None:
        try:
            table = equated_conversion(
                equated, base, version=args.table_version,
                metadata={"form": args.form, "base_version": base.version,
                          "equating": f"{args.design}:{args.method}"},
            )
        except ValueError as exc:
            problems.add(args.base_conversion, 0, "conversion", str(exc))
            problems.raise_if_any()

    progress.step("writing")
    header = ["x", "frequency", "equated"] + (["se"] if se is not None else [])
    columns: list[npt.NDArray[Any]] = [np.arange(kx + 1), fx, equated]
    if se is not None:
        columns.append(se)
    plan.add("equating.csv", _csv_columns(header, columns))
    document: dict[str, Any] = {
        "format": "scoring.Equating",
        "format_version": OUTPUT_FORMAT_VERSION,
        "generator": _generator(),
        "inputs": _inputs(x.source, y.source, base_source),
        "design": args.design,
        "method": args.method,
        "anchor": args.anchor if neat else None,
        "w1": _num(
            (args.w1 if args.w1 is not None else x.counts.sum() / (x.counts.sum() + y.counts.sum()))
            if args.method in ("tucker", "levine_observed", "frequency_estimation") else None
        ),
        "presmooth": args.presmooth,
        "postsmooth": args.postsmooth,
        "x_max": kx,
        "y_max": ky,
        "anchor_max": int(x.counts.shape[1] - 1) if neat else None,
        "n_x": int(x.counts.sum()),
        "n_y": int(y.counts.sum()),
        "slope": linear_fn.slope if linear_fn is not None else None,
        "intercept": linear_fn.intercept if linear_fn is not None else None,
        "moments": {
            which: {name: _num(v) for name, v in m.items()} for which, m in moments.items()
        },
        "scores": list(range(kx + 1)),
        "equated": _json_list(equated),
        "se": _json_list(se) if se is not None else None,
        "standard_errors": se_doc,
    }
    plan.add("equating.json", _json_text(document))
    if table is not None:
        plan.add("conversion.json", table.to_json() + "\n")
        plan.add("conversion.csv", _csv_columns(
            ["raw", "unrounded", "scaled", "result"],
            [table.raw, table.unrounded, table.scaled,
             np.where(table.passed(table.raw), "pass", "fail")],
        ))
    summary = (
        f"slope {linear_fn.slope:.4f}, intercept {linear_fn.intercept:.4f}"
        if linear_fn is not None else
        f"equated mean {moments['equated']['mean']:.4f}, SD {moments['equated']['sd']:.4f}"
    )
    plan.message = f"{args.design} {args.method}: {summary}"
    return plan


# ---------------------------------------------------------------------------
# calibrate
# ---------------------------------------------------------------------------


def _calibrate(args: argparse.Namespace, progress: Progress) -> OutputPlan:
    problems = Problems()
    names = ["difficulties.csv", "calibration.json"]
    if args.abilities is not None:
        names.append("abilities.csv")
    plan = OutputPlan(args.out, names, force=args.force)
    plan.check(problems)
    if args.estimate_discrimination and args.method != "mml":
        problems.option("--estimate-discrimination", "needs --method mml")
    if args.quadrature < 2:
        problems.option("--quadrature", f"must be at least 2, got {args.quadrature}")
    items, responses = _read_items_and_responses(args, problems, progress)
    codes = responses.codes
    n, k = codes.shape
    if k < 2:
        problems.add(responses.path, 1, "header", "calibration needs at least 2 items")
    if n < 2:
        problems.add(responses.path, 0, "file", "calibration needs at least 2 candidates")
    answered = codes >= 0
    n_answered = answered.sum(axis=0)
    n_right = (codes == 1).sum(axis=0)
    for j, item_id in enumerate(responses.item_ids):
        if n_answered[j] == 0:
            problems.add(responses.path, 1, item_id, "nobody answered this item")
        elif n_right[j] in (0, n_answered[j]):
            which = "right" if n_right[j] else "wrong"
            problems.add(
                responses.path, 1, item_id,
                f"every candidate who answered this item got it {which}; its Rasch "
                "difficulty is not finite (leave the item out)",
            )
    problems.raise_if_any()

    progress.step(f"fitting the Rasch model ({args.method.upper()})")
    try:
        fit = irt.fit_rasch(
            codes, method=args.method,
            discrimination=None if args.estimate_discrimination else 1.0,
            n_quadrature=args.quadrature,
        )
    except ValueError as exc:
        problems.add(
            responses.path, 0, "calibration",
            f"{exc} (items are numbered from 0 in the order {', '.join(responses.item_ids[:10])}"
            + (", ..." if k > 10 else "") + ")",
        )
        problems.raise_if_any()
        raise AssertionError("unreachable") from exc
    parameters = irt.ItemParameters.create(
        b=fit.difficulty, a=np.full(k, fit.discrimination), D=1.0
    )
    progress.step("abilities and fit statistics")
    usable = answered.any(axis=1)
    theta = np.full(n, np.nan)
    theta_se = np.full(n, np.nan)
    extreme = np.zeros(n, dtype=bool)
    method = args.abilities or "wle"
    persons = irt.estimate_abilities(codes[usable], parameters, method=method)
    theta[usable], theta_se[usable], extreme[usable] = persons.theta, persons.se, persons.extreme
    wle = persons if method == "wle" else irt.estimate_abilities(codes[usable], parameters)
    fit_stats = irt.fit_statistics(codes[usable], parameters, wle.theta)

    progress.step("writing")
    p_answered = n_right / np.maximum(n_answered, 1)
    header = [
        "item_id", "difficulty", "se", "n_answered", "p", "infit", "outfit", "infit_t",
        "outfit_t",
    ]
    columns: list[npt.ArrayLike] = [
        np.array(responses.item_ids), fit.difficulty, fit.difficulty_se, n_answered,
        p_answered, fit_stats.item_infit, fit_stats.item_outfit, fit_stats.item_infit_t,
        fit_stats.item_outfit_t,
    ]
    plan.add("difficulties.csv", _csv_columns(header, columns))
    plan.add("calibration.json", _json_text({
        "format": "scoring.RaschCalibration",
        "format_version": OUTPUT_FORMAT_VERSION,
        "generator": _generator(),
        "inputs": _inputs(responses.source, items.source if items is not None else None),
        "method": fit.method,
        "discrimination": _num(fit.discrimination),
        "discrimination_se": _num(fit.discrimination_se),
        "discrimination_estimated": bool(args.estimate_discrimination),
        "loglik": _num(fit.loglik),
        "converged": bool(fit.converged),
        "n_iterations": int(fit.n_iterations),
        "n_candidates": n,
        "n_candidates_used": int(fit.n_candidates_used),
        "correction": _num(fit.correction),
        "quadrature_points": args.quadrature if args.method == "mml" else None,
        "abilities": method if args.abilities is not None else None,
        "items": [
            {
                "item_id": item_id,
                "difficulty": _num(fit.difficulty[j]),
                "se": _num(fit.difficulty_se[j]),
                "n_answered": int(n_answered[j]),
                "infit": _num(fit_stats.item_infit[j]),
                "outfit": _num(fit_stats.item_outfit[j]),
            }
            for j, item_id in enumerate(responses.item_ids)
        ],
    }))
    if args.abilities is not None:
        raw = (codes == 1).sum(axis=1)
        plan.add("abilities.csv", _csv_columns(
            ["candidate_id", "raw", "answered", "theta", "se", "extreme"],
            [responses.candidate_ids, raw, answered.sum(axis=1), theta, theta_se, extreme],
        ))
    plan.message = (
        f"Rasch {fit.method.upper()} on {n} candidates x {k} items: log-likelihood "
        f"{fit.loglik:.3f}, {'converged' if fit.converged else 'NOT converged'} in "
        f"{fit.n_iterations} iterations"
    )
    return plan


# ---------------------------------------------------------------------------
# Parser and entry point
# ---------------------------------------------------------------------------


def _add_common(parser: argparse.ArgumentParser, *, items_required: bool) -> None:
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


def _add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--force", action="store_true", help="replace existing output files")
    progress = parser.add_mutually_exclusive_group()
    progress.add_argument(
        "--progress", dest="progress", action="store_true", default=None,
        help="show progress on stderr (default: only when stderr is a terminal)",
    )
    progress.add_argument(
        "--no-progress", dest="progress", action="store_false", help="never show progress"
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m scoring`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m scoring",
        description="Score exams, analyse items, equate forms and calibrate Rasch "
        "difficulties from CSV files. Input problems are reported as "
        "file:line: field: message (exit status 2, nothing written). See docs/scoring.md.",
    )
    parser.add_argument("--version", action="version", version=_generator())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    score = sub.add_parser(
        "score", help="raw, percent, domain, scaled scores, pass/fail and percentile ranks",
        description="Score every candidate: raw and percent scores, domain scores and "
        "bands, scaled scores, pass/fail and percentile ranks, with the conversion table.",
    )
    _add_common(score, items_required=True)
    cut = score.add_argument_group("conversion to the reporting scale (give exactly one)")
    cut.add_argument("--cut-raw", type=float, metavar="X",
                     help="raw cut score (may be fractional): linear conversion")
    cut.add_argument("--cut-theta", type=float, metavar="THETA",
                     help="cut on the Rasch ability scale: conversion from the banked "
                     "difficulties (difficulty column)")
    cut.add_argument("--conversion", metavar="JSON",
                     help="an existing conversion table (e.g. from `equate --base-conversion`)")
    scale = score.add_argument_group("reporting scale (with --cut-raw or --cut-theta)")
    scale.add_argument("--scale-min", type=float, metavar="S", help="lowest score, e.g. 200")
    scale.add_argument("--scale-max", type=float, metavar="S", help="highest score, e.g. 800")
    scale.add_argument("--passing", type=float, metavar="S", help="passing score, e.g. 500")
    scale.add_argument("--increment", type=float, default=1.0, metavar="H",
                       help="rounding increment of reported scores (default 1)")
    score.add_argument("--form", default=None, help="form code stored in the table's metadata")
    score.add_argument("--table-version", default="1", metavar="V",
                       help="version identifier of the conversion table (default 1)")
    score.add_argument("--norm-freq", metavar="CSV",
                       help="norm group score,count table for percentile ranks (default: "
                       "the candidates in this file)")
    score.add_argument("--norm-definition", metavar="TEXT",
                       help="description of the norm group, reported with the ranks")
    score.add_argument("--band-z", type=float, default=1.0, metavar="Z",
                       help="half-width of the 'near' domain band in CSEMs (default 1)")
    score.add_argument("--min-domain-items", type=int, default=5, metavar="N",
                       help="domains with fewer scored items get no band (default 5)")
    _add_output(score)
    score.set_defaults(handler=_score)

    items = sub.add_parser(
        "items", help="item analysis: p, point-biserials, distractors, flags, DIF",
        description="Classical item analysis of every item (pretest items against the "
        "scored total), distractor analysis for option choices, review flags and optional "
        "Mantel-Haenszel DIF.",
    )
    _add_common(items, items_required=False)
    items.add_argument("--group-column", metavar="NAME", help="DIF: group column of the responses")
    items.add_argument("--reference", metavar="LABEL", help="DIF: reference group label")
    items.add_argument("--focal", metavar="LABEL", help="DIF: focal group label")
    items.add_argument("--purify", action="store_true", help="DIF: two-stage purification")
    items.add_argument("--dif-alpha", type=float, default=0.05,
                       help="DIF: significance level of the ETS rules (default 0.05)")
    items.add_argument("--too-hard", type=float, default=0.30, metavar="P",
                       help="flag p below this (default 0.30)")
    items.add_argument("--too-easy", type=float, default=0.95, metavar="P",
                       help="flag p above this (default 0.95)")
    items.add_argument("--low-r", type=float, default=0.15, metavar="R",
                       help="flag a corrected point-biserial below this (default 0.15)")
    items.add_argument("--distractor-r", type=float, default=0.0, metavar="R",
                       help="flag a distractor whose option-rest correlation exceeds this "
                       "(default 0)")
    _add_output(items)
    items.set_defaults(handler=_items)

    eq = sub.add_parser(
        "equate", help="equate form X to form Y (random groups or NEAT)",
        description="Equate form X to form Y from two score files and write the "
        "equating function; with --base-conversion also form X's conversion table.",
    )
    eq.add_argument("--design", choices=("random", "neat"), required=True,
                    help="random groups, or common-item nonequivalent groups (anchor scores)")
    eq.add_argument("--method", required=True,
                    help="random: " + ", ".join(RANDOM_METHODS) + "; neat: "
                    + ", ".join(NEAT_METHODS))
    eq.add_argument("--x", required=True, metavar="CSV", help="form X scores (new form)")
    eq.add_argument("--y", required=True, metavar="CSV", help="form Y scores (base form)")
    eq.add_argument("--score-column", metavar="NAME",
                    help="total score column (default: total, score or raw, the first present)")
    eq.add_argument("--anchor-column", default="anchor", metavar="NAME",
                    help="anchor score column, neat design (default anchor)")
    eq.add_argument("--x-max", type=int, metavar="K", help="maximum score of form X")
    eq.add_argument("--y-max", type=int, metavar="K", help="maximum score of form Y")
    eq.add_argument("--anchor-max", type=int, metavar="K", help="maximum anchor score")
    eq.add_argument("--anchor", choices=("internal", "external"), default="internal",
                    help="whether the anchor items count in the total (default internal)")
    eq.add_argument("--w1", type=float, metavar="W",
                    help="weight of population P (form X) in the synthetic population "
                    "(default: proportional to the sample sizes)")
    eq.add_argument("--presmooth", type=int, metavar="C",
                    help="log-linear presmoothing degree (random equipercentile)")
    eq.add_argument("--postsmooth", type=float, metavar="S",
                    help="cubic-spline postsmoothing parameter (random equipercentile)")
    eq.add_argument("--se", choices=("none", "delta", "bootstrap"), default="none",
                    help="standard errors of equating (default none)")
    eq.add_argument("--bootstrap", type=int, default=500, metavar="N",
                    help="bootstrap replicates with --se bootstrap (default 500)")
    eq.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    eq.add_argument("--base-conversion", metavar="JSON",
                    help="form Y's conversion table: also write form X's table")
    eq.add_argument("--form", default=None, help="form code stored in the new table's metadata")
    eq.add_argument("--table-version", default="1", metavar="V",
                    help="version identifier of the new conversion table (default 1)")
    _add_output(eq)
    eq.set_defaults(handler=_equate)

    cal = sub.add_parser(
        "calibrate", help="Rasch item difficulties (CML, MML or JML) with infit/outfit",
        description="Estimate Rasch item difficulties; not-answered responses are missing, "
        "not wrong.",
    )
    _add_common(cal, items_required=False)
    cal.add_argument("--method", choices=("cml", "mml", "jml"), default="cml",
                     help="conditional, marginal or joint maximum likelihood (default cml)")
    cal.add_argument("--estimate-discrimination", action="store_true",
                     help="MML: estimate one common discrimination instead of fixing it at 1")
    cal.add_argument("--quadrature", type=int, default=21, metavar="N",
                     help="MML: Gauss-Hermite points (default 21)")
    cal.add_argument("--abilities", choices=("wle", "mle", "eap"),
                     help="also write abilities.csv with this estimator")
    _add_output(cal)
    cal.set_defaults(handler=_calibrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 write failure, 2 bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors (argparse exits with 2)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_INPUT
    stderr = sys.stderr
    is_tty = bool(getattr(stderr, "isatty", lambda: False)())
    enabled = is_tty if args.progress is None else bool(args.progress)
    steps = {"score": 4, "items": 6, "equate": 4, "calibrate": 5}[args.command]
    try:
        with Progress(
            f"scoring {args.command}", steps, enabled=enabled, stream=stderr, redraw=is_tty
        ) as progress:
            plan = args.handler(args, progress)
            written = plan.write()
    except InputError as exc:
        for problem in exc.problems:
            print(problem, file=stderr)
        if exc.total > len(exc.problems):
            print(f"... and {exc.total - len(exc.problems)} more problems", file=stderr)
        print(
            f"python -m scoring {args.command}: {exc.total} input problem"
            f"{'' if exc.total == 1 else 's'}; nothing was written",
            file=stderr,
        )
        return EXIT_INPUT
    except ValueError as exc:
        # The library validates what it is given and names the problem; the inputs were
        # checked line by line already, so this is a property of the data as a whole
        # (e.g. a total score with zero variance).
        source = getattr(args, "responses", None) or getattr(args, "x", "input")
        print(f"{source}:0: {args.command}: {exc}", file=stderr)
        print(f"python -m scoring {args.command}: nothing was written", file=stderr)
        return EXIT_INPUT
    except OSError as exc:
        print(f"{exc.filename or args.out}:0: file: cannot write: {exc.strerror or exc}",
              file=stderr)
        return EXIT_WRITE_FAILED
    print(plan.message)
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK
