"""Applying a candidate's save: newest sequence wins, acknowledged only after the commit.

A save carries the whole state of one question (choice, flag, struck options) and a
per-attempt sequence number from the browser. It is applied with one conditional upsert
(``INSERT .. ON CONFLICT .. DO UPDATE .. WHERE seq < excluded.seq``), so a duplicate or a
late, reordered request can never overwrite a newer answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, case, func, select, update
from sqlalchemy.orm import Session

from webapp import dialect
from webapp.errors import Conflict, Invalid
from webapp.models import Attempt, AttemptState, LoginSession, Response, Role, User
from webapp.services import attempts, timing

MAX_SEQ = 2**31 - 1

# Built once: the save path runs hundreds of times a second.
_RESPONSES = Response.__table__
_STORED_SEQ = select(_RESPONSES.c.seq).where(
    _RESPONSES.c.attempt_id == bindparam("aid"), _RESPONSES.c.item_version_id == bindparam("item")
)
_ATTEMPTS = Attempt.__table__
# The sign-in check rides in the save's own statement: the candidate's login session is live
# and the account active (the save view skips the separate sign-in lookup).
_SIGNED_IN = (
    select(User.role)
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(
        LoginSession.id == bindparam("sid"),
        LoginSession.revoked_at.is_(None),
        User.id == bindparam("cid"),
        User.active.is_(True),
    )
    .scalar_subquery()
)
_SAVE_VIEW = (
    select(
        Attempt.id, Attempt.state, Attempt.lock_session_id, Attempt.last_seq,
        Attempt.option_order, Attempt.item_order, Attempt.segment_started_at,
        Attempt.time_used_s, Attempt.time_allowed_s, Attempt.extra_time_s,
        _SIGNED_IN.label("signed_in_role"),
    )
    .where(Attempt.id == bindparam("aid"), Attempt.candidate_id == bindparam("cid"))
    .with_for_update(of=_ATTEMPTS)
)
_ADVANCE = (
    update(_ATTEMPTS)
    .where(_ATTEMPTS.c.id == bindparam("aid"))
    .values(
        last_seq=case(
            (_ATTEMPTS.c.last_seq < bindparam("new_seq"), bindparam("new_seq")),
            else_=_ATTEMPTS.c.last_seq,
        ),
        current_position=func.coalesce(bindparam("pos"), _ATTEMPTS.c.current_position),
    )
)


class NotSignedIn(Exception):
    """The login session is not a live candidate session of this attempt's owner (or the
    attempt is not theirs): the caller answers as its ordinary sign-in check would."""


class StaleSave(Conflict):
    code = "stale_save"

    def default_message(self) -> str:
        return str(_l("A newer answer to this question is already saved."))


@dataclass(frozen=True)
class SaveRequest:
    """One question's complete state. ``seq`` None asks the server to number it (no-JS)."""

    item_id: int
    choice: str | None
    flagged: bool
    struck: tuple[str, ...] = ()
    seq: int | None = None
    client_time: datetime | None = None
    position: int | None = None


@dataclass(frozen=True)
class SaveResult:
    applied: bool
    seq: int
    remaining_s: float
    state: AttemptState
    duplicate: bool = False


def validate(attempt: attempts.AttemptView, req: SaveRequest) -> None:
    """Reject anything that is not a legal state of a question on this candidate's form."""
    options = attempt.option_order.get(str(req.item_id))
    if options is None:
        raise Invalid(str(_l("Question %(i)s is not on your exam.", i=req.item_id)))
    if req.choice is not None and req.choice not in options:
        raise Invalid(str(_l("Option %(o)s is not an option of this question.", o=req.choice)))
    bad = [s for s in req.struck if s not in options]
    if bad:
        raise Invalid(str(_l("Option %(o)s is not an option of this question.", o=bad[0])))
    if len(set(req.struck)) != len(req.struck):
        raise Invalid(str(_l("An option is struck out twice.")))
    if req.seq is not None and not 1 <= req.seq <= MAX_SEQ:
        raise Invalid(str(_l("The save's sequence number is out of range.")))
    if req.position is not None and not 1 <= req.position <= len(attempt.item_order):
        raise Invalid(str(_l("There is no question %(n)s on this exam.", n=req.position)))


def apply_save(
    session: Session, attempt_id: int, candidate_id: int, login_session_id: str,
    req: SaveRequest, now: datetime, grace_s: float = 0.0,
) -> SaveResult:
    """Apply one save inside a write transaction; the caller commits, then answers.

    ``candidate_id`` and ``login_session_id`` may come straight from the session cookie:
    the statement that locks the attempt also checks that this login session is live and
    belongs to the attempt's candidate, and raises `NotSignedIn` otherwise.
    """
    dialect.begin_write(session)
    # Core statements on the session's connection (no ORM layer on the hot path); the
    # columns a save reads, locked (FOR UPDATE on PostgreSQL): no ORM object.
    conn = session.connection()
    attempt = conn.execute(
        _SAVE_VIEW, {"aid": attempt_id, "cid": candidate_id, "sid": login_session_id}
    ).first()
    if attempt is None or attempt.signed_in_role != Role.CANDIDATE:
        raise NotSignedIn()
    if timing.is_due(attempt, now, grace_s):
        full = attempts.get_for_candidate(session, attempt_id, candidate_id, for_update=True)
        attempts.settle(session, full, now, grace_s)
        raise attempts.AttemptEnded()
    attempts.require_in_progress(attempt)
    attempts.check_lock(attempt, login_session_id)
    validate(attempt, req)
    seq = req.seq if req.seq is not None else attempt.last_seq + 1
    struck = sorted(req.struck)
    applied = dialect.upsert_if_newer(conn, _RESPONSES, {
        "attempt_id": attempt.id, "item_version_id": req.item_id, "choice": req.choice,
        "flagged": req.flagged, "struck": struck, "seq": seq, "updated_at": now,
    })
    if not applied:
        stored = conn.scalar(_STORED_SEQ, {"aid": attempt.id, "item": req.item_id})
        if stored != seq:
            raise StaleSave()
    if seq > attempt.last_seq or req.position is not None:
        conn.execute(_ADVANCE, {"aid": attempt.id, "new_seq": seq, "pos": req.position})
    if applied:
        attempts.record_event(
            conn, attempt, "save", now, actor_id=candidate_id, client_time=req.client_time,
            seq=seq, item=req.item_id, choice=req.choice, flagged=req.flagged, struck=struck,
        )
    return SaveResult(
        applied=applied, seq=seq, remaining_s=timing.remaining(attempt, now),
        state=attempt.state, duplicate=not applied,
    )


def responses_by_item(session: Session, attempt_id: int) -> dict[int, Response]:
    rows = session.scalars(select(Response).where(Response.attempt_id == attempt_id))
    return {r.item_version_id: r for r in rows}
