"""The proctor roster: what it shows and what each action does."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import sign_in
from tests.factories import PASSWORD, make_attempt, make_exam_session, make_form, make_user
from webapp.models import Attempt, AttemptEvent, AttemptState, AuditLog, Role


@pytest.fixture
def setup(app, session, clock):
    form = make_form(session, n_items=4, scenario_size=0, n_pretest=0)
    exam_session = make_exam_session(session, form, starts_at=clock())
    proctor = make_user(session, Role.PROCTOR)
    waiting = make_user(session, Role.CANDIDATE, name="Wanda Waiting")
    working = make_user(session, Role.CANDIDATE, name="Walter Working")
    scheduled = make_attempt(session, waiting, exam_session, now=clock())
    running = make_attempt(session, working, exam_session, state=AttemptState.IN_PROGRESS,
                           now=clock(), lock_session_id="a" * 64)
    session.commit()
    return proctor, scheduled, running


def _actions(session, attempt_id):
    return [(e.kind, e.data.get("to") or e.data.get("reason")) for e in session.scalars(
        select(AttemptEvent).where(AttemptEvent.attempt_id == attempt_id)
        .order_by(AttemptEvent.id))]


def test_roster_lists_todays_candidates_with_state_and_time(setup, client, clock):
    proctor, scheduled, running = setup
    sign_in(client, proctor.email, PASSWORD)
    clock.advance(600)
    page = client.get("/proctor/").get_data(as_text=True)
    assert "Wanda Waiting" in page and "Walter Working" in page
    assert "2:50:00" in page  # ten minutes used of three hours
    assert "Locked to a browser" in page
    assert 'hx-trigger="every 10s"' in page


def test_roster_fragment_on_htmx_request(setup, client):
    proctor, _, _ = setup
    sign_in(client, proctor.email, PASSWORD)
    resp = client.get("/proctor/", headers={"HX-Request": "true"})
    body = resp.get_data(as_text=True)
    assert "<html" not in body and "Wanda Waiting" in body
    assert "HX-Request" in resp.headers["Vary"]


def test_admit_moves_scheduled_to_admitted_and_is_audited(setup, client, session):
    proctor, scheduled, _ = setup
    sign_in(client, proctor.email, PASSWORD)
    resp = client.post(f"/proctor/attempts/{scheduled.id}/admit")
    assert resp.status_code == 303
    session.expire_all()
    assert session.get(Attempt, scheduled.id).state is AttemptState.ADMITTED
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "proctor.admit")).one()
    assert audit.actor_id == proctor.id and audit.target == f"attempt:{scheduled.id}"


def test_unlock_clears_the_lock_with_a_reason(setup, client, session):
    proctor, _, running = setup
    sign_in(client, proctor.email, PASSWORD)
    resp = client.post(f"/proctor/attempts/{running.id}/unlock",
                       data={"reason": "browser crash"}, headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "Exam unlocked." in resp.get_data(as_text=True)
    session.expire_all()
    assert session.get(Attempt, running.id).lock_session_id is None
    assert ("proctor.unlock", "browser crash") in _actions(session, running.id)
    audit = session.scalars(select(AuditLog).where(AuditLog.action == "proctor.unlock")).one()
    assert audit.reason == "browser crash"


def test_pause_stops_the_clock_and_resume_restarts_it(setup, client, session, clock):
    proctor, _, running = setup
    sign_in(client, proctor.email, PASSWORD)
    clock.advance(60)
    assert client.post(f"/proctor/attempts/{running.id}/pause").status_code == 303
    clock.advance(600)  # ten paused minutes do not count
    assert client.post(f"/proctor/attempts/{running.id}/resume").status_code == 303
    clock.advance(30)
    session.expire_all()
    attempt = session.get(Attempt, running.id)
    assert attempt.state is AttemptState.IN_PROGRESS
    from webapp.services import timing

    assert timing.time_used(attempt, clock()) == pytest.approx(90.0)
    assert [a for a in _actions(session, running.id) if a[0] == "transition"][-2:] == [
        ("transition", "paused"), ("transition", "in_progress")]


def test_admin_may_use_the_roster_but_a_candidate_may_not(setup, client, session):
    admin = make_user(session, Role.ADMIN)
    candidate = make_user(session, Role.CANDIDATE)
    session.commit()
    sign_in(client, candidate.email, PASSWORD)
    assert client.get("/proctor/").status_code == 403
    client.post("/logout")
    sign_in(client, admin.email, PASSWORD)
    assert client.get("/proctor/").status_code == 200
