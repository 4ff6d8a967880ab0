"""`flask items export-qti|import-qti` through Flask's CLI runner, on each database: a bank
moved to an empty bank and back, forms with their pinned versions, unsupported content
refused or skipped, and all-or-nothing imports."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from item_bank import authoring, qti
from item_bank.model import ItemKind
from webapp import create_app
from webapp.extensions import db
from webapp.models import Base, Form, FormItem, ImageAsset, ItemVersion, Programme, Scenario
from webapp.services.items import current_bank

CONTENT = Path(__file__).resolve().parents[2] / "item_bank" / "content" / "ccm"
SPEC = Path(__file__).resolve().parents[1] / "item_bank" / "qti_fixtures" / "spec_examples"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 40
ITEM = "care-coordination/CCM-CC-0001.yaml"


@pytest.fixture
def content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The two shipped examples (copied file by file: others add content there), plus an
    item with an image, difficulty and an enemy."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "ccm"
    (folder / "care-coordination" / "assets").mkdir(parents=True)
    (folder / "scenarios").mkdir()
    shutil.copy(CONTENT / "programme.yaml", folder)
    shutil.copy(CONTENT / ITEM, folder / ITEM)
    shutil.copy(CONTENT / "scenarios" / "CCM-S-0001.yaml", folder / "scenarios")
    (folder / "care-coordination" / "assets" / "pathway.png").write_bytes(PNG)
    text = "".join(line for line in (folder / ITEM).read_text(encoding="utf-8")
                   .splitlines(keepends=True) if not line.startswith("difficulty:"))
    text = text.replace("CCM-CC-0001", "CCM-CC-0002").replace(
        "stem: |\n", "difficulty: -0.4\nenemies: [CCM-CC-0001]\nassets:\n"
        "  - image: pathway.png\n    alt: Discharge pathway, from ward to home\n"
        "stem: |\n  ![](pathway.png)\n\n")
    (folder / "care-coordination" / "CCM-CC-0002.yaml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def empty_bank(tmp_path: Path) -> Iterator[Flask]:
    """A second installation on its own (SQLite) database, to move a bank into."""
    other = create_app({"EXAM_ENV": "test", "TESTING": True, "SECRET_KEY": "test-secret",
                        "DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}",
                        "EXPIRY_SWEEP_SECONDS": 0})
    with other.app_context():
        Base.metadata.create_all(db.engine)
    yield other
    with other.app_context():
        db.engine.dispose()


def run(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=["items", *args])


def run_in(other: Flask, *args: str) -> Result:
    """A command of the other installation (the test holds the first one's context, which
    a command would otherwise use)."""
    with other.app_context():
        return run(other, *args)


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def versions(code: str) -> list[int]:
    return list(db.session.scalars(select(ItemVersion.version).where(ItemVersion.code == code)
                                   .order_by(ItemVersion.version)))


def spec_zip(target: Path) -> Path:
    with zipfile.ZipFile(target, "w") as out:
        for path in sorted(SPEC.rglob("*")):
            if path.is_file():
                out.write(path, path.relative_to(SPEC).as_posix())
    return target


def make_form(code: str = "CCM-F1") -> Form:
    """A form pinning the current CCM-CC-0001 and the set's questions (question 2 pretest)."""
    rows = {r.code: r for r in db.session.scalars(select(ItemVersion))}
    form = Form(programme_id=rows["CCM-CC-0001"].programme_id, code=code, title="Form 1",
                published=True, duration_minutes=120, shuffle_items=False)
    db.session.add(form)
    db.session.flush()
    for position, item in enumerate(["CCM-S-0001-1", "CCM-S-0001-2", "CCM-S-0001-3",
                                      "CCM-CC-0001"], start=1):
        db.session.add(FormItem(form_id=form.id, position=position,
                                item_version_id=rows[item].id, scored=item != "CCM-S-0001-2"))
    db.session.commit()
    return form


# --- export, and import into an empty bank ---------------------------------------------------


