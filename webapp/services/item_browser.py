"""The administrators' view of the item bank: search the latest versions, look at one item
with everything a reviewer needs (key, rationales, metadata, version history).

Staff only: the functions here return the key and the rationales. What candidates see is
built by services/delivery.py alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from item_bank.model import QuestionType, Status
from webapp.errors import Invalid, NotFound
from webapp.models import ContentDomain, ItemReview, ItemVersion, Programme
from webapp.services import reviews

PAGE_SIZE = 25
MAX_QUERY = 200


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FilterChoices:
    """The values each filter accepts (and the browser's select boxes offer)."""

    programmes: tuple[Choice, ...]
    domains: tuple[Choice, ...]
    subdomains: tuple[Choice, ...]


@dataclass(frozen=True)
class Filters:
    query: str = ""
    programme: str = ""
    domain: str = ""
    subdomain: str = ""
    status: Status | None = None
    question_type: QuestionType | None = None

    def as_args(self) -> dict[str, str]:
        """The non-empty filters as URL query arguments (for page links)."""
        args = {"q": self.query, "programme": self.programme, "domain": self.domain,
                "subdomain": self.subdomain, "status": self.status.value if self.status else "",
                "type": self.question_type.value if self.question_type else ""}
        return {k: v for k, v in args.items() if v}


def filter_choices(session: Session) -> FilterChoices:
    programmes = session.execute(select(Programme.code, Programme.name)
                                 .order_by(Programme.code)).all()
    domains: dict[str, str] = {}
    subdomains: dict[str, str] = {}
    for domain in session.scalars(select(ContentDomain).order_by(ContentDomain.programme_id,
                                                                 ContentDomain.position)):
        domains.setdefault(domain.code, domain.name)
        for sub in domain.subdomains:
            subdomains.setdefault(sub["code"], sub["name"])
    return FilterChoices(
        tuple(Choice(code, f"{code} · {name}") for code, name in programmes),
        tuple(Choice(code, name) for code, name in domains.items()),
        tuple(Choice(code, name) for code, name in sorted(subdomains.items(),
                                                             key=lambda kv: kv[1])),
    )


def _one_of(name: str, value: str, allowed: Sequence[str]) -> str:
    if value and value not in allowed:
        raise Invalid(str(_l("Unknown %(field)s %(value)r.", field=name, value=value)))
    return value


def parse_filters(values: Mapping[str, str], choices: FilterChoices) -> Filters:
    """Filters from the browser's query arguments; :class:`Invalid` (422) names a bad one."""
    query = " ".join(values.get("q", "").split())
    if len(query) > MAX_QUERY:
        raise Invalid(str(_l("The search text is too long: at most %(n)s characters.",
                             n=MAX_QUERY)))
    status = _one_of("status", values.get("status", ""), [s.value for s in Status])
    kind = _one_of("type", values.get("type", ""), [t.value for t in QuestionType])
    return Filters(
        query=query,
        programme=_one_of("programme", values.get("programme", ""),
                          [c.value for c in choices.programmes]),
        domain=_one_of("domain", values.get("domain", ""), [c.value for c in choices.domains]),
        subdomain=_one_of("sub-domain", values.get("subdomain", ""),
                          [c.value for c in choices.subdomains]),
        status=Status(status) if status else None,
        question_type=QuestionType(kind) if kind else None,
    )


def parse_page(value: str | None) -> int:
    if value is None or value == "":
        return 1
    if not value.isdigit() or not 1 <= int(value) <= 100_000:
        raise Invalid(str(_l("Bad page number %(value)r: a page is a whole number from 1.",
                             value=value[:20])))
    return int(value)


@dataclass(frozen=True)
class ItemRow:
    item: ItemVersion
    programme: str


@dataclass(frozen=True)
class ResultPage:
    rows: tuple[ItemRow, ...]
    total: int
    page: int  # 1-based; a page past the end shows the last one
    pages: int
    filters: Filters = field(default_factory=Filters)

    @property
    def first(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.page * PAGE_SIZE, self.total)

    def window(self, around: int = 3) -> list[int]:
        """Page numbers to link: the first, the last, and a few around this one."""
        near = range(max(1, self.page - around), min(self.pages, self.page + around) + 1)
        return sorted({1, self.pages, *near} - {0})


def _latest() -> Any:
    return (select(ItemVersion.code, func.max(ItemVersion.version).label("version"))
            .group_by(ItemVersion.code).subquery())


def _filtered(stmt: Select[Any], filters: Filters) -> Select[Any]:
    if filters.query:
        stmt = stmt.where(or_(ItemVersion.code.icontains(filters.query, autoescape=True),
                              ItemVersion.stem.icontains(filters.query, autoescape=True)))
    if filters.programme:
        stmt = stmt.where(Programme.code == filters.programme)
    if filters.domain:
        stmt = stmt.where(ItemVersion.domain_code == filters.domain)
    if filters.subdomain:
        stmt = stmt.where(ItemVersion.subdomain_code == filters.subdomain)
    if filters.status:
        stmt = stmt.where(ItemVersion.status == filters.status)
    if filters.question_type:
        stmt = stmt.where(ItemVersion.question_type == filters.question_type)
    return stmt


def search(session: Session, filters: Filters, page: int = 1) -> ResultPage:
    """The latest version of each matching item, by code, ``PAGE_SIZE`` a page."""
    latest = _latest()
    base = (select(ItemVersion, Programme.code)
            .join(latest, and_(ItemVersion.code == latest.c.code,
                               ItemVersion.version == latest.c.version))
            .join(Programme, Programme.id == ItemVersion.programme_id))
    base = _filtered(base, filters)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(page, pages)
    rows = session.execute(base.order_by(ItemVersion.code)
                           .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return ResultPage(tuple(ItemRow(item, code) for item, code in rows), total, page, pages,
                      filters)


# --- one item ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionEntry:
    version: int
    status: Status
    created_at: datetime | None
    # Fields that differ from the previous version, named as in the YAML
    # ("stem", "options.B.rationale", "vignette"); empty for the first version.
    changes: tuple[str, ...]


@dataclass(frozen=True)
class ItemDetail:
    item: ItemVersion  # the version shown
    latest: ItemVersion
    programme: Programme
    domain_name: str | None
    subdomain_name: str | None
    versions: tuple[VersionEntry, ...]  # newest first
    reviews: tuple[ItemReview, ...]  # newest first
    transitions: tuple[Status, ...]  # what the latest version's status may move to
    version_of: Mapping[int, int]  # item_versions.id -> version number (for the reviews)

    @property
    def is_latest(self) -> bool:
        return self.item.id == self.latest.id


def _assets(assets: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    return [(a["file"], a["alt"], a["sha256"]) for a in assets]


def changed_fields(old: ItemVersion, new: ItemVersion) -> tuple[str, ...]:
    """What differs between two versions of an item, by field name (as stored now)."""
    changes = [name for name, a, b in (
        ("domain", old.domain_code, new.domain_code),
        ("subdomain", old.subdomain_code, new.subdomain_code),
        ("type", old.question_type, new.question_type),
        ("level", old.cognitive_level, new.cognitive_level),
        ("status", old.status, new.status),
        ("author", old.author, new.author),
        ("difficulty", old.difficulty, new.difficulty),
        ("enemies", old.enemies, new.enemies),
        ("references", old.references, new.references),
        ("assets", _assets(old.assets), _assets(new.assets)),
        ("stem", old.stem, new.stem),
    ) if a != b]
    old_texts = {o["id"]: o["text"] for o in old.options}
    new_texts = {o["id"]: o["text"] for o in new.options}
    if list(old_texts) != list(new_texts):
        changes.append("options")
    for label in new_texts:
        if label in old_texts and old_texts[label] != new_texts[label]:
            changes.append(f"options.{label}.text")
        if old.rationales.get(label, "") != new.rationales.get(label, ""):
            changes.append(f"options.{label}.rationale")
    if old.key != new.key:
        changes.append("key")
    if old.scenario_id != new.scenario_id:
        before, after = old.scenario, new.scenario
        if before is None or after is None or before.code != after.code:
            changes.append("scenario")
        elif before.vignette != after.vignette:
            changes.append("vignette")
        else:
            changes.append("scenario set")  # its author, references, images or questions
    return tuple(changes)


def item_detail(session: Session, code: str, version: int | None = None) -> ItemDetail:
    """Item ``code`` at ``version`` (default: the latest), with its history.

    Raises :class:`NotFound` for an unknown code or version.
    """
    rows = list(session.scalars(select(ItemVersion).where(ItemVersion.code == code)
                                .order_by(ItemVersion.version)))
    if not rows:
        raise NotFound(str(_l("There is no item %(code)s in the bank.", code=code)))
    shown = rows[-1] if version is None else next(
        (r for r in rows if r.version == version), None)
    if shown is None:
        raise NotFound(str(_l("Item %(code)s has no version %(version)s.", code=code,
                              version=version)))
    programme = session.get(Programme, shown.programme_id)
    assert programme is not None
    domain = session.scalar(select(ContentDomain).where(
        ContentDomain.programme_id == programme.id, ContentDomain.code == shown.domain_code))
    subdomain = next((s["name"] for s in (domain.subdomains if domain else [])
                      if s["code"] == shown.subdomain_code), None)
    versions = tuple(
        VersionEntry(row.version, row.status, row.created_at,
                     changed_fields(rows[i - 1], row) if i else ())
        for i, row in enumerate(rows)
    )[::-1]
    return ItemDetail(
        item=shown, latest=rows[-1], programme=programme,
        domain_name=domain.name if domain else None, subdomain_name=subdomain,
        versions=versions, reviews=tuple(reviews.history(session, code)),
        transitions=reviews.TRANSITIONS[rows[-1].status],
        version_of={row.id: row.version for row in rows},
    )


def image_assets(item: ItemVersion) -> list[Mapping[str, Any]]:
    """The images a version may show: its own and its scenario set's."""
    return [*item.assets, *(item.scenario.assets if item.scenario else [])]


__all__ = [
    "PAGE_SIZE", "Choice", "FilterChoices", "Filters", "ItemDetail", "ItemRow", "ResultPage",
    "VersionEntry", "changed_fields", "filter_choices", "image_assets", "item_detail",
    "parse_filters", "parse_page", "search",
]
