"""QTI 3.0 exchange with the database (docs/qti.md): the bank or one form out as a package;
a package in as new item versions (exactly as ``items import`` adds them) and draft forms.

The pure work (XML, zip, checks) is item_bank.qti; this module only reads and writes rows.
An import is all or nothing: :class:`QtiRefused` lists every problem, and the caller rolls
back.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from item_bank import qti
from item_bank.model import Item, Programme, ScenarioSet
from item_bank.qti import FormSlot, FormSpec, QtiProblem
from webapp.errors import Invalid
from webapp.models import Form, FormItem, ImageAsset, ItemVersion, Scenario
from webapp.models import Programme as ProgrammeRow
from webapp.services.items import (
    ImportRefused,
    ImportSummary,
    authored_programmes,
    current_bank,
    import_batch,
    item_of,
    programme_of,
    scenario_of,
)


class QtiRefused(Invalid):
    """The package (or its forms, against the bank) has problems; nothing was imported."""

    def __init__(self, problems: Sequence[QtiProblem]) -> None:
        self.problems = tuple(sorted(problems))
        super().__init__(f"{len(self.problems)} problem(s); nothing was imported")


@dataclass(frozen=True)
class FormChange:
    code: str
    change: str  # "new" or "unchanged"
    items: int


@dataclass
class QtiImportSummary:
    items: ImportSummary
    forms: list[FormChange] = field(default_factory=list)


def bank_programmes(session: Session) -> list[Programme]:
    """Every programme of the bank with its domains (the context of an import)."""
    return [programme_of(row) for row in session.scalars(
        select(ProgrammeRow).order_by(ProgrammeRow.code))]


# --- export --------------------------------------------------------------------------------


def _images(session: Session, items: Sequence[Item],
            scenarios: Sequence[ScenarioSet]) -> dict[str, bytes]:
    shas = {i.sha256 for item in items for i in item.images}
    shas |= {i.sha256 for s in scenarios for i in s.images}
    return {a.sha256: a.data for a in session.scalars(
        select(ImageAsset).where(ImageAsset.sha256.in_(shas)))}


def _form_contents(session: Session, form: Form
                   ) -> tuple[list[Item], list[ScenarioSet], FormSpec]:
    """The pinned versions of a form's items, their scenario sets (each whole), the form."""
    code = form.programme.code
    items = [item_of(slot.item, code) for slot in form.items]
    sets: dict[str, Scenario] = {}
    for slot in form.items:
        row = slot.item.scenario
        if row is None:
            continue
        other = sets.setdefault(row.code, row)
        if other.id != row.id:
            raise Invalid(f"form {form.code} pins versions {other.version} and {row.version} of "
                          f"scenario set {row.code}; a package holds one version of each")
    on_form = {i.code for i in items}
    for row in sets.values():
        for question in row.question_codes:
            if question in on_form:
                continue
            # A set travels whole: its other questions, as of this version of the vignette.
            extra = session.scalars(select(ItemVersion).where(
                ItemVersion.code == question, ItemVersion.scenario_id == row.id)
                .order_by(ItemVersion.version.desc())).first()
            if extra is None:
                raise Invalid(f"form {form.code}: question {question} of scenario set "
                              f"{row.code} version {row.version} is not in the bank")
            items.append(item_of(extra, code))
    spec = FormSpec(
        code=form.code, title=form.title, programme=code,
        duration_minutes=form.duration_minutes, shuffle_items=form.shuffle_items,
        shuffle_options=form.shuffle_options,
        slots=tuple(FormSlot(slot.item.code, slot.scored) for slot in form.items))
    return items, [scenario_of(r, code) for r in sets.values()], spec


