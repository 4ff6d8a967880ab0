"""Loading and validating a batch of authored YAML files (see docs/item-format.md).

:func:`load` reads every ``*.yaml`` file under a path, each with the ``programme.yaml`` of
its folder or the nearest folder above, and returns a :class:`Batch`: the parsed programmes,
items and scenario sets, and *every* problem found, each as ``path:line: field: message``.
A batch with problems must not be imported (``Batch.ok``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from item_bank.authoring import markup
from item_bank.authoring.assets import load_image
from item_bank.authoring.nodes import Fields, Problem, Report, compose, kind_of, line_of
from item_bank.model import (
    CognitiveLevel,
    Domain,
    Image,
    Item,
    ItemKind,
    Option,
    Programme,
    QuestionType,
    ScenarioSet,
    Status,
    SubDomain,
)

PROGRAMME_FILE = "programme.yaml"
OPTION_IDS = ("A", "B", "C", "D")
MIN_QUESTIONS, MAX_QUESTIONS = 2, 4
DIFFICULTY_LIMIT = 6.0  # logits; banked Rasch difficulties beyond this are typing mistakes
ID_MAX = 60

ID = re.compile(r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+")
PROGRAMME_CODE = re.compile(r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*")
DOMAIN_CODE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")

PROGRAMME_FIELDS = ("code", "name", "domains")
DOMAIN_FIELDS = ("code", "name", "subdomains")
SUBDOMAIN_FIELDS = ("code", "name")
ITEM_FIELDS = ("id", "version", "programme", "domain", "subdomain", "type", "level", "status",
               "author", "difficulty", "enemies", "references", "assets", "stem", "options",
               "key")
SET_FIELDS = ("id", "version", "programme", "status", "author", "references", "assets",
              "vignette", "questions")
QUESTION_FIELDS = tuple(f for f in ITEM_FIELDS if f != "programme")
OPTION_FIELDS = ("text", "rationale")
ASSET_FIELDS = ("image", "alt")

BAD_VERSION = "bad version {value}: a version is a whole number from 1 up"
BAD_DIFFICULTY = (f"bad difficulty {{value}}: a banked Rasch difficulty is a number of logits "
                  f"from -{DIFFICULTY_LIMIT:g} to {DIFFICULTY_LIMIT:g}")
NO_KEY = "missing key: exactly one option must be the key"


@dataclass(frozen=True)
class Source:
    """Where an id is defined: the file (as displayed) and the line of its ``id``."""

    path: str
    line: int


@dataclass(frozen=True)
class Batch:
    """The result of :func:`load`. Items and sets are complete only when ``ok``."""

    programmes: tuple[Programme, ...]
    items: tuple[Item, ...]  # standalone items and scenario questions, in file order
    scenarios: tuple[ScenarioSet, ...]
    problems: tuple[Problem, ...]
    files: tuple[str, ...]
    sources: MappingProxyType[str, Source] = field(
        default_factory=lambda: MappingProxyType({}))
    asset_files: MappingProxyType[str, Path] = field(  # sha256 -> file
        default_factory=lambda: MappingProxyType({}))

    @property
    def ok(self) -> bool:
        return not self.problems


def display(path: Path) -> str:
    """A path as problems show it: relative to the working folder when inside it."""
    absolute = path.absolute()
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


# --- programme.yaml --------------------------------------------------------------------------


def _root_mapping(report: Report, path: Path) -> MappingNode | None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        report.add(1, "file", "not UTF-8 text")
        return None
    root = compose(text, report)
    if root is not None and not isinstance(root, MappingNode):
        report.add(root, "file", f"must be a mapping of fields, not {kind_of(root)}")
        return None
    return root


def _code(f: Fields, name: str, pattern: re.Pattern[str], what: str, limit: int) -> str | None:
    value = f.text(name)
    if value is not None and (not pattern.fullmatch(value) or len(value) > limit):
        f.wrong(name, f.values[name], f"{value!r} is not a valid {what}")
        return None
    return value


def load_programme(path: Path) -> tuple[Programme | None, list[Problem]]:
    """A programme file; the programme is returned (with its valid domains) if it has a code."""
    programme, problems, _ = _load_programme(path)
    return programme, problems


def _load_programme(path: Path) -> tuple[Programme | None, list[Problem], int]:
    """As :func:`load_programme`, and the line of the programme's code."""
    report = Report(display(path))
    root = _root_mapping(report, path)
    if root is None:
        return None, report.problems, 1
    f = Fields(report, root, "", PROGRAMME_FIELDS)
    code = _code(f, "code", PROGRAMME_CODE,
                 "programme code (capital letters, digits and hyphens, e.g. CCM)", 40)
    name = f.text("name")
    domains: list[Domain] = []
    nodes = f.sequence("domains")
    if not nodes:
        f.missing("domains", "missing domains: a programme has at least one domain") \
            if nodes is None else f.wrong("domains", f.values["domains"],
                                          "a programme has at least one domain")
    seen: dict[str, int] = {}
    for index, node in enumerate(nodes or [], start=1):
        domain = _domain(report, node, f"domains[{index}].", seen)
        if domain is not None:
            domains.append(domain)
    if code is None:
        return None, report.problems, f.line
    return (Programme(code, name or code, tuple(domains)), report.problems,
            line_of(f.values["code"]))


