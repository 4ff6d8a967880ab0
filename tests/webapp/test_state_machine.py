"""The attempt state machine (webapp.services.attempts): every move is checked, timed,
logged; illegal moves raise a 409 domain error and change nothing."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import FakeClock
from tests.factories import make_attempt, make_exam_session, make_form, make_user, reload_attempt
from webapp.errors import Conflict, DomainError, Invalid
from webapp.models import Attempt, AttemptEvent, AttemptState, Form, Role
from webapp.services import attempts, saves
from webapp.services.attempts import ENDED, TRANSITIONS, IllegalTransition

S = AttemptState
ALLOWED = sorted(
    ((src, dst) for src, targets in TRANSITIONS.items() for dst in targets),
    key=lambda pair: (list(S).index(pair[0]), list(S).index(pair[1])),
)
DISALLOWED = [
    (src, dst) for src, dst in itertools.product(S, S) if dst not in TRANSITIONS[src]
]
LOCK = "browser-session-1"


def _pair_id(pair: tuple[AttemptState, AttemptState]) -> str:
    return f"{pair[0].value}->{pair[1].value}"


def _events(session: Session, attempt_id: int) -> list[AttemptEvent]:
    return list(session.scalars(
        select(AttemptEvent).where(AttemptEvent.attempt_id == attempt_id)
        .order_by(AttemptEvent.id)
    ))


def _snapshot(attempt: Attempt) -> dict[str, Any]:
    return {
        "state": attempt.state, "started_at": attempt.started_at,
        "ended_at": attempt.ended_at, "segment_started_at": attempt.segment_started_at,
        "time_used_s": attempt.time_used_s, "lock_session_id": attempt.lock_session_id,
        "raw_score": attempt.raw_score, "domain_raw": attempt.domain_raw,
    }


@pytest.fixture
def in_request(app: Flask) -> Iterator[None]:
    """A request context, as in a view: domain errors render their message in the
    request's locale (see test_domain_errors_can_be_raised_outside_a_request)."""
    with app.test_request_context():
        yield


def test_domain_errors_can_be_raised_outside_a_request(
    session: Session, clock: FakeClock
) -> None:
    """Services run without a request too (CLI commands, the expiry sweeper): a refused
    move must still raise the domain error, not fail while translating its message."""
    form = make_form(session)
    attempt = make_attempt(session, make_user(session), make_exam_session(session, form),
                           state=S.SUBMITTED, now=clock.now)

    with pytest.raises(IllegalTransition) as raised:
        attempts.transition(session, attempt, S.IN_PROGRESS, clock.advance(1))

    assert raised.value.message == "This exam cannot go from submitted to in_progress."


def test_the_table_covers_every_state_and_only_ends_are_terminal() -> None:
    assert set(TRANSITIONS) == set(S)
    assert {s for s, targets in TRANSITIONS.items() if not targets} == ENDED
    assert len(ALLOWED) + len(DISALLOWED) == len(S) ** 2


@pytest.mark.parametrize("pair", ALLOWED, ids=_pair_id)
def test_allowed_transition_changes_state_and_writes_an_event(
    session: Session, clock: FakeClock, pair: tuple[AttemptState, AttemptState]
) -> None:
    source, target = pair
    form = make_form(session)
    candidate = make_user(session, Role.CANDIDATE)
    proctor = make_user(session, Role.PROCTOR)
    created_at = clock.now
    attempt = make_attempt(session, candidate, make_exam_session(session, form), state=source,
                           now=created_at, lock_session_id=LOCK)
    before = len(_events(session, attempt.id))
    moment = clock.advance(120)

    attempts.transition(session, attempt, target, moment, actor_id=proctor.id,
                        reason="test move")

    stored = reload_attempt(session, attempt.id)
    assert stored.state is target
    events = _events(session, attempt.id)
    assert len(events) == before + 1
    event = events[-1]
    assert event.kind == "transition"
    assert event.data == {"from": source.value, "to": target.value, "reason": "test move"}
    assert event.actor_id == proctor.id
    assert event.server_time == moment
    assert event.client_time is None

    # Time: the 120 s since the attempt was created count only if it was running.
    expected_used = 120.0 if source is S.IN_PROGRESS else 0.0
    assert stored.time_used_s == expected_used
    if target is S.IN_PROGRESS:
        assert stored.segment_started_at == moment
        assert stored.started_at == (created_at if source is S.PAUSED else moment)
    else:
        assert stored.segment_started_at is None
    if target in ENDED:
        assert stored.ended_at == moment
        assert stored.lock_session_id is None
    else:
        assert stored.ended_at is None
        assert stored.lock_session_id == LOCK
    if target is not S.SUBMITTED and target is not S.EXPIRED:
        assert stored.raw_score is None and stored.domain_raw is None


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize("pair", DISALLOWED, ids=_pair_id)
def test_disallowed_transition_raises_409_and_changes_nothing(
    session: Session, clock: FakeClock, pair: tuple[AttemptState, AttemptState]
) -> None:
    source, target = pair
    form = make_form(session)
    candidate = make_user(session, Role.CANDIDATE)
    attempt = make_attempt(session, candidate, make_exam_session(session, form), state=source,
                           now=clock.now, lock_session_id=LOCK)
    session.commit()
    before = _snapshot(attempt)
    events_before = [(e.id, e.kind, e.data) for e in _events(session, attempt.id)]
    moment = clock.advance(300)

    with pytest.raises(IllegalTransition) as raised:
        attempts.transition(session, attempt, target, moment, actor_id=candidate.id)

    err = raised.value
    assert isinstance(err, Conflict) and isinstance(err, DomainError)
    assert err.status == 409
    assert err.code == "illegal_transition"
    assert (err.current, err.target) == (source, target)
    assert err.message == f"This exam cannot go from {source.value} to {target.value}."
    assert _snapshot(attempt) == before
    stored = reload_attempt(session, attempt.id)
    assert _snapshot(stored) == before
    assert [(e.id, e.kind, e.data) for e in _events(session, attempt.id)] == events_before


