"""Item content both ways: our Markdown subset to QTI's XHTML, and QTI's XHTML back.

Export goes through :func:`item_bank.authoring.render` (the one renderer candidates see), then
turns its HTML into XML elements in the QTI namespace (QTI 3.0 puts its XHTML subset there).

Import reads XHTML into the Markdown subset: ``p``, ``br``, ``em``/``i``, ``strong``/``b``,
``ul``/``ol``/``li``, ``table`` (``thead``/``tbody``/``tr``/``th``/``td``, aligned by our
``align-*`` classes or ``text-align``), ``img``; ``div`` and ``span`` are transparent.
Anything else (MathML, links, headings, code, sub- and superscripts, media, other QTI
elements...) is reported as unsupported markup: nothing is dropped silently. Text is escaped
so that it reads back as the same text, never as markup.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from html.parser import HTMLParser

from item_bank.authoring.markup import ImageSource, render
from item_bank.qti.spec import MATHML, QTI, local, namespace

_VOID = {"br", "img"}

# --- Markdown -> XHTML -----------------------------------------------------------------------


class _Builder(HTMLParser):
    """Builds elements from the renderer's HTML (its few tags, always balanced by nh3)."""

    def __init__(self, root: ET.Element) -> None:
        super().__init__(convert_charrefs=True)
        self.stack = [root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        elem = ET.SubElement(self.stack[-1], tag, {k: v or "" for k, v in attrs})
        if tag not in _VOID:
            self.stack.append(elem)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ET.SubElement(self.stack[-1], tag, {k: v or "" for k, v in attrs})

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if local(self.stack[index].tag) == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        parent = self.stack[-1]
        if len(parent):
            parent[-1].tail = (parent[-1].tail or "") + data
        else:
            parent.text = (parent.text or "") + data


def fill(target: ET.Element, text: str, images: Mapping[str, ImageSource], *,
         inline: bool = False) -> None:
    """Append the XHTML of Markdown ``text`` to ``target`` (a body, a choice...), as
    unqualified elements: the writer puts them in the QTI namespace by a default ``xmlns``."""
    holder = ET.Element("holder")
    builder = _Builder(holder)
    builder.feed(render(text, images, inline=inline))
    builder.close()
    if holder.text:
        if len(target):
            target[-1].tail = (target[-1].tail or "") + holder.text
        else:
            target.text = (target.text or "") + holder.text
    target.extend(list(holder))


def shown(html: str) -> str:
    """Rendered HTML as a browser shows it: runs of white space are one space, none shows
    around a line break, a break at the edge of emphasis is the same outside it, and bold
    italic is the same either way round (the subset has no preformatted text). Two texts
    that give the same are the same content."""
    html = re.sub(r"\s*<br>\s*", "<br>", re.sub(r"\s+", " ", html)).strip()
    while True:  # a break at the edge of emphasis shows as one outside it
        moved = re.sub(r"(<(?:em|strong)>)<br>", r"<br>\1",
                       re.sub(r"<br>(</(?:em|strong)>)", r"\1<br>", html))
        # Bold italic is bold italic, whichever tag is outside.
        moved = re.sub(r"<strong><em>((?:(?!</?(?:em|strong)>).)*)</em></strong>",
                       r"<em><strong>\1</strong></em>", moved)
        moved = re.sub(r"\s*<br>\s*", "<br>", moved)
        if moved == html:
            return html
        html = moved


# --- XHTML -> Markdown -----------------------------------------------------------------------

Node = str | ET.Element
ImageResolver = Callable[[str, str], str | None]  # (src, alt) -> asset name, or None

_BR = "\x00"  # a hard line break until the paragraph's white space is settled
_INLINE = {"em", "i", "strong", "b", "span", "br", "img"}
_NAMED = {
    "a": "link (<a>)", "h1": "heading (<h1>)", "h2": "heading (<h2>)", "h3": "heading (<h3>)",
    "h4": "heading (<h4>)", "h5": "heading (<h5>)", "h6": "heading (<h6>)",
    "pre": "preformatted text (<pre>)", "code": "code (<code>)", "hr": "horizontal rule (<hr>)",
    "blockquote": "block quote (<blockquote>)", "sub": "subscript (<sub>)",
    "sup": "superscript (<sup>)", "object": "embedded object (<object>)",
    "audio": "audio (<audio>)", "video": "video (<video>)", "iframe": "frame (<iframe>)",
    "caption": "table caption (<caption>)", "tfoot": "table footer (<tfoot>)",
}
_ALIGN = {"left": ":---", "center": ":---:", "right": "---:"}


def nodes(elem: ET.Element) -> Iterator[Node]:
    """An element's content in order: its text, then each child and the text after it."""
    if elem.text:
        yield elem.text
    for child in elem:
        if isinstance(child.tag, str):  # comments and processing instructions are not content
            yield child
        if child.tail:
            yield child.tail


def _escape(text: str) -> str:
    """Text that Markdown reads back as itself (line starts are handled per paragraph)."""
    text = text.replace("\\", "\\\\")
    text = re.sub(r"[*`\[\]<|]", r"\\\g<0>", text)
    # '_' emphasises only where it does not sit between letters or digits.
    text = re.sub(r"(?<![^\W_])_|_(?![^\W_])", r"\\_", text)
    return re.sub(r"&(?=#?[0-9A-Za-z]+;)", r"\\&", text)


_LINE_START = re.compile(
    # a heading, a quote, a list item, a setext underline or a table's delimiter row
    r"(?P<mark>#{1,6}(?=\s|$)|>|[-+](?=\s|$)|[-=:](?=[-=:\s]*$))"
    r"|(?P<num>\d{1,9})(?P<dot>[.)])(?=\s|$)")


def _escape_line_start(line: str) -> str:
    match = _LINE_START.match(line)
    if match is None:
        return line
    if match.group("mark"):
        return "\\" + line
    return f"{match.group('num')}\\{line[match.end('num'):]}"


def _settle(raw: str, *, cell: bool = False) -> str:
    """Collapse white space as a browser would, keeping line breaks as Markdown soft breaks."""

    def collapse(match: re.Match[str]) -> str:
        run = match.group(0)
        if _BR in run:
            return _BR * run.count(_BR)
        return "\n" if "\n" in run and not cell else " "

    # A break that ends a paragraph shows nothing (and Markdown cannot write one); a break
    # that starts one shows an empty line.
    text = re.sub(rf"[ \t\r\n{_BR}]+", collapse, raw).strip(" \n").rstrip(_BR)
    lines = re.split(rf"(\n|{_BR})", text)
    out = []
    for index, piece in enumerate(lines):
        if index % 2 == 0:
            out.append(_escape_line_start(piece))
        else:
            out.append("\\\n" if piece == _BR else "\n")
    return "".join(out)


def _wrap(inner: str, marker: str, before: str) -> str:
    """``inner`` emphasised (``marker`` ``*`` or ``**``); white space at its edges moves
    outside the markers. Where a ``*`` marker would run into another (emphasis inside
    emphasis, or right after it; ``before`` is the text before) it is written with ``_``,
    so that ``<em><em>x</em></em>`` does not read back as ``**x**``."""
    core = inner.strip(f" \t\r\n{_BR}")
    if not core:
        return inner
    start = inner.index(core[0])
    end = start + len(core)
    prefix = before + inner[:start]
    left = prefix[-1:] or " "
    escaped = (len(prefix[:-1]) - len(prefix[:-1].rstrip("\\"))) % 2 == 1  # '\*' is text
    left_star = left == "*" and not escaped
    plain_end = len(core) > 1 and core[-2] == "\\"
    single = (core[0] == "*" and core[1:2] != "*") or (
        core[-1] == "*" and core[-2:-1] != "*" and not plain_end)
    # '_' does not emphasise inside a word: used only where '*' would be misread.
    if (left_star or (single and marker == "*")) and not left.isalnum() and \
            core[0] != "_" and (core[-1] != "_" or plain_end):
        marker = marker.replace("*", "_")
    return f"{inner[:start]}{marker}{core}{marker}{inner[end:]}"


class Converter:
    """XHTML to Markdown for one field; ``problems`` collects what it cannot convert."""

    def __init__(self, image: ImageResolver, skip: ET.Element | None = None) -> None:
        self.image = image
        self.skip = skip  # an element to leave out (the interaction inside an item body)
        self.problems: list[str] = []
        self._parent = ""  # the marker of the list item being converted

    def _unsupported(self, elem: ET.Element) -> None:
        name = local(elem.tag)
        if namespace(elem.tag) == MATHML:
            what = "MathML (<math>)"
        elif namespace(elem.tag) not in ("", QTI):
            what = f"<{name}> from namespace {namespace(elem.tag)}"
        else:
            what = _NAMED.get(name, f"<{name}>")
        message = f"unsupported markup: {what}"
        if message not in self.problems:
            self.problems.append(message)

    def _known(self, elem: ET.Element) -> str | None:
        """The local name of an XHTML element of the QTI namespace, else None (reported)."""
        if namespace(elem.tag) not in ("", QTI):
            self._unsupported(elem)
            return None
        return local(elem.tag)

    # -- blocks --

    def blocks(self, content: Iterator[Node] | list[Node], *, tight: bool = False) -> str:
        """Markdown of block content; inline runs become paragraphs."""
        out: list[tuple[str, str, str]] = []  # (kind, Markdown, list marker)
        run: list[Node] = []

        def flush() -> None:
            text = _settle(self._inline(run))
            run.clear()
            if text:
                out.append(("p", text, ""))

        for node in content:
            if isinstance(node, str):
                run.append(node)
                continue
            if node is self.skip:
                continue
            name = self._known(node)
            if name is None:
                continue
            if name in _INLINE:
                run.append(node)
            elif name == "p":
                flush()
                text = _settle(self._inline(nodes(node)))
                if text:
                    out.append(("p", text, ""))
            elif name == "div":
                flush()
                inner = self.blocks(nodes(node), tight=tight)
                if inner:
                    out.append(("div", inner, ""))
            elif name in ("ul", "ol"):
                flush()
                # Two lists in a row need different markers, or Markdown joins them.
                previous = out[-1][2] if out and out[-1][0] == name else ""
                out.append((name, *self._list(node, ordered=name == "ol", avoid=previous)))
            elif name == "table":
                flush()
                out.append(("table", self._table(node), ""))
            else:
                self._unsupported(node)
        flush()
        return ("\n" if tight else "\n\n").join(text for _, text, _ in out)

    def _list(self, elem: ET.Element, *, ordered: bool, avoid: str) -> tuple[str, str]:
        """The list's Markdown and its marker (``-``, ``*``, ``+``; ``.`` or ``)``)."""
        items = []
        for node in nodes(elem):
            if isinstance(node, str):
                if node.strip():
                    self.problems.append("unsupported markup: text directly in a list")
            elif self._known(node) == "li":
                items.append(node)
            elif self._known(node) is not None:
                self._unsupported(node)
        start = elem.get("start", "1").strip()
        first = int(start) if ordered and start.isdigit() and len(start) <= 9 else 1
        loose = any(local(child.tag) == "p" for li in items for child in li)
        if ordered:
            sign = ")" if avoid == "." else "."
        else:
            # Unlike its sibling and its parent: '- - -' would read as a horizontal rule.
            sign = next(m for m in "-*+" if m not in (avoid, self._parent))
        entries = []
        for number, li in enumerate(items, start=first):
            marker = f"{number}{sign} " if ordered else f"{sign} "
            parent, self._parent = self._parent, "" if ordered else sign
            body = self.blocks(nodes(li), tight=not loose)
            self._parent = parent
            if not body:
                entries.append(marker.rstrip())
                continue
            lines = body.split("\n")
            indent = " " * len(marker)
            entries.append("\n".join([marker + lines[0],
                                      *(indent + line if line else "" for line in lines[1:])]))
        return ("\n\n" if loose else "\n").join(entries), sign

    # -- tables --

    def _rows(self, elem: ET.Element) -> Iterator[ET.Element]:
        for child in elem:
            if not isinstance(child.tag, str):
                continue
            name = self._known(child)
            if name == "tr":
                yield child
            elif name in ("thead", "tbody"):
                yield from self._rows(child)
            elif name not in (None, "colgroup", "col"):
                self._unsupported(child)

    def _cell(self, cell: ET.Element) -> str:
        if cell.get("colspan", "1").strip() != "1" or cell.get("rowspan", "1").strip() != "1":
            self.problems.append("unsupported markup: merged table cells (colspan, rowspan)")
        content: list[Node] = []
        for node in nodes(cell):
            if isinstance(node, ET.Element) and local(node.tag) == "p" and \
                    namespace(node.tag) in ("", QTI):
                content += [" ", *nodes(node), " "]  # a paragraph in a cell: its text
            elif isinstance(node, ET.Element) and local(node.tag) in ("ul", "ol", "table", "div"):
                self.problems.append(f"unsupported markup: <{local(node.tag)}> inside a table "
                                     "cell")
            else:
                content.append(node)
        raw = self._inline(content)
        if _BR in raw.strip(f" \t\r\n{_BR}"):
            self.problems.append("unsupported markup: line break inside a table cell")
        return _settle(raw.replace(_BR, " "), cell=True)

    @staticmethod
    def _align(cell: ET.Element) -> str:
        classes = cell.get("class", "").split()
        for side in _ALIGN:
            if f"align-{side}" in classes:
                return _ALIGN[side]
        match = re.search(r"text-align\s*:\s*(left|center|right)", cell.get("style", ""))
        side = match.group(1) if match else cell.get("align", "").strip().lower()
        return _ALIGN.get(side, "---")

    def _table(self, elem: ET.Element) -> str:
        rows = []
        for tr in self._rows(elem):
            cells = [c for c in tr if isinstance(c.tag, str) and self._known(c) in ("th", "td")]
            for other in tr:
                if isinstance(other.tag, str) and local(other.tag) not in ("th", "td"):
                    self._unsupported(other)
            if cells:
                rows.append(cells)
        if not rows:
            return ""
        width = max(len(r) for r in rows)
        aligns = [self._align(c) for c in rows[0]] + ["---"] * (width - len(rows[0]))
        lines = []
        for index, row in enumerate(rows):
            texts = [self._cell(c) for c in row] + [""] * (width - len(row))
            lines.append("| " + " | ".join(texts) + " |")
            if index == 0:
                lines.append("| " + " | ".join(aligns) + " |")
        return "\n".join(lines)

    # -- inline --

    def _inline(self, content: Iterator[Node] | list[Node]) -> str:
        parts: list[str] = []
        for node in content:
            if isinstance(node, str):
                parts.append(_escape(node))
                continue
            if node is self.skip:
                continue
            name = self._known(node)
            if name in ("em", "i"):
                parts.append(_wrap(self._inline(nodes(node)), "*", "".join(parts)))
            elif name in ("strong", "b"):
                parts.append(_wrap(self._inline(nodes(node)), "**", "".join(parts)))
            elif name == "span":
                parts.append(self._inline(nodes(node)))
            elif name == "br":
                parts.append(_BR)
            elif name == "img":
                asset = self.image(node.get("src", ""), node.get("alt", ""))
                if asset is not None:
                    parts.append(f"![]({asset})")
            elif name is not None:
                self._unsupported(node)
        return "".join(parts)


def markdown(content: Iterator[Node] | list[Node], image: ImageResolver, *,
             skip: ET.Element | None = None) -> tuple[str, list[str]]:
    """The Markdown of XHTML block (or inline) content, and the problems found."""
    converter = Converter(image, skip)
    return converter.blocks(content), converter.problems
