"""The item and form model shared by authoring, assembly and delivery."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ItemKind(enum.StrEnum):
    MCQ = "mcq"
    SCENARIO = "scenario"


@dataclass(frozen=True)
class Option:
    id: str
    text: str


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


@dataclass(frozen=True)
class Domain:
    code: str
    name: str


@dataclass(frozen=True)
class Bank:
    domains: tuple[Domain, ...]
    items: tuple[Item, ...]
    scenarios: tuple[ScenarioSet, ...]
