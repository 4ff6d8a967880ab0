"""Sequenced saves (webapp.services.saves.apply_save), through the JSON endpoint
POST /exam/<id>/save and the service: the newest sequence number wins per question."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tests.conftest import FakeClock, sign_in
from tests.factories import PASSWORD, make_attempt, make_exam_session, make_form, make_user
from webapp.models import (
    Attempt,
    AttemptEvent,
    AttemptState,
    LoginSession,
    Response,
    Role,
    User,
)
from webapp.services import saves
from webapp.services.saves import SaveRequest, StaleSave

S = AttemptState
LIMIT = 3 * 3600.0
LOCK = "browser-session-1"


@dataclass
class Exam:
    attempt_id: int
    candidate_id: int
    items: list[int]  # item version ids by form position (1-based: items[0] is position 1)
    started: datetime


@pytest.fixture
def exam(session: Session, client: FlaskClient, clock: FakeClock) -> Exam:
    """A candidate signed in with ``client`` who has started a 6-question exam."""
    form = make_form(session, n_items=6)
    candidate = make_user(session, Role.CANDIDATE)
    attempt = make_attempt(session, candidate, make_exam_session(session, form),
                           state=S.ADMITTED, now=clock.now)
    session.commit()
    assert sign_in(client, candidate.email, PASSWORD).status_code == 303
    assert client.post(f"/exam/{attempt.id}/start", data={"accept": "yes"}).status_code == 303
    items = [slot.item_version_id for slot in sorted(form.items, key=lambda s: s.position)]
    return Exam(attempt.id, candidate.id, items, clock.now)


def _save(client: FlaskClient, exam: Exam, seq: int, question: int, choice: str | None,
          **extra: Any) -> Any:
    body = {"seq": seq, "item": exam.items[question - 1], "choice": choice, **extra}
    return client.post(f"/exam/{exam.attempt_id}/save", json=body)


def _row(session: Session, exam: Exam, question: int) -> tuple[Any, ...] | None:
    session.expire_all()
    row = session.get(Response, (exam.attempt_id, exam.items[question - 1]))
    return None if row is None else (row.choice, row.flagged, row.struck, row.seq)


def _save_events(session: Session, attempt_id: int) -> list[AttemptEvent]:
    session.expire_all()
    return list(session.scalars(
        select(AttemptEvent).where(AttemptEvent.attempt_id == attempt_id,
                                   AttemptEvent.kind == "save").order_by(AttemptEvent.id)
    ))


def _attempt(session: Session, attempt_id: int) -> Attempt:
    session.commit()  # end the test's read snapshot: requests commit in their own sessions
    session.expire_all()
    attempt = session.get(Attempt, attempt_id)
    assert attempt is not None
    return attempt


# --- the JSON endpoint ---------------------------------------------------------------------


def test_newest_sequence_wins(session: Session, client: FlaskClient, exam: Exam) -> None:
    first = _save(client, exam, 1, 1, "A")
    assert first.status_code == 200
    assert first.get_json() == {"ok": True, "applied": True, "duplicate": False, "seq": 1,
                                "remaining_s": LIMIT, "state": "in_progress"}

    second = _save(client, exam, 2, 1, "B", flagged=True, struck=["D", "C"])

    assert second.status_code == 200 and second.get_json()["applied"] is True
    assert _row(session, exam, 1) == ("B", True, ["C", "D"], 2)


def test_a_duplicate_is_acknowledged_and_stores_nothing(
    session: Session, client: FlaskClient, exam: Exam, clock: FakeClock
) -> None:
    assert _save(client, exam, 1, 1, "A").status_code == 200
    clock.advance(5)

    for body in ({"choice": "A"}, {"choice": "D", "flagged": True}):  # a retry, a replay
        resp = _save(client, exam, 1, 1, **body)
        assert resp.status_code == 200
        payload = resp.get_json()
        assert (payload["applied"], payload["duplicate"], payload["seq"]) == (False, True, 1)

    assert _row(session, exam, 1) == ("A", False, [], 1)
    assert len(_save_events(session, exam.attempt_id)) == 1
    assert _attempt(session, exam.attempt_id).last_seq == 1


def test_an_older_save_is_refused_as_stale(
    session: Session, client: FlaskClient, exam: Exam
) -> None:
    assert _save(client, exam, 1, 1, "A").status_code == 200
    assert _save(client, exam, 3, 1, "B").status_code == 200

    late = _save(client, exam, 2, 1, "C", flagged=True)

    assert late.status_code == 409
    assert late.get_json() == {"error": "stale_save",
                               "message": "A newer answer to this question is already saved."}
    assert _row(session, exam, 1) == ("B", False, [], 3)
    assert [e.seq for e in _save_events(session, exam.attempt_id)] == [1, 3]
    assert _attempt(session, exam.attempt_id).last_seq == 3


def test_sequence_numbers_count_per_attempt_across_questions(
    session: Session, client: FlaskClient, exam: Exam
) -> None:
    assert _save(client, exam, 1, 1, "A").get_json()["applied"] is True
    assert _save(client, exam, 5, 2, "B").get_json()["applied"] is True

    # Saved before question 2's save but delivered after it: question 1 only had seq 1.
    resp = _save(client, exam, 3, 1, "C")

    assert resp.status_code == 200 and resp.get_json()["applied"] is True
    assert _row(session, exam, 1) == ("C", False, [], 3)
    assert _row(session, exam, 2) == ("B", False, [], 5)
    assert _attempt(session, exam.attempt_id).last_seq == 5  # never goes down


def test_last_seq_and_position_follow_the_saves(
    session: Session, client: FlaskClient, exam: Exam
) -> None:
    assert _attempt(session, exam.attempt_id).current_position == 1
    assert _save(client, exam, 4, 3, "A", position=3).status_code == 200

    attempt = _attempt(session, exam.attempt_id)
    assert (attempt.last_seq, attempt.current_position) == (4, 3)
    status = client.get(f"/exam/{exam.attempt_id}/status").get_json()
    assert status["last_seq"] == 4

    assert _save(client, exam, 7, 5, None, flagged=True, position=5).status_code == 200
    attempt = _attempt(session, exam.attempt_id)
    assert (attempt.last_seq, attempt.current_position) == (7, 5)
    assert _row(session, exam, 5) == (None, True, [], 7)


def test_each_applied_save_writes_one_event(
    session: Session, client: FlaskClient, exam: Exam, clock: FakeClock
) -> None:
    browser_ms = [1_795_000_000_000, 1_795_000_001_500, 1_795_000_003_000, 1_795_000_004_000]
    bodies: list[tuple[int, int, str | None, dict[str, Any]]] = [
        (1, 1, "A", {}),
        (2, 2, "B", {"flagged": True, "struck": ["D", "A"]}),
        (2, 2, "B", {"flagged": True, "struck": ["D", "A"]}),  # duplicate: no event
        (3, 1, None, {}),  # the answer is cleared
    ]
    for (seq, question, choice, extra), ms in zip(bodies, browser_ms, strict=True):
        clock.advance(7)
        assert _save(client, exam, seq, question, choice, client_time=ms,
                     **extra).status_code == 200

    events = _save_events(session, exam.attempt_id)
    assert [(e.seq, e.data) for e in events] == [
        (1, {"item": exam.items[0], "choice": "A", "flagged": False, "struck": []}),
        (2, {"item": exam.items[1], "choice": "B", "flagged": True, "struck": ["A", "D"]}),
        (3, {"item": exam.items[0], "choice": None, "flagged": False, "struck": []}),
    ]
    assert [e.client_time for e in events] == [
        datetime.fromtimestamp(ms / 1000, UTC) for ms in (browser_ms[0], browser_ms[1],
                                                          browser_ms[3])
    ]
    assert [e.server_time for e in events] == [
        exam.started + timedelta(seconds=s) for s in (7, 14, 28)
    ]
    assert {e.actor_id for e in events} == {exam.candidate_id}


def test_the_answer_reports_remaining_time_from_the_server_clock(
    client: FlaskClient, exam: Exam, clock: FakeClock
) -> None:
    clock.advance(100.25)
    far_future_ms = (clock.now + timedelta(hours=2)).timestamp() * 1000

    resp = _save(client, exam, 1, 1, "A", client_time=far_future_ms)

    assert resp.get_json()["remaining_s"] == LIMIT - 100.25


def test_a_save_after_the_deadline_is_refused_and_not_stored(
    session: Session, client: FlaskClient, exam: Exam, clock: FakeClock
) -> None:
    assert _save(client, exam, 1, 1, "A").status_code == 200
    clock.advance(LIMIT)

    late = _save(client, exam, 2, 1, "B")

    assert late.status_code == 409
    assert late.get_json()["error"] == "attempt_ended"
    assert _row(session, exam, 1) == ("A", False, [], 1)
    assert [e.seq for e in _save_events(session, exam.attempt_id)] == [1]


# The save checks the login session inside its own statement (no separate sign-in lookup):
# a revoked session, a deactivated account or someone else's attempt stores nothing.


def _revoke_all(session: Session, exam: Exam) -> None:
    session.execute(update(LoginSession).where(LoginSession.user_id == exam.candidate_id)
                    .values(revoked_at=exam.started))
    session.commit()


def test_a_save_from_a_revoked_login_session_is_refused_401(
    session: Session, client: FlaskClient, exam: Exam
) -> None:
    assert _save(client, exam, 1, 1, "A").status_code == 200
    _revoke_all(session, exam)

    refused = _save(client, exam, 2, 1, "B")

    assert refused.status_code == 401
    assert refused.get_json()["error"] == "unauthorized"
    assert _row(session, exam, 1) == ("A", False, [], 1)
    assert [e.seq for e in _save_events(session, exam.attempt_id)] == [1]


def test_a_save_from_a_deactivated_account_is_refused_401(
    session: Session, client: FlaskClient, exam: Exam
) -> None:
    session.execute(update(User).where(User.id == exam.candidate_id).values(active=False))
    session.commit()

    assert _save(client, exam, 1, 1, "A").status_code == 401
    assert _row(session, exam, 1) is None


def test_a_save_to_another_candidates_attempt_is_404_and_stores_nothing(
    session: Session, client: FlaskClient, exam: Exam, clock: FakeClock
) -> None:
    form = make_form(session, n_items=2)
    other = make_user(session, Role.CANDIDATE)
    theirs = make_attempt(session, other, make_exam_session(session, form),
                          state=S.IN_PROGRESS, now=clock.now, lock_session_id="their-browser")
    item = form.items[0].item_version_id
    session.commit()

    refused = client.post(f"/exam/{theirs.id}/save", json={"seq": 1, "item": item,
                                                           "choice": "A"})

    assert refused.status_code == 404
    assert session.get(Response, (theirs.id, item)) is None


def test_a_forged_cookie_user_id_cannot_save_into_another_attempt(
    session: Session, client: FlaskClient, exam: Exam, clock: FakeClock
) -> None:
    """The session cookie is signed, but even a cookie naming another user id with this
    browser's token is refused: the token's login session belongs to this candidate."""
    other = make_user(session, Role.CANDIDATE)
    theirs = make_attempt(session, other, make_exam_session(session, make_form(session, n_items=2)),
                          state=S.IN_PROGRESS, now=clock.now)
    session.commit()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = str(other.id)
    body = {"seq": 1, "item": theirs.option_order and int(next(iter(theirs.option_order))),
            "choice": "A"}

    assert client.post(f"/exam/{theirs.id}/save", json=body).status_code == 401
    assert _save_events(session, theirs.id) == []


def test_the_save_endpoint_skips_the_separate_sign_in_lookup(
    session: Session, client: FlaskClient, exam: Exam
) -> None:
    """The hot path runs one statement that both locks the attempt and checks the login
    session: the user loader is not called on a successful save."""
    from webapp.extensions import login_manager

    calls: list[str] = []
    loader = login_manager._user_callback
    login_manager._user_callback = lambda uid: calls.append(uid) or loader(uid)
    try:
        assert _save(client, exam, 1, 1, "A").status_code == 200
    finally:
        login_manager._user_callback = loader
    assert calls == []
    assert _row(session, exam, 1) == ("A", False, [], 1)


# --- the service ---------------------------------------------------------------------------


@pytest.fixture
def in_request(app: Flask) -> Iterator[None]:
    """A request context, as in a view: a refused save's message is translated for the
    request (outside one it fails: see test_state_machine's outside-a-request test)."""
    with app.test_request_context():
        yield


@pytest.fixture
def running(session: Session, clock: FakeClock) -> Exam:
    """An attempt in progress driven by the login session LOCK (no HTTP)."""
    form = make_form(session, n_items=4, scenario_size=2, n_pretest=1)
    candidate = make_user(session, Role.CANDIDATE)
    attempt = make_attempt(session, candidate, make_exam_session(session, form),
                           state=S.IN_PROGRESS, now=clock.now, lock_session_id=LOCK)
    session.commit()
    items = [slot.item_version_id for slot in sorted(form.items, key=lambda s: s.position)]
    return Exam(attempt.id, candidate.id, items, clock.now)


def _apply(session: Session, exam: Exam, req: SaveRequest, now: datetime) -> saves.SaveResult:
    result = saves.apply_save(session, exam.attempt_id, exam.candidate_id, LOCK, req, now)
    session.commit()
    return result


@pytest.mark.usefixtures("in_request")
def test_service_applies_newer_acknowledges_duplicates_and_refuses_older(
    session: Session, running: Exam, clock: FakeClock
) -> None:
    item = running.items[0]
    applied = _apply(session, running, SaveRequest(item, "A", False, seq=2), clock.now)
    assert (applied.applied, applied.duplicate, applied.seq) == (True, False, 2)
    assert applied.state is S.IN_PROGRESS and applied.remaining_s == LIMIT

    duplicate = _apply(session, running, SaveRequest(item, "B", True, seq=2),
                       clock.advance(60))
    assert (duplicate.applied, duplicate.duplicate, duplicate.seq) == (False, True, 2)
    assert duplicate.remaining_s == LIMIT - 60

    with pytest.raises(StaleSave) as raised:
        saves.apply_save(session, running.attempt_id, running.candidate_id, LOCK,
                         SaveRequest(item, "C", False, seq=1), clock.now)
    session.rollback()
    assert raised.value.status == 409 and raised.value.code == "stale_save"

    rows = saves.responses_by_item(session, running.attempt_id)
    assert [(i, r.choice, r.seq) for i, r in rows.items()] == [(item, "A", 2)]
    assert len(_save_events(session, running.attempt_id)) == 1


def test_service_numbers_a_save_without_seq_after_the_last_one(
    session: Session, running: Exam, clock: FakeClock
) -> None:
    """The no-JavaScript form post sends no sequence number: the server numbers it."""
    _apply(session, running, SaveRequest(running.items[1], "B", False, seq=9), clock.now)

    result = _apply(session, running, SaveRequest(running.items[0], "A", False), clock.now)

    assert (result.applied, result.seq) == (True, 10)
    assert _attempt(session, running.attempt_id).last_seq == 10


# --- property: any delivery order gives the newest state -----------------------------------

OPTIONS = ["A", "B", "C", "D"]
save_strategy = st.tuples(
    st.integers(0, 3),  # which of the form's four questions
    st.one_of(st.none(), st.sampled_from(OPTIONS)),
    st.booleans(),
    st.lists(st.sampled_from(OPTIONS), unique=True, max_size=3),
)


@pytest.mark.usefixtures("in_request")
@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_delivery_order_keeps_the_newest_save_per_question(
    session: Session, running: Exam, clock: FakeClock, data: st.DataObject
) -> None:
    # One database per test function: reset the attempt's saves for each example.
    session.execute(delete(Response).where(Response.attempt_id == running.attempt_id))
    session.execute(delete(AttemptEvent).where(AttemptEvent.attempt_id == running.attempt_id,
                                               AttemptEvent.kind == "save"))
    session.execute(update(Attempt).where(Attempt.id == running.attempt_id)
                    .values(last_seq=0, current_position=1))
    session.commit()

    made = data.draw(st.lists(save_strategy, min_size=1, max_size=10), label="saves")
    steps = data.draw(st.lists(st.integers(1, 3), min_size=len(made), max_size=len(made)))
    seqs = [sum(steps[: i + 1]) for i in range(len(made))]  # strictly increasing
    requests = [
        SaveRequest(running.items[q], choice, flagged, tuple(struck), seq=seq)
        for (q, choice, flagged, struck), seq in zip(made, seqs, strict=True)
    ]
    duplicates = data.draw(st.lists(st.sampled_from(range(len(made))), max_size=5))
    order = data.draw(st.permutations(list(range(len(made))) + duplicates), label="order")

    newest: dict[int, int] = {}  # item -> highest seq delivered so far
    for index in order:
        req = requests[index]
        known = newest.get(req.item_id, 0)
        try:
            result = _apply(session, running, req, clock.now)
        except StaleSave:
            session.rollback()
            assert req.seq is not None and req.seq < known
            continue
        assert req.seq is not None and req.seq >= known
        assert result.applied is (req.seq > known) and result.duplicate is (req.seq == known)
        newest[req.item_id] = max(known, req.seq)

    final = {r.item_id: r for r in sorted(requests, key=lambda r: r.seq or 0)}
    rows = saves.responses_by_item(session, running.attempt_id)
    assert set(rows) == set(final)  # no row for a question never saved
    for item, req in final.items():
        row = rows[item]
        assert (row.choice, row.flagged, row.struck, row.seq) == (
            req.choice, req.flagged, sorted(req.struck), req.seq)
    event_seqs = [e.seq for e in _save_events(session, running.attempt_id)]
    assert len(event_seqs) == len(set(event_seqs))  # a save is logged once, if at all
    assert {r.seq for r in final.values()} <= set(event_seqs)
    assert _attempt(session, running.attempt_id).last_seq == max(seqs)
