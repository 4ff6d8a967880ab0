"""Persisted item versions and forms. Item versions are immutable once on a form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import JSON, Enum, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from item_bank.model import ItemKind
from webapp.models.base import Base

if TYPE_CHECKING:
    from webapp.models.programme import Programme


class Scenario(Base):
    """A case vignette shared by the 2-4 questions of a scenario set."""

    __tablename__ = "scenarios"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(default=1)
    vignette: Mapped[str] = mapped_column(Text)


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

    @property
    def option_ids(self) -> list[str]:
        return [o["id"] for o in self.options]


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
    form: Mapped[Form] = relationship(back_populates="items")
    item: Mapped[ItemVersion] = relationship(lazy="joined")
