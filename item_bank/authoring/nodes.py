"""Reading YAML through PyYAML's composed nodes, so every value keeps its line number.

``yaml.compose`` gives the node tree before construction: each node carries a start mark
(0-based line). :class:`Fields` reads one mapping of it, reports unknown, duplicate and
missing fields, converts values, and records each problem as ``path:line: field: message``.
"""

from __future__ import annotations

import difflib
import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

E = TypeVar("E", bound=enum.Enum)

_NULL_TAG = "tag:yaml.org,2002:null"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in one file; ``str()`` gives ``path:line: field: message``."""

    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.message}"


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


def kind_of(node: Node) -> str:
    if is_null(node):
        return "empty"
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    return "text"


def is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL_TAG


class Report:
    """The problems of one file, in the order found."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.problems: list[Problem] = []

    def add(self, where: Node | int, field: str, message: str) -> None:
        line = where if isinstance(where, int) else line_of(where)
        self.problems.append(Problem(self.display, line, field, message))

    def __len__(self) -> int:
        return len(self.problems)


def compose(text: str, report: Report) -> Node | None:
    """The document's root node, or None (and a problem) for a syntax error or no document."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 1
        message = " ".join(str(part) for part in (err.context, err.problem) if part)
        report.add(line, "yaml", message or "not valid YAML")
        return None
    except yaml.YAMLError as err:  # pragma: no cover - every PyYAML parse error is marked
        report.add(1, "yaml", str(err))
        return None
    if node is None or is_null(node):
        report.add(1, "file", "empty file")
        return None
    return node


def _suggest(name: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(allowed), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class Fields:
    """One YAML mapping, read field by field; problems go to ``report``.

    ``prefix`` is this mapping's place in the file (``questions[2].``), so that a problem
    names the full field path. ``allowed=None`` accepts any field name (the caller checks).
    """

    def __init__(self, report: Report, node: MappingNode, prefix: str,
                 allowed: Sequence[str] | None) -> None:
        self.report = report
        self.node = node
        self.prefix = prefix
        self.values: dict[str, Node] = {}
        self.keys: dict[str, Node] = {}
        first_line: dict[str, int] = {}
        for key, value in node.value:
            if not isinstance(key, ScalarNode) or is_null(key):
                report.add(key, self.where(), "a field name must be text")
                continue
            name = str(key.value)
            if name in first_line:
                report.add(key, self.field(name),
                           f"duplicate field (first given on line {first_line[name]})")
            elif allowed is not None and name not in allowed:
                report.add(key, self.field(name),
                           f"unknown field {name!r}{_suggest(name, allowed)}")
            else:
                self.values[name] = value
                self.keys[name] = key
            first_line.setdefault(name, line_of(key))

    @property
    def line(self) -> int:
        return line_of(self.node)

    def where(self) -> str:
        return self.prefix.rstrip(".") or "file"

    def field(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def has(self, name: str) -> bool:
        return name in self.values and not is_null(self.values[name])

    def get(self, name: str) -> Node | None:
        node = self.values.get(name)
        return None if node is None or is_null(node) else node

    def missing(self, name: str, message: str | None = None) -> None:
        self.report.add(self.line, self.field(name),
                        message or f"missing {name.replace('-', ' ')}")

    def wrong(self, name: str, node: Node, message: str) -> None:
        # A list or mapping value starts on the line below its key: name the key's line.
        where = (self.keys[name] if not isinstance(node, ScalarNode) and name in self.keys
                 else node)
        self.report.add(where, self.field(name), message)

    # --- typed values --------------------------------------------------------------------

    def text(self, name: str, *, required: bool = True, label: str | None = None
             ) -> str | None:
        """A text value, taken as written (``No`` stays "No", ``1.0`` stays "1.0")."""
        node = self.get(name)
        if node is None:
            if required:
                self.missing(name, f"missing {label}" if label else None)
            return None
        if not isinstance(node, ScalarNode):
            self.wrong(name, node, f"must be text, not {kind_of(node)}")
            return None
        value = str(node.value).strip()
        if not value:
            self.wrong(name, node, "is empty")
            return None
        return value

    def integer(self, name: str, *, minimum: int, message: str) -> int | None:
        node = self.get(name)
        if node is None:
            self.missing(name)
            return None
        if (isinstance(node, ScalarNode) and node.tag == _INT_TAG
                and node.style is None):
            value = int(_construct(node))
            if value >= minimum:
                return value
        self.wrong(name, node, message.format(value=_shown(node)))
        return None

    def number(self, name: str, *, low: float, high: float, message: str) -> float | None:
        """An optional finite number in [low, high] (an int is taken as a float)."""
        node = self.get(name)
        if node is None:
            return None
        if (isinstance(node, ScalarNode) and node.tag in (_INT_TAG, _FLOAT_TAG)
                and node.style is None):
            value = float(_construct(node))
            if math.isfinite(value) and low <= value <= high:
                return value
        self.wrong(name, node, message.format(value=_shown(node)))
        return None

    def choice(self, name: str, values: type[E], *, required: bool = True) -> E | None:
        node = self.get(name)
        if node is None:
            if required:
                self.missing(name)
            return None
        allowed = [str(v.value) for v in values]
        if isinstance(node, ScalarNode) and str(node.value) in allowed:
            return values(node.value)
        self.wrong(name, node,
                   f"unknown value {_shown(node)}; expected one of {', '.join(allowed)}")
        return None

    def mapping(self, name: str, allowed: Sequence[str], *, prefix: str | None = None
                ) -> Fields | None:
        node = self.get(name)
        if node is None:
            return None
        if not isinstance(node, MappingNode):
            self.wrong(name, node, f"must be a mapping, not {kind_of(node)}")
            return None
        return Fields(self.report, node, prefix if prefix is not None
                      else f"{self.field(name)}.", allowed)

    def sequence(self, name: str) -> list[Node] | None:
        """A list value (None if absent, and a problem if not a list)."""
        node = self.get(name)
        if node is None:
            return None
        if not isinstance(node, SequenceNode):
            self.wrong(name, node, f"must be a list, not {kind_of(node)}")
            return None
        return list(node.value)

    def text_list(self, name: str) -> tuple[str, ...] | None:
        """A list of non-empty texts (None if absent)."""
        nodes = self.sequence(name)
        if nodes is None:
            return None
        out = []
        for index, node in enumerate(nodes, start=1):
            field = f"{self.field(name)}[{index}]"
            if not isinstance(node, ScalarNode) or is_null(node):
                self.report.add(node, field, f"must be text, not {kind_of(node)}"
                                if not is_null(node) else "is empty")
            elif not str(node.value).strip():
                self.report.add(node, field, "is empty")
            else:
                out.append(str(node.value).strip())
        return tuple(out)


def _construct(node: ScalarNode) -> object:
    """The value of one resolved scalar (int, float) as PyYAML's safe loader builds it."""
    return yaml.SafeLoader("").construct_object(node)


def _shown(node: Node) -> str:
    if isinstance(node, ScalarNode):
        return repr(str(node.value))
    return kind_of(node)