def _domain(report: Report, node: Node, prefix: str, seen: dict[str, int]) -> Domain | None:
    if not isinstance(node, MappingNode):
        report.add(node, prefix.rstrip("."), "must be a mapping with code, name and subdomains")
        return None
    d = Fields(report, node, prefix, DOMAIN_FIELDS)
    code = _code(d, "code", DOMAIN_CODE,
                 "domain code (small letters, digits and hyphens, e.g. care-coordination)", 60)
    name = d.text("name")
    if code is not None and code in seen:
        d.wrong("code", d.values["code"], f"duplicate domain {code!r} (first on line "
                                          f"{seen[code]})")
        code = None
    elif code is not None:
        seen[code] = line_of(d.values["code"])
    subdomains: list[SubDomain] = []
    nodes = d.sequence("subdomains")
    if not nodes:
        message = "a domain has at least one sub-domain"
        if nodes is None:
            d.missing("subdomains", f"missing subdomains: {message}")
        else:
            d.wrong("subdomains", d.values["subdomains"], message)
    sub_seen: dict[str, int] = {}
    for index, sub_node in enumerate(nodes or [], start=1):
        sub_prefix = f"{prefix}subdomains[{index}]."
        if not isinstance(sub_node, MappingNode):
            report.add(sub_node, sub_prefix.rstrip("."), "must be a mapping with code and name")
            continue
        s = Fields(report, sub_node, sub_prefix, SUBDOMAIN_FIELDS)
        sub_code = _code(s, "code", DOMAIN_CODE, "sub-domain code (small letters, digits and "
                         "hyphens, e.g. transitions-of-care)", 60)
        sub_name = s.text("name")
        if sub_code is not None and sub_code in sub_seen:
            s.wrong("code", s.values["code"], f"duplicate sub-domain {sub_code!r} (first on "
                                              f"line {sub_seen[sub_code]})")
        elif sub_code is not None:
            sub_seen[sub_code] = line_of(s.values["code"])
            subdomains.append(SubDomain(sub_code, sub_name or sub_code))
    if code is None:
        return None
    return Domain(code, name or code, tuple(subdomains))


# --- items and scenario sets -----------------------------------------------------------------


@dataclass
class _Draft:
    """An id as found in a file, for the checks across files."""

    code: str
    source: Source
    report: Report
    id_node: Node
    id_field: str
    is_set: bool = False
    scenario: str | None = None
    enemies: list[tuple[str, Node, str]] = field(default_factory=list)  # code, node, field


