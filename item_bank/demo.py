"""The demo bank shipped for `seed-demo`: five YAML files under item_bank/demo/.

Each file holds one content domain: standalone ``items`` and ``scenarios`` (a vignette
with 2-4 ``questions``). The full authoring format arrives with the real bank; this loader
reads only what the demo needs and names the file and item of any problem.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from item_bank.model import Bank, Domain, Item, ItemKind, Option, ScenarioSet

DEMO_DIR = Path(__file__).with_name("demo")
DOMAIN_ORDER = (
    "care_coordination", "assessment_planning", "implementation_monitoring", "evaluation",
    "professional_practice",
)


def reflow(text: str) -> str:
    """Join the lines of each paragraph (YAML block scalars wrap at the author's width)."""
    paragraphs = re.split(r"\n\s*\n", str(text).strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def _item(raw: dict[str, Any], where: str, domain: str, scenario: str | None) -> Item:
    try:
        options = tuple(Option(str(k), str(v)) for k, v in raw["options"].items())
        return Item(
            code=str(raw["id"]), domain=domain, stem=reflow(raw["stem"]),
            options=options, key=str(raw["key"]),
            kind=ItemKind.SCENARIO if scenario else ItemKind.MCQ, scenario=scenario,
        )
    except KeyError as err:
        raise ValueError(f"{where}: missing field {err.args[0]!r}") from None
    except (AttributeError, TypeError, ValueError) as err:
        raise ValueError(f"{where}: {err}") from None


def load_file(path: Path) -> tuple[Domain, list[Item], list[ScenarioSet]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ValueError(f"{path.name}: {err}".replace("<unicode string>", path.name)) from None
    if not isinstance(data, dict) or "domain" not in data or "name" not in data:
        raise ValueError(f"{path.name}: needs 'domain' and 'name' at the top")
    domain = Domain(str(data["domain"]), str(data["name"]))
    items = [
        _item(raw, f"{path.name}: item {i + 1}", domain.code, None)
        for i, raw in enumerate(data.get("items") or [])
    ]
    scenarios = []
    for s, raw in enumerate(data.get("scenarios") or []):
        if not isinstance(raw, dict):
            raise ValueError(f"{path.name}: scenario {s + 1}: must be a mapping")
        code = str(raw.get("id", f"#{s + 1}"))
        where = f"{path.name}: scenario {code}"
        questions = [
            _item(q, f"{where} question {j + 1}", domain.code, code)
            for j, q in enumerate(raw.get("questions") or [])
        ]
        if not 2 <= len(questions) <= 4 or not raw.get("vignette"):
            raise ValueError(f"{where}: needs a vignette and 2-4 questions")
        items.extend(questions)
        scenarios.append(ScenarioSet(code, reflow(raw["vignette"]),
                                     tuple(q.code for q in questions)))
    return domain, items, scenarios


def load_demo_bank(directory: Path = DEMO_DIR) -> Bank:
    domains, items, scenarios = [], [], []
    for name in DOMAIN_ORDER:
        domain, file_items, file_scenarios = load_file(directory / f"{name}.yaml")
        domains.append(domain)
        items.extend(file_items)
        scenarios.extend(file_scenarios)
    codes = [i.code for i in items]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise ValueError(f"duplicate item ids: {', '.join(duplicates)}")
    return Bank(tuple(domains), tuple(items), tuple(scenarios))