def test_a_bank_moves_to_an_empty_bank_field_for_field(app: Flask, content: Path,
                                                      empty_bank: Flask) -> None:
    assert run(app, "import", str(content)).exit_code == 0

    exported = run(app, "export-qti", "bank.zip")

    assert exported.exit_code == 0, exported.output
    assert exported.output == "Exported 5 item(s), 1 scenario set(s) and 0 form(s) to bank.zip\n"
    imported = run_in(empty_bank, "import-qti", "bank.zip")
    assert imported.exit_code == 0, imported.output
    assert imported.output.splitlines() == [
        "scenario set CCM-S-0001: version 1 (new)",
        "item CCM-CC-0001: version 1 (new)", "item CCM-CC-0002: version 1 (new)",
        "item CCM-S-0001-1: version 1 (new)", "item CCM-S-0001-2: version 1 (new)",
        "item CCM-S-0001-3: version 1 (new)",
        "Imported 5 item(s), 1 scenario set(s) and 0 form(s): 6 new version(s), 0 problem(s) "
        "skipped"]
    programme = db.session.scalar(select(Programme).where(Programme.code == "CCM"))
    assert programme is not None
    original = current_bank(db.session, programme)
    with empty_bank.app_context():
        moved_programme = db.session.scalar(select(Programme).where(Programme.code == "CCM"))
        assert moved_programme is not None
        moved = current_bank(db.session, moved_programme)
        image = db.session.scalar(select(ImageAsset))
        assert image is not None and image.data == PNG
        hashes = sorted(db.session.scalars(select(ItemVersion.content_hash)))
    assert moved.programme == original.programme
    assert moved.items == original.items and moved.scenarios == original.scenarios
    # The same content hashes: the moved bank's next import of the YAML adds nothing.
    assert hashes == sorted(db.session.scalars(select(ItemVersion.content_hash)))


def test_importing_an_export_again_adds_no_version(app: Flask, content: Path) -> None:
    assert run(app, "import", str(content)).exit_code == 0
    assert run(app, "export-qti", "bank.zip").exit_code == 0
    before = count(ItemVersion), count(Scenario)

    again = run(app, "import-qti", "bank.zip")

    assert again.exit_code == 0, again.output
    assert again.output == ("Imported 5 item(s), 1 scenario set(s) and 0 form(s): 0 new "
                            "version(s), 0 problem(s) skipped\n")
    assert (count(ItemVersion), count(Scenario)) == before


def test_an_edited_item_comes_back_as_a_new_version(app: Flask, content: Path,
                                                    tmp_path: Path) -> None:
    assert run(app, "import", str(content)).exit_code == 0
    assert run(app, "export-qti", "bank.zip").exit_code == 0
    with zipfile.ZipFile("bank.zip") as package, \
            zipfile.ZipFile("edited.zip", "w") as edited:
        for name in package.namelist():
            data = package.read(name)
            if name == "items/CCM-CC-0001.xml":  # as another QTI system would edit it
                data = data.replace(b"Postpone the discharge", b"Delay the discharge")
            edited.writestr(name, data)

    result = run(app, "import-qti", "edited.zip")

    assert result.exit_code == 0, result.output
    assert "item CCM-CC-0001: version 2 (changed)" in result.output
    assert versions("CCM-CC-0001") == [1, 2] and versions("CCM-CC-0002") == [1]
    latest = db.session.scalar(select(ItemVersion).where(ItemVersion.code == "CCM-CC-0001",
                                                         ItemVersion.version == 2))
    assert latest is not None and latest.options[0]["text"].startswith("Delay the discharge")
    assert latest.rationales["A"].startswith("Keeping a medically stable client")


def test_a_form_travels_with_the_versions_it_pins(app: Flask, content: Path,
                                                  empty_bank: Flask) -> None:
    assert run(app, "import", str(content)).exit_code == 0
    make_form()
    text = (content / ITEM).read_text(encoding="utf-8")
    (content / ITEM).write_text(text.replace("Postpone the discharge", "Delay the discharge"),
                                encoding="utf-8")
    assert run(app, "import", str(content)).exit_code == 0  # CCM-CC-0001 version 2

    exported = run(app, "export-qti", "form.zip", "--form", "CCM-F1")
    assert exported.exit_code == 0, exported.output
    assert exported.output == "Exported 4 item(s), 1 scenario set(s) and 1 form(s) to form.zip\n"
    imported = run_in(empty_bank, "import-qti", "form.zip")

    assert imported.exit_code == 0, imported.output
    assert "form CCM-F1: 4 item(s) (new, unpublished)" in imported.output
    with empty_bank.app_context():
        form = db.session.scalar(select(Form).where(Form.code == "CCM-F1"))
        assert form is not None and not form.published
        assert (form.title, form.duration_minutes, form.shuffle_items, form.shuffle_options) \
            == ("Form 1", 120, False, True)
        assert [(s.item.code, s.scored) for s in form.items] == [
            ("CCM-S-0001-1", True), ("CCM-S-0001-2", False), ("CCM-S-0001-3", True),
            ("CCM-CC-0001", True)]
        # The version the form pinned, not the bank's latest.
        assert form.items[3].item.options[0]["text"].startswith("Postpone the discharge")
    assert run_in(empty_bank, "import-qti", "form.zip").output.splitlines()[-2:] == [
        "form CCM-F1: unchanged",
        "Imported 4 item(s), 1 scenario set(s) and 1 form(s): 0 new version(s), 0 "
        "problem(s) skipped"]


