"""Writing items, scenario sets and forms as an IMS QTI 3.0 content package (docs/qti.md).

Layout of the zip::

    imsmanifest.xml                  resources, their files and dependencies, our metadata
    items/<ID>.xml                   one qti-assessment-item per item or scenario question
    stimuli/<SET ID>.xml             one qti-assessment-stimulus per scenario set (vignette)
    tests/<FORM CODE>.xml            one qti-assessment-test per form
    images/<ITEM OR SET ID>/<file>   the images each item or set shows

The same bank always gives the same bytes (sorted members, fixed time stamps).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from item_bank.authoring.markup import ImageSource
from item_bank.model import Image, Item, Programme, ScenarioSet
from item_bank.qti.forms import FormSpec
from item_bank.qti.spec import (
    CP,
    CP_SCHEMA,
    ITEM_TYPE,
    LOM,
    LOM_SCHEMA,
    MANIFEST,
    MATCH_CORRECT,
    PRETEST,
    QTI,
    QTI_SCHEMA,
    RESPONSE,
    STIMULUS_TYPE,
    TEST_TYPE,
    XSI,
    ib,
    local,
)
from item_bank.qti.xhtml import fill

ITEMS_DIR, STIMULI_DIR, TESTS_DIR, IMAGES_DIR = "items", "stimuli", "tests", "images"
_STAMP = (1980, 1, 1, 0, 0, 0)
_NCNAME = re.compile(r"[A-Za-z_][A-Za-z0-9._-]*")
# Elements that only hold other elements: indented for people reading the files. Content
# elements (paragraphs, choices, our Markdown) are left exactly as written.
_CONTAINERS = {
    "manifest", "metadata", "resources", "resource", "lom", "general", "identifier", "title",
    "lifeCycle", "version", "item", "scenario", "form", "option", "programme", "domain",
    "qti-assessment-item", "qti-response-declaration", "qti-correct-response",
    "qti-outcome-declaration", "qti-default-value", "qti-item-body", "qti-choice-interaction",
    "qti-assessment-stimulus", "qti-stimulus-body", "qti-assessment-test", "qti-test-part",
    "qti-assessment-section", "qti-outcome-processing", "qti-set-outcome-value", "qti-sum",
}


@dataclass(frozen=True)
class Written:
    """What :func:`write_package` put in the package."""

    items: int
    scenarios: int
    forms: int
    members: tuple[str, ...]


def _lom(name: str) -> str:
    return f"{{{LOM}}}{name}"


def _sub(parent: ET.Element, tag: str, attrib: Mapping[str, str] | None = None,
         text: str | None = None) -> ET.Element:
    elem = ET.SubElement(parent, tag, dict(attrib or {}))
    elem.text = text
    return elem


def _indent(elem: ET.Element, level: int = 0) -> None:
    if local(elem.tag) not in _CONTAINERS or not len(elem):
        return
    pad = "\n" + "  " * (level + 1)
    if not (elem.text or "").strip():
        elem.text = pad
    for child in elem:
        _indent(child, level + 1)
        if not (child.tail or "").strip():
            child.tail = pad
    last = elem[-1]
    if not (last.tail or "").strip():
        last.tail = "\n" + "  " * level


def _xml(root: ET.Element) -> bytes:
    """The document's bytes. QTI and CP elements are built unqualified, under the root's
    default ``xmlns`` (ElementTree's ``default_namespace`` option refuses unqualified
    attributes); our metadata and LOM get prefixes."""
    _indent(root)
    text = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{text}\n'.encode()


def _file_name(code: str) -> str:
    """A safe file name for an id or form code (ids already are; form codes may not be)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", code).lstrip(".") or "form"
    return name if name == code else f"{name}-{hashlib.sha256(code.encode()).hexdigest()[:8]}"


def _identifier(code: str) -> str:
    """A QTI identifier (an XML NCName) for a code."""
    return code if _NCNAME.fullmatch(code) else "F-" + _file_name(code)


def _image_path(owner: str, image: Image) -> str:
    return f"{IMAGES_DIR}/{owner}/{image.file}"


