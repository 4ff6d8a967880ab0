"""The attempt aggregate: one candidate's sitting of one form, its responses and events."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.base import Base, utcnow

if TYPE_CHECKING:
    from webapp.models.bank import Form
    from webapp.models.programme import ExamSession
    from webapp.models.user import User


class AttemptState(enum.StrEnum):
    SCHEDULED = "scheduled"
    ADMITTED = "admitted"
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    SUBMITTED = "submitted"
    EXPIRED = "expired"
    VOIDED = "voided"


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Attempt(Base):
    __tablename__ = "attempts"
    __table_args__ = (UniqueConstraint("candidate_id", "exam_session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    exam_session_id: Mapped[int] = mapped_column(ForeignKey("exam_sessions.id"), index=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    state: Mapped[AttemptState] = mapped_column(_enum(AttemptState), default=AttemptState.SCHEDULED)
    # Delivery order, fixed when the attempt is created so that a resume shows the same:
    # form positions in the order shown, and per item version id the option ids shown.
    seed: Mapped[int] = mapped_column(BigInteger)
    item_order: Mapped[list[int]] = mapped_column(JSON)
    option_order: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    # Server-authoritative time: used time accrues only while a segment runs.
    time_allowed_s: Mapped[int]
    extra_time_s: Mapped[int] = mapped_column(default=0)
    time_used_s: Mapped[float] = mapped_column(default=0.0)
    segment_started_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    # Highest client save sequence applied; the next page render continues above it.
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    current_position: Mapped[int] = mapped_column(default=1)
    # The one login session allowed to drive the attempt; a proctor's unlock clears it.
    lock_session_id: Mapped[str | None] = mapped_column(String(64))
    raw_score: Mapped[int | None]
    domain_raw: Mapped[dict[str, int] | None] = mapped_column(JSON)
    candidate: Mapped[User] = relationship()
    exam_session: Mapped[ExamSession] = relationship()
    form: Mapped[Form] = relationship()


class Response(Base):
    """The latest state of one question: choice, flag and struck options."""

    __tablename__ = "responses"

    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), primary_key=True)
    item_version_id: Mapped[int] = mapped_column(
        ForeignKey("item_versions.id"), primary_key=True
    )
    choice: Mapped[str | None] = mapped_column(String(20))
    flagged: Mapped[bool] = mapped_column(default=False)
    struck: Mapped[list[str]] = mapped_column(JSON, default=list)
    seq: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AttemptEvent(Base):
    """Append-only: every save, transition and proctor action on an attempt."""

    __tablename__ = "attempt_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    server_time: Mapped[datetime] = mapped_column(default=utcnow)
    client_time: Mapped[datetime | None]
    seq: Mapped[int | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