def test_a_form_that_exists_with_other_items_refuses_the_whole_package(
        app: Flask, content: Path) -> None:
    assert run(app, "import", str(content)).exit_code == 0
    make_form()
    text = (content / ITEM).read_text(encoding="utf-8")
    (content / ITEM).write_text(text.replace("Postpone the discharge", "Delay the discharge"),
                                encoding="utf-8")
    assert run(app, "import", str(content)).exit_code == 0
    assert run(app, "export-qti", "form.zip", "--form", "CCM-F1").exit_code == 0
    db.session.execute(FormItem.__table__.delete().where(FormItem.position == 4))
    db.session.commit()  # the bank's CCM-F1 now differs from the package's
    before = count(ItemVersion)

    result = run(app, "import-qti", "form.zip")

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "form.zip:tests/CCM-F1.xml: identifier: form CCM-F1 already exists with other "
        "content; an import never changes a form: give this one another code"]
    assert "1 problem(s); nothing was imported" in result.stderr
    assert count(ItemVersion) == before and versions("CCM-CC-0001") == [1, 2]


# --- unsupported content, bad packages --------------------------------------------------------

UNSUPPORTED = [
    "spec.zip:items/text-entry.xml: interaction: unsupported interaction "
    "<qti-text-entry-interaction>: only qti-choice-interaction with one answer is supported",
    "spec.zip:items/text-entry.xml: qti-response-processing: response processing by template "
    "'https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/map_response.xml': only the "
    "match_correct template (one key) is supported",
]


def test_unsupported_content_refuses_the_package_unless_skipped(app: Flask, content: Path,
                                                                tmp_path: Path) -> None:
    assert run(app, "import", str(content)).exit_code == 0  # the programme CCM
    spec_zip(tmp_path / "spec.zip")
    before = count(ItemVersion)

    refused = run(app, "import-qti", "spec.zip")

    assert refused.exit_code == 1
    assert refused.stdout.splitlines() == UNSUPPORTED
    assert ("2 problem(s); nothing was imported (--skip-unsupported imports the supported "
            "items)") in refused.stderr
    assert count(ItemVersion) == before

    skipped = run(app, "import-qti", "spec.zip", "--skip-unsupported")

    assert skipped.exit_code == 0, skipped.output
    assert skipped.stdout.splitlines() == [
        *(f"skipped: {line}" for line in UNSUPPORTED),
        "item CCM-QTI-0001: version 1 (new)",
        "Imported 1 item(s), 0 scenario set(s) and 0 form(s): 1 new version(s), 2 problem(s) "
        "skipped"]
    row = db.session.scalar(select(ItemVersion).where(ItemVersion.code == "CCM-QTI-0001"))
    assert row is not None and row.key == "A" and row.assets[0]["file"] == "sign.png"
    assert row.rationales["D"] == "The sign names no staff."
    image = db.session.get(ImageAsset, row.assets[0]["sha256"])
    assert image is not None
    assert image.data == (SPEC / "items" / "images" / "sign.png").read_bytes()


def test_a_programme_for_items_that_name_none(app: Flask, content: Path,
                                              tmp_path: Path) -> None:
    assert run(app, "import", str(content)).exit_code == 0
    spec_zip(tmp_path / "plain.zip")
    with zipfile.ZipFile("plain.zip") as plain, zipfile.ZipFile("spec.zip", "w") as package:
        for name in plain.namelist():
            data = plain.read(name)
            if name == "imsmanifest.xml":
                data = data.replace(b"<ib:programme>CCM</ib:programme>", b"")
            package.writestr(name, data)

    missing = run(app, "import-qti", "spec.zip", "--skip-unsupported")
    assert missing.exit_code == 1
    assert missing.stdout.splitlines()[0] == (
        "spec.zip:items/choice.xml: programme: missing programme: the package's metadata "
        "names none, and no default was given")

    given = run(app, "import-qti", "spec.zip", "--skip-unsupported", "--programme", "CCM")
    assert given.exit_code == 0, given.output
    assert versions("CCM-QTI-0001") == [1]


