"""The YAML authoring format (item_bank.authoring): every validation error with its exact
``path:line: field: message``, the safety of the markup, and the export round trip."""

from __future__ import annotations

import html.parser
import re
import string
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from item_bank import authoring
from item_bank.authoring import ImageSource, item_hash, load, render, scenario_hash
from item_bank.authoring.assets import MAX_IMAGE_BYTES
from item_bank.model import CognitiveLevel, ItemKind, QuestionType, Status

CONTENT = Path(__file__).resolve().parents[2] / "item_bank" / "content"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32

PROGRAMME = """\
code: TP
name: Test Programme
domains:
  - code: care
    name: Care
    subdomains:
      - code: transitions
        name: Transitions
      - code: review
        name: Review
  - code: ethics
    name: Ethics
    subdomains:
      - code: advocacy
        name: Advocacy
"""

# Line numbers matter: the expected problems below point into this text.
ITEM = """\
id: TP-0001
version: 1
programme: TP
domain: care
subdomain: transitions
type: direct
level: recall
status: draft
author: A. Writer
references:
  - A reference book, chapter 2
stem: |
  Which option is *best*?
options:
  A:
    text: First
    rationale: Wrong because one.
  B:
    text: Second
    rationale: Right because two.
  C:
    text: Third
    rationale: Wrong because three.
  D:
    text: Fourth
    rationale: Wrong because four.
key: B
"""

QUESTION = """\
  - id: TP-S01-{n}
    version: 1
    domain: ethics
    subdomain: advocacy
    level: application
    stem: Question {n} about the case?
    options:
      A: {{text: One {n}, rationale: R1}}
      B: {{text: Two {n}, rationale: R2}}
      C: {{text: Three {n}, rationale: R3}}
      D: {{text: Four {n}, rationale: R4}}
    key: A
"""

SET_HEAD = """\
id: TP-S01
version: 1
programme: TP
status: review
author: Set Writer
references:
  - Set reference
vignette: |
  Mr X, 70, lives alone.
questions:
"""


def scenario(count: int = 2, head: str = SET_HEAD) -> str:
    return head + "".join(QUESTION.format(n=n) for n in range(1, count + 1))


@pytest.fixture
def bank(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A programme folder; problems are shown relative to it (the working folder)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "programme.yaml").write_text(PROGRAMME, encoding="utf-8")
    return tmp_path


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def problems(folder: Path, known: tuple[str, ...] = ()) -> list[str]:
    return [str(p) for p in load(folder, known).problems]


def in_order(expected: list[str]) -> list[str]:
    """Problems come sorted by file, then line number, then field."""
    def key(line: str) -> tuple[str, int, str]:
        path, number, rest = line.split(":", 2)
        return path, int(number), rest
    return sorted(expected, key=key)


# --- a good batch ------------------------------------------------------------------------


def test_a_good_item_and_a_good_set_load_into_frozen_dataclasses(bank: Path) -> None:
    write(bank, "care/TP-0001.yaml", ITEM)
    write(bank, "sets/TP-S01.yaml", scenario(3))

    batch = load(bank)

    assert batch.problems == () and batch.ok
    assert [p.code for p in batch.programmes] == ["TP"]
    programme = batch.programmes[0]
    assert [d.code for d in programme.domains] == ["care", "ethics"]
    assert [s.code for s in programme.domains[0].subdomains] == ["transitions", "review"]
    item = batch.items[0]
    assert (item.code, item.version, item.programme, item.domain, item.subdomain) == (
        "TP-0001", 1, "TP", "care", "transitions")
    assert (item.question_type, item.level, item.status) == (
        QuestionType.DIRECT, CognitiveLevel.RECALL, Status.DRAFT)
    assert item.stem == "Which option is *best*?"
    assert [(o.id, o.text, o.rationale) for o in item.options][1] == (
        "B", "Second", "Right because two.")
    assert item.key == "B" and item.kind is ItemKind.MCQ and item.scenario is None
    assert item.references == ("A reference book, chapter 2",) and item.author == "A. Writer"
    assert item.enemies == () and item.images == () and item.difficulty is None
    (scenario_set,) = batch.scenarios
    assert scenario_set.questions == ("TP-S01-1", "TP-S01-2", "TP-S01-3")
    assert scenario_set.vignette == "Mr X, 70, lives alone."
    question = batch.items[1]
    # A question inherits the set's status, author and references, and is scenario-based.
    assert (question.kind, question.scenario, question.question_type) == (
        ItemKind.SCENARIO, "TP-S01", QuestionType.SCENARIO_BASED)
    assert (question.status, question.author, question.references) == (
        Status.REVIEW, "Set Writer", ("Set reference",))
    assert batch.sources["TP-S01-2"] == authoring.Source("sets/TP-S01.yaml", 23)
    with pytest.raises(AttributeError):
        item.stem = "changed"  # type: ignore[misc]