@dataclass
class _File:
    """What one item or scenario file gave."""

    report: Report
    drafts: list[_Draft] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    scenario: ScenarioSet | None = None
    images: list[tuple[Image, Path]] = field(default_factory=list)


@dataclass
class _Asset:
    name: str
    node: Node
    field: str
    image: Image | None


@dataclass
class _SetContext:
    code: str | None
    status: Status | None
    author: str | None
    references: tuple[str, ...] | None
    assets: list[_Asset]


class _FileReader:
    """Parses one item or scenario file against its programme (None if it has none)."""

    def __init__(self, path: Path, programme: Programme | None,
                 programme_file: str | None) -> None:
        self.path = path
        self.programme = programme
        self.programme_file = programme_file
        self.out = _File(Report(display(path)))
        self.report = self.out.report

    # -- shared pieces --

    def _id(self, f: Fields, *, file_id: bool) -> str | None:
        code = f.text("id")
        if code is None:
            return None
        node = f.values["id"]
        if not ID.fullmatch(code) or len(code) > ID_MAX:
            f.wrong("id", node, f"{code!r} is not a valid id (capital letters, digits and "
                                f"hyphens, at most {ID_MAX}, e.g. CCM-CC-0001)")
            return None
        if self.programme is not None and not code.startswith(self.programme.code + "-"):
            f.wrong("id", node, f"id {code!r} must start with the programme code, "
                                f"'{self.programme.code}-'")
        if file_id and self.path.stem != code:
            f.wrong("id", node, f"id {code!r} differs from the file name {self.path.name}; "
                                f"name the file {code}.yaml")
        return code

    def _programme(self, f: Fields) -> str | None:
        value = f.text("programme")
        if value is None:
            return None
        node = f.values["programme"]
        if self.programme_file is None:
            f.wrong("programme", node, f"no {PROGRAMME_FILE} in this folder or any folder "
                                       "above it")
        elif self.programme is not None and value != self.programme.code:
            f.wrong("programme", node, f"{value!r} is not the programme of this folder, "
                                       f"{self.programme.code!r} ({self.programme_file})")
        return value

    def _domain(self, f: Fields) -> tuple[str | None, str | None]:
        domain_code = f.text("domain")
        subdomain_code = f.text("subdomain")
        if self.programme is None:
            return domain_code, subdomain_code
        domain = self.programme.domain(domain_code) if domain_code else None
        if domain_code is not None and domain is None:
            known = ", ".join(d.code for d in self.programme.domains)
            f.wrong("domain", f.values["domain"], f"unknown domain {domain_code!r} in "
                    f"programme {self.programme.code}; expected one of {known}")
            domain_code = None
        if domain is not None and subdomain_code is not None and subdomain_code not in {
                s.code for s in domain.subdomains}:
            known = ", ".join(s.code for s in domain.subdomains)
            f.wrong("subdomain", f.values["subdomain"], f"unknown sub-domain "
                    f"{subdomain_code!r} of domain {domain.code}; expected one of {known}")
            subdomain_code = None
        return domain_code, subdomain_code

    def _assets(self, f: Fields) -> list[_Asset]:
        assets: list[_Asset] = []
        first: dict[str, str] = {}
        for index, node in enumerate(f.sequence("assets") or [], start=1):
            prefix = f"{f.prefix}assets[{index}]."
            if not isinstance(node, MappingNode):
                self.report.add(node, prefix.rstrip("."),
                                f"must be a mapping with image and alt, not {kind_of(node)}")
                continue
            a = Fields(self.report, node, prefix, ASSET_FIELDS)
            name = a.text("image")
            alt = a.text("alt", label="alt text")
            if name is None:
                continue
            name_node = a.values["image"]
            if name in first:
                a.wrong("image", name_node, f"{name} is already declared as {first[name]}")
                continue
            first[name] = prefix.rstrip(".")
            image, problem = load_image(self.path.parent, name, alt or "")
            if problem:
                a.wrong("image", name_node, problem)
            elif alt is not None and image is not None:
                self.out.images.append((image, self.path.parent / "assets" / name))
            assets.append(_Asset(name, name_node, a.field("image"),
                                 image if alt is not None else None))
        return assets

    def _markup(self, node: Node | None, field_name: str, text: str | None,
                assets: Iterable[str]) -> None:
        if node is None or text is None:
            return
        literal = isinstance(node, ScalarNode) and node.style == "|"
        for offset, message in markup.check(text, set(assets)):
            line = line_of(node)
            if literal and offset is not None:
                line += 1 + offset  # a literal block starts on the line after its '|'
            self.report.add(line, field_name, message)

    def _unused(self, assets: list[_Asset], texts: Iterable[str]) -> None:
        shown = {src for text in texts for src in markup.images_in(text)}
        for asset in assets:
            if asset.name not in shown:
                self.report.add(asset.node, asset.field, f"{asset.name} is never shown; place "
                                f"it in the text with ![]({asset.name})")

    def _options(self, f: Fields, assets: Iterable[str]) -> tuple[list[Option], list[str]]:
        """The options and the texts that show images (option texts)."""
        node = f.get("options")
        if node is None:
            f.missing("options", "missing options: an item has exactly 4 options, "
                                 f"{', '.join(OPTION_IDS)}")
            return [], []
        if not isinstance(node, MappingNode):
            f.wrong("options", node, f"must be a mapping of {', '.join(OPTION_IDS)} to "
                                     f"options, not {kind_of(node)}")
            return [], []
        opts = Fields(self.report, node, f.field("options."), None)
        labels = list(opts.values)
        if len(labels) != len(OPTION_IDS):
            f.wrong("options", node, f"wrong option count: {len(labels)} "
                    f"({', '.join(labels) or 'none'}); an item has exactly 4 options, "
                    f"{', '.join(OPTION_IDS)}")
        elif labels != list(OPTION_IDS) and set(labels) == set(OPTION_IDS):
            f.wrong("options", node, f"write the options in order {', '.join(OPTION_IDS)}")
        options: list[Option] = []
        texts: dict[str, str] = {}
        for label in labels:
            value = opts.values[label]
            if label not in OPTION_IDS:
                opts.wrong(label, opts.keys[label], f"unknown option label {label!r}; the "
                           f"options are {', '.join(OPTION_IDS)}")
                continue
            if not isinstance(value, MappingNode):
                opts.wrong(label, value, f"must be a mapping with text and rationale, not "
                                         f"{kind_of(value)}")
                continue
            o = Fields(self.report, value, opts.field(f"{label}."), OPTION_FIELDS)
            text = o.text("text")
            rationale = o.text("rationale")
            self._markup(o.get("text"), o.field("text"), text, assets)
            self._markup(o.get("rationale"), o.field("rationale"), rationale, assets)
            if text is not None:
                same = next((other for other, t in texts.items() if t == text), None)
                if same:
                    o.wrong("text", o.values["text"], f"same text as option {same}")
                texts[label] = text
            if text is not None and rationale is not None:
                options.append(Option(label, text, rationale))
        return options, list(texts.values())

    def _key(self, f: Fields, labels: Sequence[str]) -> str | None:
        node = f.get("key")
        if node is None:
            f.missing("key", NO_KEY)
            return None
        if isinstance(node, SequenceNode):
            keys = [str(n.value) for n in node.value if isinstance(n, ScalarNode)]
        elif isinstance(node, ScalarNode):
            value = str(node.value).strip()
            keys = re.split(r"\s*(?:,|;|/|&|\+|\band\b)\s*", value) if value else []
        else:
            f.wrong("key", node, "must be one option label, e.g. key: B")
            return None
        keys = [k for k in keys if k]
        if not keys:
            f.wrong("key", node, NO_KEY)
            return None
        if len(keys) > 1:
            count = "two" if len(keys) == 2 else str(len(keys))
            f.wrong("key", node, f"{count} keys ({', '.join(keys)}): exactly one option must "
                                 "be the key")
            return None
        if keys[0] not in OPTION_IDS:
            f.wrong("key", node, f"key {keys[0]!r} is not one of the options "
                                 f"{', '.join(OPTION_IDS)}")
            return None
        if labels and keys[0] not in labels:
            return None  # the option itself is missing, reported with the options
        return keys[0]

    def _item(self, f: Fields, scenario: _SetContext | None) -> Item | None:
        """One standalone item (``scenario`` None) or one question of a set."""
        before = len(self.report)
        code = self._id(f, file_id=scenario is None)
        version = f.integer("version", minimum=1, message=BAD_VERSION)
        programme = self._programme(f) if scenario is None else (
            self.programme.code if self.programme else None)
        domain, subdomain = self._domain(f)
        question_type = f.choice("type", QuestionType, required=scenario is None)
        if scenario is not None and question_type is None and not f.has("type"):
            question_type = QuestionType.SCENARIO_BASED
        level = f.choice("level", CognitiveLevel)
        status = f.choice("status", Status, required=scenario is None)
        if status is None and scenario is not None and not f.has("status"):
            status = scenario.status
        author = f.text("author", required=scenario is None)
        if author is None and scenario is not None and not f.has("author"):
            author = scenario.author
        references = f.text_list("references")
        if references is None and scenario is not None:
            references = scenario.references
        if not references:
            message = "missing references: give at least one" + (
                " here or at the top of the scenario set" if scenario is not None else "")
            if f.get("references") is not None:
                f.wrong("references", f.values["references"], message)
            else:
                f.missing("references", message)
        enemies = f.text_list("enemies") or ()
        difficulty = f.number("difficulty", low=-DIFFICULTY_LIMIT, high=DIFFICULTY_LIMIT,
                              message=BAD_DIFFICULTY)
        own = self._assets(f)
        allowed = [a.name for a in own] + [a.name for a in (scenario.assets if scenario else [])]
        stem = f.text("stem")
        self._markup(f.get("stem"), f.field("stem"), stem, allowed)
        options, option_texts = self._options(f, allowed)
        key = self._key(f, [o.id for o in options] if len(options) == len(OPTION_IDS) else [])
        self._unused(own, [stem or "", *option_texts])

        if code is not None:
            draft = _Draft(code, Source(self.report.display, line_of(f.values["id"])),
                           self.report, f.values["id"], f.field("id"),
                           scenario=scenario.code if scenario else None)
            enemy_nodes = f.sequence("enemies") or []
            for index, node in enumerate(enemy_nodes, start=1):
                if isinstance(node, ScalarNode) and str(node.value).strip():
                    draft.enemies.append((str(node.value).strip(), node,
                                          f.field(f"enemies[{index}]")))
            seen: set[str] = set()
            for enemy, node, name in draft.enemies:
                if enemy == code:
                    self.report.add(node, name, "an item cannot be its own enemy")
                elif enemy in seen:
                    self.report.add(node, name, f"{enemy} is listed twice")
                seen.add(enemy)
            self.out.drafts.append(draft)

        if len(self.report) > before or None in (
                code, version, domain, subdomain, question_type, level, status, author, stem,
                key, references):
            return None  # a problem here, or in the set it inherits from (reported there)
        assert code and version and domain and subdomain and question_type and level
        assert status and author and stem and key and references
        item = Item(
            code=code, domain=domain, stem=stem, options=tuple(options), key=key,
            kind=ItemKind.SCENARIO if scenario else ItemKind.MCQ,
            scenario=scenario.code if scenario else None, version=version,
            programme=programme, subdomain=subdomain, question_type=question_type,
            level=level, status=status, references=references, author=author,
            enemies=tuple(enemies), images=tuple(a.image for a in own if a.image),
            difficulty=difficulty,
        )
        self.out.items.append(item)
        return item

    # -- files --

    def read(self) -> _File:
        root = _root_mapping(self.report, self.path)
        if root is None:
            return self.out
        names = {str(k.value) for k, _ in root.value if isinstance(k, ScalarNode)}
        if names & {"vignette", "questions"}:
            self._scenario(root)
        else:
            self._item(Fields(self.report, root, "", ITEM_FIELDS), None)
        return self.out

    def _scenario(self, root: MappingNode) -> None:
        before = len(self.report)
        f = Fields(self.report, root, "", SET_FIELDS)
        code = self._id(f, file_id=True)
        version = f.integer("version", minimum=1, message=BAD_VERSION)
        programme = self._programme(f)
        status = f.choice("status", Status)
        author = f.text("author")
        references = f.text_list("references")
        assets = self._assets(f)
        vignette = f.text("vignette")
        self._markup(f.get("vignette"), "vignette", vignette, [a.name for a in assets])
        if code is not None:
            self.out.drafts.append(_Draft(code, Source(self.report.display, line_of(
                f.values["id"])), self.report, f.values["id"], "id", is_set=True))
        nodes = f.sequence("questions")
        message = (f"scenario without questions: a scenario set has {MIN_QUESTIONS} to "
                   f"{MAX_QUESTIONS} questions")
        if nodes is None:
            if "questions" not in f.values or f.get("questions") is None:
                f.missing("questions", message)
        elif not nodes:
            f.wrong("questions", f.values["questions"], message)
        elif not MIN_QUESTIONS <= len(nodes) <= MAX_QUESTIONS:
            f.wrong("questions", f.values["questions"], f"a scenario set has {MIN_QUESTIONS} "
                    f"to {MAX_QUESTIONS} questions, this one has {len(nodes)}")
        context = _SetContext(code, status, author, references, assets)
        questions: list[str] = []
        texts = [vignette or ""]
        for index, node in enumerate(nodes or [], start=1):
            prefix = f"questions[{index}]."
            if not isinstance(node, MappingNode):
                self.report.add(node, prefix.rstrip("."),
                                f"must be a mapping of fields, not {kind_of(node)}")
                continue
            q = Fields(self.report, node, prefix, QUESTION_FIELDS)
            item = self._item(q, context)
            if q.get("id") is not None and isinstance(q.values["id"], ScalarNode):
                questions.append(str(q.values["id"].value).strip())
            if item is not None:
                texts += [item.stem, *(o.text for o in item.options)]
            else:
                texts += [str(n.value) for n in _scalars(q.get("stem"), q.get("options"))]
        self._unused(assets, texts)
        if len(self.report) > before or None in (code, version, vignette, status, author):
            return
        assert code and version and vignette and status and author
        self.out.scenario = ScenarioSet(
            code=code, vignette=vignette, questions=tuple(questions), version=version,
            programme=programme, author=author, status=status,
            references=references or (), images=tuple(a.image for a in assets if a.image),
        )


