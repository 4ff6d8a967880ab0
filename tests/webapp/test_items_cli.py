"""`flask items validate|import|export` through Flask's CLI runner, on each database:
all-or-nothing imports, immutable versions, pinned forms and the export round trip."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from item_bank import authoring
from item_bank.model import CognitiveLevel, ItemKind, QuestionType, Status
from webapp.extensions import db
from webapp.models import (
    ContentDomain,
    Form,
    FormItem,
    ImageAsset,
    ItemVersion,
    Programme,
    Scenario,
)

CONTENT = Path(__file__).resolve().parents[2] / "item_bank" / "content" / "ccm"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 40
ITEM = "care-coordination/CCM-CC-0001.yaml"
SET = "scenarios/CCM-S-0001.yaml"


@pytest.fixture
def content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped programme file and its two documented examples, plus an item with an
    image (the shipped content keeps growing; these tests count files)."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "ccm"
    for name in ("programme.yaml", ITEM, SET):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        # Without the banked difficulties, so the line numbers below stay put.
        text = (CONTENT / name).read_text(encoding="utf-8")
        (folder / name).write_text("".join(
            line for line in text.splitlines(keepends=True)
            if not line.lstrip().startswith("difficulty:")), encoding="utf-8")
    (folder / "care-coordination" / "assets").mkdir()
    (folder / "care-coordination" / "assets" / "pathway.png").write_bytes(PNG)
    text = (folder / ITEM).read_text(encoding="utf-8")
    text = text.replace("CCM-CC-0001", "CCM-CC-9002").replace(
        "stem: |\n", "difficulty: -0.4\nenemies: [CCM-CC-0001]\nassets:\n"
        "  - image: pathway.png\n    alt: Discharge pathway, from ward to home\n"
        "stem: |\n  ![](pathway.png)\n\n")
    (folder / "care-coordination" / "CCM-CC-9002.yaml").write_text(text, encoding="utf-8")
    return folder


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["items", *args])


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def versions(code: str) -> list[int]:
    return list(db.session.scalars(select(ItemVersion.version).where(ItemVersion.code == code)
                                   .order_by(ItemVersion.version)))


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


# --- validate ------------------------------------------------------------------------------


def test_validate_accepts_a_good_batch(app: Flask, content: Path) -> None:
    result = run(app, "validate", str(content))
    assert result.exit_code == 0, result.output
    assert result.output == "OK: 4 file(s): 5 item(s), 1 scenario set(s)\n"


def test_validate_prints_every_problem_and_fails(app: Flask, content: Path) -> None:
    edit(content / ITEM, "key: B", "key: [B, C]")
    edit(content / ITEM, "subdomain: benefits-reimbursement", "subdomain: billing")
    edit(content / SET, "    level: application\n", "    level: application\n    status: new\n")

    result = run(app, "validate", str(content))

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "ccm/care-coordination/CCM-CC-0001.yaml:6: subdomain: unknown sub-domain 'billing' of "
        "domain care-coordination; expected one of transitions-of-care, utilisation-review, "
        "benefits-reimbursement, levels-of-care, community-resources, "
        "interprofessional-collaboration",
        "ccm/care-coordination/CCM-CC-0001.yaml:45: key: two keys (B, C): exactly one option "
        "must be the key",
        "ccm/scenarios/CCM-S-0001.yaml:62: questions[2].status: unknown value 'new'; expected "
        "one of draft, review, approved, pretest, operational, retired",
    ]
    assert "Error: 3 problem(s) in 4 file(s)" in result.stderr


def test_validate_accepts_an_enemy_that_is_already_in_the_bank(app: Flask,
                                                               content: Path) -> None:
    assert run(app, "import", str(content)).exit_code == 0
    only = content.parent / "only"
    only.mkdir()
    shutil.copy(content / "programme.yaml", only)
    shutil.copytree(content / "care-coordination", only / "cc")
    (only / "cc" / "CCM-CC-0001.yaml").unlink()  # CCM-CC-9002's enemy is now only in the bank

    result = run(app, "validate", str(only))

    assert result.exit_code == 0, result.output


def test_validate_works_before_the_database_exists(content: Path, tmp_path: Path) -> None:
    from webapp import create_app

    app = create_app({"EXAM_ENV": "test", "TESTING": True, "SECRET_KEY": "test-secret",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'never-migrated.db'}",
                      "EXPIRY_SWEEP_SECONDS": 0})
    with app.app_context():
        result = run(app, "validate", str(content))
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert "note: no item bank in the database; enemies are checked within PATH only" in \
        result.stderr
    assert result.stdout == "OK: 4 file(s): 5 item(s), 1 scenario set(s)\n"


def test_validate_names_a_missing_path(app: Flask, tmp_path: Path) -> None:
    result = run(app, "validate", str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and "does not exist" in result.stderr


# --- import --------------------------------------------------------------------------------


def test_import_stores_every_field(app: Flask, content: Path) -> None:
    result = run(app, "import", str(content))

    assert result.exit_code == 0, result.output
    assert "item CCM-CC-9002: version 1 (new)" in result.output
    assert result.output.endswith("6 new version(s), 0 item(s) and 0 scenario set(s) "
                                  "unchanged\n")
    programme = db.session.scalar(select(Programme).where(Programme.code == "CCM"))
    assert programme is not None and programme.name == "Certified Case Manager"
    domains = list(db.session.scalars(select(ContentDomain).where(
        ContentDomain.programme_id == programme.id).order_by(ContentDomain.position)))
    assert [d.name for d in domains] == [
        "Care Coordination", "Assessment and Planning", "Implementation and Monitoring",
        "Evaluation", "Professional Practice"]
    assert {"code": "transitions-of-care", "name": "Transitions of care"} in \
        domains[0].subdomains

    row = db.session.scalar(select(ItemVersion).where(ItemVersion.code == "CCM-CC-9002"))
    assert row is not None
    assert (row.version, row.programme_id, row.domain_code, row.subdomain_code) == (
        1, programme.id, "care-coordination", "benefits-reimbursement")
    assert (row.kind, row.question_type, row.cognitive_level, row.status) == (
        ItemKind.MCQ, QuestionType.BEST_PRACTICE, CognitiveLevel.APPLICATION, Status.DRAFT)
    assert row.key == "B" and [o["id"] for o in row.options] == ["A", "B", "C", "D"]
    assert set(row.options[0]) == {"id", "text"}  # rationales are kept apart from options
    assert row.rationales["B"].startswith("Correct.")
    assert row.author == "Item writing team A" and len(row.references) == 2
    assert row.enemies == ["CCM-CC-0001"] and row.difficulty == -0.4
    (asset,) = row.assets
    assert (asset["file"], asset["alt"], asset["media_type"]) == (
        "pathway.png", "Discharge pathway, from ward to home", "image/png")
    stored = db.session.get(ImageAsset, asset["sha256"])
    assert stored is not None and stored.data == PNG and stored.size == len(PNG)
    assert row.content_hash and len(row.content_hash) == 64

    scenario = db.session.scalar(select(Scenario).where(Scenario.code == "CCM-S-0001"))
    assert scenario is not None
    assert scenario.question_codes == ["CCM-S-0001-1", "CCM-S-0001-2", "CCM-S-0001-3"]
    assert (scenario.programme_id, scenario.status, scenario.author) == (
        programme.id, Status.DRAFT, "Item writing team A")
    questions = list(db.session.scalars(select(ItemVersion).where(
        ItemVersion.scenario_id == scenario.id).order_by(ItemVersion.code)))
    assert [(q.code, q.kind, q.question_type) for q in questions] == [
        (f"CCM-S-0001-{n}", ItemKind.SCENARIO, QuestionType.SCENARIO_BASED) for n in (1, 2, 3)]


def test_importing_again_adds_no_version(app: Flask, content: Path) -> None:
    assert run(app, "import", str(content)).exit_code == 0
    before = (count(ItemVersion), count(Scenario), count(ImageAsset))

    result = run(app, "import", str(content))

    assert result.exit_code == 0, result.output
    assert "0 new version(s), 5 item(s) and 1 scenario set(s) unchanged" in result.output
    assert (count(ItemVersion), count(Scenario), count(ImageAsset)) == before


def test_an_edited_item_gets_a_new_version_and_the_rest_stay(app: Flask,
                                                             content: Path) -> None:
    assert run(app, "import", str(content)).exit_code == 0
    edit(content / ITEM, "What should the case manager do *first*?",
         "What should the case manager do **first**?")

    result = run(app, "import", str(content))

    assert result.exit_code == 0, result.output
    assert "item CCM-CC-0001: version 2 (changed)" in result.output
    assert "1 new version(s), 4 item(s) and 1 scenario set(s) unchanged" in result.output
    assert versions("CCM-CC-0001") == [1, 2]
    assert versions("CCM-CC-9002") == [1]
    old, new = db.session.scalars(select(ItemVersion).where(
        ItemVersion.code == "CCM-CC-0001").order_by(ItemVersion.version))
    assert "*first*" in old.stem and "**first**" in new.stem


def test_a_status_change_is_a_new_version_too(app: Flask, content: Path) -> None:
    assert run(app, "import", str(content)).exit_code == 0
    edit(content / ITEM, "status: draft", "status: review")
    assert run(app, "import", str(content)).exit_code == 0
    rows = list(db.session.scalars(select(ItemVersion).where(
        ItemVersion.code == "CCM-CC-0001").order_by(ItemVersion.version)))
    assert [(r.version, r.status) for r in rows] == [(1, Status.DRAFT), (2, Status.REVIEW)]


def test_an_edited_vignette_versions_the_set_and_each_of_its_questions(
        app: Flask, content: Path) -> None:
    assert run(app, "import", str(content)).exit_code == 0
    edit(content / SET, "Mr Daniel Okafor, 67,", "Mr Daniel Okafor, 68,")

    result = run(app, "import", str(content))

    assert result.exit_code == 0, result.output
    assert "scenario set CCM-S-0001: version 2 (changed)" in result.output
    sets = list(db.session.scalars(select(Scenario).where(Scenario.code == "CCM-S-0001")
                                   .order_by(Scenario.version)))
    assert [s.version for s in sets] == [1, 2] and "68" in sets[1].vignette
    for n in (1, 2, 3):
        rows = list(db.session.scalars(select(ItemVersion).where(
            ItemVersion.code == f"CCM-S-0001-{n}").order_by(ItemVersion.version)))
        assert [(r.version, r.scenario_id) for r in rows] == [(1, sets[0].id), (2, sets[1].id)]
    assert versions("CCM-CC-0001") == [1]


def test_a_published_form_keeps_its_pinned_version(app: Flask, content: Path) -> None:
    assert run(app, "import", str(content)).exit_code == 0
    v1 = db.session.scalar(select(ItemVersion).where(ItemVersion.code == "CCM-CC-0001"))
    assert v1 is not None
    programme_id, v1_id, v1_stem = v1.programme_id, v1.id, v1.stem
    form = Form(programme_id=programme_id, code="CCM-F1", title="Form 1", published=True)
    db.session.add(form)
    db.session.flush()
    db.session.add(FormItem(form_id=form.id, position=1, item_version_id=v1_id))
    db.session.commit()
    edit(content / ITEM, "Postpone the discharge", "Delay the discharge")

    assert run(app, "import", str(content)).exit_code == 0

    db.session.expire_all()
    slot = db.session.scalar(select(FormItem).where(FormItem.form_id == form.id))
    assert slot is not None and slot.item_version_id == v1_id
    assert slot.item.version == 1 and slot.item.stem == v1_stem
    assert slot.item.options[0]["text"].startswith("Postpone the discharge")
    assert versions("CCM-CC-0001") == [1, 2]


def test_a_bad_batch_imports_nothing(app: Flask, content: Path) -> None:
    edit(content / SET, "    key: C\n", "")  # one question of the set has no key

    result = run(app, "import", str(content))

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "ccm/scenarios/CCM-S-0001.yaml:57: questions[2].key: missing key: exactly one option "
        "must be the key"]
    assert "Error: 1 problem(s); nothing was imported" in result.stderr
    assert (count(Programme), count(ItemVersion), count(Scenario), count(ImageAsset)) == (
        0, 0, 0, 0)


def test_a_bad_edit_leaves_the_bank_as_it_was(app: Flask, content: Path) -> None:
    assert run(app, "import", str(content)).exit_code == 0
    edit(content / ITEM, "What should", "What *really* should")  # a good change...
    edit(content / SET, "domain: care-coordination", "domain: coordination")  # ...and a bad one

    result = run(app, "import", str(content))

    assert result.exit_code == 1
    assert versions("CCM-CC-0001") == [1] and count(Scenario) == 1


def test_an_id_of_another_programme_is_refused(app: Flask, content: Path) -> None:
    other = Programme(code="OTHER", name="Other programme", warning_minutes=[15, 5])
    db.session.add(other)
    db.session.flush()
    db.session.add(ItemVersion(code="CCM-CC-0001", version=1, programme_id=other.id,
                               domain_code="x", kind=ItemKind.MCQ, stem="?", key="A",
                               options=[{"id": "A", "text": "a"}, {"id": "B", "text": "b"}]))
    db.session.commit()

    result = run(app, "import", str(content))

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "ccm/care-coordination/CCM-CC-0001.yaml:2: id: id 'CCM-CC-0001' is already used in "
        "the bank by programme OTHER"]
    assert count(Programme) == 1 and versions("CCM-CC-9002") == []


# --- export --------------------------------------------------------------------------------


def test_export_validate_import_round_trip_adds_no_version(app: Flask, content: Path,
                                                          tmp_path: Path) -> None:
    assert run(app, "import", str(content)).exit_code == 0
    rows_before = count(ItemVersion), count(Scenario)

    exported = run(app, "export", str(tmp_path / "out"))
    assert exported.exit_code == 0, exported.output
    assert exported.output == f"Exported 5 file(s) to {tmp_path / 'out'}\n"
    assert run(app, "validate", str(tmp_path / "out")).exit_code == 0
    again = run(app, "import", str(tmp_path / "out"))

    assert again.exit_code == 0, again.output
    assert "0 new version(s), 5 item(s) and 1 scenario set(s) unchanged" in again.output
    assert (count(ItemVersion), count(Scenario)) == rows_before
    # Field for field, the export is the batch that was imported.
    original, copy = authoring.load(content), authoring.load(tmp_path / "out")
    assert copy.programmes == original.programmes
    assert copy.scenarios == original.scenarios
    assert sorted(copy.items, key=lambda i: i.code) == sorted(original.items,
                                                              key=lambda i: i.code)
    assert (tmp_path / "out" / "ccm" / "care-coordination" / "assets" / "pathway.png"
            ).read_bytes() == PNG


def test_export_writes_the_latest_versions(app: Flask, content: Path, tmp_path: Path) -> None:
    assert run(app, "import", str(content)).exit_code == 0
    edit(content / ITEM, "Postpone the discharge", "Delay the discharge")
    assert run(app, "import", str(content)).exit_code == 0

    assert run(app, "export", str(tmp_path / "out")).exit_code == 0

    text = (tmp_path / "out" / "ccm" / ITEM).read_text(encoding="utf-8")
    assert "version: 2" in text and "Delay the discharge" in text


def test_export_does_not_overwrite_unless_asked(app: Flask, content: Path,
                                               tmp_path: Path) -> None:
    assert run(app, "import", str(content)).exit_code == 0
    assert run(app, "export", str(tmp_path / "out")).exit_code == 0

    refused = run(app, "export", str(tmp_path / "out"))
    assert refused.exit_code == 1
    assert "is not empty; export into a new folder or pass --overwrite" in refused.stderr
    assert run(app, "export", str(tmp_path / "out"), "--overwrite").exit_code == 0


def test_export_of_an_unknown_programme_or_an_empty_bank(app: Flask, tmp_path: Path) -> None:
    empty = run(app, "export", str(tmp_path / "out"))
    assert empty.exit_code == 1
    assert "the bank has no authored items to export" in empty.stderr
    unknown = run(app, "export", str(tmp_path / "out"), "--programme", "NOPE")
    assert unknown.exit_code == 1
    assert "no authored items for programme(s): NOPE" in unknown.stderr
    assert not (tmp_path / "out").exists()
