"""Assembling forms from the item bank in the database, and publishing them.

:func:`pool_of` adapts the current bank (webapp/services/items.py) to the pure assembler's
``PoolItem`` (item_bank/assembly.py, docs/assembly.md); :func:`assemble_forms` runs it and
stores each form unpublished, pinning the current item versions, with the assembly report.
:func:`publish_form` locks a form: a published form is never re-assembled, changed or
deleted (attempts pin it).
"""

from __future__ import annotations

import string
from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from item_bank.assembly import AssemblyError, AssemblyResult, PoolItem, Role, assemble
from item_bank.blueprint import Blueprint, BlueprintError, blueprint_path, load_blueprint
from item_bank.model import Status
from webapp import dialect
from webapp.errors import Conflict, Invalid, NotFound
from webapp.models import Form, FormItem, User
from webapp.models import Programme as ProgrammeRow
from webapp.services.audit import audit
from webapp.services.items import StoredBank, current_bank

MAX_FORMS = len(string.ascii_uppercase)  # form codes end in one letter: A-Z


def programme_by_code(session: Session, code: str) -> ProgrammeRow:
    row = session.scalar(select(ProgrammeRow).where(ProgrammeRow.code == code))
    if row is None:
        raise NotFound(f"no programme {code!r}")
    return row


def pool_of(session: Session, programme: ProgrammeRow) -> list[PoolItem]:
    """The current authored items of ``programme`` as assembly sees them."""
    return _pool(current_bank(session, programme), programme)


def _pool(bank: StoredBank, programme: ProgrammeRow) -> list[PoolItem]:
    """A pretest item (or one that assembly ignores) without a banked difficulty counts as
    0.0: it is not scored, so its difficulty does not enter the information. An operational
    item without one cannot be placed; all of them are named."""
    missing = [i.code for i in bank.items
               if i.status is Status.OPERATIONAL and i.difficulty is None]
    if missing:
        raise Invalid(f"{len(missing)} operational item(s) of {programme.code} have no banked "
                      f"difficulty: {', '.join(missing)}; calibrate them first")
    return [PoolItem(id=i.code, domain=i.domain, subdomain=i.subdomain,
                     type=i.question_type.value, status=i.status.value,
                     b=i.difficulty if i.difficulty is not None else 0.0,
                     scenario=i.scenario, enemies=i.enemies)
            for i in bank.items if i.question_type is not None and i.status is not None]


def blueprint_of(programme: ProgrammeRow) -> Blueprint:
    """The programme's shipped blueprint, checked against its domains."""
    try:
        return load_blueprint(blueprint_path(programme.code),
                              domains=[d.code for d in programme.domains])
    except BlueprintError as err:
        raise Invalid("\n".join(str(p) for p in err.problems)) from None
    except ValueError as err:
        raise Invalid(f"programme {programme.code} has no blueprint: {err}") from None


def form_codes(programme_code: str, seed: int, count: int) -> list[str]:
    return [f"{programme_code}-{seed}-{string.ascii_uppercase[n]}" for n in range(count)]


def _anchor_of(session: Session, programme: ProgrammeRow, code: str) -> list[str]:
    base = session.scalar(select(Form).where(Form.code == code))
    if base is None:
        raise NotFound(f"no form {code!r} to take the anchor from")
    if base.programme_id != programme.id:
        raise Invalid(f"form {code} belongs to another programme than {programme.code}")
    anchor = [fi.item.code for fi in base.items if fi.anchor]
    if not anchor:
        raise Invalid(f"form {code} has no anchor items")
    return anchor


def _refuse_taken(session: Session, codes: list[str]) -> None:
    taken = list(session.scalars(select(Form.code).where(Form.code.in_(codes))))
    if taken:
        raise Conflict(f"form code(s) {', '.join(sorted(taken))} already exist; choose "
                       "another seed")


def _checks(checks: Any) -> list[dict[str, Any]]:
    return [{**asdict(c), "ok": c.ok} for c in checks]