def _scalars(*nodes: Node | None) -> Iterable[ScalarNode]:
    for node in nodes:
        if isinstance(node, ScalarNode):
            yield node
        elif isinstance(node, MappingNode):
            for _, value in node.value:
                yield from _scalars(value)


# --- the batch -------------------------------------------------------------------------------


def _files(path: Path) -> tuple[list[Path], list[Problem]]:
    if path.is_file():
        return [path], []
    found: list[Path] = []
    problems: list[Problem] = []
    for folder, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "assets")
        for name in sorted(names):
            file = Path(folder) / name
            if name.startswith("."):
                continue
            if name.endswith(".yaml"):
                found.append(file)
            elif name.endswith(".yml"):
                problems.append(Problem(display(file), 1, "file",
                                        "name authored files *.yaml (this one is skipped)"))
    return found, problems


def _programme_file(file: Path) -> Path | None:
    for folder in file.absolute().parents:
        candidate = folder / PROGRAMME_FILE
        if candidate.is_file():
            return candidate
    return None


def load(path: str | Path, known_ids: Collection[str] = ()) -> Batch:
    """Load and check every authored file under ``path`` (a folder or one file).

    ``known_ids`` are item ids already in the bank: an enemy may name one of them.
    Raises ValueError if ``path`` does not exist.
    """
    root = Path(path)
    if not root.exists():
        raise ValueError(f"no such file or folder: {root}")
    files, problems = _files(root)
    programmes: dict[Path, Programme | None] = {}
    code_lines: dict[Path, int] = {}

    def programme_of(file: Path) -> Path | None:
        found = file.absolute() if file.name == PROGRAMME_FILE else _programme_file(file)
        if found is not None and found not in programmes:
            programmes[found], found_problems, code_lines[found] = _load_programme(found)
            problems.extend(found_problems)
        return found

    results: list[_File] = []
    shown: list[str] = []
    for file in files:
        programme_path = programme_of(file)
        shown.append(display(file))
        if file.name == PROGRAMME_FILE:
            continue
        programme = programmes.get(programme_path) if programme_path else None
        reader = _FileReader(file, programme,
                             display(programme_path) if programme_path else None)
        results.append(reader.read())

    _check_across(results, set(known_ids))
    codes = [p.code for p in programmes.values() if p is not None]
    for p_path, programme in programmes.items():
        if programme is not None and codes.count(programme.code) > 1:
            problems.append(Problem(display(p_path), code_lines[p_path], "code",
                                    f"programme {programme.code} is declared by more than "
                                    f"one {PROGRAMME_FILE}"))
    for result in results:
        problems.extend(result.report.problems)
    sources = {d.code: d.source for r in results for d in r.drafts}
    assets = {image.sha256: file for r in results for image, file in r.images}
    return Batch(
        programmes=tuple(p for p in programmes.values() if p is not None),
        items=tuple(i for r in results for i in r.items),
        scenarios=tuple(r.scenario for r in results if r.scenario is not None),
        problems=tuple(sorted(set(problems))),
        files=tuple(shown),
        sources=MappingProxyType(sources),
        asset_files=MappingProxyType(assets),
    )


