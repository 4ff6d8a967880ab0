"""Input problems, collected so that one run reports all of them, not just the first."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, NoReturn

__all__ = ["COMMAND_LINE", "MAX_REPORTED", "InputError", "Problem", "Problems"]

MAX_REPORTED: Final = 50
"""At most this many problems are printed; the rest are counted."""

COMMAND_LINE: Final = "command line"
"""The ``source`` of a problem with a command-line option."""


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

    def fail(self, source: str, line: int | None, field: str, message: str) -> NoReturn:
        """Add a problem that stops the command here, and raise with all problems so far."""
        self.add(source, line, field, message)
        raise InputError(self._items, self.total)

    def fail_option(self, option: str, message: str) -> NoReturn:
        """`fail` for a command-line option."""
        self.fail(COMMAND_LINE, None, option, message)