def _sources(owner: str, images: Sequence[Image]) -> dict[str, ImageSource]:
    # Items and stimuli sit one folder down, next to images/.
    return {i.file: ImageSource(f"../{_image_path(owner, i)}", i.alt) for i in images}


# --- QTI documents ---------------------------------------------------------------------------


def _root(name: str, code: str, title: str) -> ET.Element:
    return ET.Element(name, {"xmlns": QTI, f"{{{XSI}}}schemaLocation": f"{QTI} {QTI_SCHEMA}",
                             "identifier": code, "title": title})


def item_xml(item: Item, scenario: ScenarioSet | None) -> ET.Element:
    """One single-choice ``qti-assessment-item``; a scenario question refers to its
    stimulus. The key is the correct response; rationales are not in the item (see
    :func:`_item_metadata`)."""
    root = _root("qti-assessment-item", item.code, item.code)
    root.set("adaptive", "false")
    root.set("time-dependent", "false")
    declaration = _sub(root, "qti-response-declaration", {
        "identifier": RESPONSE, "cardinality": "single", "base-type": "identifier"})
    _sub(_sub(declaration, "qti-correct-response"), "qti-value", text=item.key)
    outcome = _sub(root, "qti-outcome-declaration", {
        "identifier": "SCORE", "cardinality": "single", "base-type": "float"})
    _sub(_sub(outcome, "qti-default-value"), "qti-value", text="0")
    sources = _sources(item.code, item.images)
    if scenario is not None:
        _sub(root, "qti-assessment-stimulus-ref", {
            "identifier": scenario.code, "href": f"../{STIMULI_DIR}/{scenario.code}.xml",
            "title": scenario.code})
        sources = {**_sources(scenario.code, scenario.images), **sources}
    body = _sub(root, "qti-item-body")
    fill(body, item.stem, sources)
    # The item's own order; a form decides whether options are shuffled (our metadata).
    interaction = _sub(body, "qti-choice-interaction", {
        "response-identifier": RESPONSE, "shuffle": "false", "max-choices": "1"})
    for option in item.options:
        choice = _sub(interaction, "qti-simple-choice", {"identifier": option.id})
        fill(choice, option.text, sources, inline=True)
    _sub(root, "qti-response-processing", {"template": MATCH_CORRECT})
    return root


def stimulus_xml(scenario: ScenarioSet) -> ET.Element:
    root = _root("qti-assessment-stimulus", scenario.code, scenario.code)
    fill(_sub(root, "qti-stimulus-body"), scenario.vignette,
         _sources(scenario.code, scenario.images))
    return root


def assessment_test_xml(form: FormSpec, href: Mapping[str, str]) -> ET.Element:
    """One test part, one section, the items in order; pretest items are excluded from the
    test's SCORE by their category."""
    root = _root("qti-assessment-test", _identifier(form.code), form.title)
    _sub(root, "qti-outcome-declaration", {
        "identifier": "SCORE", "cardinality": "single", "base-type": "float"})
    _sub(root, "qti-time-limits", {"max-time": str(form.duration_minutes * 60)})
    part = _sub(root, "qti-test-part", {
        "identifier": "part-1", "navigation-mode": "nonlinear",
        "submission-mode": "simultaneous"})
    section = _sub(part, "qti-assessment-section", {
        "identifier": "section-1", "title": form.title, "visible": "true"})
    _sub(section, "qti-ordering", {"shuffle": str(form.shuffle_items).lower()})
    for slot in form.slots:
        attrib = {"identifier": slot.item, "href": href[slot.item]}
        if not slot.scored:
            attrib["category"] = PRETEST
        _sub(section, "qti-assessment-item-ref", attrib)
    setter = _sub(_sub(root, "qti-outcome-processing"), "qti-set-outcome-value",
                  {"identifier": "SCORE"})
    _sub(_sub(setter, "qti-sum"), "qti-test-variables", {
        "variable-identifier": "SCORE", "exclude-category": PRETEST})
    return root


# --- the manifest ----------------------------------------------------------------------------