def assemble_forms(
    session: Session, programme_code: str, count: int, seed: int, time_limit: float = 60.0,
    anchor_from: str | None = None, blueprint: Blueprint | None = None,
    node_limit: int | None = None,
) -> tuple[AssemblyResult, list[Form]]:
    """Assemble ``count`` parallel forms and store them unpublished as
    ``<programme>-<seed>-A``, ``-B``...; ``anchor_from`` names a base form whose anchor items
    the new forms reuse (the equating link). ``blueprint`` replaces the shipped one (tests,
    trial runs). Raises :class:`Invalid` (with the assembler's message) or :class:`Conflict`
    when a code is taken; nothing is stored then. Reads and solves first, then starts the
    write transaction itself (:func:`webapp.dialect.begin_write`); the caller commits."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_FORMS:
        raise Invalid(f"count must be a whole number from 1 to {MAX_FORMS}, got {count!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise Invalid(f"seed must be a whole number from 0 up, got {seed!r}")
    programme = programme_by_code(session, programme_code)
    codes = form_codes(programme.code, seed, count)
    _refuse_taken(session, codes)
    bp = blueprint or blueprint_of(programme)
    anchor = _anchor_of(session, programme, anchor_from) if anchor_from else None
    bank = current_bank(session, programme)
    pool = _pool(bank, programme)
    try:
        result = assemble(pool, bp, count=count, seed=seed, time_limit=time_limit,
                          anchor=anchor, node_limit=node_limit)
    except (AssemblyError, ValueError) as err:
        raise Invalid(str(err)) from None
    ids = {code: row.id for code, row in bank.item_rows.items()}  # versions are immutable
    # Only now take the write lock: on SQLite it would hold up every other writer (candidates'
    # saves) for as long as the solver runs. A form stored meanwhile under a code is refused.
    dialect.begin_write(session)
    _refuse_taken(session, codes)
    forms = []
    for code, assembled in zip(codes, result.forms, strict=True):
        form = Form(
            programme_id=programme.id, code=code, title=f"{programme.name} {code}",
            published=False, duration_minutes=bp.duration_minutes,
            assembly={
                "seed": seed, "count": count, "number": assembled.number,
                "anchor_from": anchor_from, "status": result.status,
                "seconds": round(result.seconds, 3), "gap": result.gap,
                "information_deviation": result.information_deviation,
                "ok": assembled.ok, "on_target": all(
                    c.ok for c in assembled.checks if not c.hard),
                "cut": bp.information.cut, "tolerance": bp.information.tolerance,
                "thetas": list(bp.information.thetas),
                "targets": list(bp.information.target),
                "checks": _checks(assembled.checks), "across": _checks(result.checks),
                "notes": list(result.notes), "siblings": codes, "report": result.format(),
            })
        session.add(form)
        session.flush()
        for position, (item_code, role) in enumerate(
                zip(assembled.items, assembled.roles, strict=True), 1):
            session.add(FormItem(form_id=form.id, position=position,
                                 item_version_id=ids[item_code],
                                 scored=role != Role.PRETEST, anchor=role == Role.ANCHOR))
        forms.append(form)
    session.flush()
    for form in forms:
        session.refresh(form)
    return result, forms


def form_by_code(session: Session, code: str) -> Form:
    form = session.scalar(select(Form).where(Form.code == code))
    if form is None:
        raise NotFound(f"no form {code!r}")
    return form


def ensure_unpublished(form: Form) -> None:
    """Refuse any change to a published form: attempts and results pin it."""
    if form.published:
        raise Conflict(f"form {form.code} is published and can no longer be changed")


def publish_form(session: Session, form: Form, actor: User | None) -> Form:
    """Lock ``form`` for delivery (and record who did it)."""
    ensure_unpublished(form)
    if not form.items:
        raise Invalid(f"form {form.code} has no items")
    form.published = True
    audit(session, "form.published", actor.id if actor else None, target=form.code,
          items=len(form.items), scored=sum(1 for fi in form.items if fi.scored))
    session.flush()
    return form


def delete_form(session: Session, form: Form, actor: User | None) -> None:
    """Remove an unpublished form (for instance to assemble again with the same seed)."""
    ensure_unpublished(form)
    code = form.code
    for fi in list(form.items):
        session.delete(fi)
    session.delete(form)
    audit(session, "form.deleted", actor.id if actor else None, target=code)
    session.flush()
