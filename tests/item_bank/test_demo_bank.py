"""The demo bank shipped for seed-demo (item_bank.demo) and its loader's error messages."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from item_bank.demo import load_demo_bank, load_file
from item_bank.model import Bank, ItemKind


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load_demo_bank()


def test_the_bank_has_180_items_in_five_named_domains(bank: Bank) -> None:
    assert len(bank.items) == 180
    assert [d.name for d in bank.domains] == [
        "Care Coordination", "Assessment and Planning", "Implementation and Monitoring",
        "Evaluation", "Professional Practice",
    ]
    codes = [d.code for d in bank.domains]
    assert len(set(codes)) == 5
    per_domain = Counter(item.domain for item in bank.items)
    assert set(per_domain) == set(codes)
    assert sum(per_domain.values()) == 180


def test_item_codes_are_unique(bank: Bank) -> None:
    codes = [item.code for item in bank.items]
    assert len(set(codes)) == len(codes)


def test_every_item_has_four_options_and_a_key_among_them(bank: Bank) -> None:
    for item in bank.items:
        ids = [o.id for o in item.options]
        assert len(ids) == 4 and len(set(ids)) == 4, item.code
        assert item.key in ids, item.code
        assert item.stem and all(o.text.strip() for o in item.options), item.code


def test_scenario_sets_have_two_to_four_questions_from_the_bank(bank: Bank) -> None:
    assert len(bank.scenarios) >= 10
    by_code = {item.code: item for item in bank.items}
    in_sets: set[str] = set()
    for scenario in bank.scenarios:
        assert 2 <= len(scenario.questions) <= 4, scenario.code
        assert scenario.vignette.strip(), scenario.code
        for code in scenario.questions:
            item = by_code[code]
            assert item.kind is ItemKind.SCENARIO and item.scenario == scenario.code
        # Authored order: the set's questions are consecutive in the bank.
        positions = [list(by_code).index(code) for code in scenario.questions]
        assert positions == list(range(positions[0], positions[0] + len(positions)))
        in_sets.update(scenario.questions)
    assert {i.code for i in bank.items if i.scenario is not None} == in_sets
    assert len({s.code for s in bank.scenarios}) == len(bank.scenarios)


# --- the loader's errors name the file and the item ----------------------------------------

GOOD_ITEM = """\
  - id: X-001
    stem: "A good question?"
    options: {A: "one", B: "two", C: "three", D: "four"}
    key: B
"""


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text("domain: broken\nname: Broken Domain\n" + body, encoding="utf-8")
    return path


def test_a_good_file_loads(tmp_path: Path) -> None:
    domain, items, scenarios = load_file(_write(tmp_path, "items:\n" + GOOD_ITEM))
    assert (domain.code, domain.name) == ("broken", "Broken Domain")
    assert [(i.code, i.key, i.kind) for i in items] == [("X-001", "B", ItemKind.MCQ)]
    assert scenarios == []


@pytest.mark.parametrize(("body", "message"), [
    (
        "items:\n" + GOOD_ITEM + '  - id: X-002\n    options: {A: "a", B: "b"}\n    key: A\n',
        "broken.yaml: item 2: missing field 'stem'",
    ),
    (
        "items:\n" + GOOD_ITEM + '  - id: X-002\n    stem: "Q?"\n'
        '    options: {A: "a", B: "b", C: "c", D: "d"}\n    key: E\n',
        "broken.yaml: item 2: item X-002: key 'E' is not one of ['A', 'B', 'C', 'D']",
    ),
    (
        'items:\n  - id: X-003\n    stem: "Q?"\n    options: [A, B]\n    key: A\n',
        "broken.yaml: item 1: ",
    ),
    (
        "scenarios:\n  - id: S-9\n    vignette: A case.\n    questions:\n"
        + GOOD_ITEM.replace("  - ", "      - ", 1).replace("\n    ", "\n        "),
        "broken.yaml: scenario S-9: needs a vignette and 2-4 questions",
    ),
    (
        "scenarios:\n  - id: S-8\n    vignette: A case.\n    questions:\n"
        '      - id: X-010\n        stem: "Q?"\n        key: A\n',
        "broken.yaml: scenario S-8 question 1: missing field 'options'",
    ),
])
def test_a_broken_file_names_file_and_item(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        load_file(_write(tmp_path, body))
    assert str(raised.value).startswith(message)


def test_an_item_that_is_not_a_mapping_names_file_and_item(tmp_path: Path) -> None:
    path = _write(tmp_path, "items:\n" + GOOD_ITEM + "  - just a line of text\n")
    with pytest.raises(ValueError, match=r"^broken\.yaml: item 2"):
        load_file(path)


def test_a_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = _write(tmp_path, 'items:\n  - id: X-001\n    stem: "never closed\n    key: A\n')
    with pytest.raises(ValueError) as raised:
        load_file(path)
    assert str(raised.value).startswith("broken.yaml")
    assert "line 5" in str(raised.value)  # the stem's opening quote


def test_a_file_without_its_domain_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nameless.yaml"
    path.write_text("items: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"^nameless\.yaml: needs 'domain' and 'name'"):
        load_file(path)


def test_duplicate_codes_across_files_are_refused(tmp_path: Path) -> None:
    from item_bank.demo import DOMAIN_ORDER

    for n, name in enumerate(DOMAIN_ORDER):
        (tmp_path / f"{name}.yaml").write_text(
            f"domain: d{n}\nname: Domain {n}\nitems:\n{GOOD_ITEM}", encoding="utf-8")
    with pytest.raises(ValueError, match="duplicate item ids: X-001"):
        load_demo_bank(tmp_path)


def test_reflow_joins_wrapped_lines_but_keeps_paragraphs() -> None:
    from item_bank.demo import reflow

    assert reflow("A client\nwho lives\n  alone.\n\nSecond  para.\n") == (
        "A client who lives alone.\n\nSecond para."
    )
    bank = load_demo_bank()
    for text in [s.vignette for s in bank.scenarios] + [i.stem for i in bank.items]:
        assert "\n" not in text.replace("\n\n", "")
