"""The item bank in the database: import authored batches as versions, read it back, export.

Versions are immutable rows. :func:`import_batch` compares each item's content hash with its
latest version: unchanged items add nothing; changed items add version latest + 1; new items
start at the version their file gives. Forms pin ``item_versions.id``, so an import never
changes what a past or running attempt shows. The whole batch goes in, or nothing: a batch
with any problem (in its files or against the bank) raises :class:`ImportRefused`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from item_bank import authoring
from item_bank.authoring import Batch, Problem
from item_bank.model import (
    Domain,
    Image,
    Item,
    Option,
    Programme,
    ScenarioSet,
    SubDomain,
)
from webapp.errors import Invalid
from webapp.models import ContentDomain, ImageAsset, ItemVersion, Scenario
from webapp.models import Programme as ProgrammeRow


class ImportRefused(Invalid):
    """The batch has problems; nothing was imported. ``problems`` lists every one."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"{len(self.problems)} problem(s); nothing was imported")


@dataclass(frozen=True)
class Change:
    code: str
    version: int
    change: str  # "new" or "changed"


@dataclass
class ImportSummary:
    items: list[Change] = field(default_factory=list)
    scenarios: list[Change] = field(default_factory=list)
    unchanged_items: int = 0
    unchanged_scenarios: int = 0

    @property
    def new_versions(self) -> int:
        return len(self.items) + len(self.scenarios)


# --- reading the bank --------------------------------------------------------------------


def _latest(rows: Iterable[Any]) -> dict[str, Any]:
    latest: dict[str, Any] = {}
    for row in rows:
        if row.code not in latest or row.version > latest[row.code].version:
            latest[row.code] = row
    return latest


def known_item_codes(session: Session) -> set[str]:
    """Every item code in the bank (an enemy may name any of them)."""
    return set(session.scalars(select(ItemVersion.code).distinct()))


def _image(data: dict[str, Any]) -> Image:
    return Image(data["file"], data["alt"], data["media_type"], data["sha256"], data["size"])


def _image_data(image: Image) -> dict[str, Any]:
    return {"file": image.file, "alt": image.alt, "media_type": image.media_type,
            "sha256": image.sha256, "size": image.size}


def item_of(row: ItemVersion, programme: str) -> Item:
    """The model item of one stored version (with key and rationales: staff only)."""
    return Item(
        code=row.code, domain=row.domain_code, stem=row.stem,
        options=tuple(Option(o["id"], o["text"], row.rationales.get(o["id"], ""))
                      for o in row.options),
        key=row.key, kind=row.kind, scenario=row.scenario.code if row.scenario else None,
        version=row.version, programme=programme, subdomain=row.subdomain_code,
        question_type=row.question_type, level=row.cognitive_level, status=row.status,
        references=tuple(row.references), author=row.author, enemies=tuple(row.enemies),
        images=tuple(_image(a) for a in row.assets), difficulty=row.difficulty,
    )


def scenario_of(row: Scenario, programme: str) -> ScenarioSet:
    return ScenarioSet(
        code=row.code, vignette=row.vignette, questions=tuple(row.question_codes),
        version=row.version, programme=programme, author=row.author, status=row.status,
        references=tuple(row.references), images=tuple(_image(a) for a in row.assets),
    )


def programme_of(row: ProgrammeRow) -> Programme:
    return Programme(row.code, row.name, tuple(
        Domain(d.code, d.name, tuple(SubDomain(s["code"], s["name"]) for s in d.subdomains))
        for d in row.domains
    ))


@dataclass(frozen=True)
class StoredBank:
    """The current (latest) authored versions of one programme."""

    programme: Programme
    items: tuple[Item, ...]  # standalone items, then each set's questions in order
    scenarios: tuple[ScenarioSet, ...]
    item_rows: dict[str, ItemVersion]


