"""A programme's test blueprint as data: what every form of the programme must contain.

A blueprint is read from a YAML file (``item_bank/blueprints/<programme>.yaml``; the format
is in docs/assembly.md) by :func:`load_blueprint`, which reports every problem as
``path:line: field: message`` in one :class:`BlueprintError`. It can also be built in code;
:class:`Blueprint` checks the same rules and raises ``ValueError``.

Percentages become whole numbers of items by the largest-remainder rule (:func:`apportion`),
so that a blueprint and its scored length always give the same counts.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from item_bank.model import QuestionType

K = TypeVar("K", bound=Hashable)

HUNDRED = Fraction(100)
QUESTION_TYPES = tuple(t.value for t in QuestionType)
THETA_LIMIT = 6.0  # logits: a cut or target point beyond this is a typing mistake
BLUEPRINT_DIR = Path(__file__).resolve().parent / "blueprints"


def apportion(total: int, weights: Sequence[tuple[K, Fraction]]) -> dict[K, int]:
    """Split ``total`` items by ``weights`` into whole counts (largest-remainder rule).

    Each key's exact quota is ``total * w / sum(w)``. Every key first gets the whole part of
    its quota; the items left over (fewer than the number of keys) go one each to the keys
    with the largest fractional parts. Ties go to the larger weight, then to the key listed
    first. The counts add up to ``total`` and each is its quota rounded down or up
    (Hamilton's method; Balinski & Young, *Fair Representation*, 2001).

    Examples
    --------
    >>> apportion(30, [("a", Fraction(24)), ("b", Fraction(22)), ("c", Fraction(20)),
    ...                ("d", Fraction(14)), ("e", Fraction(20))])
    {'a': 7, 'b': 7, 'c': 6, 'd': 4, 'e': 6}
    """
    if total < 0:
        raise ValueError(f"total must be 0 or more, got {total}")
    if not weights:
        raise ValueError("weights must not be empty")
    if any(w < 0 for _, w in weights):
        raise ValueError(f"weights must be 0 or more, got {[str(w) for _, w in weights]}")
    whole = sum((w for _, w in weights), Fraction(0))
    if whole == 0:
        raise ValueError("weights must not all be 0")
    quotas = [(key, Fraction(total) * w / whole, w) for key, w in weights]
    counts = {key: math.floor(q) for key, q, _ in quotas}
    left = total - sum(counts.values())
    # Exact fractions: no float rounding decides who gets a leftover item.
    ranked = sorted(range(len(quotas)),
                    key=lambda i: (-(quotas[i][1] - math.floor(quotas[i][1])), -quotas[i][2], i))
    for i in ranked[:left]:
        counts[quotas[i][0]] += 1
    return counts


@dataclass(frozen=True)
class DomainWeight:
    """A content domain's share of the scored items, in percent."""

    domain: str
    percent: Fraction


@dataclass(frozen=True)
class TypeShare:
    """A question type's share of the scored items, in percent, plus or minus a tolerance."""

    type: str
    percent: Fraction
    tolerance: Fraction  # percentage points either side


@dataclass(frozen=True)
class InformationTarget:
    """Target test information of the scored items at points around the cut.

    ``target[k]`` is the Rasch test information (sum of ``P(1 - P)``) wanted at
    ``cut + offsets[k]``. A deviation up to ``tolerance`` counts as on target: assembly stops
    improving there.
    """

    cut: float
    offsets: tuple[float, ...]
    target: tuple[float, ...]
    tolerance: float

    @property
    def thetas(self) -> tuple[float, ...]:
        return tuple(self.cut + o for o in self.offsets)


@dataclass(frozen=True)
class Blueprint:
    """What every form of a programme contains (see docs/assembly.md).

    ``anchor_size`` is the number of scored items common to every form assembled together
    (and to the base form), split over the domains by the domain weights.
    """

    programme: str
    scored: int
    pretest: int
    duration_minutes: int
    domains: tuple[DomainWeight, ...]
    question_types: tuple[TypeShare, ...]
    anchor_size: int
    information: InformationTarget
    source: str = "<blueprint>"  # the file it was read from, for messages

    def __post_init__(self) -> None:
        problems = _field_problems(self) or _consistency_problems(self)
        if problems:
            raise ValueError(f"blueprint {self.source}: "
                             + "; ".join(f"{f}: {m}" for f, m in problems))

    @property
    def length(self) -> int:
        """Items on a form: scored plus pretest."""
        return self.scored + self.pretest

    @property
    def domain_codes(self) -> tuple[str, ...]:
        return tuple(d.domain for d in self.domains)

    def domain_counts(self) -> dict[str, int]:
        """Scored items per domain on every form (largest remainder of the weights)."""
        return apportion(self.scored, [(d.domain, d.percent) for d in self.domains])

    def anchor_counts(self, size: int | None = None) -> dict[str, int]:
        """Anchor items per domain for an anchor of ``size`` (default: ``anchor_size``)."""
        size = self.anchor_size if size is None else size
        return apportion(size, [(d.domain, d.percent) for d in self.domains])

    def type_bounds(self) -> dict[str, tuple[int, int]]:
        """Fewest and most scored items of each question type on a form.

        ``ceil(scored * (percent - tolerance) / 100)`` to
        ``floor(scored * (percent + tolerance) / 100)``, within 0 and ``scored``. A type
        the blueprint does not list gets (0, 0): it is not used for scored items.
        """
        bounds = {t: (0, 0) for t in QUESTION_TYPES}
        for share in self.question_types:
            low = math.ceil(self.scored * (share.percent - share.tolerance) / HUNDRED)
            high = math.floor(self.scored * (share.percent + share.tolerance) / HUNDRED)
            bounds[share.type] = (max(low, 0), min(high, self.scored))
        return bounds

    def type_targets(self) -> dict[str, float]:
        """The exact (fractional) number of scored items of each listed type."""
        return {s.type: float(self.scored * s.percent / HUNDRED) for s in self.question_types}


class BlueprintError(ValueError):
    """A blueprint file with problems; ``problems`` lists each as ``path:line: field: msg``."""

    def __init__(self, problems: Sequence[BlueprintProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True, order=True)
class BlueprintProblem:
    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.field}: {self.message}"


# --- rules shared by the dataclass and the file reader ---------------------------------------


def _field_problems(bp: Blueprint) -> list[tuple[str, str]]:
    """Problems of single fields (the file reader finds these itself, with their lines)."""
    out: list[tuple[str, str]] = []
    for name in ("scored", "pretest", "duration_minutes", "anchor_size"):
        value = getattr(bp, name)
        if isinstance(value, bool) or not isinstance(value, int):
            out.append((name, f"must be a whole number, got {value!r}"))
    if out:
        return out
    if bp.scored < 1:
        out.append(("scored", f"must be at least 1, got {bp.scored}"))
    if bp.pretest < 0:
        out.append(("pretest", f"must be 0 or more, got {bp.pretest}"))
    if bp.duration_minutes < 1:
        out.append(("duration_minutes", f"must be at least 1, got {bp.duration_minutes}"))
    if bp.anchor_size < 0:
        out.append(("anchor.size", f"must be 0 or more, got {bp.anchor_size}"))
    if not bp.domains:
        out.append(("domains", "must name at least one domain"))
    codes = [d.domain for d in bp.domains]
    if len(set(codes)) != len(codes):
        out.append(("domains", f"a domain is listed twice: {codes}"))
    out += [(f"domains.{d.domain}", f"must be 0 or more percent, got {d.percent}")
            for d in bp.domains if d.percent < 0]
    for s in bp.question_types:
        if s.type not in QUESTION_TYPES:
            out.append((f"question_types.{s.type}",
                        f"unknown question type; known: {', '.join(QUESTION_TYPES)}"))
        if not 0 <= s.percent <= 100:
            out.append((f"question_types.{s.type}.percent", f"must be 0 to 100, got {s.percent}"))
        if not 0 <= s.tolerance <= 100:
            out.append((f"question_types.{s.type}.tolerance",
                        f"must be 0 to 100 percentage points, got {s.tolerance}"))
    types = [s.type for s in bp.question_types]
    if len(set(types)) != len(types):
        out.append(("question_types", f"a type is listed twice: {types}"))
    info = bp.information
    if not info.offsets:
        out.append(("information.offsets", "must list at least one point"))
    if len(info.target) != len(info.offsets):
        out.append(("information.target", f"needs one value per offset ({len(info.offsets)}), "
                                          f"got {len(info.target)}"))
    if not all(math.isfinite(t) and abs(t) <= THETA_LIMIT for t in (info.cut, *info.thetas)):
        out.append(("information.cut", f"the cut and the points around it must be within "
                                       f"+-{THETA_LIMIT:g} logits"))
    if len(set(info.offsets)) != len(info.offsets):
        out.append(("information.offsets", f"an offset is listed twice: {list(info.offsets)}"))
    if not all(math.isfinite(t) and t > 0 for t in info.target):
        out.append(("information.target", f"must be positive numbers, got {list(info.target)}"))
    if not (math.isfinite(info.tolerance) and info.tolerance >= 0):
        out.append(("information.tolerance", f"must be 0 or more, got {info.tolerance}"))
    return out


def _consistency_problems(bp: Blueprint) -> list[tuple[str, str]]:
    """Problems between fields: sums, and counts that no form could meet."""
    out: list[tuple[str, str]] = []
    total = sum((d.percent for d in bp.domains), Fraction(0))
    if total != HUNDRED:
        out.append(("domains", f"the weights must add up to 100 percent, they add up to "
                               f"{_number(total)}"))
    if bp.question_types:
        shares = sum((s.percent for s in bp.question_types), Fraction(0))
        if shares != HUNDRED:
            out.append(("question_types", f"the shares must add up to 100 percent, they add "
                                          f"up to {_number(shares)}"))
    else:
        out.append(("question_types", "must list at least one question type"))
    if bp.anchor_size > bp.scored:
        out.append(("anchor.size", f"an anchor of {bp.anchor_size} items does not fit in "
                                   f"{bp.scored} scored items"))
    if out:
        return out
    bounds = bp.type_bounds()
    low = sum(lo for lo, _ in bounds.values())
    high = sum(hi for _, hi in bounds.values())
    if not low <= bp.scored <= high:
        ranges = ", ".join(f"{t} {lo}-{hi}" for t, (lo, hi) in bounds.items() if hi)
        out.append(("question_types", f"no mix of {bp.scored} scored items fits the tolerances "
                                      f"({ranges}): widen them"))
    counts, anchor = bp.domain_counts(), bp.anchor_counts()
    for code in bp.domain_codes:
        if anchor[code] > counts[code]:
            out.append(("anchor.size", f"{code}: its anchor share ({anchor[code]}) is more than "
                                       f"its {counts[code]} scored items"))
    return out


def _number(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"


# --- reading a file --------------------------------------------------------------------------

TOP_FIELDS = ("programme", "scored", "pretest", "duration_minutes", "domains",
              "question_types", "anchor", "information")
TYPE_FIELDS = ("percent", "tolerance")
ANCHOR_FIELDS = ("size",)
INFORMATION_FIELDS = ("cut", "offsets", "target", "tolerance")
_LINE_OF_FIELD = {"anchor_size": "anchor.size"}


class _Reader:
    """Reads one blueprint file's node tree, noting every problem with its line."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[BlueprintProblem] = []
        self.lines: dict[str, int] = {}  # field -> line, for the cross-field rules

    def add(self, where: Node | int, field: str, message: str) -> None:
        line = where if isinstance(where, int) else where.start_mark.line + 1
        self.problems.append(BlueprintProblem(self.path, line, field, message))

    def mapping(self, node: Node, field: str, allowed: Sequence[str] | None,
                required: Sequence[str] = ()) -> dict[str, Node] | None:
        """The fields of a mapping node; unknown, duplicate and missing ones are problems."""
        if not isinstance(node, MappingNode):
            self.add(node, field or "file", f"must be a mapping, got {_kind(node)}")
            return None
        fields: dict[str, Node] = {}
        for key, value in node.value:
            name = str(key.value) if isinstance(key, ScalarNode) else ""
            where = f"{field}.{name}" if field else name
            if not name:
                self.add(key, field or "file", "a field name must be text")
            elif name in fields:
                self.add(key, where, f"duplicate field (first given on line "
                                     f"{self.lines[where]})")
            elif allowed is not None and name not in allowed:
                self.add(key, where, f"unknown field; known: {', '.join(allowed)}")
            else:
                fields[name] = value
                self.lines[where] = key.start_mark.line + 1
        for name in required:
            if name not in fields:
                # On the line of the mapping's own field name, where the reader looks.
                self.add(self.lines.get(field, node.start_mark.line + 1),
                         f"{field}.{name}" if field else name, "missing")
        return fields

    def scalar(self, node: Node, field: str) -> Any:
        if not isinstance(node, ScalarNode):
            self.add(node, field, f"must be a single value, got {_kind(node)}")
            return None
        return yaml.SafeLoader("").construct_object(node)

    def integer(self, node: Node, field: str, minimum: int) -> int | None:
        value = self.scalar(node, field)
        if value is None and isinstance(node, ScalarNode):
            self.add(node, field, "must be a whole number, got nothing")
        elif value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            self.add(node, field, f"must be a whole number, got {value!r}")
        elif value is not None and value < minimum:
            self.add(node, field, f"must be at least {minimum}, got {value}")
        else:
            return value
        return None

    def number(self, node: Node, field: str, minimum: float | None = None,
               maximum: float | None = None) -> Fraction | None:
        value = self.scalar(node, field)
        if value is None and not isinstance(node, ScalarNode):
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
                value):
            self.add(node, field, f"must be a number, got {value!r}")
            return None
        # Through the decimal text, so that 14.1 is exactly 141/10.
        exact = Fraction(str(value)) if isinstance(value, float) else Fraction(value)
        if minimum is not None and exact < minimum:
            self.add(node, field, f"must be at least {minimum:g}, got {value}")
            return None
        if maximum is not None and exact > maximum:
            self.add(node, field, f"must be at most {maximum:g}, got {value}")
            return None
        return exact

    def numbers(self, node: Node, field: str) -> tuple[float, ...] | None:
        if not isinstance(node, SequenceNode):
            self.add(node, field, f"must be a list of numbers, got {_kind(node)}")
            return None
        values = [self.number(item, f"{field}[{i}]") for i, item in enumerate(node.value)]
        if any(v is None for v in values):
            return None
        return tuple(float(v) for v in values if v is not None)


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == "tag:yaml.org,2002:null":
        return "nothing"
    return repr(yaml.SafeLoader("").construct_object(node))


def load_blueprint(path: str | Path, domains: Collection[str] | None = None) -> Blueprint:
    """Read and check a blueprint file.

    ``domains``: the programme's domain codes (from its programme.yaml); when given, the
    blueprint must weight exactly these. Raises :class:`BlueprintError` listing every problem
    as ``path:line: field: message``, and ``ValueError`` if the file does not exist.
    """
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"no such blueprint file: {file}")
    shown = str(path)
    r = _Reader(shown)
    try:
        root = yaml.compose(file.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise BlueprintError([BlueprintProblem(shown, mark.line + 1 if mark else 1, "yaml",
                                               str(err.problem or err))]) from None
    except UnicodeDecodeError:
        raise BlueprintError([BlueprintProblem(shown, 1, "file", "not UTF-8 text")]) from None
    if root is None:
        raise BlueprintError([BlueprintProblem(shown, 1, "file", "empty file")])
    top = r.mapping(root, "", TOP_FIELDS, TOP_FIELDS)
    if top is None:
        raise BlueprintError(r.problems)

    programme = r.scalar(top["programme"], "programme") if "programme" in top else None
    if "programme" in top and not (isinstance(programme, str) and programme.strip()):
        r.add(top["programme"], "programme", f"must be the programme's code, got {programme!r}")
    scored = r.integer(top["scored"], "scored", 1) if "scored" in top else None
    pretest = r.integer(top["pretest"], "pretest", 0) if "pretest" in top else None
    duration = (r.integer(top["duration_minutes"], "duration_minutes", 1)
                if "duration_minutes" in top else None)
    weights = _domains(r, top["domains"], domains) if "domains" in top else None
    types = _types(r, top["question_types"]) if "question_types" in top else None
    anchor = None
    if "anchor" in top and (a := r.mapping(top["anchor"], "anchor", ANCHOR_FIELDS,
                                           ANCHOR_FIELDS)) is not None:
        anchor = r.integer(a["size"], "anchor.size", 0) if "size" in a else None
    information = _information(r, top["information"]) if "information" in top else None
    if r.problems:
        raise BlueprintError(sorted(r.problems))

    assert scored is not None and pretest is not None and duration is not None
    assert weights is not None and types is not None and anchor is not None
    assert information is not None
    # Build without the dataclass's own checks, then run the cross-field rules and put each
    # problem on the line of the field it is about.
    bp = object.__new__(Blueprint)
    values = dict(programme=str(programme).strip(), scored=scored, pretest=pretest,
                  duration_minutes=duration, domains=weights, question_types=types,
                  anchor_size=anchor, information=information, source=shown)
    for name, value in values.items():
        object.__setattr__(bp, name, value)
    for field, message in _field_problems(bp) + _consistency_problems(bp):
        field = _LINE_OF_FIELD.get(field, field)
        r.add(r.lines.get(field, r.lines.get(field.split(".")[0], 1)), field, message)
    if r.problems:
        raise BlueprintError(sorted(r.problems))
    return Blueprint(**values)


def _domains(r: _Reader, node: Node, known: Collection[str] | None) -> tuple[DomainWeight, ...]:
    fields = r.mapping(node, "domains", None)
    if fields is None:
        return ()
    out = []
    for code, value in fields.items():
        if known is not None and code not in known:
            r.add(r.lines[f"domains.{code}"], f"domains.{code}",
                  f"unknown domain; the programme's domains: {', '.join(known)}")
        percent = r.number(value, f"domains.{code}", minimum=0, maximum=100)
        if percent is not None:
            out.append(DomainWeight(code, percent))
    if known is not None and (missing := [c for c in known if c not in fields]):
        r.add(r.lines["domains"], "domains", f"no weight for {', '.join(missing)}: weight "
                                             "every domain of the programme (0 if it is not "
                                             "tested)")
    if not fields:
        r.add(r.lines["domains"], "domains", "must name at least one domain")
    return tuple(out)


def _types(r: _Reader, node: Node) -> tuple[TypeShare, ...]:
    fields = r.mapping(node, "question_types", None)
    if fields is None:
        return ()
    out = []
    for name, value in fields.items():
        field = f"question_types.{name}"
        if name not in QUESTION_TYPES:
            r.add(r.lines[field], field, f"unknown question type; known: "
                                         f"{', '.join(QUESTION_TYPES)}")
        share = r.mapping(value, field, TYPE_FIELDS, TYPE_FIELDS)
        if share is None or len(share) < len(TYPE_FIELDS):
            continue
        percent = r.number(share["percent"], f"{field}.percent", minimum=0, maximum=100)
        tolerance = r.number(share["tolerance"], f"{field}.tolerance", minimum=0, maximum=100)
        if percent is not None and tolerance is not None:
            out.append(TypeShare(name, percent, tolerance))
    if not fields:
        r.add(r.lines["question_types"], "question_types", "must list at least one question type")
    return tuple(out)


def _information(r: _Reader, node: Node) -> InformationTarget | None:
    fields = r.mapping(node, "information", INFORMATION_FIELDS, INFORMATION_FIELDS)
    if fields is None or len(fields) < len(INFORMATION_FIELDS):
        return None
    cut = r.number(fields["cut"], "information.cut", -THETA_LIMIT, THETA_LIMIT)
    offsets = r.numbers(fields["offsets"], "information.offsets")
    target = r.numbers(fields["target"], "information.target")
    tolerance = r.number(fields["tolerance"], "information.tolerance", minimum=0)
    if cut is None or offsets is None or target is None or tolerance is None:
        return None
    return InformationTarget(float(cut), offsets, target, float(tolerance))


def blueprint_path(programme: str) -> Path:
    """The shipped blueprint file of a programme (``item_bank/blueprints/<code>.yaml``)."""
    return BLUEPRINT_DIR / f"{programme.lower()}.yaml"


def domain_weights(weights: Mapping[str, float | int | str]) -> tuple[DomainWeight, ...]:
    """Domain weights from plain numbers (exactly, through their decimal text)."""
    return tuple(DomainWeight(code, Fraction(str(w))) for code, w in weights.items())
