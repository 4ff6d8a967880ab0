"""The attempt's life: creation, the state machine, locking to one browser, ending."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Protocol

from flask_babel import lazy_gettext as _l
from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.orm import Session

from item_bank.ordering import item_order, option_order
from webapp import dialect
from webapp.errors import Conflict, Invalid, NotFound
from webapp.models import Attempt, AttemptEvent, AttemptState, ExamSession, Form, FormItem
from webapp.services import timing

S = AttemptState
TRANSITIONS: dict[AttemptState, frozenset[AttemptState]] = {
    S.SCHEDULED: frozenset({S.ADMITTED, S.VOIDED}),
    S.ADMITTED: frozenset({S.SCHEDULED, S.IN_PROGRESS, S.VOIDED}),
    S.IN_PROGRESS: frozenset({S.PAUSED, S.SUBMITTED, S.EXPIRED, S.VOIDED}),
    S.PAUSED: frozenset({S.IN_PROGRESS, S.VOIDED}),
    S.SUBMITTED: frozenset(),
    S.EXPIRED: frozenset(),
    S.VOIDED: frozenset(),
}
ENDED = frozenset({S.SUBMITTED, S.EXPIRED, S.VOIDED})
# Built once (a Core insert: events are append-only and never loaded as objects here).
_INSERT_EVENT = insert(AttemptEvent.__table__)
_OWN_ATTEMPT = select(Attempt).where(
    Attempt.id == bindparam("aid"), Attempt.candidate_id == bindparam("cid")
)
_OWN_ATTEMPT_FOR_UPDATE = _OWN_ATTEMPT.with_for_update()
_RUNNING_CLOCKS = select(
    Attempt.id, Attempt.segment_started_at, Attempt.time_used_s, Attempt.time_allowed_s,
    Attempt.extra_time_s,
).where(Attempt.state == S.IN_PROGRESS)


class AttemptView(Protocol):
    """What checks on a save read: an Attempt, or a row of just these columns."""

    @property
    def id(self) -> int: ...
    @property
    def state(self) -> AttemptState: ...
    @property
    def lock_session_id(self) -> str | None: ...
    @property
    def last_seq(self) -> int: ...
    @property
    def option_order(self) -> dict[str, list[str]]: ...
    @property
    def item_order(self) -> list[int]: ...


class IllegalTransition(Conflict):
    code = "illegal_transition"

    def __init__(self, current: AttemptState, target: AttemptState) -> None:
        super().__init__(str(_l("This exam cannot go from %(a)s to %(b)s.", a=current, b=target)))
        self.current = current
        self.target = target


class AttemptEnded(Conflict):
    code = "attempt_ended"

    def default_message(self) -> str:
        return str(_l("This exam has ended and can no longer be changed."))


class AttemptPaused(Conflict):
    code = "attempt_paused"

    def default_message(self) -> str:
        return str(_l("Your exam is paused by the proctor. Your answers are saved."))


class AttemptNotStarted(Conflict):
    code = "attempt_not_started"

    def default_message(self) -> str:
        return str(_l("This exam has not started. Wait for the proctor to admit you."))


class AttemptLocked(Conflict):
    code = "attempt_locked"

    def default_message(self) -> str:
        return str(_l(
            "This exam is open on another workstation. "
            "A proctor must unlock it before you can continue here."
        ))


def record_event(
    session: Session | Connection, attempt: AttemptView, kind: str, now: datetime, *,
    actor_id: int | None = None, client_time: datetime | None = None, seq: int | None = None,
    **data: Any,
) -> None:
    session.execute(_INSERT_EVENT, {
        "attempt_id": attempt.id, "kind": kind, "actor_id": actor_id, "server_time": now,
        "client_time": client_time, "seq": seq, "data": data,
    })


def transition(
    session: Session, attempt: Attempt, target: AttemptState, now: datetime, *,
    actor_id: int | None = None, reason: str | None = None,
) -> None:
    """The only way an attempt changes state: checks the move, keeps time, logs it."""
    current = attempt.state
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(current, target)
    if current is S.IN_PROGRESS:
        timing.stop_segment(attempt, now)
    if target is S.IN_PROGRESS:
        attempt.started_at = attempt.started_at or now
        timing.start_segment(attempt, now)
    if target in ENDED:
        attempt.ended_at = now
        attempt.lock_session_id = None
    attempt.state = target
    record_event(
        session, attempt, "transition", now, actor_id=actor_id,
        **{"from": current.value, "to": target.value, "reason": reason},
    )
    if target in (S.SUBMITTED, S.EXPIRED):
        from webapp.services.results import score_attempt  # results -> saves -> attempts

        score_attempt(session, attempt)
    session.flush()


def create_attempt(
    session: Session, candidate_id: int, exam_session: ExamSession, *, seed: int | None = None
) -> Attempt:
    """Book a candidate into a session: the delivery order is fixed here, once."""
    form = session.get(Form, exam_session.form_id)
    if form is None:
        raise NotFound()
    slots = list(form.items)
    seed = secrets.randbits(62) if seed is None else seed
    groups = [slot.item.scenario_id for slot in slots]
    order = item_order(groups, seed, shuffle=form.shuffle_items)
    options = {
        str(slot.item_version_id): option_order(
            slot.item.option_ids, seed, slot.item_version_id, shuffle=form.shuffle_options
        )
        for slot in slots
    }
    attempt = Attempt(
        candidate_id=candidate_id, exam_session_id=exam_session.id, form_id=form.id,
        state=S.SCHEDULED, seed=seed, item_order=[slots[i].position for i in order],
        option_order=options, time_allowed_s=form.duration_minutes * 60,
    )
    session.add(attempt)
    session.flush()
    return attempt


def get_for_candidate(
    session: Session, attempt_id: int, candidate_id: int, *, for_update: bool = False
) -> Attempt:
    """The candidate's own attempt; another candidate's is indistinguishable from none."""
    stmt = _OWN_ATTEMPT_FOR_UPDATE if for_update else _OWN_ATTEMPT
    attempt = session.scalar(stmt, {"aid": attempt_id, "cid": candidate_id})
    if attempt is None:
        raise NotFound()
    return attempt


def get_for_staff(session: Session, attempt_id: int, *, for_update: bool = False) -> Attempt:
    stmt = select(Attempt).where(Attempt.id == attempt_id)
    if for_update:
        stmt = stmt.with_for_update()
    attempt = session.scalar(stmt)
    if attempt is None:
        raise NotFound()
    return attempt


def settle(session: Session, attempt: Attempt, now: datetime, grace_s: float = 0.0) -> bool:
    """End an attempt whose time ran out (at its deadline, not when noticed)."""
    if attempt.state is S.IN_PROGRESS and timing.is_due(attempt, now, grace_s):
        end = timing.deadline(attempt)
        assert end is not None
        transition(session, attempt, S.EXPIRED, end, reason="time expired")
        return True
    return False


def settle_due(session: Session, now: datetime, grace_s: float = 0.0) -> int:
    """End every attempt whose time has run out; returns how many.

    Reads the running attempts once and locks only those that are due, one short write
    transaction each, so a proctor console or the sweeper costs one query when none is.
    """
    running = session.execute(_RUNNING_CLOCKS).all()  # only the time columns: this runs often
    due = [row.id for row in running if timing.is_due(row, now, grace_s)]
    session.commit()
    ended = 0
    for attempt_id in due:
        dialect.begin_write(session)
        attempt = get_for_staff(session, attempt_id, for_update=True)
        ended += settle(session, attempt, now, grace_s)
        session.commit()
    return ended


def require_in_progress(attempt: AttemptView) -> None:
    if attempt.state is S.IN_PROGRESS:
        return
    if attempt.state is S.PAUSED:
        raise AttemptPaused()
    if attempt.state in ENDED:
        raise AttemptEnded()
    raise AttemptNotStarted()


def check_lock(attempt: AttemptView, login_session_id: str) -> None:
    if attempt.lock_session_id not in (None, login_session_id):
        raise AttemptLocked()


def claim(session: Session, attempt: Attempt, login_session_id: str, now: datetime) -> None:
    """Bind the attempt to this browser, or refuse if another one drives it."""
    check_lock(attempt, login_session_id)
    if attempt.lock_session_id is None:
        attempt.lock_session_id = login_session_id
        record_event(session, attempt, "lock", now, login_session=login_session_id[:12])
        session.flush()


def start(
    session: Session, attempt: Attempt, login_session_id: str, now: datetime, *, accepted: bool
) -> None:
    if attempt.state is not S.ADMITTED:
        if attempt.state in (S.IN_PROGRESS, S.PAUSED):
            return  # a second click on "Begin exam" just continues
        raise IllegalTransition(attempt.state, S.IN_PROGRESS)
    if not accepted:
        raise Invalid(str(_l("Tick the box to accept the exam rules before you begin.")))
    claim(session, attempt, login_session_id, now)
    transition(session, attempt, S.IN_PROGRESS, now, actor_id=attempt.candidate_id)


def submit(session: Session, attempt: Attempt, login_session_id: str, now: datetime) -> None:
    if attempt.state is S.SUBMITTED:
        return  # a repeated confirm is harmless
    require_in_progress(attempt)
    check_lock(attempt, login_session_id)
    transition(session, attempt, S.SUBMITTED, now, actor_id=attempt.candidate_id)


def move_to(session: Session, attempt: Attempt, position: int) -> None:
    if not 1 <= position <= len(attempt.item_order):
        raise NotFound(str(_l("There is no question %(n)s on this exam.", n=position)))
    attempt.current_position = position


def form_slots(session: Session, attempt: Attempt) -> list[FormItem]:
    """The form's slots in this candidate's delivery order."""
    by_position = {slot.position: slot for slot in attempt.form.items}
    return [by_position[p] for p in attempt.item_order]
