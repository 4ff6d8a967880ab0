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

Layout: one module per command (`score`, `items`, `equate`, `calibrate`: its options
and its ``run``), and private modules for what they share: `_problems` (the collected
``file:line: field: message`` problems), `_sources` and `_csv` (reading input files),
`_item_metadata` and `_responses` (the item and responses CSVs), `_outputs`
(deterministic CSV/JSON text written all or nothing) and `_progress` (the progress
display).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Final

from scoring.cli import calibrate, equate, items, score
from scoring.cli._csv import option_labels
from scoring.cli._outputs import csv_cell, generator
from scoring.cli._problems import InputError, Problem
from scoring.cli._progress import Progress

__all__ = ["InputError", "Problem", "Progress", "build_parser", "main"]

EXIT_OK: Final = 0
EXIT_WRITE_FAILED: Final = 1
EXIT_INPUT: Final = 2

# doctest.testmod(scoring.cli) collects only what this module defines: the examples
# of the private modules are listed here, so that it runs them too.
__test__ = {"Problem": Problem, "option_labels": option_labels, "csv_cell": csv_cell}


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m scoring`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="python -m scoring",
        description="Score exams, analyse items, equate forms and calibrate Rasch "
        "difficulties from CSV files. Input problems are reported as "
        "file:line: field: message (exit status 2, nothing written). See docs/scoring.md.",
    )
    parser.add_argument("--version", action="version", version=generator())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in (score, items, equate, calibrate):
        command.add_parser(sub)
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
    try:
        with Progress(
            f"scoring {args.command}", args.n_steps, enabled=enabled, stream=stderr,
            redraw=is_tty,
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