def test_the_shipped_example_content_is_valid() -> None:
    batch = load(CONTENT)
    assert batch.problems == ()
    assert {i.question_type for i in batch.items} >= {QuestionType.BEST_PRACTICE,
                                                      QuestionType.SCENARIO_BASED}
    (programme,) = batch.programmes
    assert [d.name for d in programme.domains] == [
        "Care Coordination", "Assessment and Planning", "Implementation and Monitoring",
        "Evaluation", "Professional Practice"]
    # Issue 5's content: at least 360 items, 30 scenario sets, every domain and sub-domain,
    # the three question types, a rationale for every option.
    assert len(batch.items) >= 360 and len(batch.scenarios) >= 30
    assert {i.question_type for i in batch.items} == set(QuestionType)
    covered = {(i.domain, i.subdomain) for i in batch.items}
    assert covered == {(d.code, s.code) for d in programme.domains for s in d.subdomains}
    assert all(o.rationale for i in batch.items for o in i.options)
    keys = [i.key for i in batch.items]
    assert all(abs(keys.count(k) / len(keys) - 0.25) < 0.05 for k in "ABCD")


def test_text_values_are_taken_as_written(bank: Path) -> None:
    # YAML 1.1 would read `No` as false and `1.50` as a number; an option is text.
    write(bank, "TP-0001.yaml", ITEM.replace("text: First", "text: No")
          .replace("text: Third", "text: 1.50"))
    batch = load(bank)
    assert batch.ok
    assert [o.text for o in batch.items[0].options] == ["No", "Second", "1.50", "Fourth"]


def test_a_question_may_override_what_it_inherits(bank: Path) -> None:
    head_without_refs = SET_HEAD.replace("references:\n  - Set reference\n", "")
    text = scenario(2, head_without_refs).replace(
        "    level: application\n",
        "    level: application\n    type: best-practice\n    status: pretest\n"
        "    author: Q Writer\n    references: [Own reference]\n", 2)
    write(bank, "TP-S01.yaml", text)
    batch = load(bank)
    assert batch.ok, batch.problems
    question = batch.items[0]
    assert (question.question_type, question.status, question.author, question.references) == (
        QuestionType.BEST_PRACTICE, Status.PRETEST, "Q Writer", ("Own reference",))


def test_difficulty_enemies_and_an_image_are_read(bank: Path) -> None:
    write(bank, "assets/chart.png", PNG)
    write(bank, "TP-0002.yaml", ITEM.replace("TP-0001", "TP-0002"))
    write(bank, "TP-0001.yaml", ITEM.replace(
        "stem: |\n  Which option is *best*?\n",
        "difficulty: -1.25\nenemies: [TP-0002, TP-9999]\n"
        "assets:\n  - image: chart.png\n    alt: A rising line chart\n"
        "stem: |\n  Which option is *best*?\n\n  ![](chart.png)\n"))
    batch = load(bank, known_ids={"TP-9999"})  # TP-9999 is already in the bank
    assert batch.ok, batch.problems
    item = next(i for i in batch.items if i.code == "TP-0001")
    assert item.difficulty == -1.25 and item.enemies == ("TP-0002", "TP-9999")
    (image,) = item.images
    assert (image.file, image.alt, image.media_type, image.size) == (
        "chart.png", "A rising line chart", "image/png", len(PNG))
    assert dict(batch.asset_files) == {image.sha256: bank / "assets" / "chart.png"}


# --- every validation error, with its exact place and message --------------------------------

P = "TP-0001.yaml"
S = "TP-S01.yaml"


def _item(old: str, new: str, count: int = 1) -> dict[str, str]:
    assert old in ITEM, old
    return {P: ITEM.replace(old, new, count)}


