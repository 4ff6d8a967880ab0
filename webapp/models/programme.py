"""Programmes (credentials), their content domains, test centres and sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.models.base import Base


class Programme(Base):
    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Minutes before the end at which the candidate is warned (programme configuration).
    warning_minutes: Mapped[list[int]] = mapped_column(JSON, default=lambda: [15, 5])
    domains: Mapped[list[ContentDomain]] = relationship(
        order_by="ContentDomain.position", back_populates="programme"
    )


class ContentDomain(Base):
    __tablename__ = "content_domains"
    __table_args__ = (UniqueConstraint("programme_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int]
    # [{"code": "transitions-of-care", "name": "Transitions of care"}, ...] (programme.yaml)
    subdomains: Mapped[list[dict[str, str]]] = mapped_column(
        JSON, default=list, server_default=text("'[]'"))
    programme: Mapped[Programme] = relationship(back_populates="domains")


class TestCentre(Base):
    __tablename__ = "test_centres"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500), default="")


class ExamSession(Base):
    """A sitting of one form at one centre at a given time (a session on the schedule)."""

    __tablename__ = "exam_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("test_centres.id"))
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"))
    starts_at: Mapped[datetime]
    centre: Mapped[TestCentre] = relationship()
