"""The review workflow of item versions: who moved an item's status, when, and why.

A review is not a new content version: it changes the status of the latest version in place
(webapp/services/reviews.py) and is recorded here, append-only, with the reviewer and the
comment; the audit log has the same action.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from item_bank.model import Status
from webapp.models.base import Base, utcnow
from webapp.models.user import User


def _status() -> Enum:
    # As ItemVersion.status: the value in a VARCHAR, so a new status needs no migration.
    return Enum(Status, native_enum=False, length=20,
                values_callable=lambda e: [m.value for m in e])


class ItemReview(Base):
    __tablename__ = "item_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id"), index=True)
    # The item's stable code, so that one query gives the history across its versions.
    item_code: Mapped[str] = mapped_column(String(60), index=True)
    from_status: Mapped[Status] = mapped_column(_status())
    to_status: Mapped[Status] = mapped_column(_status())
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewer: Mapped[User] = relationship(lazy="joined")