CASES: list[tuple[str, dict[str, str], list[str]]] = [
    ("yaml syntax", {P: 'id: TP-0001\nstem: "never closed\nkey: B\n'},
     [f"{P}:4: yaml: while scanning a quoted scalar found unexpected end of stream"]),
    ("empty file", {P: "# nothing yet\n"}, [f"{P}:1: file: empty file"]),
    ("not a mapping", {P: "- id: TP-0001\n"}, [f"{P}:1: file: must be a mapping of fields, "
                                               "not a list"]),
    ("unknown field", _item("stem: |", "stme: |"),
     [f"{P}:12: stme: unknown field 'stme'; did you mean 'stem'?", f"{P}:1: stem: missing stem"]),
    ("duplicate field", _item("key: B\n", "key: B\nkey: C\n"),
     [f"{P}:28: key: duplicate field (first given on line 27)"]),
    ("missing field", _item("level: recall\n", ""), [f"{P}:1: level: missing level"]),
    ("bad id", _item("id: TP-0001", "id: tp 1"),
     [f"{P}:1: id: 'tp 1' is not a valid id (capital letters, digits and hyphens, at most 60, "
      "e.g. CCM-CC-0001)"]),
    ("id without the programme code", {"XX-0001.yaml": ITEM.replace("TP-0001", "XX-0001")},
     ["XX-0001.yaml:1: id: id 'XX-0001' must start with the programme code, 'TP-'"]),
    ("id and file name differ", {"other.yaml": ITEM},
     ["other.yaml:1: id: id 'TP-0001' differs from the file name other.yaml; name the file "
      "TP-0001.yaml"]),
    ("bad version: text", _item("version: 1", "version: v2"),
     [f"{P}:2: version: bad version 'v2': a version is a whole number from 1 up"]),
    ("bad version: zero", _item("version: 1", "version: 0"),
     [f"{P}:2: version: bad version '0': a version is a whole number from 1 up"]),
    ("bad version: decimal", _item("version: 1", "version: 1.5"),
     [f"{P}:2: version: bad version '1.5': a version is a whole number from 1 up"]),
    ("missing version", _item("version: 1\n", ""), [f"{P}:1: version: missing version"]),
    ("another programme", _item("programme: TP", "programme: CCM"),
     [f"{P}:3: programme: 'CCM' is not the programme of this folder, 'TP' (programme.yaml)"]),
    ("unknown domain", _item("domain: care", "domain: caring"),
     [f"{P}:4: domain: unknown domain 'caring' in programme TP; expected one of care, ethics"]),
    ("unknown sub-domain", _item("subdomain: transitions", "subdomain: advocacy"),
     [f"{P}:5: subdomain: unknown sub-domain 'advocacy' of domain care; expected one of "
      "transitions, review"]),
    ("unknown type", _item("type: direct", "type: mcq"),
     [f"{P}:6: type: unknown value 'mcq'; expected one of direct, scenario-based, "
      "best-practice"]),
    ("unknown level", _item("level: recall", "level: synthesis"),
     [f"{P}:7: level: unknown value 'synthesis'; expected one of recall, application, "
      "analysis"]),
    ("unknown status", _item("status: draft", "status: accepted"),
     [f"{P}:8: status: unknown value 'accepted'; expected one of draft, review, approved, "
      "pretest, operational, retired"]),
    ("missing author", _item("author: A. Writer\n", ""), [f"{P}:1: author: missing author"]),
    ("missing references", _item("references:\n  - A reference book, chapter 2\n", ""),
     [f"{P}:1: references: missing references: give at least one"]),
    ("empty references", _item("references:\n  - A reference book, chapter 2\n",
                               "references: []\n"),
     [f"{P}:10: references: missing references: give at least one"]),
    ("a reference that is not text", _item("  - A reference book, chapter 2\n",
                                           "  - {book: A}\n"),
     [f"{P}:11: references[1]: must be text, not a mapping",
      f"{P}:10: references: missing references: give at least one"]),
    ("missing stem", _item("stem: |\n  Which option is *best*?\n", ""),
     [f"{P}:1: stem: missing stem"]),
    ("stem is a list", _item("stem: |\n  Which option is *best*?\n", "stem: [a, b]\n"),
     [f"{P}:12: stem: must be text, not a list"]),
    ("three options", _item("  D:\n    text: Fourth\n    rationale: Wrong because four.\n", ""),
     [f"{P}:14: options: wrong option count: 3 (A, B, C); an item has exactly 4 options, "
      "A, B, C, D"]),
    ("five options", _item("key: B", "  E:\n    text: Fifth\n    rationale: R.\nkey: B"),
     [f"{P}:14: options: wrong option count: 5 (A, B, C, D, E); an item has exactly 4 "
      "options, A, B, C, D",
      f"{P}:27: options.E: unknown option label 'E'; the options are A, B, C, D"]),
    ("unknown option label", _item("  D:\n", "  E:\n"),
     [f"{P}:24: options.E: unknown option label 'E'; the options are A, B, C, D"]),
    ("options out of order", {P: ITEM.replace(
        "  A:\n    text: First\n    rationale: Wrong because one.\n", "").replace(
        "key: B", "  A:\n    text: First\n    rationale: Wrong because one.\nkey: B")},
     [f"{P}:14: options: write the options in order A, B, C, D"]),
    ("options as a list", _item("options:\n", "options: []\nx_options:\n"),
     [f"{P}:14: options: must be a mapping of A, B, C, D to options, not a list",
      f"{P}:15: x_options: unknown field 'x_options'; did you mean 'options'?"]),
    ("missing options", {P: ITEM.split("options:")[0] + "key: B\n"},
     [f"{P}:1: options: missing options: an item has exactly 4 options, A, B, C, D"]),
    ("an option that is only text", _item("  C:\n    text: Third\n    rationale: Wrong because "
                                          "three.\n", "  C: Third\n"),
     [f"{P}:21: options.C: must be a mapping with text and rationale, not text"]),
    ("missing rationale", _item("    rationale: Wrong because three.\n", ""),
     [f"{P}:22: options.C.rationale: missing rationale"]),
    ("missing option text", _item("    text: Third\n", ""),
     [f"{P}:22: options.C.text: missing text"]),
    ("same text twice", _item("text: Third", "text: First"),
     [f"{P}:22: options.C.text: same text as option A"]),
    ("missing key", _item("key: B\n", ""),
     [f"{P}:1: key: missing key: exactly one option must be the key"]),
    ("two keys in a list", _item("key: B", "key: [B, D]"),
     [f"{P}:27: key: two keys (B, D): exactly one option must be the key"]),
    ("two keys in text", _item("key: B", "key: B, D"),
     [f"{P}:27: key: two keys (B, D): exactly one option must be the key"]),
    ("three keys", _item("key: B", "key: [A, B, C]"),
     [f"{P}:27: key: 3 keys (A, B, C): exactly one option must be the key"]),
    ("a key that is no option", _item("key: B", "key: E"),
     [f"{P}:27: key: key 'E' is not one of the options A, B, C, D"]),
    ("difficulty out of range", _item("key: B", "key: B\ndifficulty: 9"),
     [f"{P}:28: difficulty: bad difficulty '9': a banked Rasch difficulty is a number of "
      "logits from -6 to 6"]),
    ("difficulty not a number", _item("key: B", "key: B\ndifficulty: hard"),
     [f"{P}:28: difficulty: bad difficulty 'hard': a banked Rasch difficulty is a number of "
      "logits from -6 to 6"]),
    ("enemy that does not exist", _item("key: B", "key: B\nenemies: [TP-0404]"),
     [f"{P}:28: enemies[1]: enemy 'TP-0404' does not exist in this batch or in the bank"]),
    ("own enemy", _item("key: B", "key: B\nenemies:\n  - TP-0001"),
     [f"{P}:29: enemies[1]: an item cannot be its own enemy"]),
    ("enemy twice", {P: ITEM.replace("key: B", "key: B\nenemies: [TP-0002, TP-0002]"),
                     "TP-0002.yaml": ITEM.replace("TP-0001", "TP-0002")},
     [f"{P}:28: enemies[2]: TP-0002 is listed twice"]),
    ("enemy is a scenario set", {P: ITEM.replace("key: B", "key: B\nenemies: [TP-S01]"),
                                 S: scenario(2)},
     [f"{P}:28: enemies[1]: enemy 'TP-S01' is a scenario set; name its questions"]),
    ("enemy in the same set", {S: scenario(2).replace(
        "    key: A\n", "    key: A\n    enemies: [TP-S01-2]\n", 1)},
     [f"{S}:23: questions[1].enemies[1]: enemy 'TP-S01-2' is in the same scenario set, "
      "which is always delivered whole"]),
    ("duplicate id across files", {P: ITEM, "more/TP-0001.yaml": ITEM},
     ["more/TP-0001.yaml:1: id: duplicate id 'TP-0001' (also in TP-0001.yaml:1)"]),
    ("duplicate id between an item and a question", {
        S: scenario(2), "TP-S01-2.yaml": ITEM.replace("TP-0001", "TP-S01-2")},
     [f"{S}:23: questions[2].id: duplicate id 'TP-S01-2' (also in TP-S01-2.yaml:1)"]),
    ("raw html in the stem", _item("  Which option is *best*?\n",
                                   "  Which option\n  is <b>best</b>?\n"),
     [f"{P}:14: stem: unsafe markup: raw HTML '<b>' is not allowed",
      f"{P}:14: stem: unsafe markup: raw HTML '</b>' is not allowed"]),
    ("script block", _item("  Which option is *best*?\n",
                           "  Which option?\n\n  <script>alert(1)</script>\n"),
     [f"{P}:15: stem: unsafe markup: raw HTML '<script>alert(1)</script>' is not allowed"]),
    ("javascript link", _item("text: Second", "text: '[Second](javascript:alert(1))'"),
     [f"{P}:19: options.B.text: unsafe markup: javascript: URL in a link"]),
    ("plain link", _item("rationale: Right because two.",
                         "rationale: See <https://example.org>"),
     [f"{P}:20: options.B.rationale: unsupported markup: links are not allowed in exam "
      "content"]),
    ("heading", _item("  Which option is *best*?\n", "  # Question\n  Which?\n"),
     [f"{P}:13: stem: unsupported markup: heading (it would show as typed)"]),
    ("image that is not an asset", _item("  Which option is *best*?\n",
                                         "  Which?\n  ![](https://evil.example/x.png)\n"),
     [f"{P}:14: stem: unsafe markup: image 'https://evil.example/x.png' is not one of this "
      "item's assets"]),
]


