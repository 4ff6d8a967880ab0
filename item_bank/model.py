"""The item and form model shared by authoring, assembly and delivery.

The demo bank fills only the core fields (code, domain, stem, options, key); items authored
in the YAML format (item_bank.authoring) fill every field. Rationales and the key are for
staff only: nothing built from these classes for a candidate may include them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ItemKind(enum.StrEnum):
    """Structure: a standalone item, or one question of a scenario set."""

    MCQ = "mcq"
    SCENARIO = "scenario"


class QuestionType(enum.StrEnum):
    """What the question asks for (the blueprint's question-type mix)."""

    DIRECT = "direct"
    SCENARIO_BASED = "scenario-based"
    BEST_PRACTICE = "best-practice"


class CognitiveLevel(enum.StrEnum):
    RECALL = "recall"
    APPLICATION = "application"
    ANALYSIS = "analysis"


class Status(enum.StrEnum):
    """Life cycle of an item version; only pretest and operational items go on forms.

    Authored in the YAML and moved on by the review workflow (webapp/services/reviews.py):
    draft -> review -> approved -> pretest | operational; any of them -> retired.
    """

    DRAFT = "draft"
    REVIEW = "review"
    APPROVED = "approved"  # reviewed and accepted; not yet on a form
    PRETEST = "pretest"
    OPERATIONAL = "operational"
    RETIRED = "retired"


@dataclass(frozen=True)
class Option:
    id: str
    text: str
    # Why this option is right or wrong, for reviewers; never sent to candidates.
    rationale: str = ""


@dataclass(frozen=True)
class Image:
    """An image asset: ``file`` is its name in the assets/ folder next to the YAML file."""

    file: str
    alt: str
    media_type: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Item:
    """One question. ``scenario`` names the vignette of a scenario item."""

    code: str
    domain: str
    stem: str
    options: tuple[Option, ...]
    key: str
    kind: ItemKind = ItemKind.MCQ
    scenario: str | None = None
    version: int = 1
    # Authoring metadata (None or empty for the demo bank).
    programme: str | None = None
    subdomain: str | None = None
    question_type: QuestionType | None = None
    level: CognitiveLevel | None = None
    status: Status | None = None
    references: tuple[str, ...] = ()
    author: str = ""
    enemies: tuple[str, ...] = ()  # codes of items that must not share a form with this one
    images: tuple[Image, ...] = ()
    difficulty: float | None = None  # banked Rasch difficulty, logits

    def __post_init__(self) -> None:
        ids = [o.id for o in self.options]
        if len(ids) < 2:
            raise ValueError(f"item {self.code}: needs at least 2 options, has {len(ids)}")
        if len(set(ids)) != len(ids):
            raise ValueError(f"item {self.code}: duplicate option ids {ids}")
        if self.key not in ids:
            raise ValueError(f"item {self.code}: key {self.key!r} is not one of {ids}")
        if (self.kind is ItemKind.SCENARIO) != (self.scenario is not None):
            raise ValueError(f"item {self.code}: scenario items, and only they, name a scenario")


@dataclass(frozen=True)
class ScenarioSet:
    """A case vignette and the codes of its questions, in order."""

    code: str
    vignette: str
    questions: tuple[str, ...]
    version: int = 1
    # Authoring metadata; the set's author, status and references are its questions' defaults.
    programme: str | None = None
    author: str = ""
    status: Status | None = None
    references: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()


@dataclass(frozen=True)
class SubDomain:
    code: str
    name: str


@dataclass(frozen=True)
class Domain:
    code: str
    name: str
    subdomains: tuple[SubDomain, ...] = ()


@dataclass(frozen=True)
class Programme:
    """A credential's content outline (item_bank/content/<programme>/programme.yaml)."""

    code: str
    name: str
    domains: tuple[Domain, ...]

    def domain(self, code: str) -> Domain | None:
        return next((d for d in self.domains if d.code == code), None)


@dataclass(frozen=True)
class Bank:
    domains: tuple[Domain, ...]
    items: tuple[Item, ...]
    scenarios: tuple[ScenarioSet, ...]
