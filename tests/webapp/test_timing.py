"""Server-authoritative exam time (webapp.services.timing), ending at the deadline
(attempts.settle, settle_due, the sweeper) and what the candidate sees afterwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import FakeClock, sign_in
from tests.factories import (
    PASSWORD,
    make_attempt,
    make_exam_session,
    make_form,
    make_user,
    reload_attempt,
)
from webapp.models import Attempt, AttemptEvent, AttemptState, Form, Role, User
from webapp.services import attempts, proctoring, timing
from webapp.services.sweeper import sweep_once

S = AttemptState
LIMIT = 3 * 3600.0  # make_form's default duration: 180 minutes
LOCK = "browser-session-1"


def _running(session: Session, clock: FakeClock, form: Form | None = None,
             candidate: User | None = None) -> Attempt:
    """An attempt started now (in progress), bound to LOCK."""
    form = form or make_form(session)
    return make_attempt(session, candidate or make_user(session),
                        make_exam_session(session, form), state=S.IN_PROGRESS, now=clock.now,
                        lock_session_id=LOCK)


def _transitions(session: Session, attempt_id: int) -> list[AttemptEvent]:
    return list(session.scalars(
        select(AttemptEvent).where(AttemptEvent.attempt_id == attempt_id,
                                   AttemptEvent.kind == "transition")
        .order_by(AttemptEvent.id)
    ))


# --- accrual -------------------------------------------------------------------------------


def test_time_accrues_only_while_in_progress(session: Session, clock: FakeClock) -> None:
    form = make_form(session)
    proctor = make_user(session, Role.PROCTOR)
    attempt = make_attempt(session, make_user(session), make_exam_session(session, form),
                           state=S.ADMITTED, now=clock.now)
    clock.advance(600)  # admitted, waiting at the intro page: no time used
    assert timing.time_used(attempt, clock.now) == 0.0
    assert timing.remaining(attempt, clock.now) == LIMIT
    assert timing.deadline(attempt) is None

    started = clock.now
    attempts.transition(session, attempt, S.IN_PROGRESS, started)
    clock.advance(60)
    assert timing.time_used(attempt, clock.now) == 60.0
    assert timing.remaining(attempt, clock.now) == LIMIT - 60
    assert timing.deadline(attempt) == started + timedelta(seconds=LIMIT)

    proctoring.pause(session, attempt, proctor.id, clock.now)
    stored = reload_attempt(session, attempt.id)
    assert stored.time_used_s == 60.0 and stored.segment_started_at is None

    clock.advance(LIMIT * 2)  # a pause longer than the exam: the clock is stopped
    assert timing.time_used(stored, clock.now) == 60.0
    assert timing.remaining(stored, clock.now) == LIMIT - 60
    assert timing.deadline(stored) is None
    assert not timing.is_due(stored, clock.now)
    assert not attempts.settle(session, stored, clock.now)

    resumed = clock.now
    proctoring.resume(session, stored, proctor.id, resumed)
    clock.advance(40)
    stored = reload_attempt(session, attempt.id)
    assert stored.started_at == started  # the first start stays the start
    assert stored.segment_started_at == resumed
    assert timing.time_used(stored, clock.now) == 100.0
    assert timing.remaining(stored, clock.now) == LIMIT - 100
    assert timing.deadline(stored) == resumed + timedelta(seconds=LIMIT - 60)


def test_extra_time_extends_remaining_and_the_deadline(
    session: Session, clock: FakeClock
) -> None:
    attempt = _running(session, clock)
    started = clock.now
    attempt.extra_time_s = 900
    session.flush()
    clock.advance(LIMIT)

    assert timing.time_limit(attempt) == LIMIT + 900
    assert timing.remaining(attempt, clock.now) == 900.0
    assert timing.deadline(attempt) == started + timedelta(seconds=LIMIT + 900)
    assert not attempts.settle(session, attempt, clock.now)  # the standard time is not the end

    clock.advance(900)
    assert attempts.settle(session, attempt, clock.now)
    stored = reload_attempt(session, attempt.id)
    assert stored.state is S.EXPIRED
    assert stored.ended_at == started + timedelta(seconds=LIMIT + 900)
    assert stored.time_used_s == LIMIT + 900


def test_remaining_is_never_negative(session: Session, clock: FakeClock) -> None:
    attempt = _running(session, clock)
    clock.advance(LIMIT + 5000)  # nobody has settled it yet

    assert timing.remaining(attempt, clock.now) == 0.0
    assert timing.time_used(attempt, clock.now) == LIMIT
    assert timing.format_hms(timing.remaining(attempt, clock.now)) == "0:00:00"


@pytest.mark.parametrize(("seconds", "shown"), [
    (0.0, "0:00:00"),
    (-12.0, "0:00:00"),
    (0.2, "0:00:01"),
    (1.0, "0:00:01"),
    (59.001, "0:01:00"),
    (600.0, "0:10:00"),
    (3599.5, "1:00:00"),
    (3661.0, "1:01:01"),
    (10800.0, "3:00:00"),
    (10799.2, "3:00:00"),
    (36000.0, "10:00:00"),
])
def test_format_hms_rounds_up_to_whole_seconds(seconds: float, shown: str) -> None:
    assert timing.format_hms(seconds) == shown


# --- settling at the deadline --------------------------------------------------------------


def test_settle_expires_exactly_at_the_deadline(session: Session, clock: FakeClock) -> None:
    attempt = _running(session, clock)
    deadline = clock.now + timedelta(seconds=LIMIT)

    clock.advance(LIMIT - 0.5)
    assert not attempts.settle(session, attempt, clock.now)
    assert attempt.state is S.IN_PROGRESS
    assert timing.format_hms(timing.remaining(attempt, clock.now)) == "0:00:01"

    clock.advance(0.5)
    assert attempts.settle(session, attempt, clock.now)

    stored = reload_attempt(session, attempt.id)
    assert stored.state is S.EXPIRED
    assert stored.ended_at == deadline
    assert stored.time_used_s == LIMIT
    assert stored.lock_session_id is None
    assert stored.raw_score == 0  # scored on what was saved: nothing
    last = _transitions(session, attempt.id)[-1]
    assert last.data == {"from": "in_progress", "to": "expired", "reason": "time expired"}
    assert last.server_time == deadline
    assert not attempts.settle(session, stored, clock.advance(60))  # idempotent


def test_settle_waits_for_the_grace_period_but_ends_at_the_deadline(
    session: Session, clock: FakeClock
) -> None:
    attempt = _running(session, clock)
    deadline = clock.now + timedelta(seconds=LIMIT)
    clock.advance(LIMIT)

    assert not attempts.settle(session, attempt, clock.now, grace_s=3.0)
    assert not attempts.settle(session, attempt, clock.advance(2.999), grace_s=3.0)
    assert attempt.state is S.IN_PROGRESS
    assert attempts.settle(session, attempt, clock.advance(0.001), grace_s=3.0)

    stored = reload_attempt(session, attempt.id)
    assert stored.state is S.EXPIRED
    assert stored.ended_at == deadline
    assert stored.time_used_s == LIMIT


def test_settle_noticed_late_after_a_pause_still_ends_at_the_deadline(
    session: Session, clock: FakeClock
) -> None:
    proctor = make_user(session, Role.PROCTOR)
    attempt = _running(session, clock)
    clock.advance(1234.567891)
    proctoring.pause(session, attempt, proctor.id, clock.now)
    clock.advance(900.25)
    resumed = clock.now
    proctoring.resume(session, attempt, proctor.id, resumed)
    deadline = resumed + timedelta(seconds=LIMIT - 1234.567891)

    clock.advance(LIMIT + 7200)  # nobody looked for two hours after the end
    assert attempts.settle(session, attempt, clock.now)

    stored = reload_attempt(session, attempt.id)
    assert stored.ended_at == deadline
    assert stored.time_used_s == LIMIT
    assert timing.remaining(stored, clock.now) == 0.0


def test_a_pause_after_the_deadline_does_not_move_the_end(
    app: Flask, session: Session, clock: FakeClock
) -> None:
    """The proctor pauses (through the roster) a candidate whose time ran out a moment
    ago, before any sweep: the attempt ended at its deadline; it must not be paused with
    zero time left and then expire at whatever time it is resumed."""
    proctor = make_user(session, Role.PROCTOR)
    attempt = _running(session, clock)
    deadline = clock.now + timedelta(seconds=LIMIT)
    session.commit()
    client = app.test_client()
    assert sign_in(client, proctor.email, PASSWORD).status_code == 303
    clock.advance(LIMIT + 1)

    client.post(f"/proctor/attempts/{attempt.id}/pause")

    stored = reload_attempt(session, attempt.id)
    assert (stored.state, stored.ended_at) == (S.EXPIRED, deadline)
    clock.advance(600)
    client.post(f"/proctor/attempts/{attempt.id}/resume")
    sweep_once(app)
    stored = reload_attempt(session, attempt.id)
    assert (stored.state, stored.ended_at) == (S.EXPIRED, deadline)


def test_settle_due_ends_all_due_attempts_and_only_those(
    session: Session, clock: FakeClock
) -> None:
    form = make_form(session)
    t0 = clock.now
    due = [_running(session, clock, form) for _ in range(2)]
    with_extra = _running(session, clock, form)
    with_extra.extra_time_s = 600
    paused = make_attempt(session, make_user(session), make_exam_session(session, form),
                          state=S.PAUSED, now=t0)
    admitted = make_attempt(session, make_user(session), make_exam_session(session, form),
                            state=S.ADMITTED, now=t0)
    clock.advance(1800)
    later = _running(session, clock, form)  # started half an hour after the others
    session.commit()
    clock.advance(LIMIT - 1800 + 1)  # one second after the first two deadlines

    assert attempts.settle_due(session, clock.now) == 2

    session.expire_all()
    for attempt in due:
        stored = session.get(Attempt, attempt.id)
        assert stored is not None
        assert stored.state is S.EXPIRED
        assert stored.ended_at == t0 + timedelta(seconds=LIMIT)
    for attempt, state in ((with_extra, S.IN_PROGRESS), (paused, S.PAUSED),
                           (admitted, S.ADMITTED), (later, S.IN_PROGRESS)):
        stored = session.get(Attempt, attempt.id)
        assert stored is not None
        assert stored.state is state
        assert stored.ended_at is None
    assert attempts.settle_due(session, clock.now) == 0
    assert attempts.settle_due(session, clock.advance(600)) == 1  # the extra time is up


# --- through the candidate's browser -------------------------------------------------------


def _sign_in_and_start(client: FlaskClient, session: Session, clock: FakeClock,
                       keys: list[str] | None = None) -> tuple[Attempt, Form]:
    form = make_form(session, n_items=6, n_pretest=1, keys=keys)
    candidate = make_user(session, Role.CANDIDATE)
    attempt = make_attempt(session, candidate, make_exam_session(session, form),
                           state=S.ADMITTED, now=clock.now)
    session.commit()
    signed_in = sign_in(client, candidate.email, PASSWORD)
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/candidate/"
    started = client.post(f"/exam/{attempt.id}/start", data={"accept": "yes"})
    assert started.status_code == 303
    return attempt, form


def _save(client: FlaskClient, attempt_id: int, **body: Any) -> Any:
    return client.post(f"/exam/{attempt_id}/save", json=body)


def test_sweeper_ends_an_attempt_whose_browser_closed_at_zero(
    app: Flask, session: Session, client: FlaskClient, clock: FakeClock
) -> None:
    attempt, form = _sign_in_and_start(client, session, clock, keys=list("ABCDAB"))
    deadline = clock.now + timedelta(seconds=LIMIT)
    slots = {slot.position: slot.item_version_id for slot in form.items}
    # Right on 1 and 4, wrong on 2, right on the pretest item 6 (not counted).
    for seq, (position, choice) in enumerate([(1, "A"), (2, "C"), (4, "D"), (6, "B")], 1):
        clock.advance(30)
        resp = _save(client, attempt.id, seq=seq, item=slots[position], choice=choice)
        assert resp.status_code == 200 and resp.get_json()["applied"] is True
    clock.advance(LIMIT)  # the browser is gone: no request from here on
    session.expire_all()
    assert session.get(Attempt, attempt.id).state is S.IN_PROGRESS  # type: ignore[union-attr]
    session.commit()

    assert sweep_once(app) == 1

    stored = reload_attempt(session, attempt.id)
    assert stored.state is S.EXPIRED
    assert stored.ended_at == deadline
    assert stored.time_used_s == LIMIT
    assert stored.raw_score == 2
    assert stored.domain_raw == {"dom-a": 1, "dom-b": 1}  # position 1 is dom-a, 4 is dom-b
    assert sweep_once(app) == 0


def test_the_browser_clock_changes_nothing_about_time(
    session: Session, client: FlaskClient, clock: FakeClock
) -> None:
    attempt, form = _sign_in_and_start(client, session, clock)
    started = clock.now
    item = form.items[0].item_version_id
    real_ms = clock.now.timestamp() * 1000
    client_times: list[Any] = [
        real_ms, real_ms + 5 * 3600 * 1000, 0, -1e18, 1e30, "tomorrow", None,
        real_ms - 2 * 3600 * 1000,
    ]
    for seq, client_time in enumerate(client_times, start=1):
        clock.advance(10)
        elapsed = (clock.now - started).total_seconds()
        resp = _save(client, attempt.id, seq=seq, item=item, choice="A",
                     client_time=client_time)
        assert resp.status_code == 200
        assert resp.get_json()["remaining_s"] == LIMIT - elapsed
        status = client.get(f"/exam/{attempt.id}/status").get_json()
        assert status["remaining_s"] == LIMIT - elapsed

    stored = reload_attempt(session, attempt.id)
    assert stored.started_at == started and stored.segment_started_at == started
    assert stored.time_used_s == 0.0
    assert timing.deadline(stored) == started + timedelta(seconds=LIMIT)
    saves = session.scalars(select(AttemptEvent).where(
        AttemptEvent.attempt_id == attempt.id, AttemptEvent.kind == "save"
    ).order_by(AttemptEvent.seq)).all()
    # The browser's time is kept for the record only (when it is a usable timestamp).
    assert saves[0].client_time == datetime.fromtimestamp(real_ms / 1000, UTC)
    assert saves[1].client_time == datetime.fromtimestamp(real_ms / 1000 + 5 * 3600, UTC)
    assert [e.client_time for e in saves[4:7]] == [None, None, None]
    assert [e.server_time for e in saves] == [
        started + timedelta(seconds=10 * n) for n in range(1, len(client_times) + 1)
    ]


def test_question_page_after_the_deadline_goes_to_time_is_up(
    session: Session, client: FlaskClient, clock: FakeClock
) -> None:
    attempt, _form = _sign_in_and_start(client, session, clock)
    deadline = clock.now + timedelta(seconds=LIMIT)
    assert client.get(f"/exam/{attempt.id}/q/1").status_code == 200
    clock.advance(LIMIT + 120)

    resp = client.get(f"/exam/{attempt.id}/q/1")

    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/exam/{attempt.id}/done")
    done = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Time is up" in done
    assert "Your time has ended." in done
    stored = reload_attempt(session, attempt.id)
    assert stored.state is S.EXPIRED and stored.ended_at == deadline