def _lom_general(meta: ET.Element, code: str, catalog: str | None, version: int) -> None:
    lom = _sub(meta, _lom("lom"))
    general = _sub(lom, _lom("general"))
    identifier = _sub(general, _lom("identifier"))
    _sub(identifier, _lom("catalog"), text=catalog or "")
    _sub(identifier, _lom("entry"), text=code)
    _sub(_sub(general, _lom("title")), _lom("string"), text=code)
    _sub(_sub(_sub(lom, _lom("lifeCycle")), _lom("version")), _lom("string"), text=str(version))


def _fields(parent: ET.Element, values: Sequence[tuple[str, object]]) -> None:
    for name, value in values:
        if value is None or value == "":
            continue
        if isinstance(value, tuple | list):
            for entry in value:
                _sub(parent, ib(name), text=str(entry))
        else:
            _sub(parent, ib(name), text=str(value))


def _item_metadata(meta: ET.Element, item: Item) -> None:
    _lom_general(meta, item.code, item.programme, item.version)
    block = _sub(meta, ib("item"))
    _fields(block, [
        ("id", item.code), ("version", item.version), ("programme", item.programme),
        ("domain", item.domain), ("subdomain", item.subdomain),
        ("type", item.question_type), ("level", item.level), ("status", item.status),
        ("author", item.author),
        ("difficulty", repr(item.difficulty) if item.difficulty is not None else None),
        ("reference", item.references), ("enemy", item.enemies),
    ])
    # The authored Markdown: read back as written when the XHTML has not been edited since.
    _sub(block, ib("markdown"), {"field": "stem"}, item.stem)
    for option in item.options:
        entry = _sub(block, ib("option"), {"choice": option.id})
        _sub(entry, ib("markdown"), text=option.text)
        # Staff only: kept out of the item (modal feedback would be shown to candidates).
        _sub(entry, ib("rationale"), text=option.rationale)


def _scenario_metadata(meta: ET.Element, scenario: ScenarioSet) -> None:
    _lom_general(meta, scenario.code, scenario.programme, scenario.version)
    block = _sub(meta, ib("scenario"))
    _fields(block, [
        ("id", scenario.code), ("version", scenario.version),
        ("programme", scenario.programme), ("status", scenario.status),
        ("author", scenario.author), ("reference", scenario.references),
        ("question", scenario.questions),
    ])
    _sub(block, ib("markdown"), {"field": "vignette"}, scenario.vignette)


def _form_metadata(meta: ET.Element, form: FormSpec) -> None:
    block = _sub(meta, ib("form"))
    _fields(block, [("code", form.code), ("programme", form.programme),
                    ("shuffle-options", str(form.shuffle_options).lower())])


def _programme(meta: ET.Element, programme: Programme) -> None:
    element = _sub(meta, ib("programme"), {"code": programme.code, "name": programme.name})
    for domain in programme.domains:
        d = _sub(element, ib("domain"), {"code": domain.code, "name": domain.name})
        for sub in domain.subdomains:
            _sub(d, ib("subdomain"), {"code": sub.code, "name": sub.name})


def _resource(resources: ET.Element, identifier: str, kind: str, href: str,
              files: Sequence[str], dependencies: Sequence[str]) -> ET.Element:
    res = _sub(resources, "resource", {"identifier": identifier, "type": kind,
                                            "href": href})
    meta = _sub(res, "metadata")
    for file in [href, *files]:
        _sub(res, "file", {"href": file})
    for dependency in dependencies:
        _sub(res, "dependency", {"identifierref": dependency})
    return meta


# --- the package -----------------------------------------------------------------------------


def _check(items: Sequence[Item], scenarios: Sequence[ScenarioSet],
           images: Mapping[str, bytes], forms: Sequence[FormSpec]) -> None:
    codes = [i.code for i in items] + [s.code for s in scenarios]
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise ValueError(f"{code}: two items or sets with this id in one package")
        seen.add(code)
    item_codes = {i.code for i in items}
    set_codes = {s.code for s in scenarios}
    for scenario in scenarios:
        missing = [c for c in scenario.questions if c not in item_codes]
        if missing:
            raise ValueError(f"{scenario.code}: question(s) {', '.join(missing)} are missing")
    for item in items:
        if item.scenario is not None and item.scenario not in set_codes:
            raise ValueError(f"{item.code}: its scenario set {item.scenario} is missing")
    for owner, shown in [(i.code, i.images) for i in items] + [
            (s.code, s.images) for s in scenarios]:
        for image in shown:
            if image.sha256 not in images:
                raise ValueError(f"{owner}: the bytes of image {image.file} are missing")
    for form in forms:
        missing = [s.item for s in form.slots if s.item not in item_codes]
        if missing:
            raise ValueError(f"form {form.code}: item(s) {', '.join(missing)} are missing")


