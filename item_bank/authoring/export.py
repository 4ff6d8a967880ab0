"""Writing items, scenario sets and programmes back as authoring YAML.

The output is the format :mod:`item_bank.authoring.loader` reads, field for field, so that
export, validate, import gives the same content hashes (no new versions). Layout under the
target folder: ``<programme>/programme.yaml``, ``<programme>/<domain>/<ID>.yaml`` for
standalone items, ``<programme>/scenarios/<ID>.yaml`` for scenario sets, and each folder's
images in its ``assets/``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from item_bank.authoring.assets import ASSETS_DIR
from item_bank.authoring.loader import PROGRAMME_FILE
from item_bank.model import Image, Item, Programme, QuestionType, ScenarioSet

SCENARIO_DIR = "scenarios"


class _Dumper(yaml.SafeDumper):
    """Block lists indented under their key, and multi-line text as literal blocks."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dump(document: Mapping[str, Any]) -> str:
    return yaml.dump(dict(document), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     width=96, default_flow_style=False)


def _assets(images: Sequence[Image]) -> list[dict[str, str]]:
    return [{"image": i.file, "alt": i.alt} for i in images]


def _options(item: Item) -> dict[str, dict[str, str]]:
    return {o.id: {"text": o.text, "rationale": o.rationale} for o in item.options}


def _common(item: Item) -> dict[str, Any]:
    return {"domain": item.domain, "subdomain": item.subdomain,
            "type": str(item.question_type) if item.question_type else None,
            "level": str(item.level) if item.level else None,
            "status": str(item.status) if item.status else None, "author": item.author}


def _tail(item: Item, doc: dict[str, Any], *, references: bool = True) -> dict[str, Any]:
    if item.difficulty is not None:
        doc["difficulty"] = item.difficulty
    if item.enemies:
        doc["enemies"] = list(item.enemies)
    if references:
        doc["references"] = list(item.references)
    if item.images:
        doc["assets"] = _assets(item.images)
    doc.update(stem=item.stem, options=_options(item), key=item.key)
    return doc


def item_document(item: Item) -> dict[str, Any]:
    """The fields of a standalone item file, in the documented order."""
    doc: dict[str, Any] = {"id": item.code, "version": item.version,
                           "programme": item.programme, **_common(item)}
    return _tail(item, doc)


def question_document(item: Item, scenario: ScenarioSet) -> dict[str, Any]:
    """One question of a set: inherited values are written only where they differ."""
    doc: dict[str, Any] = {"id": item.code, "version": item.version, **_common(item)}
    if item.question_type is QuestionType.SCENARIO_BASED:
        del doc["type"]
    if item.status == scenario.status:
        del doc["status"]
    if item.author == scenario.author:
        del doc["author"]
    return _tail(item, doc, references=item.references != scenario.references)


def scenario_document(scenario: ScenarioSet, questions: Sequence[Item]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": scenario.code, "version": scenario.version, "programme": scenario.programme,
        "status": str(scenario.status) if scenario.status else None,
        "author": scenario.author,
    }
    if scenario.references:
        doc["references"] = list(scenario.references)
    if scenario.images:
        doc["assets"] = _assets(scenario.images)
    doc["vignette"] = scenario.vignette
    doc["questions"] = [question_document(q, scenario) for q in questions]
    return doc


def programme_document(programme: Programme) -> dict[str, Any]:
    return {"code": programme.code, "name": programme.name, "domains": [
        {"code": d.code, "name": d.name,
         "subdomains": [{"code": s.code, "name": s.name} for s in d.subdomains]}
        for d in programme.domains
    ]}


def write_programme(directory: Path, programme: Programme, items: Sequence[Item],
                    scenarios: Sequence[ScenarioSet], images: Mapping[str, bytes]
                    ) -> list[Path]:
    """Write one programme's bank under ``directory/<programme code in small letters>/``.

    ``items`` holds standalone items and the questions of ``scenarios``; ``images`` maps an
    image's sha256 to its bytes. Returns the files written. Raises ValueError when two
    different images would share one file name in one folder.
    """
    base = directory / programme.code.lower()
    by_code = {i.code: i for i in items}
    files: dict[Path, str] = {base / PROGRAMME_FILE: dump(programme_document(programme))}
    pictures: dict[Path, Image] = {}

    def place(folder: Path, shown: Sequence[Image], owner: str) -> None:
        for image in shown:
            target = folder / ASSETS_DIR / image.file
            if target in pictures and pictures[target].sha256 != image.sha256:
                raise ValueError(f"{owner}: another image is already exported as {target}")
            if image.sha256 not in images:
                raise ValueError(f"{owner}: the bytes of image {image.file} are missing")
            pictures[target] = image

    for item in items:
        if item.scenario is None:
            folder = base / item.domain
            files[folder / f"{item.code}.yaml"] = dump(item_document(item))
            place(folder, item.images, item.code)
    for scenario in scenarios:
        folder = base / SCENARIO_DIR
        questions = [by_code[code] for code in scenario.questions]
        files[folder / f"{scenario.code}.yaml"] = dump(scenario_document(scenario, questions))
        place(folder, scenario.images, scenario.code)
        for question in questions:
            place(folder, question.images, question.code)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for path, image in pictures.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(images[image.sha256])
    return sorted([*files, *pictures])
