"""What a proctor does to an attempt; every action is an attempt event and an audit entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.errors import Conflict, Invalid
from webapp.models import Attempt, AttemptState, ExamSession, User
from webapp.services import attempts, auth, timing
from webapp.services.audit import audit

S = AttemptState
UNLOCK_REASONS = ("workstation change", "browser crash", "other")


def _log(
    session: Session, attempt: Attempt, action: str, actor_id: int, now: datetime,
    reason: str | None = None, ip: str | None = None,
) -> None:
    attempts.record_event(session, attempt, action, now, actor_id=actor_id, reason=reason)
    audit(session, action, actor_id, target=f"attempt:{attempt.id}", reason=reason, ip=ip)


def admit(session: Session, attempt: Attempt, actor_id: int, now: datetime,
          ip: str | None = None) -> None:
    attempts.transition(session, attempt, S.ADMITTED, now, actor_id=actor_id, reason="admitted")
    audit(session, "proctor.admit", actor_id, target=f"attempt:{attempt.id}", ip=ip)


def unlock(
    session: Session, attempt: Attempt, actor_id: int, reason: str, now: datetime,
    ip: str | None = None,
) -> None:
    """Release the attempt from its browser so another workstation can take it over.

    The old browser's login session is revoked: its cookie stops working at once.
    """
    if reason not in UNLOCK_REASONS:
        raise Invalid(str(_l("Choose a reason for unlocking.")))
    if attempt.state in attempts.ENDED:
        raise Conflict(str(_l("This exam has ended; there is nothing to unlock.")))
    if attempt.lock_session_id is None:
        raise Conflict(str(_l("This exam is not locked to a workstation.")))
    auth.revoke_sessions(session, "unlocked by proctor", session_id=attempt.lock_session_id)
    attempt.lock_session_id = None
    _log(session, attempt, "proctor.unlock", actor_id, now, reason, ip)
    session.flush()


def pause(session: Session, attempt: Attempt, actor_id: int, now: datetime,
          ip: str | None = None) -> None:
    attempts.transition(session, attempt, S.PAUSED, now, actor_id=actor_id, reason="paused")
    audit(session, "proctor.pause", actor_id, target=f"attempt:{attempt.id}", ip=ip)


def resume(session: Session, attempt: Attempt, actor_id: int, now: datetime,
           ip: str | None = None) -> None:
    attempts.transition(session, attempt, S.IN_PROGRESS, now, actor_id=actor_id, reason="resumed")
    audit(session, "proctor.resume", actor_id, target=f"attempt:{attempt.id}", ip=ip)


@dataclass(frozen=True)
class RosterRow:
    attempt_id: int
    candidate: str
    email: str
    state: AttemptState
    remaining: str
    locked: bool
    answered: int
    total: int


def roster(session: Session, now: datetime, day_start: datetime,
           day_end: datetime) -> list[tuple[ExamSession, list[RosterRow]]]:
    """Today's sessions and their candidates (expired attempts settled first)."""
    from sqlalchemy import func

    from webapp.models import Response

    sessions = session.scalars(
        select(ExamSession).where(ExamSession.starts_at >= day_start,
                                  ExamSession.starts_at < day_end)
        .order_by(ExamSession.starts_at)
    ).all()
    out = []
    for exam_session in sessions:
        rows = session.execute(
            select(Attempt, User)
            .join(User, User.id == Attempt.candidate_id)
            .where(Attempt.exam_session_id == exam_session.id)
            .order_by(User.full_name)
        ).all()
        counts = dict(session.execute(
            select(Response.attempt_id, func.count())
            .join(Attempt, Attempt.id == Response.attempt_id)
            .where(Attempt.exam_session_id == exam_session.id, Response.choice.is_not(None))
            .group_by(Response.attempt_id)
        ).all())
        out.append((exam_session, [
            RosterRow(
                attempt_id=a.id, candidate=u.full_name, email=u.email, state=a.state,
                remaining=timing.format_hms(timing.remaining(a, now)),
                locked=a.lock_session_id is not None, answered=counts.get(a.id, 0),
                total=len(a.item_order),
            )
            for a, u in rows
        ]))
    return out
