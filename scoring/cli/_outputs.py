"""Writing the output files: deterministic CSV and JSON text, written all or nothing.

The same inputs and options give byte-identical files: floats are written as their
shortest round-trip text, JSON keys keep their order, and nothing records the time of
the run (the JSON documents name their inputs by path and SHA-256 instead).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
from collections.abc import Iterator, Sequence
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from scoring.cli._problems import Problems
from scoring.cli._sources import SourceFile
from scoring.scaling import ConversionTable

__all__ = [
    "OUTPUT_FORMAT_VERSION",
    "OutputPlan",
    "add_output_arguments",
    "conversion_columns",
    "csv_cell",
    "csv_columns",
    "csv_rows",
    "generator",
    "json_document",
    "json_list",
    "json_text",
    "json_value",
    "pass_fail",
    "statistic_text",
]

OUTPUT_FORMAT_VERSION: Final = 1
"""Version of the JSON layouts written by this command line (``format_version``)."""


def json_value(value: Any) -> Any:
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


def _float_text(v: float) -> str:
    """Shortest round-trip text of a finite float; integral values without '.0'."""
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def csv_cell(value: Any) -> str:
    """A CSV cell: shortest round-trip float text, integral floats without '.0'.

    Examples
    --------
    >>> csv_cell(500.0), csv_cell(0.1), csv_cell(float("nan")), csv_cell(3), csv_cell(None)
    ('500', '0.1', '', '3', '')
    """
    v = json_value(value)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float):
        return _float_text(v)
    return str(v)


def json_list(values: npt.ArrayLike | Sequence[Any]) -> list[Any]:
    """A JSON list of `json_value` values."""
    return [json_value(v) for v in np.asarray(values).tolist()]


def statistic_text(value: float | None) -> str:
    """A statistic for the one-line summary on stdout: 4 decimals, or n/a."""
    return "n/a" if value is None else f"{value:.4f}"


def pass_fail(passed: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """The result column: "pass" or "fail"."""
    return np.where(passed, "pass", "fail")


def csv_rows(
    header: Sequence[str], rows: Iterator[Sequence[Any]] | Sequence[Sequence[Any]]
) -> str:
    """A CSV file from rows of values."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return buffer.getvalue()


def _column_text(values: npt.ArrayLike | Sequence[Any]) -> list[str]:
    """One CSV column as text, formatted column-wise (fast for 100,000 rows)."""
    array = np.asarray(values)
    if array.dtype.kind == "b":
        return ["1" if v else "0" for v in array.tolist()]
    if array.dtype.kind in "iu":
        return [str(v) for v in array.tolist()]
    if array.dtype.kind == "f":
        return [_float_text(v) if math.isfinite(v) else "" for v in array.tolist()]
    if array.dtype.kind == "U":
        return array.tolist()
    return [csv_cell(v) for v in (values if not isinstance(values, np.ndarray) else array.tolist())]


def csv_columns(header: Sequence[str], columns: Sequence[npt.ArrayLike | Sequence[Any]]) -> str:
    """A CSV file from columns of equal length."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(zip(*(_column_text(c) for c in columns), strict=True))
    return buffer.getvalue()


def conversion_columns(table: ConversionTable) -> tuple[list[str], list[npt.NDArray[Any]]]:
    """Header and columns of a conversion table's CSV: raw, unrounded, scaled, result."""
    return (
        ["raw", "unrounded", "scaled", "result"],
        [table.raw, table.unrounded, table.scaled, pass_fail(table.passed(table.raw))],
    )


def json_text(document: dict[str, Any], *, one_per_line: str | None = None) -> str:
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


def generator() -> str:
    """What wrote the files: the platform's name and version."""
    try:
        return f"exam-platform {importlib_metadata.version('exam-platform')} scoring"
    except importlib_metadata.PackageNotFoundError:
        return "exam-platform scoring"


def json_document(
    kind: str, inputs: Sequence[SourceFile | None], body: dict[str, Any]
) -> dict[str, Any]:
    """A JSON output: its format and version, the generator and the inputs, then `body`."""
    return {
        "format": f"scoring.{kind}",
        "format_version": OUTPUT_FORMAT_VERSION,
        "generator": generator(),
        "inputs": [{"path": s.path, "sha256": s.sha256} for s in inputs if s is not None],
        **body,
    }


class OutputPlan:
    """The files a command will write, checked before anything is computed or written."""

    def __init__(self, directory: str, names: Sequence[str], *, force: bool) -> None:
        self.directory = Path(directory)
        self.names = list(names)
        self.force = force
        self.contents: dict[str, str] = {}
        self.message = ""

    @classmethod
    def from_arguments(
        cls, args: argparse.Namespace, names: Sequence[str], problems: Problems
    ) -> OutputPlan:
        """The plan for ``--out`` and ``--force`` (`add_output_arguments`), checked."""
        plan = cls(args.out, names, force=args.force)
        plan.check(problems)
        return plan

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


def add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """--out, --force and the progress display."""
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
