"""`flask seed-demo` (webapp.cli, webapp.services.seed): the demo programme, form,
accounts and today's session; idempotent; refused in production."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from click.testing import Result
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import FakeClock, sign_in
from webapp.extensions import db
from webapp.models import (
    Attempt,
    AttemptEvent,
    AttemptState,
    ContentDomain,
    ExamSession,
    Form,
    FormItem,
    ItemVersion,
    LoginSession,
    Programme,
    Response,
    Role,
    Scenario,
    User,
)
from webapp.models import TestCentre as Centre  # not collected as a test class
from webapp.services import auth

S = AttemptState
DOMAIN_NAMES = [
    "Care Coordination", "Assessment and Planning", "Implementation and Monitoring",
    "Evaluation", "Professional Practice",
]
ACCOUNTS = {
    "admin@example.org": ("demo-admin-pass", Role.ADMIN),
    "proctor@example.org": ("demo-proctor-pass", Role.PROCTOR),
    **{f"candidate{i}@example.org": ("demo-candidate-pass", Role.CANDIDATE)
       for i in range(1, 6)},
}
COUNTED = (Programme, ContentDomain, Form, FormItem, ItemVersion, Scenario, User, Centre,
           ExamSession, Attempt)


def _seed(app: Flask) -> Result:
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def _counts(session: Session) -> dict[str, int]:
    return {
        model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in COUNTED
    }


def _attempts_by_email(session: Session) -> dict[str, Attempt]:
    rows = session.execute(
        select(User.email, Attempt).join(Attempt, Attempt.candidate_id == User.id)
    ).all()
    return {email: attempt for email, attempt in rows}


def test_seed_demo_creates_the_demo(make_app: Callable[..., Flask], clock: FakeClock) -> None:
    app = make_app(EXAM_ENV="test")

    result = _seed(app)

    assert result.exit_code == 0
    assert "candidate1@example.org" in result.output and "demo-candidate-pass" in result.output
    with app.app_context():
        session = db.session
        programme = session.scalars(select(Programme)).one()
        assert programme.name == "Certified Case Manager (demo)"
        assert [d.name for d in programme.domains] == DOMAIN_NAMES

        form = session.scalars(select(Form)).one()
        assert form.published and form.programme_id == programme.id
        assert form.duration_minutes == 180
        slots = form.items
        assert len(slots) == 180
        assert sum(s.scored for s in slots) == 150
        assert sum(not s.scored for s in slots) == 30
        assert {s.item.domain_code for s in slots} == {d.code for d in programme.domains}
        pretest = [s.item for s in slots if not s.scored]
        assert {i.domain_code for i in pretest} == {d.code for d in programme.domains}
        assert all(i.scenario_id is None for i in pretest)  # standalone items only
        sets: dict[int, int] = {}
        for slot in slots:
            if slot.item.scenario_id is not None:
                sets[slot.item.scenario_id] = sets.get(slot.item.scenario_id, 0) + 1
        assert len(sets) >= 10
        assert all(2 <= n <= 4 for n in sets.values())

        users = {u.email: u for u in session.scalars(select(User))}
        assert set(users) == set(ACCOUNTS)
        for email, (password, role) in ACCOUNTS.items():
            assert users[email].role is role
            assert auth.authenticate(session, email, password) is not None, email

        exam_session = session.scalars(select(ExamSession)).one()
        assert exam_session.form_id == form.id
        assert exam_session.starts_at.date() == clock.now.date()

        by_email = _attempts_by_email(session)
        assert {e: a.state for e, a in by_email.items()} == {
            "candidate1@example.org": S.ADMITTED,
            **{f"candidate{i}@example.org": S.SCHEDULED for i in range(2, 6)},
        }
        for attempt in by_email.values():
            assert attempt.exam_session_id == exam_session.id
            assert sorted(attempt.item_order) == list(range(1, 181))
        session.rollback()


def test_seed_demo_twice_is_idempotent_and_resets_the_candidates(
    make_app: Callable[..., Flask], clock: FakeClock
) -> None:
    app = make_app(EXAM_ENV="test")
    assert _seed(app).exit_code == 0
    with app.app_context():
        first = _counts(db.session)
        attempt_id = _attempts_by_email(db.session)["candidate1@example.org"].id
        item = db.session.get(Attempt, attempt_id).form.items[0].item_version_id  # type: ignore[union-attr]
        db.session.rollback()

    # candidate1 starts and answers a question in the browser.
    client = app.test_client()
    assert sign_in(client, "candidate1@example.org", "demo-candidate-pass").status_code == 303
    assert client.post(f"/exam/{attempt_id}/start", data={"accept": "yes"}).status_code == 303
    clock.advance(90)
    saved: Any = client.post(f"/exam/{attempt_id}/save",
                             json={"seq": 1, "item": item, "choice": "A"})
    assert saved.status_code == 200 and saved.get_json()["applied"] is True
    with app.app_context():
        assert db.session.get(Attempt, attempt_id).state is S.IN_PROGRESS  # type: ignore[union-attr]
        assert db.session.scalar(select(func.count()).select_from(Response)) == 1
        db.session.rollback()

    assert _seed(app).exit_code == 0

    with app.app_context():
        session = db.session
        assert _counts(session) == first
        assert session.scalar(select(func.count()).select_from(Response)) == 0
        by_email = _attempts_by_email(session)
        assert by_email["candidate1@example.org"].state is S.ADMITTED
        assert {by_email[f"candidate{i}@example.org"].state for i in range(2, 6)} == {
            S.SCHEDULED}
        again = by_email["candidate1@example.org"]
        assert (again.started_at, again.ended_at, again.segment_started_at) == (None,) * 3
        assert (again.time_used_s, again.last_seq, again.lock_session_id) == (0.0, 0, None)
        events = session.scalars(select(AttemptEvent)).all()
        assert [(e.attempt_id, e.kind, e.data["to"]) for e in events] == [
            (again.id, "transition", "admitted")]
        candidate_ids = [a.candidate_id for a in by_email.values()]
        assert session.scalar(select(func.count()).select_from(LoginSession).where(
            LoginSession.user_id.in_(candidate_ids))) == 0
        session.rollback()
    # The browser's old sign-in is gone with its login session.
    gone = client.get("/candidate/")
    assert gone.status_code == 302 and gone.headers["Location"].startswith("/login")


def test_seed_demo_is_refused_in_production(make_app: Callable[..., Flask]) -> None:
    app = make_app(EXAM_ENV="production", SECRET_KEY="a-real-production-secret-0123456789")

    result = app.test_cli_runner().invoke(args=["seed-demo"])

    assert result.exit_code != 0
    assert "it runs only with EXAM_ENV=dev or test" in result.output
    assert "demo-candidate-pass" not in result.output
    with app.app_context():
        assert _counts(db.session) == {model.__name__: 0 for model in COUNTED}
        db.session.rollback()
