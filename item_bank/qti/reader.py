"""Reading an IMS QTI 3.0 content package into the item bank's dataclasses (docs/qti.md).

A package is untrusted input. Its zip is checked before anything is read, and each file is
read with a size cap (:mod:`item_bank.qti.archive`); XML goes through defusedxml with DTDs
forbidden, so no entity can read a file or expand without limit.

Each supported item is turned into the YAML authoring format, in a temporary folder, and read
back by :func:`item_bank.authoring.load`: an imported item passes exactly the checks of an
authored one (4 options, one key, known domain, references, assets, safe markup, enemies...).
Every problem is reported as ``package.zip:path/in/zip: field: message``; fields are named as
in the YAML format. Unsupported content (other interactions, multiple response, MathML...)
is reported too and refuses the batch, unless the caller asks to skip it.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from defusedxml import DefusedXmlException, DTDForbidden
from defusedxml import ElementTree as SafeET

from item_bank.authoring import Batch, Problem, load
from item_bank.authoring.assets import MAX_IMAGE_BYTES
from item_bank.authoring.export import dump, programme_document
from item_bank.authoring.loader import ID, ID_MAX, PROGRAMME_CODE, PROGRAMME_FILE, display
from item_bank.authoring.markup import ImageSource, render
from item_bank.model import Programme
from item_bank.qti.archive import SCHEME, PackageError, SafeZip, resolve
from item_bank.qti.forms import FormSlot, FormSpec
from item_bank.qti.spec import (
    ITEM_TYPE,
    MANIFEST,
    PRETEST,
    QTI,
    STIMULUS_TYPE,
    TEST_TYPE,
    ib,
    local,
    namespace,
    q,
)
from item_bank.qti.xhtml import Converter, ImageResolver, nodes, shown

MAX_XML_BYTES = 8 * 1024 * 1024
MAX_FORM_CODE = 60
MAX_MINUTES = 24 * 60
_OLD_QTI = re.compile(r"imsqti_(?:item|test|assessment|section)_xmlv[12]p\d|imsqti_xmlv1p2")
_ASSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass(frozen=True, order=True)
class QtiProblem:
    """One problem of one file of the package: ``package.zip:path/in/zip: field: message``.

    ``unsupported`` problems are content this bank cannot hold; the caller may skip those
    items instead of refusing the batch.
    """

    path: str
    member: str
    field: str
    message: str
    unsupported: bool = False

    def __str__(self) -> str:
        return f"{self.path}:{self.member}: {self.field}: {self.message}"


# --- what the manifest and the files give ----------------------------------------------------


@dataclass
class _Resource:
    identifier: str
    kind: str
    member: str | None
    metadata: ET.Element | None


@dataclass
class _Group:
    """Image names in one folder of the temporary tree (an item, or a set and its
    questions): the same bytes keep one name."""

    taken: dict[str, str] = field(default_factory=dict)  # name -> sha256
    by_member: dict[str, str] = field(default_factory=dict)  # zip entry -> name


@dataclass
class _Owner:
    """An item or a stimulus being read."""

    member: str
    resource: _Resource
    group: _Group = field(default_factory=_Group)
    code: str | None = None
    programme: str | None = None
    doc: dict[str, Any] = field(default_factory=dict)
    images: dict[str, tuple[str, str]] = field(default_factory=dict)  # entry -> (name, alt)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field, message)
    unsupported: list[tuple[str, str]] = field(default_factory=list)
    stimulus: str | None = None  # the entry of a question's stimulus
    questions: list[_Owner] = field(default_factory=list)  # a stimulus' questions

    @property
    def asset_names(self) -> list[str]:
        return [name for name, _ in self.images.values()]


@dataclass(frozen=True)
class _File:
    """A YAML file of the temporary tree and where its content came from."""

    owner: _Owner | None  # None for a programme file
    questions: tuple[_Owner, ...] = ()


def _text(meta: ET.Element | None, name: str, *, strip: bool = True) -> str | None:
    if meta is None:
        return None
    elem = meta.find(ib(name))
    if elem is None or elem.text is None:
        return None
    value = elem.text.strip() if strip else elem.text
    return value if value.strip() else None


def _texts(meta: ET.Element | None, name: str) -> list[str]:
    if meta is None:
        return []
    return [e.text.strip() for e in meta.findall(ib(name)) if e.text and e.text.strip()]


def _source(meta: ET.Element | None, field_name: str | None = None) -> str | None:
    """The authored Markdown kept in the metadata (of a field, or of an option entry)."""
    if meta is None:
        return None
    path = ib("markdown") + (f"[@field='{field_name}']" if field_name else "")
    elem = meta.find(path)
    return elem.text if elem is not None and elem.text and elem.text.strip() else None


def _number(value: str | None, kind: type) -> Any:
    """An int or float if ``value`` is one (else the text, for the loader to report)."""
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        return value


def _prefer(source: str | None, converted: str, names: Iterable[str]) -> str:
    """The authored Markdown if it shows the same as the package's XHTML (unchanged since
    export: no spurious new version), else the text converted from the XHTML."""
    if source is None:
        return converted
    images = {name: ImageSource(name, "") for name in names}
    same = shown(render(source, images)) == shown(render(converted, images))
    return source.strip() if same else converted


def _label(index: int) -> str:
    return chr(ord("A") + index) if index < 26 else f"#{index + 1}"


@dataclass(frozen=True)
class Package:
    """A read package: the batch of its supported items (validated as authored YAML), its
    forms, and every problem. Use within :func:`open_package`: the batch's image files live
    in a temporary folder until the block ends."""

    path: str
    batch: Batch
    forms: tuple[FormSpec, ...]
    problems: tuple[QtiProblem, ...]
    skip_unsupported: bool
    locate: Callable[[Problem], QtiProblem]  # where a batch (or import) problem comes from
    form_members: MappingProxyType[str, str]  # form code -> its test file

    @property
    def skipped(self) -> tuple[QtiProblem, ...]:
        """The unsupported content (left out when skipping, else refusing the batch)."""
        return tuple(p for p in self.problems if p.unsupported)

    @property
    def errors(self) -> tuple[QtiProblem, ...]:
        return tuple(p for p in self.problems
                     if not p.unsupported or not self.skip_unsupported)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Reader:
    def __init__(self, path: Path, programmes: Sequence[Programme],
                 default_programme: str | None) -> None:
        self.shown = display(path)
        self.zip = SafeZip(path, self.shown)
        self.bank = {p.code: p for p in programmes}
        self.default_programme = default_programme
        self.problems: list[QtiProblem] = []
        self.declared: dict[str, dict[str, Any]] = {}  # programme code -> programme.yaml doc
        self.resources: list[_Resource] = []
        self.by_member: dict[str, _Resource] = {}
        self.stimuli: dict[str, _Owner] = {}  # entry -> stimulus
        self.items: dict[str, _Owner] = {}  # entry -> item
        self.forms: list[tuple[str, FormSpec, list[str]]] = []  # entry, form, item entries
        self.files: dict[str, _File] = {}  # displayed YAML path -> origin
        self.bytes: dict[str, bytes] = {}

    def problem(self, member: str, field_name: str, message: str, *,
                unsupported: bool = False) -> None:
        self.problems.append(QtiProblem(self.shown, member, field_name, message, unsupported))

    def parse(self, member: str) -> ET.Element | None:
        """A file of the package as XML; a problem (or PackageError for the manifest)."""
        why = None
        try:
            data = self.zip.read(member, MAX_XML_BYTES)
            return SafeET.fromstring(data, forbid_dtd=True)
        except DTDForbidden:
            why = ("refused: a DOCTYPE (DTD) is not allowed; it can define entities that read "
                   "local files or expand without limit")
        except DefusedXmlException as err:
            why = f"refused: {type(err).__name__} (entities are not allowed)"
        except ET.ParseError as err:
            why = f"not well-formed XML: {err}"
        except ValueError as err:
            why = f"too big: {err}"
        if member == MANIFEST:
            raise PackageError(f"{self.shown}:{MANIFEST}: {why}")
        self.problem(member, "file", why)
        return None

    # -- the manifest --

    def manifest(self) -> None:
        if MANIFEST not in self.zip.entries:
            raise PackageError(f"{self.shown}: no {MANIFEST} at the top of the zip: not an IMS "
                               "content package")
        root = self.parse(MANIFEST)
        assert root is not None
        if local(root.tag) != "manifest":
            raise PackageError(f"{self.shown}:{MANIFEST}: the root element is "
                               f"<{local(root.tag)}>, not <manifest>")
        metadata = next((c for c in root if local(c.tag) == "metadata"), None)
        for element in metadata.findall(ib("programme")) if metadata is not None else []:
            self._declared_programme(element)
        resources = next((c for c in root if local(c.tag) == "resources"), None)
        for res in resources if resources is not None else []:
            if local(res.tag) != "resource":
                continue
            href = res.get("href", "")
            member = resolve(MANIFEST, href) if href else None
            kind = res.get("type", "").strip()
            meta = next((c for c in res if local(c.tag) == "metadata"), None)
            resource = _Resource(res.get("identifier", ""), kind, member, meta)
            where = member or f"resource {resource.identifier!r}"
            if _OLD_QTI.fullmatch(kind):
                self.problem(where, "type", f"a {kind} resource: only QTI 3.0 items, stimuli "
                             "and tests (imsqti_*_xmlv3p0) are supported", unsupported=True)
                continue
            if kind not in (ITEM_TYPE, STIMULUS_TYPE, TEST_TYPE):
                continue  # images, style sheets and other files: used through references
            if member is None or member not in self.zip.entries:
                self.problem(MANIFEST, f"resource {resource.identifier!r}",
                             f"its file {href!r} is not in the package")
                continue
            if member in self.by_member:
                self.problem(MANIFEST, f"resource {resource.identifier!r}",
                             f"{member} is already the file of another resource")
                continue
            self.resources.append(resource)
            self.by_member[member] = resource
        if not self.resources and not self.problems:
            raise PackageError(f"{self.shown}: the manifest lists no QTI 3.0 item "
                               f"({ITEM_TYPE})")

    def _declared_programme(self, element: ET.Element) -> None:
        code = element.get("code", "").strip()
        if not PROGRAMME_CODE.fullmatch(code) or len(code) > 40:
            self.problem(MANIFEST, "programme", f"{code!r} is not a valid programme code")
            return
        if code in self.declared:
            self.problem(MANIFEST, "programme", f"programme {code} is declared twice")
            return

        def pairs(parent: ET.Element, tag: str) -> list[dict[str, Any]]:
            out = []
            for child in parent.findall(ib(tag)):
                entry = {k: child.get(k, "").strip() for k in ("code", "name")
                         if child.get(k, "").strip()}
                if tag == "domain":
                    entry["subdomains"] = pairs(child, "subdomain")
                out.append(entry)
            return out

        doc: dict[str, Any] = {"code": code}
        if element.get("name", "").strip():
            doc["name"] = element.get("name", "").strip()
        doc["domains"] = pairs(element, "domain")
        self.declared[code] = doc

    # -- images --

    def image_bytes(self, member: str) -> bytes:
        """An image's bytes (empty, and a problem, if it is too big or empty)."""
        if member not in self.bytes:
            try:
                self.bytes[member] = self.zip.read(member, MAX_IMAGE_BYTES)
            except ValueError as err:
                self.bytes[member] = b""
                self.problem(member, "image", f"broken asset: {member} is {err}")
            else:
                if not self.bytes[member]:
                    self.problem(member, "image", f"broken asset: {member} is empty")
        return self.bytes[member]

    def resolver(self, owner: _Owner, field_name: str,
                 shared: _Owner | None = None) -> ImageResolver:
        """The image resolver of one field: an ``<img src>`` becomes an asset of ``owner``
        (or the stimulus' asset, for a question showing its stimulus' image)."""

        def image(src: str, alt: str) -> str | None:
            member = resolve(owner.member, src)
            if member is None:
                scheme = SCHEME.match(src.strip())
                what = (f"{scheme.group(0)} URL in an image" if scheme
                        else f"image {src!r} is outside the package")
                owner.problems.append((field_name, f"unsafe markup: {what}; an image must be "
                                                   "a file of the package"))
                return None
            if shared is not None and member in shared.images:
                return shared.images[member][0]
            if member in owner.images:
                return owner.images[member][0]
            if member not in self.zip.entries:
                owner.problems.append((field_name, f"broken asset: {member} (<img src="
                                                   f"{src!r}>) is not in the package"))
                return None
            if posixpath.splitext(member)[1].lower() == ".svg":
                owner.unsupported.append((field_name, f"SVG image {member} (SVG can carry "
                                                      "scripts; use PNG, JPEG, GIF or WebP)"))
                return None
            data = self.image_bytes(member)
            if not data:
                return None
            name = self._name(owner.group, member, hashlib.sha256(data).hexdigest())
            owner.images[member] = (name, " ".join(alt.split()))
            return name

        return image

    @staticmethod
    def _name(group: _Group, member: str, sha: str) -> str:
        if member in group.by_member:
            return group.by_member[member]
        base = re.sub(r"[^A-Za-z0-9._-]", "-", posixpath.basename(member)).lstrip("._-")
        stem, ext = posixpath.splitext(base or "image")
        stem = stem[:80] or "image"
        name, number = f"{stem}{ext}", 1
        while name in group.taken and group.taken[name] != sha:
            number += 1
            name = f"{stem}-{number}{ext}"
        if not _ASSET_NAME.fullmatch(name):
            name = f"image-{sha[:12]}{ext}"
        group.taken[name] = sha
        group.by_member[member] = name
        return name

    # -- stimuli and items --

    def stimulus(self, resource: _Resource) -> None:
        assert resource.member is not None
        owner = _Owner(resource.member, resource)
        self.stimuli[resource.member] = owner
        root = self.parse(resource.member)
        if root is None:
            return
        if root.tag != q("qti-assessment-stimulus"):
            if local(root.tag) == "assessmentStimulus":
                owner.unsupported.append(("file", "a QTI 2.x assessmentStimulus: only QTI 3.0 "
                                                  "is supported"))
            else:
                owner.problems.append(("file", f"not a qti-assessment-stimulus but "
                                               f"<{local(root.tag)}>"))
            return
        meta = resource.metadata.find(ib("scenario")) if resource.metadata is not None else None
        owner.code = _text(meta, "id") or root.get("identifier", "").strip() or None
        owner.programme = _text(meta, "programme")
        if owner.code is None:
            owner.problems.append(("identifier", "missing identifier"))
        self._unsupported_parts(owner, root, {"qti-stimulus-body", "qti-stylesheet"})
        body = root.find(q("qti-stimulus-body"))
        vignette = ""
        if body is not None:
            converter = Converter(self.resolver(owner, "vignette"))
            vignette = converter.blocks(nodes(body))
            owner.unsupported += [("vignette", m) for m in converter.problems]
        owner.doc = {
            "id": owner.code, "version": _number(_text(meta, "version") or "1", int),
            "programme": None, "status": _text(meta, "status"), "author": _text(meta, "author"),
            "references": _texts(meta, "reference") or None,
            "vignette": _prefer(_source(meta, "vignette"), vignette,
                                owner.asset_names),
            "question_order": _texts(meta, "question"),
        }

    def _unsupported_parts(self, owner: _Owner, root: ET.Element, allowed: set[str]) -> None:
        described = {
            "qti-template-declaration": "a template (cloned) item",
            "qti-template-processing": "a template (cloned) item",
            "qti-modal-feedback": "feedback to candidates (this bank keeps rationales for "
                                  "staff, in the manifest metadata)",
            "qti-companion-materials-info": "companion materials (calculator, rule...)",
            "qti-catalog-info": "accessibility catalogue (alternative content)",
        }
        for child in root:
            name = local(child.tag)
            if name in allowed or not name:
                continue
            if namespace(child.tag) != QTI:
                owner.unsupported.append((name, f"<{name}> from namespace "
                                                f"{namespace(child.tag) or 'none'}"))
            elif name in described:
                message = f"{described[name]} (<{name}>)"
                if (name, message) not in owner.unsupported:
                    owner.unsupported.append((name, message))

    def item(self, resource: _Resource) -> None:
        assert resource.member is not None
        owner = _Owner(resource.member, resource)
        self.items[resource.member] = owner
        root = self.parse(resource.member)
        if root is None:
            return
        if root.tag != q("qti-assessment-item"):
            if local(root.tag) == "assessmentItem":
                owner.unsupported.append(("file", "a QTI 2.x assessmentItem: only QTI 3.0 "
                                                  "(qti-assessment-item) is supported"))
            else:
                owner.problems.append(("file", f"not a qti-assessment-item but "
                                               f"<{local(root.tag)}>"))
            return
        meta = resource.metadata.find(ib("item")) if resource.metadata is not None else None
        owner.code = _text(meta, "id") or root.get("identifier", "").strip() or None
        owner.programme = _text(meta, "programme")
        if owner.code is None:
            owner.problems.append(("identifier", "missing identifier"))
        if root.get("adaptive", "false").strip() == "true":
            owner.unsupported.append(("adaptive", "an adaptive item (several attempts with "
                                                  "feedback)"))
        self._unsupported_parts(owner, root, {
            "qti-response-declaration", "qti-outcome-declaration", "qti-context-declaration",
            "qti-assessment-stimulus-ref", "qti-stylesheet", "qti-item-body",
            "qti-response-processing"})
        interaction = self._interaction(owner, root)
        key = self._key(owner, root, interaction)
        self._processing(owner, root)
        shared = self._stimulus_ref(owner, root)
        if owner.unsupported or interaction is None:
            return
        self._content(owner, root, meta, interaction, key, shared)

    def _interaction(self, owner: _Owner, root: ET.Element) -> ET.Element | None:
        found = [e for e in root.iter() if isinstance(e.tag, str)
                 and namespace(e.tag) == QTI and local(e.tag).endswith("-interaction")]
        choices = [e for e in found if e.tag == q("qti-choice-interaction")]
        others = sorted({local(e.tag) for e in found} - {"qti-choice-interaction"})
        for name in others:
            owner.unsupported.append(("interaction", f"unsupported interaction <{name}>: only "
                                      "qti-choice-interaction with one answer is supported"))
        if not found:
            owner.unsupported.append(("interaction", "no interaction: only single-choice items "
                                                     "(qti-choice-interaction) are supported"))
        elif len(choices) > 1:
            owner.unsupported.append(("interaction", f"{len(choices)} choice interactions; an "
                                                     "item has one"))
        if others or len(choices) != 1:
            return None
        choice = choices[0]
        max_choices = choice.get("max-choices", "1").strip()
        if max_choices != "1":
            owner.unsupported.append(("max-choices", f"multiple-response choice (max-choices="
                                      f"{max_choices!r}): an item has exactly one key"))
        return choice

    def _key(self, owner: _Owner, root: ET.Element,
             interaction: ET.Element | None) -> list[str]:
        if interaction is None:
            return []
        response = interaction.get("response-identifier", "").strip()
        declaration = next((d for d in root.findall(q("qti-response-declaration"))
                            if d.get("identifier", "").strip() == response), None)
        if declaration is None:
            owner.problems.append(("qti-response-declaration", f"no qti-response-declaration "
                                   f"for the interaction's response {response!r}"))
            return []
        cardinality = declaration.get("cardinality", "").strip()
        if cardinality in ("multiple", "ordered"):
            owner.unsupported.append(("cardinality", f"multiple-response choice (cardinality="
                                      f"{cardinality!r}): an item has exactly one key"))
        elif cardinality != "single":
            owner.problems.append(("cardinality", f"cardinality {cardinality!r}: a single-choice "
                                                  "response is 'single'"))
        if declaration.get("base-type", "").strip() != "identifier":
            owner.problems.append(("base-type", f"base-type {declaration.get('base-type')!r}: "
                                   "a choice response is an 'identifier'"))
        return [(v.text or "").strip() for v in declaration.findall(
            f"{q('qti-correct-response')}/{q('qti-value')}")]

    @staticmethod
    def _processing(owner: _Owner, root: ET.Element) -> None:
        processing = root.find(q("qti-response-processing"))
        if processing is None:
            return  # not scored by the package: the key scores it here
        template = processing.get("template", "").strip()
        name = posixpath.basename(template.rstrip("/")).lower()
        if len(processing) or (template and name not in ("match_correct", "match_correct.xml")):
            what = f"template {template!r}" if template and not len(processing) else "rules"
            owner.unsupported.append(("qti-response-processing", f"response processing by "
                                      f"{what}: only the match_correct template (one key) is "
                                      "supported"))

    def _stimulus_ref(self, owner: _Owner, root: ET.Element) -> _Owner | None:
        refs = root.findall(q("qti-assessment-stimulus-ref"))
        if len(refs) > 1:
            owner.unsupported.append(("qti-assessment-stimulus-ref", f"{len(refs)} shared "
                                      "stimuli; a scenario question has one vignette"))
            return None
        if not refs:
            return None
        ref = refs[0]
        member = resolve(owner.member, ref.get("href", ""))
        stimulus = self.stimuli.get(member or "")
        if stimulus is None:
            wanted = ref.get("identifier", "").strip()
            stimulus = next((s for s in self.stimuli.values()
                             if s.resource.identifier == wanted or s.code == wanted), None)
        if stimulus is None:
            owner.problems.append(("qti-assessment-stimulus-ref", f"stimulus "
                                   f"{ref.get('href') or ref.get('identifier')!r} is not a "
                                   "stimulus resource of this package"))
            return None
        owner.stimulus = stimulus.member
        owner.group = stimulus.group
        stimulus.questions.append(owner)
        return stimulus

    def _content(self, owner: _Owner, root: ET.Element, meta: ET.Element | None,
                 interaction: ET.Element, key: list[str], shared: _Owner | None) -> None:
        body = root.find(q("qti-item-body"))
        assert body is not None  # the interaction is in it
        converter = Converter(self.resolver(owner, "stem", shared), skip=interaction)
        parts = [converter.blocks(nodes(body))]
        choices: list[ET.Element] = []
        for child in interaction:
            name = local(child.tag) if namespace(child.tag) == QTI else ""
            if name == "qti-prompt":
                parts.append(converter.blocks(nodes(child)))
            elif name == "qti-simple-choice":
                choices.append(child)
            elif isinstance(child.tag, str):
                converter.problems.append(f"unsupported markup: <{local(child.tag)}> in the "
                                          "choice interaction")
        owner.unsupported += [("stem", m) for m in converter.problems]
        stem = "\n\n".join(p for p in parts if p)
        labels = {}
        options: dict[str, dict[str, str]] = {}
        for index, choice in enumerate(choices):
            label = _label(index)
            identifier = choice.get("identifier", "").strip()
            if identifier in labels:
                owner.problems.append((f"options.{label}", f"choice identifier {identifier!r} "
                                                          f"is also option {labels[identifier]}'s"))
            labels.setdefault(identifier, label)
            text_converter = Converter(self.resolver(owner, f"options.{label}.text", shared))
            text = text_converter.blocks(nodes(choice))
            owner.unsupported += [(f"options.{label}.text", m) for m in text_converter.problems]
            entry = next((o for o in (meta.findall(ib("option")) if meta is not None else [])
                          if o.get("choice", "").strip() == identifier), None)
            option: dict[str, str] = {}
            text = _prefer(_source(entry), text, owner.asset_names + (
                shared.asset_names if shared else []))
            if text:
                option["text"] = text
            rationale = _text(entry, "rationale")
            if rationale:
                option["rationale"] = rationale
            options[label] = option
        names = owner.asset_names + (shared.asset_names if shared else [])
        keys = [labels.get(k, k) for k in key if k]
        owner.doc = {
            "id": owner.code, "version": _number(_text(meta, "version") or "1", int),
            "programme": None, "domain": _text(meta, "domain"),
            "subdomain": _text(meta, "subdomain"), "type": _text(meta, "type"),
            "level": _text(meta, "level"), "status": _text(meta, "status"),
            "author": _text(meta, "author"),
            "difficulty": _number(_text(meta, "difficulty"), float),
            "enemies": _texts(meta, "enemy") or None,
            "references": _texts(meta, "reference") or None,
            "stem": _prefer(_source(meta, "stem"), stem, names) or None,
            "options": options or None,
            "key": (keys[0] if len(keys) == 1 else keys) or None,
        }

    # -- tests --

    def assessment_test(self, resource: _Resource) -> None:
        member = resource.member
        assert member is not None
        root = self.parse(member)
        if root is None:
            return
        if root.tag != q("qti-assessment-test"):
            unsupported = local(root.tag) == "assessmentTest"
            self.problem(member, "file", "a QTI 2.x assessmentTest: only QTI 3.0 is supported"
                         if unsupported else f"not a qti-assessment-test but "
                         f"<{local(root.tag)}>", unsupported=unsupported)
            return
        meta = resource.metadata.find(ib("form")) if resource.metadata is not None else None
        code = _text(meta, "code") or root.get("identifier", "").strip()
        refs: list[tuple[str, bool]] = []
        shuffles: set[bool] = set()
        before = len(self.problems)

        def unsupported(what: str, name: str) -> None:
            self.problem(member, name, f"{what} (<{name}>): a form is a fixed list of items",
                         unsupported=True)

        def section(elem: ET.Element) -> None:
            for child in elem:
                name = local(child.tag)
                if name == "qti-assessment-item-ref":
                    target = resolve(member, child.get("href", ""))
                    if target not in self.items:
                        self.problem(member, "qti-assessment-item-ref", f"item "
                                     f"{child.get('href')!r} is not an item of this package")
                        continue
                    refs.append((target, PRETEST not in child.get("category", "").split()))
                elif name == "qti-assessment-section":
                    section(child)
                elif name == "qti-ordering":
                    shuffles.add(child.get("shuffle", "false").strip() == "true")
                elif name == "qti-selection":
                    unsupported("random selection of items", name)
                elif name in ("qti-pre-condition", "qti-branch-rule"):
                    unsupported("adaptive navigation", name)
                elif name == "qti-assessment-section-ref":
                    unsupported("a section in another file", name)
                elif name == "qti-rubric-block":
                    unsupported("instructions shown to candidates", name)

        parts = root.findall(q("qti-test-part"))
        for part in parts:
            for child in part:
                if local(child.tag) in ("qti-pre-condition", "qti-branch-rule"):
                    unsupported("adaptive navigation", local(child.tag))
            for elem in part.findall(q("qti-assessment-section")):
                section(elem)
        if not parts:
            self.problem(member, "qti-test-part", "a test has at least one qti-test-part")
        if len(shuffles) > 1:
            self.problem(member, "qti-ordering", "some sections shuffle their items and some do "
                         "not: a form shuffles all or none", unsupported=True)
        limits = [e for e in [root.find(q("qti-time-limits")), *(
            p.find(q("qti-time-limits")) for p in parts)] if e is not None and e.get("max-time")]
        minutes = 0
        if not limits:
            self.problem(member, "qti-time-limits", "no qti-time-limits max-time: a form needs "
                         "its duration")
        else:
            seconds = limits[0].get("max-time", "")
            try:
                value = float(seconds)
            except ValueError:
                value = -1
            if not 0 < value <= MAX_MINUTES * 60 or value % 60:
                self.problem(member, "qti-time-limits", f"max-time {seconds!r}: the duration is "
                             f"a whole number of minutes up to {MAX_MINUTES}, in seconds (10800 "
                             "for 3 hours)")
            else:
                minutes = int(value // 60)
        codes = [t for t, _ in refs]
        if len(set(codes)) != len(codes):
            self.problem(member, "qti-assessment-item-ref", "an item is on the form twice")
        if not code or len(code) > MAX_FORM_CODE:
            self.problem(member, "identifier", f"bad form code {code!r}: 1 to {MAX_FORM_CODE} "
                         "characters")
        if not refs:
            self.problem(member, "qti-assessment-item-ref", "a form has at least one item")
        if len(self.problems) > before:
            return
        form = FormSpec(
            code=code, title=(root.get("title") or code).strip()[:200],
            programme=_text(meta, "programme"), duration_minutes=minutes,
            shuffle_items=shuffles == {True},
            shuffle_options=(_text(meta, "shuffle-options") or "true") == "true",
            slots=tuple(FormSlot(target, scored) for target, scored in refs))
        self.forms.append((member, form, codes))


# --- from the package to a batch -------------------------------------------------------------


class _Tree:
    """Writes the supported items as authoring YAML and maps problems back."""

    def __init__(self, reader: _Reader, root: Path) -> None:
        self.reader = reader
        self.root = root
        self.programme_files: dict[str, Path] = {}
        self.reverse: dict[tuple[str, int], str] = {}

    def programme_folder(self, owner: _Owner, code: str | None) -> Path | None:
        r = self.reader
        if code is None:
            code = r.default_programme or (next(iter(r.declared)) if len(r.declared) == 1
                                           else None)
        if code is None:
            owner.problems.append(("programme", "missing programme: the package's metadata "
                                                "names none, and no default was given"))
            return None
        if not PROGRAMME_CODE.fullmatch(code) or len(code) > 40:
            owner.problems.append(("programme", f"{code!r} is not a valid programme code"))
            return None
        if code not in r.declared and code not in r.bank:
            owner.problems.append(("programme", f"unknown programme {code!r}: neither this "
                                                "package nor the bank defines it"))
            return None
        folder = self.root / code
        if code not in self.programme_files:
            doc = r.declared.get(code) or programme_document(r.bank[code])
            path = folder / PROGRAMME_FILE
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(dump(doc), encoding="utf-8")
            self.programme_files[code] = path
            r.files[display(path)] = _File(None)
        return folder

    def _assets(self, owner: _Owner, folder: Path) -> list[dict[str, str]]:
        out = []
        for member, (name, alt) in owner.images.items():
            path = folder / "assets" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(self.reader.bytes[member])
            out.append({"image": name, "alt": alt} if alt else {"image": name})
        return out

    @staticmethod
    def _safe_id(owner: _Owner) -> bool:
        """An id that can name a file (the loader reports the same, for a question)."""
        code = owner.code or ""
        if not ID.fullmatch(code) or len(code) > ID_MAX:
            owner.problems.append(("id", f"{code!r} is not a valid id (capital letters, digits "
                                         f"and hyphens, at most {ID_MAX}, e.g. CCM-CC-0001)"))
            return False
        return True

    @staticmethod
    def item_doc(owner: _Owner, *, question: bool) -> dict[str, Any]:
        """The item's fields in the documented order; a question takes its set's programme."""
        order = ["id", "version", "programme", "domain", "subdomain", "type", "level", "status",
                 "author", "difficulty", "enemies", "references", "assets", "stem", "options",
                 "key"]
        return {k: owner.doc[k] for k in order if owner.doc.get(k) is not None
                and not (question and k == "programme")}

    def write_item(self, owner: _Owner) -> None:
        folder = self.programme_folder(owner, owner.programme)
        if folder is None or not self._safe_id(owner):
            return
        assert owner.code is not None
        folder = folder / owner.code
        folder.mkdir(parents=True, exist_ok=True)
        owner.doc["programme"] = folder.parent.name
        owner.doc["assets"] = self._assets(owner, folder) or None
        path = folder / f"{owner.code}.yaml"
        self._write(path, self.item_doc(owner, question=False), _File(owner))

    def write_set(self, stimulus: _Owner, questions: list[_Owner]) -> None:
        programme = stimulus.programme or next(
            (q.programme for q in questions if q.programme), None)
        folder = self.programme_folder(stimulus, programme)
        if folder is None or not self._safe_id(stimulus):
            return
        assert stimulus.code is not None
        for question in questions:
            if question.programme not in (None, folder.name):
                question.problems.append(("programme", f"programme {question.programme!r} "
                                          f"differs from its scenario set's, {folder.name!r}"))
        folder = folder / stimulus.code
        folder.mkdir(parents=True, exist_ok=True)
        doc = dict(stimulus.doc)
        for name in ("status", "author"):  # a set without our metadata: its questions' value
            values = {q.doc.get(name) for q in questions}
            if doc.get(name) is None and len(values) == 1:
                doc[name] = values.pop()
        doc["programme"] = folder.parent.name
        doc["assets"] = self._assets(stimulus, folder) or None
        question_docs = []
        for question in questions:
            question.doc["assets"] = self._assets(question, folder) or None
            question_docs.append(self.item_doc(question, question=True))
        doc["questions"] = question_docs
        order = ["id", "version", "programme", "status", "author", "references", "assets",
                 "vignette", "questions"]
        self._write(folder / f"{stimulus.code}.yaml",
                    {k: doc[k] for k in order if doc.get(k) is not None},
                    _File(stimulus, tuple(questions)))

    def _write(self, path: Path, doc: dict[str, Any], origin: _File) -> None:
        """Write one YAML file; remember where each id in it came from (a problem naming
        ``file:line`` of an id is shown with the package's file)."""
        text = dump(doc)
        path.write_text(text, encoding="utf-8")
        shown_path = display(path)
        self.reader.files[shown_path] = origin
        # The dumper writes each id first in its mapping, unquoted: 'id: X' and '- id: X'.
        lines = text.splitlines()
        assert origin.owner is not None
        top = next(n for n, line in enumerate(lines, 1) if line.startswith("id: "))
        self.reverse[(shown_path, top)] = origin.owner.member
        questions = [n for n, line in enumerate(lines, 1) if re.match(r"\s*- id: ", line)]
        for line, question in zip(questions, origin.questions, strict=True):
            self.reverse[(shown_path, line)] = question.member

    def locate(self, problem: Problem) -> QtiProblem:
        r = self.reader
        origin = r.files.get(problem.path)
        message = self._rewrite(problem.message)
        if origin is None:
            return QtiProblem(r.shown, problem.path, problem.field, message)
        if origin.owner is None:
            return QtiProblem(r.shown, MANIFEST, f"programme.{problem.field}", message)
        owner, name = origin.owner, problem.field
        match = re.match(r"questions\[(\d+)\]\.(.+)", name)
        if match and int(match.group(1)) <= len(origin.questions):
            owner, name = origin.questions[int(match.group(1)) - 1], match.group(2)
        asset = re.match(r"assets\[(\d+)\]", name)
        if asset and int(asset.group(1)) <= len(owner.images):
            member, (file_name, _) = list(owner.images.items())[int(asset.group(1)) - 1]
            message = message.replace(f"assets/{file_name}", member)
        return QtiProblem(r.shown, owner.member, name, message)

    def _rewrite(self, message: str) -> str:
        """Paths of the temporary tree in a message become the package's files."""
        for path in sorted(self.reader.files, key=len, reverse=True):
            if path not in message:
                continue
            origin = self.reader.files[path]

            def swap(match: re.Match[str], path: str = path, origin: _File = origin) -> str:
                line = int(match.group(1)) if match.group(1) else 0
                if (path, line) in self.reverse:
                    return self.reverse[(path, line)]
                return origin.owner.member if origin.owner else MANIFEST

            message = re.sub(re.escape(path) + r"(?::(\d+))?", swap, message)
        return message


def _skipped(reader: _Reader) -> set[str]:
    """Entries left out: unsupported items, and whole sets with an unsupported part."""
    skip = {m for m, o in [*reader.items.items(), *reader.stimuli.items()] if o.unsupported}
    for stimulus in reader.stimuli.values():
        parts = [stimulus, *stimulus.questions]
        bad = [p for p in parts if p.member in skip]
        if bad:
            for part in parts:
                if part.member not in skip:
                    part.unsupported.append(("file", f"left out with its scenario set "
                                             f"{stimulus.code or stimulus.member}: "
                                             f"{bad[0].member} is not supported"))
                    skip.add(part.member)
    return skip


def _order(stimulus: _Owner) -> list[_Owner]:
    """A set's questions in the order its metadata gives (else the manifest's)."""
    wanted = stimulus.doc.get("question_order") or []
    if not wanted:
        return list(stimulus.questions)
    codes = {q.code for q in stimulus.questions}
    for code in wanted:
        if code not in codes:
            stimulus.problems.append(("questions", f"question {code!r} of this set is not in "
                                                   "the package"))
    for extra in stimulus.questions:
        if extra.code not in wanted:
            extra.problems.append(("qti-assessment-stimulus-ref", f"this item shows stimulus "
                                   f"{stimulus.code!r} but is not one of its questions"))
    return sorted(stimulus.questions, key=lambda q: wanted.index(q.code)
                  if q.code in wanted else len(wanted))


def read_package(path: str | Path, workdir: Path, *, programmes: Sequence[Programme] = (),
                 known_ids: Collection[str] = (), default_programme: str | None = None,
                 skip_unsupported: bool = False) -> Package:
    """Read a QTI 3.0 package; the batch's files are written under ``workdir``.

    ``programmes`` are those already in the bank (a package may also declare its own, which
    then win); ``default_programme`` is the programme of items whose metadata names none;
    ``known_ids`` are item ids already in the bank (enemies may name them). Raises
    :class:`PackageError` when the package cannot be read at all.
    """
    reader = _Reader(Path(path), programmes, default_programme)
    try:
        reader.manifest()
        for kind, read in ((STIMULUS_TYPE, reader.stimulus), (ITEM_TYPE, reader.item),
                           (TEST_TYPE, reader.assessment_test)):
            for resource in reader.resources:
                if resource.kind == kind:
                    read(resource)
    finally:
        reader.zip.close()
    skip = _skipped(reader)
    tree = _Tree(reader, workdir)
    seen: dict[str, str] = {}
    for owner in [*reader.stimuli.values(), *reader.items.values()]:
        if owner.member in skip or owner.code is None or owner.stimulus is not None:
            continue
        if owner.code in seen:
            owner.problems.append(("id", f"duplicate id {owner.code!r} (also in "
                                         f"{seen[owner.code]})"))
            continue
        seen[owner.code] = owner.member
        if owner.member in reader.stimuli:
            tree.write_set(owner, _order(owner))
        elif not owner.problems:
            tree.write_item(owner)
    batch = load(workdir, known_ids) if any(workdir.iterdir()) else Batch((), (), (), (), ())
    codes = {i.code: i for i in batch.items}

    problems = list(reader.problems)
    for owner in [*reader.stimuli.values(), *reader.items.values()]:
        problems += [QtiProblem(reader.shown, owner.member, f, m) for f, m in owner.problems
                     if owner.member not in skip]
        problems += [QtiProblem(reader.shown, owner.member, f, m, True)
                     for f, m in owner.unsupported]
    problems += [tree.locate(p) for p in batch.problems]
    forms = []
    for member, form, entries in reader.forms:
        left_out = [e for e in entries if e in skip]
        if left_out:
            problems.append(QtiProblem(reader.shown, member, "qti-assessment-item-ref",
                                       f"form {form.code} left out: its item {left_out[0]} is "
                                       "not supported", True))
            continue
        item_codes = [reader.items[e].code or e for e in entries]
        if len(set(item_codes)) != len(item_codes):
            problems.append(QtiProblem(reader.shown, member, "qti-assessment-item-ref",
                                       f"form {form.code}: two of its items have one id"))
            continue
        slots = tuple(FormSlot(c, s.scored) for c, s in zip(item_codes, form.slots,
                                                              strict=True))
        programme = form.programme or next(
            (codes[c].programme for c in item_codes if c in codes), None)
        strangers = sorted({str(codes[c].programme) for c in item_codes
                            if c in codes and codes[c].programme != programme})
        if strangers:
            problems.append(QtiProblem(reader.shown, member, "qti-assessment-item-ref",
                                       f"form {form.code} of programme {programme} has items "
                                       f"of programme {', '.join(strangers)}"))
            continue
        forms.append((member, FormSpec(form.code, form.title, programme, form.duration_minutes,
                                       form.shuffle_items, form.shuffle_options, slots)))
    duplicates = [f.code for _, f in forms]
    for member, form in forms:
        if duplicates.count(form.code) > 1:
            problems.append(QtiProblem(reader.shown, member, "identifier",
                                       f"two forms with code {form.code!r}"))
    return Package(
        path=reader.shown, batch=batch, forms=tuple(f for _, f in forms),
        problems=tuple(sorted(set(problems))), skip_unsupported=skip_unsupported,
        locate=tree.locate, form_members=MappingProxyType({f.code: m for m, f in forms}),
    )


@contextmanager
def open_package(path: str | Path, **options: Any) -> Iterator[Package]:
    """:func:`read_package` with a temporary folder that lasts as long as the block (an
    import reads the images from it)."""
    with tempfile.TemporaryDirectory(prefix="qti-import-") as folder:
        yield read_package(path, Path(folder), **options)