def test_a_package_with_a_bad_item_imports_nothing(app: Flask, content: Path,
                                                   tmp_path: Path) -> None:
    batch = authoring.load(content)
    items = [i if i.code != "CCM-CC-0002" else i.__class__(**{
        **i.__dict__, "enemies": ("CCM-CC-0404",)}) for i in batch.items]
    qti.write_package(tmp_path / "bad.zip", programmes=batch.programmes, items=items,
                      scenarios=batch.scenarios,
                      images={sha: p.read_bytes() for sha, p in batch.asset_files.items()})

    result = run(app, "import-qti", "bad.zip", "--skip-unsupported")

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "bad.zip:items/CCM-CC-0002.xml: enemies[1]: enemy 'CCM-CC-0404' does not exist in "
        "this batch or in the bank"]
    assert "1 problem(s); nothing was imported" in result.stderr
    assert count(ItemVersion) == 0 and count(Programme) == 0


def test_an_id_of_another_programme_is_refused(app: Flask, content: Path,
                                               tmp_path: Path) -> None:
    other = Programme(code="OTHER", name="Other programme", warning_minutes=[15, 5])
    db.session.add(other)
    db.session.flush()
    db.session.add(ItemVersion(code="CCM-CC-0001", version=1, programme_id=other.id,
                               domain_code="x", kind=ItemKind.MCQ, stem="?", key="A",
                               options=[{"id": "A", "text": "a"}, {"id": "B", "text": "b"}]))
    db.session.commit()
    batch = authoring.load(content)
    qti.write_package(tmp_path / "bank.zip", programmes=batch.programmes, items=batch.items,
                      scenarios=batch.scenarios,
                      images={sha: p.read_bytes() for sha, p in batch.asset_files.items()})

    result = run(app, "import-qti", "bank.zip")

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "bank.zip:items/CCM-CC-0001.xml: id: id 'CCM-CC-0001' is already used in the bank by "
        "programme OTHER"]
    assert count(Programme) == 1 and versions("CCM-CC-0002") == []


def test_a_hostile_package_is_refused(app: Flask, content: Path, tmp_path: Path) -> None:
    spec_zip(tmp_path / "evil.zip")
    with zipfile.ZipFile("evil.zip", "a") as package:
        package.writestr("../../evil.txt", b"owned")

    result = run(app, "import-qti", "evil.zip")

    assert result.exit_code == 1
    assert ("evil.zip: refused: unsafe entry '../../evil.txt': a path outside the package "
            "('..')") in result.stderr
    assert not (tmp_path.parent / "evil.txt").exists() and count(ItemVersion) == 0


@pytest.mark.parametrize(("args", "message"), [
    (("out.txt",), "out.txt: a QTI package is a .zip file"),
    (("out.zip", "--programme", "CCM", "--form", "F"), "give --programme or --form, not both"),
    (("out.zip", "--programme", "NOPE"), "no authored items for programme(s): NOPE"),
    (("out.zip", "--form", "NOPE"), "no form 'NOPE'"),
])
def test_export_qti_names_what_is_wrong(app: Flask, content: Path, args: tuple[str, ...],
                                        message: str) -> None:
    assert run(app, "import", str(content)).exit_code == 0
    result = run(app, "export-qti", *args)
    assert result.exit_code == 1 and message in result.stderr
    assert not Path("out.zip").exists()


def test_export_qti_does_not_overwrite_unless_asked(app: Flask, content: Path) -> None:
    empty = run(app, "export-qti", "bank.zip")
    assert empty.exit_code == 1 and "the bank has no authored items to export" in empty.stderr
    assert run(app, "import", str(content)).exit_code == 0
    assert run(app, "export-qti", "bank.zip").exit_code == 0
    refused = run(app, "export-qti", "bank.zip")
    assert refused.exit_code == 1
    assert "bank.zip exists; choose another name or pass --overwrite" in refused.stderr
    assert run(app, "export-qti", "bank.zip", "--overwrite").exit_code == 0
