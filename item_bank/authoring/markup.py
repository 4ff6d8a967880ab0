"""The safe markup of stems, options and vignettes: a small Markdown subset.

Supported: paragraphs, line breaks, *emphasis*, **strong**, bullet and numbered lists,
pipe tables, and images from the item's own assets (``![](genogram.png)``). Everything else
(raw HTML, links, headings, code, quotes, rules) is not interpreted: :func:`render` escapes
it and shows it as typed, and :func:`check` reports it so that the validator refuses it.

Rendering uses markdown-it-py (CommonMark) with HTML off and every rule outside the subset
disabled; the result then goes through nh3 (the Ammonia sanitizer) with an allow-list of the
few tags the subset produces. markdown-it already escapes everything; nh3 is the second lock,
so that a future rule, plugin or renderer change cannot let markup through to a candidate.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

# Rules of the CommonMark preset that fall outside the subset.
_OFF_BLOCK = ["code", "fence", "blockquote", "hr", "reference", "html_block", "heading",
              "lheading"]
_OFF_INLINE = ["backticks", "link", "autolink", "html_inline"]

_TAGS = {"p", "br", "em", "strong", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th",
         "td", "img"}
_ALIGN_CLASSES = {"align-left", "align-center", "align-right"}
_UNSAFE_SCHEMES = ("javascript", "vbscript", "data", "file")
_UNSUPPORTED = {
    "heading_open": "heading", "code_block": "indented code block (4 spaces)",
    "fence": "fenced code block", "code_inline": "inline code (backticks)",
    "blockquote_open": "block quote ('>')", "hr": "horizontal rule",
}


@dataclass(frozen=True)
class ImageSource:
    """Where the browser fetches an asset, and its alt text (from the item's assets)."""

    url: str
    alt: str


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    md.disable(_OFF_BLOCK + _OFF_INLINE)
    md.add_render_rule("image", _render_image)
    return md


def _render_image(self: Any, tokens: list[Token], idx: int, options: Any,
                  env: dict[str, Any]) -> str:
    token = tokens[idx]
    source = env["images"].get(token.attrGet("src") or "")
    if source is None:  # not an asset of this item: never fetch it, show nothing
        return ""
    env["urls"].add(source.url)
    return f'<img src="{escapeHtml(source.url)}" alt="{escapeHtml(source.alt)}">'


_RENDER = _renderer()


def _align_as_class(tokens: list[Token]) -> None:
    # markdown-it aligns table cells with inline styles, which the exam pages' CSP blocks.
    for token in tokens:
        if token.type in ("th_open", "td_open"):
            style = str(token.attrs.pop("style", ""))
            match = re.fullmatch(r"text-align:(left|center|right)", style)
            if match:
                token.attrs["class"] = f"align-{match.group(1)}"


def render(text: str, images: Mapping[str, ImageSource] | None = None, *,
           inline: bool = False) -> str:
    """Safe HTML for a stem, option or vignette, for candidates and staff alike.

    ``images`` maps an asset's file name (as written in ``![](name.png)``) to its URL and alt
    text; an image that is not in it is left out. ``inline`` drops the ``<p>`` around a text
    of one paragraph (an option inside a ``<label>``).

    >>> render("Which is **best**? <script>x</script>")
    '<p>Which is <strong>best</strong>? &lt;script&gt;x&lt;/script&gt;</p>'
    """
    env: dict[str, Any] = {"images": dict(images or {}), "urls": set()}
    tokens = _RENDER.parse(str(text), env)
    _align_as_class(tokens)
    if (inline and len(tokens) == 3 and tokens[0].type == "paragraph_open"
            and tokens[2].type == "paragraph_close"):
        tokens = [tokens[1]]
    html = _RENDER.renderer.render(tokens, _RENDER.options, env).strip()
    urls: set[str] = env["urls"]

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src":
            return value if value in urls else None
        return value

    return nh3.clean(
        html, tags=_TAGS, attributes={"img": {"src", "alt"}, "ol": {"start"}},
        allowed_classes={"th": _ALIGN_CLASSES, "td": _ALIGN_CLASSES},
        url_schemes={"http", "https"}, link_rel=None, strip_comments=True,
        attribute_filter=keep,
    )


# --- checking ------------------------------------------------------------------------------


def _inspector() -> MarkdownIt:
    """Every CommonMark rule on, HTML and any link accepted: so the check sees them all."""
    md = MarkdownIt("commonmark", {"html": True, "linkify": False})
    md.enable("table")
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


_INSPECT = _inspector()


def _scheme(url: str) -> str | None:
    plain = re.sub(r"[\x00-\x20]", "", unquote(url)).lower()
    for scheme in _UNSAFE_SCHEMES:
        if plain.startswith(scheme + ":"):
            return scheme
    return None


def _walk(tokens: list[Token], line: int | None = None) -> Iterator[tuple[Token, int | None]]:
    """Every token with the line (0-based, in the text) it starts on."""
    for token in tokens:
        here = token.map[0] if token.map else line
        yield token, here
        if token.children:
            # Inline tokens have no map: count the line breaks before them.
            yield from _walk_inline(token.children, here)


def _walk_inline(tokens: list[Token], line: int | None) -> Iterator[tuple[Token, int | None]]:
    for token in tokens:
        yield token, line
        if line is not None:
            line += token.type in ("softbreak", "hardbreak")
            line += token.content.count("\n") if token.type == "html_inline" else 0


def images_in(text: str) -> list[str]:
    """The image sources written in ``text`` (``![](a.png)`` gives ``a.png``)."""
    return [str(token.attrGet("src") or "") for token, _ in _walk(_INSPECT.parse(str(text)))
            if token.type == "image"]


def check(text: str, assets: Collection[str]) -> list[tuple[int | None, str]]:
    """Every markup problem of ``text`` as (line offset in the text or None, message).

    ``assets`` are the image file names this text may show.
    """
    env: dict[str, Any] = {}
    problems: list[tuple[int | None, str]] = []
    for token, line in _walk(_INSPECT.parse(str(text), env)):
        if token.type in ("html_block", "html_inline"):
            snippet = " ".join(token.content.split())[:40]
            problems.append((line, f"unsafe markup: raw HTML {snippet!r} is not allowed"))
        elif token.type == "link_open":
            href = str(token.attrGet("href") or "")
            scheme = _scheme(href)
            problems.append((line, f"unsafe markup: {scheme}: URL in a link" if scheme else
                             "unsupported markup: links are not allowed in exam content"))
        elif token.type == "image":
            src = str(token.attrGet("src") or "")
            scheme = _scheme(src)
            if scheme:
                problems.append((line, f"unsafe markup: {scheme}: URL in an image"))
            elif src not in assets:
                problems.append((line, f"unsafe markup: image {src!r} is not one of this "
                                       "item's assets"))
            elif token.content.strip():
                problems.append((line, f"image {src!r}: leave the brackets empty "
                                       f"(![]({src})); its alt text comes from assets"))
        elif token.type in _UNSUPPORTED:
            problems.append((line, f"unsupported markup: {_UNSUPPORTED[token.type]} "
                                   "(it would show as typed)"))
    if env.get("references"):
        problems.append((None, "unsupported markup: link reference definition"))
    return problems