@pytest.mark.parametrize(("files", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_each_problem_is_reported_with_file_line_and_field(
        bank: Path, files: dict[str, str], expected: list[str]) -> None:
    for name, text in files.items():
        write(bank, name, text)
    assert problems(bank) == in_order(expected)


ASSET_ITEM = ITEM.replace("stem: |\n  Which option is *best*?\n",
                          "assets:\n  - image: chart.png\n    alt: A chart\n"
                          "stem: |\n  Which option is *best*?\n\n  ![](chart.png)\n")

ASSET_CASES: list[tuple[str, dict[str, str | bytes], list[str]]] = [
    ("missing file", {}, [f"{P}:13: assets[1].image: broken asset: assets/chart.png does not "
                          "exist next to this file"]),
    ("not an image", {"assets/chart.png": b"hello"},
     [f"{P}:13: assets[1].image: broken asset: assets/chart.png is not a PNG image (its "
      "content is not an image)"]),
    ("wrong type", {"assets/chart.png": JPEG},
     [f"{P}:13: assets[1].image: broken asset: assets/chart.png is not a PNG image (it is "
      "JPEG)"]),
    ("empty", {"assets/chart.png": b""},
     [f"{P}:13: assets[1].image: broken asset: assets/chart.png is empty"]),
    ("too big", {"assets/chart.png": PNG + b"\x00" * MAX_IMAGE_BYTES},
     [f"{P}:13: assets[1].image: broken asset: assets/chart.png is 1.0 MiB; the limit is "
      "1 MiB"]),
    ("a folder", {"assets/chart.png/x": b""},
     [f"{P}:13: assets[1].image: broken asset: assets/chart.png must be a regular file"]),
    ("path in the name", {P: ASSET_ITEM.replace("chart.png", "../chart.png"),
                          "assets/chart.png": PNG},
     [f"{P}:13: assets[1].image: broken asset: '../chart.png' must be a plain file name in "
      "the assets/ folder next to this file (letters, digits, '.', '_', '-')"]),
    ("svg", {P: ASSET_ITEM.replace("chart.png", "chart.svg"), "assets/chart.svg": b"<svg/>"},
     [f"{P}:13: assets[1].image: broken asset: assets/chart.svg is not a .png, .jpg, .gif or "
      ".webp file"]),
    ("missing alt", {P: ASSET_ITEM.replace("    alt: A chart\n", ""), "assets/chart.png": PNG},
     [f"{P}:13: assets[1].alt: missing alt text"]),
    ("declared twice", {P: ASSET_ITEM.replace(
        "    alt: A chart\n", "    alt: A chart\n  - image: chart.png\n    alt: Again\n"),
        "assets/chart.png": PNG},
     [f"{P}:15: assets[2].image: chart.png is already declared as assets[1]"]),
    ("never shown", {P: ASSET_ITEM.replace("\n  ![](chart.png)", ""), "assets/chart.png": PNG},
     [f"{P}:13: assets[1].image: chart.png is never shown; place it in the text with "
      "![](chart.png)"]),
    ("alt text in the markup", {P: ASSET_ITEM.replace("![](chart.png)", "![chart](chart.png)"),
                                "assets/chart.png": PNG},
     [f"{P}:18: stem: image 'chart.png': leave the brackets empty (![](chart.png)); its alt "
      "text comes from assets"]),
    ("not a mapping", {P: ASSET_ITEM.replace("  - image: chart.png\n    alt: A chart\n",
                                             "  - chart.png\n")},
     [f"{P}:13: assets[1]: must be a mapping with image and alt, not text",
      f"{P}:17: stem: unsafe markup: image 'chart.png' is not one of this item's assets"]),
]


@pytest.mark.parametrize(("files", "expected"), [c[1:] for c in ASSET_CASES],
                         ids=[c[0] for c in ASSET_CASES])
def test_each_asset_problem_is_reported(bank: Path, files: dict[str, str | bytes],
                                        expected: list[str]) -> None:
    write(bank, P, ASSET_ITEM)
    for name, content in files.items():
        write(bank, name, content)
    assert problems(bank) == in_order(expected)


SET_CASES: list[tuple[str, str, list[str]]] = [
    ("no questions", SET_HEAD.replace("questions:\n", ""),
     [f"{S}:1: questions: scenario without questions: a scenario set has 2 to 4 questions"]),
    ("an empty list of questions", SET_HEAD.replace("questions:\n", "questions: []\n"),
     [f"{S}:10: questions: scenario without questions: a scenario set has 2 to 4 questions"]),
    ("one question", scenario(1),
     [f"{S}:10: questions: a scenario set has 2 to 4 questions, this one has 1"]),
    ("five questions", scenario(5),
     [f"{S}:10: questions: a scenario set has 2 to 4 questions, this one has 5"]),
    ("missing vignette", scenario(2).replace("vignette: |\n  Mr X, 70, lives alone.\n", ""),
     [f"{S}:1: vignette: missing vignette"]),
    ("unsafe vignette", scenario(2).replace("Mr X, 70, lives alone.",
                                            "Mr X <img src=x onerror=alert(1)>"),
     [f"{S}:9: vignette: unsafe markup: raw HTML '<img src=x onerror=alert(1)>' is not "
      "allowed"]),
    ("a question without references anywhere",
     scenario(2).replace("references:\n  - Set reference\n", ""),
     [f"{S}:9: questions[1].references: missing references: give at least one here or at the "
      "top of the scenario set",
      f"{S}:21: questions[2].references: missing references: give at least one here or at the "
      "top of the scenario set"]),
    ("a question names a programme", scenario(2).replace(
        "    version: 1\n    domain", "    version: 1\n    programme: TP\n    domain", 1),
     [f"{S}:13: questions[1].programme: unknown field 'programme'"]),
    ("a question with problems of its own", scenario(2).replace("    key: A\n",
                                                                "    key: Z\n", 1),
     [f"{S}:22: questions[1].key: key 'Z' is not one of the options A, B, C, D"]),
    ("a question that is not a mapping", SET_HEAD + "  - just text\n" + QUESTION.format(n=2),
     [f"{S}:11: questions[1]: must be a mapping of fields, not text"]),
    ("missing set status", scenario(2).replace("status: review\n", ""),
     [f"{S}:1: status: missing status"]),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in SET_CASES],
                         ids=[c[0] for c in SET_CASES])
def test_each_scenario_set_problem_is_reported(bank: Path, text: str,
                                               expected: list[str]) -> None:
    write(bank, S, text)
    assert problems(bank) == in_order(expected)


PROGRAMME_CASES: list[tuple[str, str, list[str]]] = [
    ("no domains", "code: TP\nname: T\n", ["programme.yaml:1: domains: missing domains: a "
                                            "programme has at least one domain"]),
    ("bad programme code", PROGRAMME.replace("code: TP", "code: tp!"),
     ["programme.yaml:1: code: 'tp!' is not a valid programme code (capital letters, digits "
      "and hyphens, e.g. CCM)"]),
    ("bad domain code", PROGRAMME.replace("code: ethics", "code: Ethics"),
     ["programme.yaml:11: domains[2].code: 'Ethics' is not a valid domain code (small "
      "letters, digits and hyphens, e.g. care-coordination)"]),
    ("duplicate domain", PROGRAMME.replace("code: ethics", "code: care"),
     ["programme.yaml:11: domains[2].code: duplicate domain 'care' (first on line 4)"]),
    ("duplicate sub-domain", PROGRAMME.replace("code: review", "code: transitions"),
     ["programme.yaml:9: domains[1].subdomains[2].code: duplicate sub-domain 'transitions' "
      "(first on line 7)"]),
    ("no sub-domains", PROGRAMME.replace(
        "    subdomains:\n      - code: advocacy\n        name: Advocacy\n", ""),
     ["programme.yaml:11: domains[2].subdomains: missing subdomains: a domain has at least "
      "one sub-domain"]),
    ("unknown field", PROGRAMME + "weights: {care: 50}\n",
     ["programme.yaml:16: weights: unknown field 'weights'"]),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in PROGRAMME_CASES],
                         ids=[c[0] for c in PROGRAMME_CASES])