def export_package(session: Session, target: Path, programme_codes: Collection[str] = (),
                   form_code: str | None = None) -> qti.Written:
    """Write a QTI package: the current bank of each programme (default: every authored
    one), or with ``form_code`` that form and the versions it pins.

    Raises :class:`Invalid` naming an unknown programme or form.
    """
    if form_code is not None:
        form = session.scalar(select(Form).where(Form.code == form_code))
        if form is None:
            raise Invalid(f"no form {form_code!r}")
        items, scenarios, spec = _form_contents(session, form)
        return qti.write_package(target, programmes=[programme_of(form.programme)],
                                 items=items, scenarios=scenarios,
                                 images=_images(session, items, scenarios), forms=[spec])
    rows = authored_programmes(session)
    if programme_codes:
        unknown = sorted(set(programme_codes) - {r.code for r in rows})
        if unknown:
            raise Invalid(f"no authored items for programme(s): {', '.join(unknown)}")
        rows = [r for r in rows if r.code in set(programme_codes)]
    if not rows:
        raise Invalid("the bank has no authored items to export")
    programmes: list[Programme] = []
    items: list[Item] = []
    scenarios: list[ScenarioSet] = []
    for row in rows:
        bank = current_bank(session, row)
        programmes.append(bank.programme)
        items += bank.items
        scenarios += bank.scenarios
    return qti.write_package(target, programmes=programmes, items=items, scenarios=scenarios,
                             images=_images(session, items, scenarios))


# --- import --------------------------------------------------------------------------------


def _import_form(session: Session, package: qti.Package, spec: FormSpec,
                 problems: list[QtiProblem]) -> FormChange | None:
    member = package.form_members.get(spec.code, spec.code)

    def refuse(field_name: str, message: str) -> None:
        problems.append(QtiProblem(package.path, member, field_name, message))

    programme = session.scalar(select(ProgrammeRow).where(ProgrammeRow.code == spec.programme))
    if programme is None:
        refuse("programme", f"unknown programme {spec.programme!r}")
        return None
    rows: list[ItemVersion] = []
    for slot in spec.slots:
        # The latest version has the package's content: import_batch just made sure of it.
        row = session.scalars(select(ItemVersion).where(
            ItemVersion.code == slot.item, ItemVersion.programme_id == programme.id)
            .order_by(ItemVersion.version.desc())).first()
        if row is None:
            refuse("qti-assessment-item-ref", f"item {slot.item} is not in programme "
                                              f"{programme.code}")
            return None
        rows.append(row)
    wanted = [(row.id, slot.scored) for row, slot in zip(rows, spec.slots, strict=True)]
    settings = (spec.title, spec.duration_minutes, spec.shuffle_items, spec.shuffle_options)
    existing = session.scalar(select(Form).where(Form.code == spec.code))
    if existing is not None:
        same = (existing.programme_id == programme.id
                and [(s.item_version_id, s.scored) for s in existing.items] == wanted
                and (existing.title, existing.duration_minutes, existing.shuffle_items,
                     existing.shuffle_options) == settings)
        if not same:
            refuse("identifier", f"form {spec.code} already exists with other content; an "
                                 "import never changes a form: give this one another code")
            return None
        return FormChange(spec.code, "unchanged", len(rows))
    form = Form(programme_id=programme.id, code=spec.code, title=spec.title, published=False,
                duration_minutes=spec.duration_minutes, shuffle_items=spec.shuffle_items,
                shuffle_options=spec.shuffle_options)
    session.add(form)
    session.flush()
    for position, (item_version_id, scored) in enumerate(wanted, start=1):
        session.add(FormItem(form_id=form.id, position=position,
                             item_version_id=item_version_id, scored=scored))
    session.flush()
    return FormChange(spec.code, "new", len(rows))


def import_package(session: Session, package: qti.Package) -> QtiImportSummary:
    """Add the package's items as new versions (only what changed) and its forms as
    unpublished forms pinning those versions. Flushes; the caller commits, or rolls back
    on :class:`QtiRefused`."""
    if not package.ok:
        raise QtiRefused(package.errors)
    try:
        summary = QtiImportSummary(import_batch(session, package.batch))
    except ImportRefused as refused:
        raise QtiRefused([package.locate(p) for p in refused.problems]) from None
    problems: list[QtiProblem] = []
    for spec in package.forms:
        change = _import_form(session, package, spec, problems)
        if change is not None:
            summary.forms.append(change)
    if problems:
        raise QtiRefused(problems)
    return summary


__all__ = ["FormChange", "QtiImportSummary", "QtiRefused", "bank_programmes",
           "export_package", "import_package"]
