"""Persisted item versions and forms. Item versions are immutable: an import that changes
an item adds a version (item_bank.authoring decides by content hash), and forms pin versions.

The key and the rationales never leave the server: no template or JSON for candidates reads
them (webapp/services/delivery.py lists what does).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Enum,
    Float,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from item_bank.model import CognitiveLevel, ItemKind, QuestionType, Status
from webapp.models.base import Base, utcnow

if TYPE_CHECKING:
    from webapp.models.programme import Programme


def _enum(kind: type[enum.Enum]) -> Enum:
    # Stored as its value in a VARCHAR: adding a value later needs no migration.
    return Enum(kind, native_enum=False, length=20,
                values_callable=lambda e: [m.value for m in e])


def _json_list() -> Any:
    return mapped_column(JSON, default=list, server_default=text("'[]'"))


class Scenario(Base):
    """A case vignette shared by the 2-4 questions of a scenario set."""

    __tablename__ = "scenarios"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(default=1)
    vignette: Mapped[str] = mapped_column(Text)
    # Authoring fields (empty for the demo bank): the set's defaults for its questions.
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"))
    question_codes: Mapped[list[str]] = _json_list()  # in authored order
    author: Mapped[str] = mapped_column(String(200), default="", server_default="")
    status: Mapped[Status | None] = mapped_column(_enum(Status))
    references: Mapped[list[str]] = _json_list()
    # [{"file", "alt", "media_type", "sha256", "size"}]; the bytes are in image_assets.
    assets: Mapped[list[dict[str, Any]]] = _json_list()
    content_hash: Mapped[str | None] = mapped_column(String(64))


class ItemVersion(Base):
    __tablename__ = "item_versions"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(default=1)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    domain_code: Mapped[str] = mapped_column(String(60))
    kind: Mapped[ItemKind] = mapped_column(
        Enum(ItemKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    stem: Mapped[str] = mapped_column(Text)
    # [{"id": "A", "text": "..."}, ...] in authored order.
    options: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    # The key never leaves the server: no template or JSON for candidates reads it.
    key: Mapped[str] = mapped_column(String(20))
    scenario_id: Mapped[int | None] = mapped_column(ForeignKey("scenarios.id"))
    scenario: Mapped[Scenario | None] = relationship(lazy="joined")
    # Authoring fields (item_bank.authoring; empty for the demo bank).
    subdomain_code: Mapped[str | None] = mapped_column(String(60))
    question_type: Mapped[QuestionType | None] = mapped_column(_enum(QuestionType))
    cognitive_level: Mapped[CognitiveLevel | None] = mapped_column(_enum(CognitiveLevel))
    status: Mapped[Status] = mapped_column(_enum(Status), default=Status.OPERATIONAL,
                                           server_default=Status.OPERATIONAL.value)
    # {"A": "why A is wrong", ...}: for reviewers only, like the key.
    rationales: Mapped[dict[str, str]] = mapped_column(JSON, default=dict,
                                                       server_default=text("'{}'"))
    references: Mapped[list[str]] = _json_list()
    author: Mapped[str] = mapped_column(String(200), default="", server_default="")
    enemies: Mapped[list[str]] = _json_list()  # item codes that must not share a form
    assets: Mapped[list[dict[str, Any]]] = _json_list()  # as Scenario.assets
    content_hash: Mapped[str | None] = mapped_column(String(64))
    difficulty: Mapped[float | None] = mapped_column(Float)  # banked Rasch difficulty
    # When the version was added (the admin's version history); unknown (NULL) for versions
    # stored before migration 0003.
    created_at: Mapped[datetime | None] = mapped_column(default=utcnow)

    @property
    def option_ids(self) -> list[str]:
        return [o["id"] for o in self.options]


class ImageAsset(Base):
    """The bytes of an image used by items or vignettes, stored once per content hash."""

    __tablename__ = "image_assets"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Form(Base):
    __tablename__ = "forms"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    code: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    published: Mapped[bool] = mapped_column(default=False)
    duration_minutes: Mapped[int] = mapped_column(default=180)
    shuffle_items: Mapped[bool] = mapped_column(default=True)
    shuffle_options: Mapped[bool] = mapped_column(default=True)
    # What webapp/services/forms.py stored when it assembled the form (seed, solver figures,
    # each constraint's target and achieved value); NULL for forms not assembled here.
    assembly: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    programme: Mapped[Programme] = relationship()
    items: Mapped[list[FormItem]] = relationship(
        order_by="FormItem.position", back_populates="form"
    )


class FormItem(Base):
    """One slot of a form: a pinned item version, scored or unscored pretest."""

    __tablename__ = "form_items"
    __table_args__ = (UniqueConstraint("form_id", "item_version_id"),)

    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    item_version_id: Mapped[int] = mapped_column(ForeignKey("item_versions.id"))
    scored: Mapped[bool] = mapped_column(default=True)
    # An anchor item: scored, and common to every form assembled together (equating link).
    anchor: Mapped[bool] = mapped_column(default=False, server_default=false())
    form: Mapped[Form] = relationship(back_populates="items")
    item: Mapped[ItemVersion] = relationship(lazy="joined")
