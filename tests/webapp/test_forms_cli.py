"""`flask forms assemble|publish` and webapp/services/forms.py on a small bank (24 items of
the reference content, imported with `items import`) and a small blueprint: stored forms
pin the current versions, keep the assembler's roles and report, and refuse what they must."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from item_bank.blueprint import load_blueprint
from webapp.errors import Conflict, Invalid
from webapp.extensions import db
from webapp.models import AuditLog, Form, FormItem, ItemVersion
from webapp.services.forms import assemble_forms, delete_form, form_by_code

CONTENT = Path(__file__).resolve().parents[2] / "item_bank" / "content" / "ccm"
OPERATIONAL = [f"{folder}/CCM-{prefix}-{n:04d}.yaml" for folder, prefix, numbers in (
    ("care-coordination", "CC", (2, 3, 6, 10)),
    ("assessment-planning", "AP", (2, 3, 7, 8)),
    ("implementation-monitoring", "IM", (2, 3, 8, 9)),
    ("evaluation", "EV", (2, 3, 4, 6)),
    ("professional-practice", "PP", (2, 3, 5, 6)),
) for n in numbers]
PRETEST = ["care-coordination/CCM-CC-0007.yaml", "assessment-planning/CCM-AP-0006.yaml",
           "evaluation/CCM-EV-0005.yaml", "implementation-monitoring/CCM-IM-0006.yaml"]
NO_DIFFICULTY = "assessment-planning/CCM-AP-0006.yaml"  # a pretest item: may lack one

BLUEPRINT = """\
programme: CCM
scored: 10
pretest: 2
duration_minutes: 20
domains:
  care-coordination: 20
  assessment-planning: 20
  implementation-monitoring: 20
  evaluation: 20
  professional-practice: 20
question_types:
  direct: {percent: 50, tolerance: 30}
  best-practice: {percent: 50, tolerance: 30}
anchor:
  size: 5
information:
  cut: 0.0
  offsets: [-0.5, 0.0, 0.5]
  target: [2.0, 2.1, 2.0]
  tolerance: 0.5
"""


def _copy(folder: Path, name: str, *, difficulty: bool = True) -> None:
    text = (CONTENT / name).read_text(encoding="utf-8")
    if not difficulty:
        text = "".join(line for line in text.splitlines(keepends=True)
                       if not line.startswith("difficulty:"))
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def import_small_bank(app: Flask, tmp_path: Path) -> Path:
    """Import the small bank (through `items import`); returns the small blueprint's file."""
    folder = tmp_path / "ccm"
    _copy(folder, "programme.yaml")
    for name in OPERATIONAL + PRETEST:
        _copy(folder, name, difficulty=name != NO_DIFFICULTY)
    result = app.test_cli_runner().invoke(args=["items", "import", str(folder)])
    assert result.exit_code == 0, result.output
    blueprint = tmp_path / "small.yaml"
    blueprint.write_text(BLUEPRINT, encoding="utf-8")
    return blueprint


@pytest.fixture
def bank(app: Flask, tmp_path: Path) -> Path:
    return import_small_bank(app, tmp_path)


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["forms", *args])


def forms_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Form)) or 0


def slots(code: str) -> list[FormItem]:
    return list(form_by_code(db.session, code).items)