def _check_across(results: list[_File], known: set[str]) -> None:
    """Duplicate ids and enemies, which need every file of the batch."""
    first: dict[str, _Draft] = {}
    items: dict[str, _Draft] = {}
    for draft in (d for r in results for d in r.drafts):
        if draft.code in first:
            other = first[draft.code].source
            draft.report.add(draft.id_node, draft.id_field, f"duplicate id {draft.code!r} "
                             f"(also in {other.path}:{other.line})")
        else:
            first[draft.code] = draft
            if not draft.is_set:
                items[draft.code] = draft
    for draft in (d for r in results for d in r.drafts):
        for enemy, node, name in draft.enemies:
            target = items.get(enemy)
            if enemy == draft.code:
                continue
            if target is None and enemy in first:
                draft.report.add(node, name, f"enemy {enemy!r} is a scenario set; name its "
                                             "questions")
            elif target is None and enemy not in known:
                draft.report.add(node, name, f"enemy {enemy!r} does not exist in this batch "
                                             "or in the bank")
            elif (target is not None and draft.scenario is not None
                  and target.scenario == draft.scenario):
                draft.report.add(node, name, f"enemy {enemy!r} is in the same scenario set, "
                                             "which is always delivered whole")


def validate(path: str | Path, known_ids: Collection[str] = ()) -> tuple[Problem, ...]:
    """Every problem of the files under ``path`` (empty when the batch is valid)."""
    return load(path, known_ids).problems


__all__ = ["Batch", "Problem", "Source", "load", "load_programme", "validate"]