def current_bank(session: Session, programme: ProgrammeRow) -> StoredBank:
    """The latest version of every authored standalone item and scenario set (with its
    current questions) of ``programme``: what ``items export`` writes."""
    item_rows = _latest(session.scalars(select(ItemVersion).where(
        ItemVersion.programme_id == programme.id, ItemVersion.content_hash.is_not(None))))
    scenario_rows = _latest(session.scalars(select(Scenario).where(
        Scenario.programme_id == programme.id, Scenario.content_hash.is_not(None))))
    items = [item_of(row, programme.code) for code, row in sorted(item_rows.items())
             if row.scenario_id is None]
    scenarios = []
    for _, row in sorted(scenario_rows.items()):
        questions = [item_rows.get(code) for code in row.question_codes]
        if any(q is None or q.scenario_id != row.id for q in questions):
            continue  # an older set whose questions have moved on (not current)
        scenarios.append(scenario_of(row, programme.code))
        items += [item_of(q, programme.code) for q in questions if q is not None]
    return StoredBank(programme_of(programme), tuple(items), tuple(scenarios), item_rows)


# --- import --------------------------------------------------------------------------------


def _conflicts(session: Session, batch: Batch) -> list[Problem]:
    """Ids of the batch that the bank already uses for another programme."""
    programme_codes = dict(session.execute(select(ProgrammeRow.id, ProgrammeRow.code)).all())
    problems = []
    by_code = {i.code: i.programme for i in batch.items}
    for code, programme_id in session.execute(
            select(ItemVersion.code, ItemVersion.programme_id).where(
                ItemVersion.code.in_(list(by_code))).distinct()):
        owner = programme_codes.get(programme_id)
        if owner != by_code[code]:
            where = batch.sources[code]
            problems.append(Problem(where.path, where.line, "id", f"id {code!r} is already "
                                    f"used in the bank by programme {owner}"))
    sets = {s.code: s.programme for s in batch.scenarios}
    for code, programme_id in session.execute(
            select(Scenario.code, Scenario.programme_id).where(
                Scenario.code.in_(list(sets))).distinct()):
        owner = programme_codes.get(programme_id) if programme_id else None
        if owner != sets[code]:
            where = batch.sources[code]
            problems.append(Problem(where.path, where.line, "id", f"id {code!r} is already "
                                    f"used in the bank by a scenario set of "
                                    f"{owner or 'another programme'}"))
    return sorted(problems)


def _programme_row(session: Session, programme: Programme) -> ProgrammeRow:
    """Create or update the programme and its domains (a domain is never deleted: items of
    earlier versions may name it)."""
    row = session.scalar(select(ProgrammeRow).where(ProgrammeRow.code == programme.code))
    if row is None:
        row = ProgrammeRow(code=programme.code, name=programme.name, warning_minutes=[15, 5])
        session.add(row)
        session.flush()
    row.name = programme.name
    existing = {d.code: d for d in session.scalars(
        select(ContentDomain).where(ContentDomain.programme_id == row.id))}
    for position, domain in enumerate(programme.domains, start=1):
        subdomains = [{"code": s.code, "name": s.name} for s in domain.subdomains]
        stored = existing.get(domain.code)
        if stored is None:
            session.add(ContentDomain(programme_id=row.id, code=domain.code, name=domain.name,
                                      position=position, subdomains=subdomains))
        else:
            stored.name, stored.position, stored.subdomains = (domain.name, position,
                                                               subdomains)
    session.flush()
    session.refresh(row)
    return row


def _store_images(session: Session, batch: Batch) -> None:
    for sha, path in batch.asset_files.items():
        if session.get(ImageAsset, sha) is not None:
            continue
        data = Path(path).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha:
            raise ImportRefused([Problem(str(path), 1, "assets", "broken asset: the file "
                                         "changed while the batch was imported")])
        media_type = next(i.media_type for i in _images(batch) if i.sha256 == sha)
        session.add(ImageAsset(sha256=sha, media_type=media_type, size=len(data), data=data))


def _images(batch: Batch) -> Iterable[Image]:
    for item in batch.items:
        yield from item.images
    for scenario in batch.scenarios:
        yield from scenario.images