# --- scoring at the end --------------------------------------------------------------------

KEYS = list("ABCDAB")  # position 6 is the pretest item (make_form n_pretest=1)


def _answer(session: Session, form: Form, attempt: Attempt, choices: dict[int, str],
            now: datetime) -> None:
    """Save ``choices`` (form position -> option) through the real save service."""
    slots = {slot.position: slot for slot in form.items}
    for seq, (position, choice) in enumerate(sorted(choices.items()), start=1):
        saves.apply_save(session, attempt.id, attempt.candidate_id, LOCK, saves.SaveRequest(
            item_id=slots[position].item_version_id, choice=choice, flagged=False, seq=seq,
        ), now)
        session.commit()


@pytest.mark.parametrize("target", [S.SUBMITTED, S.EXPIRED])
def test_submitted_and_expired_attempts_are_scored_without_pretest(
    session: Session, clock: FakeClock, target: AttemptState
) -> None:
    form = make_form(session, n_items=6, n_pretest=1, keys=KEYS)
    candidate = make_user(session, Role.CANDIDATE)
    attempt = make_attempt(session, candidate, make_exam_session(session, form),
                           state=S.IN_PROGRESS, now=clock.now, lock_session_id=LOCK)
    session.commit()
    # Right on 1, 2, 4 and the pretest item 6; wrong on 3; item 5 left blank.
    choices = {1: "A", 2: "B", 3: "A", 4: "D", 6: "B"}
    _answer(session, form, attempt, choices, clock.advance(10))

    attempts.transition(session, attempt, target, clock.advance(60))

    stored = reload_attempt(session, attempt.id)
    slots = sorted(form.items, key=lambda s: s.position)
    right = [s for s in slots if s.scored and choices.get(s.position) == s.item.key]
    assert [s.position for s in right] == [1, 2, 4]
    assert stored.raw_score == 3
    # Domains alternate dom-a, dom-b by position: 1 -> a; 2, 4 -> b; pretest 6 ignored.
    assert stored.domain_raw == {"dom-a": 1, "dom-b": 2}
    assert stored.domain_raw == {
        d: sum(1 for s in right if s.item.domain_code == d) for d in ("dom-a", "dom-b")
    }


def test_voided_attempt_is_not_scored(session: Session, clock: FakeClock) -> None:
    form = make_form(session, n_items=6, keys=KEYS)
    attempt = make_attempt(session, make_user(session), make_exam_session(session, form),
                           state=S.IN_PROGRESS, now=clock.now, lock_session_id=LOCK)
    session.commit()
    _answer(session, form, attempt, {1: "A", 2: "B"}, clock.advance(10))

    attempts.transition(session, attempt, S.VOIDED, clock.advance(60), reason="misconduct")

    stored = reload_attempt(session, attempt.id)
    assert stored.state is S.VOIDED
    assert stored.raw_score is None and stored.domain_raw is None


# --- start and submit ----------------------------------------------------------------------