def test_each_programme_problem_is_reported(bank: Path, text: str,
                                            expected: list[str]) -> None:
    write(bank, "programme.yaml", text)
    assert problems(bank) == in_order(expected)


def test_every_problem_of_a_file_is_reported_not_just_the_first(bank: Path) -> None:
    write(bank, P, ITEM.replace("version: 1", "version: x").replace("domain: care", "domain: x")
          .replace("key: B", "key: [A, B]").replace("    rationale: Wrong because four.\n", ""))
    write(bank, "TP-0002.yaml", ITEM.replace("TP-0001", "TP-0002").replace("level: recall",
                                                                           "level: deep"))
    assert problems(bank) == in_order([
        f"{P}:2: version: bad version 'x': a version is a whole number from 1 up",
        f"{P}:25: options.D.rationale: missing rationale",
        f"{P}:26: key: two keys (A, B): exactly one option must be the key",
        f"{P}:4: domain: unknown domain 'x' in programme TP; expected one of care, ethics",
        "TP-0002.yaml:7: level: unknown value 'deep'; expected one of recall, application, "
        "analysis",
    ])
    assert not load(bank).ok


def test_an_enemy_already_in_the_bank_is_accepted(bank: Path) -> None:
    write(bank, P, ITEM.replace("key: B", "key: B\nenemies: [TP-0404]"))
    assert problems(bank) == [f"{P}:28: enemies[1]: enemy 'TP-0404' does not exist in this "
                              "batch or in the bank"]
    assert problems(bank, known=("TP-0404",)) == []