def import_batch(session: Session, batch: Batch) -> ImportSummary:
    """Add the batch as new versions (only what changed). Flushes; the caller commits."""
    if not batch.ok:
        raise ImportRefused(batch.problems)
    problems = _conflicts(session, batch)
    if problems:
        raise ImportRefused(problems)
    programmes = {p.code: _programme_row(session, p) for p in batch.programmes}
    _store_images(session, batch)
    summary = ImportSummary()

    latest_sets = _latest(session.scalars(select(Scenario).where(
        Scenario.code.in_([s.code for s in batch.scenarios]))))
    set_rows: dict[str, tuple[Scenario, str]] = {}
    for scenario in batch.scenarios:
        digest = authoring.scenario_hash(scenario)
        stored = latest_sets.get(scenario.code)
        if stored is not None and stored.content_hash == digest:
            summary.unchanged_scenarios += 1
            set_rows[scenario.code] = (stored, digest)
            continue
        row = Scenario(
            code=scenario.code, version=stored.version + 1 if stored else scenario.version,
            vignette=scenario.vignette, programme_id=programmes[str(scenario.programme)].id,
            question_codes=list(scenario.questions), author=scenario.author,
            status=scenario.status, references=list(scenario.references),
            assets=[_image_data(i) for i in scenario.images], content_hash=digest,
        )
        session.add(row)
        set_rows[scenario.code] = (row, digest)
        summary.scenarios.append(Change(row.code, row.version, "changed" if stored else "new"))
    session.flush()

    latest_items = _latest(session.scalars(select(ItemVersion).where(
        ItemVersion.code.in_([i.code for i in batch.items]))))
    for item in batch.items:
        scenario_row, scenario_digest = set_rows[item.scenario] if item.scenario else (None,
                                                                                       None)
        digest = authoring.item_hash(item, scenario_digest)
        stored = latest_items.get(item.code)
        if stored is not None and stored.content_hash == digest:
            summary.unchanged_items += 1
            continue
        row = ItemVersion(
            code=item.code, version=stored.version + 1 if stored else item.version,
            programme_id=programmes[str(item.programme)].id, domain_code=item.domain,
            kind=item.kind, stem=item.stem,
            options=[{"id": o.id, "text": o.text} for o in item.options], key=item.key,
            scenario_id=scenario_row.id if scenario_row else None,
            subdomain_code=item.subdomain, question_type=item.question_type,
            cognitive_level=item.level, status=item.status,
            rationales={o.id: o.rationale for o in item.options},
            references=list(item.references), author=item.author,
            enemies=list(item.enemies), assets=[_image_data(i) for i in item.images],
            content_hash=digest, difficulty=item.difficulty,
        )
        session.add(row)
        summary.items.append(Change(row.code, row.version, "changed" if stored else "new"))
    session.flush()
    return summary


# --- export --------------------------------------------------------------------------------


def authored_programmes(session: Session) -> list[ProgrammeRow]:
    """Programmes with at least one imported (authored) item, by code."""
    ids = select(ItemVersion.programme_id).where(ItemVersion.content_hash.is_not(None))
    return list(session.scalars(select(ProgrammeRow).where(ProgrammeRow.id.in_(ids))
                                .order_by(ProgrammeRow.code)))


def export_bank(session: Session, directory: Path,
                programme_codes: Collection[str] = ()) -> list[Path]:
    """Write the current bank of each programme (default: every authored one) as YAML.

    Raises :class:`Invalid` naming an unknown programme code.
    """
    rows = authored_programmes(session)
    if programme_codes:
        wanted = set(programme_codes)
        unknown = sorted(wanted - {r.code for r in rows})
        if unknown:
            raise Invalid(f"no authored items for programme(s): {', '.join(unknown)}")
        rows = [r for r in rows if r.code in wanted]
    written: list[Path] = []
    for row in rows:
        bank = current_bank(session, row)
        shas = {i.sha256 for item in bank.items for i in item.images}
        shas |= {i.sha256 for s in bank.scenarios for i in s.images}
        images = {a.sha256: a.data for a in session.scalars(
            select(ImageAsset).where(ImageAsset.sha256.in_(shas)))}
        written += authoring.write_programme(directory, bank.programme, bank.items,
                                             bank.scenarios, images)
    return written


__all__ = [
    "Change", "ImportRefused", "ImportSummary", "StoredBank", "authored_programmes",
    "current_bank", "export_bank", "import_batch", "item_of", "known_item_codes",
    "programme_of", "scenario_of",
]
