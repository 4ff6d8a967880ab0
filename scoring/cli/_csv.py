"""Reading CSV inputs: records with their line numbers, the header, checked rows.

Line numbers are those of the file: line 1 is the header row, and a record that
spans several lines (a quoted newline) is reported at its first line.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scoring.cli._problems import Problems
from scoring.cli._sources import SourceFile, read_source

__all__ = [
    "CsvFile",
    "finite_float",
    "open_csv",
    "option_labels",
    "strip_cells",
    "wrong_length",
]

Record = tuple[int, list[str]]
"""(first line, fields) of one CSV record."""


@dataclass(frozen=True, eq=False)
class CsvFile:
    """A CSV input with a valid header; `records` yields the rows after it, once."""

    source: SourceFile
    header_line: int
    names: tuple[str, ...]
    records: Iterator[Record]

    @property
    def path(self) -> str:
        return self.source.path

    def rows(self, problems: Problems) -> Iterator[Record]:
        """The records with one field per column; each other record is a problem."""
        for line, row in self.records:
            if len(row) != len(self.names):
                problems.add(self.path, line, "row", wrong_length(len(row), len(self.names)))
                continue
            yield line, row


def wrong_length(n_fields: int, n_columns: int) -> str:
    """The problem with a record whose length differs from the header's."""
    return f"has {n_fields} fields but the header has {n_columns}"


def open_csv(path: str, problems: Problems) -> CsvFile | None:
    """Read `path` and its header; None, with the problems added, if either fails."""
    source = read_source(path, problems)
    if source is None:
        return None
    records = _records(source, problems)
    head = _header(source, records, problems)
    if head is None:
        return None
    return CsvFile(source, *head, records)


def _records(source: SourceFile, problems: Problems) -> Iterator[Record]:
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
    source: SourceFile, records: Iterator[Record], problems: Problems
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


def option_labels(text: str) -> tuple[str, ...] | str:
    """Option labels written as "ABCD" (one character each) or "A|B|C|D".

    Returns the labels, or an error message.

    Examples
    --------
    >>> option_labels("ABCD"), option_labels("A|C"), option_labels("A|B|A")
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


def strip_cells(table: npt.NDArray[np.str_]) -> npt.NDArray[np.str_]:
    """Strip surrounding whitespace from every cell (numpy 2 ufunc when available)."""
    strings = getattr(np, "strings", None)
    if strings is not None and hasattr(strings, "strip"):
        return strings.strip(table)
    return np.char.strip(table)


def finite_float(text: str) -> float | None:
    """The finite number written in `text`, or None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None