def test_assemble_stores_unpublished_forms_with_roles_and_report(
        app: Flask, bank: Path) -> None:
    result = run(app, "assemble", "--programme", "CCM", "--count", "2", "--seed", "1",
                 "--blueprint", str(bank))

    assert result.exit_code == 0, result.output
    assert "CCM: 2 form(s), seed 1" in result.output
    assert "Stored 2 unpublished form(s): CCM-1-A, CCM-1-B" in result.output
    db.session.expire_all()
    a, b = form_by_code(db.session, "CCM-1-A"), form_by_code(db.session, "CCM-1-B")
    for form in (a, b):
        assert not form.published
        assert form.duration_minutes == 20
        assert len(form.items) == 12
        assert [fi.position for fi in form.items] == list(range(1, 13))
        pretest = [fi for fi in form.items if not fi.scored]
        assert len(pretest) == 2
        assert {fi.item.status.value for fi in pretest} == {"pretest"}
        assert all(fi.item.status.value == "operational" for fi in form.items if fi.scored)
        assert sum(fi.anchor for fi in form.items) == 5
        assert not any(fi.anchor and not fi.scored for fi in form.items)
        assert form.assembly is not None
        domains = {c["name"]: c for c in form.assembly["checks"] if c["kind"] == "domain"}
        assert set(domains) == {"care-coordination", "assessment-planning",
                                "implementation-monitoring", "evaluation",
                                "professional-practice"}
        assert all(c["achieved"] == c["target"] == 2 and c["ok"] for c in domains.values())
        assert len([c for c in form.assembly["checks"] if c["kind"] == "information"]) == 3
        assert form.assembly["report"].startswith("CCM: 2 form(s), seed 1")
    anchor_a = {fi.item.code for fi in a.items if fi.anchor}
    assert anchor_a == {fi.item.code for fi in b.items if fi.anchor}
    rest_a = {fi.item.code for fi in a.items if fi.scored and not fi.anchor}
    rest_b = {fi.item.code for fi in b.items if fi.scored and not fi.anchor}
    assert not rest_a & rest_b
    # Two forms need all four pretest items: the one without a banked difficulty too.
    assert "CCM-AP-0006" in {fi.item.code for f in (a, b) for fi in f.items if not fi.scored}


def test_forms_pin_the_current_item_versions(app: Flask, bank: Path, tmp_path: Path) -> None:
    # A second version of one item: forms assembled afterwards pin it.
    folder = tmp_path / "ccm"
    name = folder / OPERATIONAL[0]
    name.write_text(name.read_text(encoding="utf-8").replace("version: 1", "version: 2", 1)
                    .replace("stem: |\n", "stem: |\n  Revised.\n", 1), encoding="utf-8")
    assert app.test_cli_runner().invoke(args=["items", "import", str(folder)]).exit_code == 0

    _, forms = assemble_forms(db.session, "CCM", 2, 3, blueprint=load_blueprint(bank))

    pinned = {fi.item.code: fi.item.version for f in forms for fi in f.items}
    assert pinned.get("CCM-CC-0002", 2) == 2
    latest = dict(db.session.execute(select(ItemVersion.code, func.max(ItemVersion.version))
                                     .group_by(ItemVersion.code)).all())
    assert all(latest[code] == version for code, version in pinned.items())


def test_an_existing_code_is_refused_and_nothing_is_stored(app: Flask, bank: Path) -> None:
    assert run(app, "assemble", "--programme", "CCM", "--count", "1", "--seed", "4",
               "--blueprint", str(bank)).exit_code == 0

    result = run(app, "assemble", "--programme", "CCM", "--count", "2", "--seed", "4",
                 "--blueprint", str(bank))

    assert result.exit_code != 0
    assert "CCM-4-A already exist" in result.output
    db.session.expire_all()
    assert forms_count() == 1


def test_anchor_from_reuses_the_base_forms_anchor(app: Flask, bank: Path) -> None:
    _, (base,) = assemble_forms(db.session, "CCM", 1, 5, blueprint=load_blueprint(bank))
    db.session.commit()

    result = run(app, "assemble", "--programme", "CCM", "--count", "1", "--seed", "6",
                 "--anchor-from", "CCM-5-A", "--blueprint", str(bank))

    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert ({fi.item.code for fi in slots("CCM-6-A") if fi.anchor}
            == {fi.item.code for fi in slots("CCM-5-A") if fi.anchor})
    assert form_by_code(db.session, "CCM-6-A").assembly["anchor_from"] == "CCM-5-A"


@pytest.mark.parametrize(("args", "message"), [
    (("--anchor-from", "CCM-99-Z"), "no form 'CCM-99-Z'"),
    (("--programme", "XYZ"), "no programme 'XYZ'"),
])
def test_bad_arguments_are_named(app: Flask, bank: Path, args: tuple[str, ...],
                                 message: str) -> None:
    result = run(app, "assemble", "--programme", "CCM", "--seed", "7", "--blueprint",
                 str(bank), *args)

    assert result.exit_code != 0
    assert message in result.output
    assert forms_count() == 0


