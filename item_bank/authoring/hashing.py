"""Content hashes: what decides whether an import makes a new version.

A hash covers every field an author controls except ``version``: a change to any of them
(including status and banked difficulty) is a new immutable version, and an unchanged item
imports as nothing. A question's hash includes its scenario set's hash, because the
question's version points at one version of the vignette.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from item_bank.model import Image, Item, ScenarioSet


def _digest(data: dict[str, Any]) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _images(images: tuple[Image, ...]) -> list[list[str]]:
    return [[i.file, i.alt, i.sha256] for i in images]


def _value(enum_value: Any) -> Any:
    return None if enum_value is None else str(enum_value)


def scenario_hash(scenario: ScenarioSet) -> str:
    return _digest({
        "code": scenario.code, "programme": scenario.programme, "vignette": scenario.vignette,
        "questions": list(scenario.questions), "author": scenario.author,
        "status": _value(scenario.status), "references": list(scenario.references),
        "images": _images(scenario.images),
    })


def item_hash(item: Item, scenario: str | None = None) -> str:
    """``scenario`` is the hash of the item's scenario set (None for a standalone item)."""
    return _digest({
        "code": item.code, "programme": item.programme, "domain": item.domain,
        "subdomain": item.subdomain, "type": _value(item.question_type),
        "level": _value(item.level), "status": _value(item.status), "stem": item.stem,
        "options": [[o.id, o.text, o.rationale] for o in item.options], "key": item.key,
        "references": list(item.references), "author": item.author,
        "enemies": list(item.enemies), "images": _images(item.images),
        "difficulty": item.difficulty, "kind": _value(item.kind),
        "scenario": item.scenario, "scenario_hash": scenario,
    })