def write_package(target: Path, *, programmes: Sequence[Programme], items: Sequence[Item],
                  scenarios: Sequence[ScenarioSet], images: Mapping[str, bytes],
                  forms: Sequence[FormSpec] = ()) -> Written:
    """Write a QTI 3.0 content package to ``target`` (a .zip file, replaced if it exists).

    ``items`` holds standalone items and every question of ``scenarios``; ``images`` maps an
    image's sha256 to its bytes; each form's items must be among ``items``. Raises
    ValueError naming what is inconsistent; nothing is written then.
    """
    _check(items, scenarios, images, forms)
    by_set = {s.code: s for s in scenarios}
    members: dict[str, bytes] = {}
    manifest = ET.Element("manifest", {
        "xmlns": CP,
        "identifier": "MANIFEST-" + hashlib.sha256(
            "\n".join(sorted([i.code for i in items] + [f.code for f in forms])).encode()
        ).hexdigest()[:16],
        f"{{{XSI}}}schemaLocation": f"{CP} {CP_SCHEMA} {LOM} {LOM_SCHEMA}",
    })
    meta = _sub(manifest, "metadata")
    _sub(meta, "schema", text="QTI Package")
    _sub(meta, "schemaversion", text="3.0.0")
    for programme in programmes:
        _programme(meta, programme)
    _sub(manifest, "organizations")
    resources = _sub(manifest, "resources")

    def add_images(owner: str, shown: Sequence[Image]) -> list[str]:
        paths = []
        for image in shown:
            path = _image_path(owner, image)
            members[path] = images[image.sha256]
            paths.append(path)
        return paths

    for scenario in scenarios:
        href = f"{STIMULI_DIR}/{scenario.code}.xml"
        members[href] = _xml(stimulus_xml(scenario))
        _scenario_metadata(_resource(resources, f"stimulus-{scenario.code}", STIMULUS_TYPE,
                                     href, add_images(scenario.code, scenario.images), ()),
                           scenario)
    item_href: dict[str, str] = {}
    for item in items:
        scenario = by_set.get(item.scenario) if item.scenario else None
        href = f"{ITEMS_DIR}/{item.code}.xml"
        item_href[item.code] = href
        members[href] = _xml(item_xml(item, scenario))
        _item_metadata(_resource(resources, f"item-{item.code}", ITEM_TYPE, href,
                                 add_images(item.code, item.images),
                                 [f"stimulus-{scenario.code}"] if scenario else ()), item)
    used: set[str] = set()
    for form in forms:
        name = _file_name(form.code)
        while name in used:
            name += "-x"
        used.add(name)
        href = f"{TESTS_DIR}/{name}.xml"
        hrefs = {code: f"../{h}" for code, h in item_href.items()}
        members[href] = _xml(assessment_test_xml(form, hrefs))
        dependencies = list(dict.fromkeys(f"item-{s.item}" for s in form.slots))
        _form_metadata(_resource(resources, f"test-{name}", TEST_TYPE, href, (), dependencies),
                       form)
    members[MANIFEST] = _xml(manifest)
    _write_zip(target, members)
    return Written(len(items), len(scenarios), len(forms), tuple(sorted(members)))


def _write_zip(target: Path, members: Mapping[str, bytes]) -> None:
    """Write the zip next to ``target`` and move it into place, so a failure leaves no
    half-written package."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                         suffix=".part")
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w") as archive:
            for name in [MANIFEST, *sorted(set(members) - {MANIFEST})]:
                info = zipfile.ZipInfo(name, date_time=_STAMP)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, members[name])
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