def test_a_bank_too_small_for_the_blueprint_says_what_is_short(
        app: Flask, bank: Path) -> None:
    bank.write_text(BLUEPRINT.replace("scored: 10", "scored: 30"), encoding="utf-8")

    result = run(app, "assemble", "--programme", "CCM", "--count", "2", "--seed", "1",
                 "--blueprint", str(bank))

    assert result.exit_code != 0
    assert "the bank cannot fill 2 forms of CCM" in result.output
    assert "care-coordination" in result.output
    assert forms_count() == 0


def test_an_operational_item_without_difficulty_is_named(
        app: Flask, bank: Path, tmp_path: Path) -> None:
    db.session.execute(ItemVersion.__table__.update().where(
        ItemVersion.code.in_(["CCM-EV-0004", "CCM-PP-0005"])).values(difficulty=None))
    db.session.commit()

    with pytest.raises(Invalid, match="2 operational item.*CCM-EV-0004, CCM-PP-0005"):
        assemble_forms(db.session, "CCM", 1, 1, blueprint=load_blueprint(bank))
    result = run(app, "assemble", "--programme", "CCM", "--blueprint", str(bank))
    assert result.exit_code != 0
    assert "no banked difficulty: CCM-EV-0004, CCM-PP-0005" in result.output


def test_publish_locks_the_form(app: Flask, bank: Path) -> None:
    assert run(app, "assemble", "--programme", "CCM", "--count", "2", "--seed", "8",
               "--blueprint", str(bank)).exit_code == 0

    result = run(app, "publish", "CCM-8-A")

    assert result.exit_code == 0, result.output
    assert "Published form CCM-8-A (12 items)" in result.output
    db.session.expire_all()
    form = form_by_code(db.session, "CCM-8-A")
    assert form.published
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "form.published"))
    assert [(e.target, e.data["items"]) for e in entry] == [("CCM-8-A", 12)]
    again = run(app, "publish", "CCM-8-A")
    assert again.exit_code != 0
    assert "form CCM-8-A is published" in again.output
    with pytest.raises(Conflict, match="is published"):
        delete_form(db.session, form, None)
    with pytest.raises(Conflict, match="CCM-8-A"):
        assemble_forms(db.session, "CCM", 1, 8, blueprint=load_blueprint(bank))
    # An unpublished form may be deleted, and then assembled again.
    delete_form(db.session, form_by_code(db.session, "CCM-8-B"), None)
    db.session.commit()
    assert forms_count() == 1
    missing = run(app, "publish", "CCM-8-B")
    assert missing.exit_code != 0
    assert "no form 'CCM-8-B'" in missing.output


def test_the_reference_bank_gives_two_parallel_forms(app: Flask) -> None:
    """The shipped 376-item bank and blueprint (scenario sets included), as the issue runs
    it: `forms assemble --programme CCM --count 2 --seed 1`."""
    imported = app.test_cli_runner().invoke(args=["items", "import", str(CONTENT)])
    assert imported.exit_code == 0, imported.output

    result = run(app, "assemble", "--programme", "CCM", "--count", "2", "--seed", "1")

    assert result.exit_code == 0, result.output
    assert "Stored 2 unpublished form(s): CCM-1-A, CCM-1-B" in result.output
    db.session.rollback()
    anchors = []
    for code in ("CCM-1-A", "CCM-1-B"):
        form = form_by_code(db.session, code)
        assert len(form.items) == 180
        assert sum(fi.scored for fi in form.items) == 150
        assert sum(fi.anchor for fi in form.items) == 30
        assert form.assembly is not None and form.assembly["ok"]
        # Scenario sets stay whole and contiguous on the stored form.
        sets: dict[str, list[int]] = {}
        for fi in form.items:
            if fi.item.scenario is not None:
                sets.setdefault(fi.item.scenario.code, []).append(fi.position)
        assert sets
        assert all(p[-1] - p[0] == len(p) - 1 for p in sets.values())
        anchors.append({fi.item_version_id for fi in form.items if fi.anchor})
    assert anchors[0] == anchors[1]
