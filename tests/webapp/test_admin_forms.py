"""The administrators' forms: list, assembly through the page (with the small bank and
blueprint of test_forms_cli.py), blueprint coverage and information curve of a form, and
publishing behind a confirmation page."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import sign_in
from tests.factories import PASSWORD, make_form, make_user
from tests.webapp.test_forms_cli import BLUEPRINT, import_small_bank
from webapp.extensions import db
from webapp.models import AuditLog, Form, Role
from webapp.services import forms as form_service


@pytest.fixture
def blueprint(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The small bank imported; CCM's blueprint is the small one."""
    small = import_small_bank(app, tmp_path)
    monkeypatch.setattr(form_service, "blueprint_path",
                        lambda code: small if code == "CCM" else tmp_path / "none.yaml")
    return small


@pytest.fixture
def admin(client: FlaskClient, session: Session) -> int:
    user = make_user(session, Role.ADMIN)
    session.commit()
    assert sign_in(client, user.email, PASSWORD).status_code == 303
    return user.id


def count_forms() -> int:
    return db.session.scalar(select(func.count()).select_from(Form)) or 0


def assemble(client: FlaskClient, **fields: str):  # type: ignore[no-untyped-def]
    return client.post("/admin/forms/assemble",
                       data={"programme": "CCM", "count": "2", "seed": "1", **fields})


def test_assemble_from_the_page_then_view_coverage_and_curve(
        client: FlaskClient, blueprint: Path, admin: int) -> None:
    page = client.get("/admin/forms/assemble").get_data(as_text=True)
    assert '<option value="CCM"' in page
    assert 'name="csrf_token"' in page

    resp = assemble(client)

    assert resp.status_code == 303
    assert resp.headers["Location"].endswith("/admin/forms/CCM-1-A")
    db.session.rollback()  # a fresh read: the requests committed
    assert {f.code: f.published for f in db.session.scalars(select(Form))} == {
        "CCM-1-A": False, "CCM-1-B": False}
    view = client.get("/admin/forms/CCM-1-A")
    html = view.get_data(as_text=True)
    assert view.status_code == 200
    assert "Assembled 2 unpublished form(s): CCM-1-A, CCM-1-B." in html
    listing = client.get("/admin/forms").get_data(as_text=True)
    assert "CCM-1-A" in listing and "CCM-1-B" in listing
    assert 'href="/admin/forms" aria-current="page"' in listing
    assert "12 items: 10 scored (5 anchor), 2 pretest" in html
    rows = re.findall(r'<tr class="(ok|not-ok)">\s*<th scope="row">domain</th>\s*'
                      r"<td>([a-z-]+)</td>\s*<td>([\d.]+)</td>\s*<td>[^<]*</td>\s*"
                      r"<td>([\d.]+)</td>", html)
    assert sorted(r[1] for r in rows) == sorted(
        ["care-coordination", "assessment-planning", "implementation-monitoring",
         "evaluation", "professional-practice"])
    assert all(r[0] == "ok" and r[2] == r[3] == "2" for r in rows)
    assert html.count('<th scope="row">information</th>') == 3
    image = re.search(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', html)
    assert image is not None
    svg = base64.b64decode(image.group(1)).decode("utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "Target (with tolerance)" in svg and "Test information" in svg
    assert "Cut score" in svg


@pytest.mark.parametrize(("fields", "status", "message"), [
    ({"seed": "x"}, 422, "seed must be a whole number from 0 to 1000000"),
    ({"count": "27"}, 422, "count must be a whole number from 1 to 26"),
    ({"programme": "NOPE"}, 422, "Choose a programme that has a blueprint."),
])
def test_bad_fields_are_refused_with_a_message(
        client: FlaskClient, blueprint: Path, admin: int, fields: dict[str, str],
        status: int, message: str) -> None:
    resp = assemble(client, **fields)

    assert resp.status_code == status
    assert message in resp.get_data(as_text=True)
    assert count_forms() == 0


def test_assembly_errors_are_shown_and_store_nothing(
        client: FlaskClient, blueprint: Path, admin: int) -> None:
    assert assemble(client, count="1").status_code == 303

    taken = assemble(client)
    assert taken.status_code == 409
    assert "CCM-1-A already exist" in taken.get_data(as_text=True)

    blueprint.write_text(BLUEPRINT.replace("scored: 10", "scored: 30"), encoding="utf-8")
    short = assemble(client, seed="2")
    assert short.status_code == 422
    assert "the bank cannot fill 2 forms of CCM" in short.get_data(as_text=True)
    db.session.rollback()  # a fresh read: the requests committed
    assert count_forms() == 1


def test_publish_asks_for_confirmation_then_locks_the_form(
        client: FlaskClient, blueprint: Path, admin: int) -> None:
    assert assemble(client, count="1", seed="3").status_code == 303
    assert 'href="/admin/forms/CCM-3-A/publish"' in client.get(
        "/admin/forms/CCM-3-A").get_data(as_text=True)

    confirm = client.get("/admin/forms/CCM-3-A/publish").get_data(as_text=True)
    assert "Publish form CCM-3-A?" in confirm
    assert "has 12 items, 10 of them scored" in confirm
    assert 'name="confirm" value="CCM-3-A"' in confirm
    assert "confirm(" not in confirm  # a page of its own, not a script dialog

    wrong = client.post("/admin/forms/CCM-3-A/publish", data={"confirm": "CCM-3-B"})
    assert wrong.status_code == 422
    db.session.rollback()  # a fresh read: the requests committed
    assert not form_service.form_by_code(db.session, "CCM-3-A").published

    done = client.post("/admin/forms/CCM-3-A/publish", data={"confirm": "CCM-3-A"})
    assert done.status_code == 303
    db.session.rollback()  # a fresh read: the requests committed
    assert form_service.form_by_code(db.session, "CCM-3-A").published
    entries = db.session.scalars(select(AuditLog).where(AuditLog.action == "form.published"))
    assert [(e.actor_id, e.target) for e in entries] == [(admin, "CCM-3-A")]
    view = client.get("/admin/forms/CCM-3-A").get_data(as_text=True)
    assert "Published form CCM-3-A (12 items)." in view
    assert "/admin/forms/CCM-3-A/publish" not in view
    # Published: the confirmation page sends back, and a second POST changes nothing.
    assert client.get("/admin/forms/CCM-3-A/publish").status_code == 303
    again = client.post("/admin/forms/CCM-3-A/publish", data={"confirm": "CCM-3-A"})
    assert again.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "form.published")) == 1


def test_a_form_not_assembled_here_still_shows(client: FlaskClient, session: Session,
                                               admin: int) -> None:
    form = make_form(session, n_items=4, n_pretest=1)
    session.commit()

    html = client.get(f"/admin/forms/{form.code}").get_data(as_text=True)

    assert "there is no stored report" in html
    assert "3 scored item(s) have no banked difficulty" in html
    assert client.get("/admin/forms/NOPE-1-A").status_code == 404


def test_staff_of_other_roles_cannot_reach_the_forms(client: FlaskClient,
                                                     session: Session) -> None:
    proctor = make_user(session, Role.PROCTOR)
    session.commit()
    sign_in(client, proctor.email, PASSWORD)

    assert client.get("/admin/forms").status_code == 403
    assert client.post("/admin/forms/assemble", data={"programme": "CCM", "count": "1",
                                                      "seed": "1"}).status_code == 403
    assert count_forms() == 0