def test_a_file_with_no_programme_above_it(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, P, ITEM)
    assert problems(tmp_path) == [
        f"{P}:3: programme: no programme.yaml in this folder or any folder above it"]


def test_a_single_file_is_checked_with_the_programme_above_it(bank: Path) -> None:
    path = write(bank, "care/deep/TP-0001.yaml", ITEM.replace("domain: care", "domain: nope"))
    assert [str(p) for p in load(path).problems] == [
        "care/deep/TP-0001.yaml:4: domain: unknown domain 'nope' in programme TP; expected "
        "one of care, ethics"]


def test_two_programme_files_with_one_code(bank: Path) -> None:
    write(bank, "other/programme.yaml", "# the same again\n" + PROGRAMME)
    assert problems(bank) == [
        "other/programme.yaml:2: code: programme TP is declared by more than one "
        "programme.yaml",
        "programme.yaml:1: code: programme TP is declared by more than one programme.yaml"]


def test_other_files_are_reported_or_skipped(bank: Path) -> None:
    write(bank, "TP-0001.yml", ITEM)
    write(bank, "notes.txt", "not an item")
    write(bank, ".hidden.yaml", "{")
    write(bank, "assets/data.yaml", "{")  # the assets/ folder holds files, not items
    assert problems(bank) == ["TP-0001.yml:1: file: name authored files *.yaml (this one is "
                              "skipped)"]