@pytest.mark.usefixtures("in_request")
def test_start_needs_the_rules_accepted(session: Session, clock: FakeClock) -> None:
    form = make_form(session)
    attempt = make_attempt(session, make_user(session), make_exam_session(session, form),
                           state=S.ADMITTED, now=clock.now)
    session.commit()
    before = _snapshot(attempt)
    events_before = len(_events(session, attempt.id))

    with pytest.raises(Invalid) as raised:
        attempts.start(session, attempt, LOCK, clock.advance(5), accepted=False)

    assert raised.value.status == 422
    assert "accept the exam rules" in raised.value.message
    session.rollback()  # what the view does
    stored = reload_attempt(session, attempt.id)
    assert _snapshot(stored) == before
    assert len(_events(session, attempt.id)) == events_before


def test_start_claims_the_attempt_and_a_second_start_is_harmless(
    session: Session, clock: FakeClock
) -> None:
    form = make_form(session)
    candidate = make_user(session)
    attempt = make_attempt(session, candidate, make_exam_session(session, form),
                           state=S.ADMITTED, now=clock.now)
    session.commit()
    events_before = len(_events(session, attempt.id))
    started = clock.advance(30)

    attempts.start(session, attempt, LOCK, started, accepted=True)
    stored = reload_attempt(session, attempt.id)
    assert stored.state is S.IN_PROGRESS
    assert stored.started_at == started and stored.segment_started_at == started
    assert stored.lock_session_id == LOCK
    new = _events(session, attempt.id)[events_before:]
    assert [e.kind for e in new] == ["lock", "transition"]
    assert new[1].data["to"] == "in_progress" and new[1].actor_id == candidate.id
    snapshot = _snapshot(stored)

    clock.advance(40)
    attempts.start(session, stored, LOCK, clock.now, accepted=True)  # double click
    attempts.start(session, stored, LOCK, clock.now, accepted=False)  # resumed page

    again = reload_attempt(session, attempt.id)
    assert _snapshot(again) == snapshot
    assert len(_events(session, attempt.id)) == events_before + 2


@pytest.mark.usefixtures("in_request")
@pytest.mark.parametrize("state", [S.SCHEDULED, S.SUBMITTED, S.EXPIRED, S.VOIDED])
def test_start_is_refused_before_admission_and_after_the_end(
    session: Session, clock: FakeClock, state: AttemptState
) -> None:
    form = make_form(session)
    attempt = make_attempt(session, make_user(session), make_exam_session(session, form),
                           state=state, now=clock.now)
    session.commit()
    before = _snapshot(attempt)

    with pytest.raises(IllegalTransition) as raised:
        attempts.start(session, attempt, LOCK, clock.advance(5), accepted=True)

    assert raised.value.status == 409
    assert (raised.value.current, raised.value.target) == (state, S.IN_PROGRESS)
    assert _snapshot(reload_attempt(session, attempt.id)) == before


def test_a_repeated_submit_is_harmless(session: Session, clock: FakeClock) -> None:
    form = make_form(session, keys=KEYS)
    attempt = make_attempt(session, make_user(session), make_exam_session(session, form),
                           state=S.IN_PROGRESS, now=clock.now, lock_session_id=LOCK)
    session.commit()
    submitted = clock.advance(600)

    attempts.submit(session, attempt, LOCK, submitted)
    first = _snapshot(reload_attempt(session, attempt.id))
    n_events = len(_events(session, attempt.id))
    assert first["state"] is S.SUBMITTED
    assert first["ended_at"] == submitted and first["time_used_s"] == 600.0

    clock.advance(60)
    attempts.submit(session, session.get(Attempt, attempt.id), LOCK, clock.now)

    assert _snapshot(reload_attempt(session, attempt.id)) == first
    assert len(_events(session, attempt.id)) == n_events
    transitions = session.scalar(
        select(func.count()).select_from(AttemptEvent).where(
            AttemptEvent.attempt_id == attempt.id, AttemptEvent.kind == "transition")
    )
    assert transitions == 3  # admitted, in_progress, submitted


@pytest.mark.usefixtures("in_request")
def test_submit_from_another_browser_is_refused(session: Session, clock: FakeClock) -> None:
    form = make_form(session)
    attempt = make_attempt(session, make_user(session), make_exam_session(session, form),
                           state=S.IN_PROGRESS, now=clock.now, lock_session_id=LOCK)
    session.commit()
    before = _snapshot(attempt)

    with pytest.raises(attempts.AttemptLocked) as raised:
        attempts.submit(session, attempt, "another-browser", clock.advance(10))

    assert raised.value.status == 409
    assert _snapshot(reload_attempt(session, attempt.id)) == before