def test_a_file_that_is_not_utf8(bank: Path) -> None:
    write(bank, P, "id: caf\xe9\n".encode("latin-1"))
    assert problems(bank) == [f"{P}:1: file: not UTF-8 text"]


def test_a_missing_path_raises_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such file or folder"):
        load(tmp_path / "nowhere")


def test_a_problem_prints_as_path_line_field_message() -> None:
    problem = authoring.Problem("a/b.yaml", 12, "options.B.rationale", "missing rationale")
    assert str(problem) == "a/b.yaml:12: options.B.rationale: missing rationale"


# --- markup: rendered safely -----------------------------------------------------------------


def test_render_supports_the_subset() -> None:
    html_out = render("Some *emphasis* and **strong** text.\n\n- one\n- two\n\n3. three\n"
                      "4. four\n\n| Test | Value |\n|:-----|------:|\n| Na | 135 |")
    assert html_out == (
        "<p>Some <em>emphasis</em> and <strong>strong</strong> text.</p>\n"
        "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n<ol start=\"3\">\n<li>three</li>\n"
        "<li>four</li>\n</ol>\n<table>\n<thead>\n<tr>\n<th class=\"align-left\">Test</th>\n"
        "<th class=\"align-right\">Value</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n"
        "<td class=\"align-left\">Na</td>\n<td class=\"align-right\">135</td>\n</tr>\n"
        "</tbody>\n</table>")


@pytest.mark.parametrize(("text", "expected"), [
    ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
    ("<img src=x onerror=alert(1)>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>"),
    ("[click](javascript:alert(1))", "<p>[click](javascript:alert(1))</p>"),
    ("<javascript:alert(1)>", "<p>&lt;javascript:alert(1)&gt;</p>"),
    ("[site](https://example.org)", "<p>[site](https://example.org)</p>"),
    ("![x](https://evil.example/track.png)", "<p></p>"),
    ("# Heading", "<p># Heading</p>"),
    ("    indented", "<p>indented</p>"),
    ("`code`", "<p>`code`</p>"),
    ("> quote", "<p>&gt; quote</p>"),
    ("&lt;b&gt; &amp; &#60;i&#62;", "<p>&lt;b&gt; &amp; &lt;i&gt;</p>"),
])
def test_render_escapes_everything_outside_the_subset(text: str, expected: str) -> None:
    assert render(text) == expected


def test_render_shows_only_the_items_own_images() -> None:
    images = {"chart.png": ImageSource("/exam/assets/abc123", 'A "rising" chart')}
    assert render("![](chart.png) ![](other.png)", images) == (
        '<p><img src="/exam/assets/abc123" alt="A &quot;rising&quot; chart"> </p>')
    # A URL the server would never give (a script) is dropped by the sanitizer.
    assert render("![](chart.png)", {"chart.png": ImageSource("javascript:alert(1)", "x")}) \
        == '<p><img alt="x"></p>'


def test_render_inline_drops_the_paragraph_of_a_one_paragraph_option() -> None:
    assert render("Give *this*", inline=True) == "Give <em>this</em>"
    assert render("One\n\nTwo", inline=True) == "<p>One</p>\n<p>Two</p>"


ALLOWED_TAGS = {"p", "br", "em", "strong", "ul", "ol", "li", "table", "thead", "tbody", "tr",
                "th", "td", "img"}
ALLOWED_ATTRS = {("img", "src"), ("img", "alt"), ("ol", "start"), ("th", "class"),
                 ("td", "class")}


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


MARKUP_PIECES = st.sampled_from([
    "<", ">", "<script>", "</script>", "<img src=x onerror=alert(1)>", "javascript:",
    "[a](", ")", "![](", "chart.png", "x.png", "*", "**", "_", "|", "---", "\n", "\n\n",
    "- ", "1. ", "&", "&#60;", '"', "'", "`", "# ", "    ", "<a href='x'>", "on", "=",
    "style=", "<!--", "-->", "<svg onload=alert(1)>", "data:text/html,", " ", "text",
]) | st.text(alphabet=string.printable, max_size=5)


@settings(max_examples=300, deadline=None)
@given(st.lists(MARKUP_PIECES, max_size=30).map("".join))
def test_render_only_ever_outputs_the_allowed_tags_and_attributes(text: str) -> None:
    images = {"chart.png": ImageSource("/exam/assets/abc", "A chart")}
    parser = _Tags()
    parser.feed(render(text, images))
    for tag, attrs in parser.found:
        assert tag in ALLOWED_TAGS, (text, tag)
        for name, value in attrs:
            assert (tag, name) in ALLOWED_ATTRS, (text, tag, name)
            if name == "src":
                assert value == "/exam/assets/abc"


# --- versions, hashes and the export round trip ----------------------------------------------


def test_the_content_hash_ignores_the_version_but_nothing_else(bank: Path) -> None:
    write(bank, P, ITEM)
    write(bank, S, scenario(2))
    batch = load(bank)
    item = batch.items[0]
    assert item_hash(replace(item, version=7)) == item_hash(item)
    for change in ({"status": Status.OPERATIONAL}, {"difficulty": 0.5}, {"stem": "Other?"},
                   {"key": "C"}, {"enemies": ("TP-0002",)}, {"subdomain": "review"}):
        assert item_hash(replace(item, **change)) != item_hash(item), change
    (scenario_set,) = batch.scenarios
    question = batch.items[1]
    edited = replace(scenario_set, vignette="Mrs Y, 80, lives with her son.")
    # A question's version points at one version of its vignette.
    assert item_hash(question, scenario_hash(edited)) != item_hash(
        question, scenario_hash(scenario_set))


def test_export_then_load_gives_the_same_bank(bank: Path, tmp_path_factory:
                                              pytest.TempPathFactory) -> None:
    write(bank, "assets/chart.png", PNG)
    write(bank, "care/assets/chart.png", PNG)
    write(bank, "care/TP-0001.yaml", ASSET_ITEM.replace(
        "key: B", "key: B\ndifficulty: 0.75\nenemies: [TP-S01-1]"))
    head = SET_HEAD.replace("vignette: |\n  Mr X, 70, lives alone.\n",
                            "assets:\n  - image: chart.png\n    alt: Family tree\n"
                            "vignette: |\n  Mr X, 70, lives alone.\n\n  ![](chart.png)\n\n"
                            "  | a | b |\n  |---|---|\n  | 1 | 2 |\n")
    text = scenario(3, head).replace(
        "    level: application\n", "    level: application\n    status: pretest\n"
        "    author: Other Writer\n    type: direct\n    references: [Own]\n", 1)
    write(bank, "TP-S01.yaml", text)
    before = load(bank)
    assert before.ok, before.problems
    images = {sha: path.read_bytes() for sha, path in before.asset_files.items()}

    out = tmp_path_factory.mktemp("export")
    written = authoring.write_programme(out, before.programmes[0], before.items,
                                        before.scenarios, images)

    assert {p.relative_to(out).as_posix() for p in written} == {
        "tp/programme.yaml", "tp/care/TP-0001.yaml", "tp/care/assets/chart.png",
        "tp/scenarios/TP-S01.yaml", "tp/scenarios/assets/chart.png"}
    after = load(out)
    assert after.problems == ()
    assert after.programmes == before.programmes
    assert sorted(after.items, key=lambda i: i.code) == sorted(before.items,
                                                                key=lambda i: i.code)
    assert after.scenarios == before.scenarios
    exported = (out / "tp" / "scenarios" / "TP-S01.yaml").read_text(encoding="utf-8")
    # Inherited values are written once, at the top of the set.
    assert exported.count("author: Set Writer") == 1
    assert "author: Other Writer" in exported and "type: scenario-based" not in exported


def test_export_refuses_two_images_with_one_name_in_one_folder(bank: Path,
                                                               tmp_path: Path) -> None:
    write(bank, "assets/chart.png", PNG)
    write(bank, P, ASSET_ITEM)
    write(bank, "b/assets/chart.png", PNG + b"different")
    write(bank, "b/TP-0002.yaml", ASSET_ITEM.replace("TP-0001", "TP-0002"))
    batch = load(bank)
    assert batch.ok
    images = {sha: path.read_bytes() for sha, path in batch.asset_files.items()}
    with pytest.raises(ValueError, match="another image is already exported as"):
        authoring.write_programme(tmp_path / "out", batch.programmes[0], batch.items, (),
                                  images)


def test_the_examples_in_the_documentation_are_valid(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    doc = (CONTENT.parents[1] / "docs" / "item-format.md").read_text(encoding="utf-8")
    examples = [block for block in re.findall(r"```yaml\n(.*?)```", doc, re.S)
                if block.startswith("id: ")]
    assert len(examples) == 2
    write(tmp_path, "ccm/programme.yaml",
          (CONTENT / "ccm" / "programme.yaml").read_text(encoding="utf-8"))
    for example in examples:
        code = example.split("\n", 1)[0].removeprefix("id: ")
        write(tmp_path, f"ccm/{code}.yaml", example)
        for image in re.findall(r"image: (\S+)", example):
            write(tmp_path, f"ccm/assets/{image}", PNG)
    batch = load(tmp_path, known_ids={"CCM-CC-0014"})
    assert batch.problems == ()
    assert len(batch.items) == 3 and len(batch.scenarios) == 1
