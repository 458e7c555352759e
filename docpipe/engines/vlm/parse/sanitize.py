"""Model HTML is untrusted: an allow-list sanitizer built on lxml.

Text blocks keep Markdown plus bare inline formatting (<sup>, <b>, <br> ...); every other tag is
unwrapped (its text kept) or, for tags that run or load things (<script>, <style>, <iframe> ...),
dropped with its content. Attributes go, except table spans and safe link/image URLs, so no event
handler and no javascript:/vbscript:/non-image data: URL survives. Markdown links with such URLs
are reduced to their label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree, html

from docpipe.engines.vlm.parse.draft import Draft, ParseResult
from docpipe.model import BlockType, TableData
from docpipe.util.safe_markup import (
    BARE_INLINE_TAGS,
    TAG_LIKE,
    escape_tag_like,
    neutralise_markdown_links,
    safe_url,
)

#: elements that execute, load, style or embed: removed together with everything inside them
DROP_WITH_CONTENT = frozenset(
    {
        "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "noscript",
        "noembed", "noframes", "template", "svg", "math", "link", "meta", "base", "title", "head",
        "form", "input", "button", "textarea", "select", "option", "audio", "video", "canvas",
        "source", "track", "param", "xmp", "plaintext", "portal",
    }
)  # fmt: skip
INLINE_TAGS = frozenset({*BARE_INLINE_TAGS, "br"})
TABLE_TAGS = frozenset({"table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption", "colgroup", "col"})
BLOCK_TAGS = frozenset(
    {"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "center"}
)
#: per tag, the attributes sanitize_html keeps (URL attributes are checked as well)
ALLOWED_ATTRS: dict[str, frozenset[str]] = {
    "td": frozenset({"rowspan", "colspan"}),
    "th": frozenset({"rowspan", "colspan"}),
    "col": frozenset({"span"}),
    "colgroup": frozenset({"span"}),
    "a": frozenset({"href", "title"}),
    "img": frozenset({"src", "alt", "width", "height"}),
}
_VOID = frozenset({"br", "img", "col"})
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# a complete tag or comment; any other tag-like '<' is text (an HTML parser would otherwise read
# 'x<y holds' as an element <y> and swallow the rest of the sentence)
_COMPLETE_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>", re.S)
_BLOCK_SPACING = re.compile(r"[ \t]{2,}")


def _protect_stray_angles(text: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _COMPLETE_TAG.finditer(text):
        out.append(TAG_LIKE.sub("&lt;", text[pos : m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(TAG_LIKE.sub("&lt;", text[pos:]))
    return "".join(out)


def _fragment(text: str) -> etree._Element | None:
    text = _protect_stray_angles(_XML_INVALID.sub("", text))
    try:
        return html.fragment_fromstring(text, create_parent="div")
    except (etree.ParserError, ValueError):
        return None


def _tag(el: etree._Element) -> str | None:
    return el.tag.lower() if isinstance(el.tag, str) else None  # None: comment or processing instruction


class _Removed:
    """What a sanitizer pass took out that could have been hostile (for the page's problems)."""

    def __init__(self) -> None:
        self.items: set[str] = set()

    def add(self, what: str) -> None:
        self.items.add(what)


def _note_attrs(el: etree._Element, removed: _Removed | None) -> None:
    if removed is None:
        return
    for name, value in el.attrib.items():
        if name.lower().startswith("on"):
            removed.add(f"{name.lower()} handler")
        elif name.lower() in ("href", "src", "action", "formaction", "xlink:href") and not safe_url(
            value, image=name.lower() == "src"
        ):
            removed.add(f"unsafe {name.lower()}")


def _text_out(text: str | None) -> str:
    # text nodes come back decoded ('&lt;script&gt;' is '<script>' here): keep them from turning
    # into markup again
    return escape_tag_like(text or "", keep_bare_inline=False)


def _inline(el: etree._Element, removed: _Removed | None) -> str:
    parts = [_text_out(el.text)]
    for child in el:
        parts.append(_inline_child(child, removed))
        parts.append(_text_out(child.tail))
    return "".join(parts)


def _inline_child(el: etree._Element, removed: _Removed | None) -> str:
    tag = _tag(el)
    if tag is None:
        return ""
    _note_attrs(el, removed)
    if tag in DROP_WITH_CONTENT:
        if removed is not None:
            removed.add(f"<{tag}>")
        return ""
    if tag == "br":
        return "<br>"
    inner = _inline(el, removed)
    if tag in INLINE_TAGS:
        return f"<{tag}>{inner}</{tag}>" if inner else ""
    if tag == "a":
        href = el.get("href")
        if href and safe_url(href) and inner.strip():
            return f"[{inner}]({href.strip()})"
        return inner
    if tag == "img":
        # a model has no real image URLs to give: a src can only be a guess or a tracking pixel
        return _text_out(el.get("alt"))
    # an unknown or layout tag (<center>, <font>, <p>, ...): its text stays, the tag goes
    return f" {inner} " if tag in BLOCK_TAGS or tag in TABLE_TAGS else inner


def sanitize_inline(text: str, removed: _Removed | None = None) -> str:
    """A text block's Markdown with only bare inline formatting tags left; unsafe links reduced."""
    if TAG_LIKE.search(text):
        root = _fragment(text)
        if root is None:  # lxml refused it: keep none of its markup
            text = escape_tag_like(text, keep_bare_inline=False)
        else:
            text = _inline(root, removed)
            if "  " in text:
                text = "\n".join(_BLOCK_SPACING.sub(" ", ln) for ln in text.split("\n"))
    cleaned = neutralise_markdown_links(text)
    if removed is not None and cleaned != text:
        removed.add("unsafe link")
    return cleaned.strip()


def sanitize_html(fragment: str, removed: _Removed | None = None) -> str:
    """An HTML fragment reduced to the allow-list (tables, inline formatting, block layout, links and
    images with safe URLs), re-serialized by us: only allowed tags and attributes are ever written."""
    root = _fragment(fragment)
    if root is None:
        return escape_tag_like(fragment, keep_bare_inline=False)
    return _html(root, removed).strip()


def _html(el: etree._Element, removed: _Removed | None) -> str:
    parts = [_html_text(el.text)]
    for child in el:
        tag = _tag(child)
        if tag is not None:
            _note_attrs(child, removed)
            if tag in DROP_WITH_CONTENT:
                if removed is not None:
                    removed.add(f"<{tag}>")
            elif tag in INLINE_TAGS or tag in TABLE_TAGS or tag in BLOCK_TAGS or tag in ALLOWED_ATTRS:
                attrs = "".join(f' {k}="{_html_attr(v)}"' for k, v in _kept_attrs(tag, child))
                if tag in _VOID:
                    parts.append(f"<{tag}{attrs}>")
                else:
                    parts.append(f"<{tag}{attrs}>{_html(child, removed)}</{tag}>")
            else:
                parts.append(_html(child, removed))
        parts.append(_html_text(child.tail))
    return "".join(parts)


def _kept_attrs(tag: str, el: etree._Element) -> Iterable[tuple[str, str]]:
    allowed = ALLOWED_ATTRS.get(tag, frozenset())
    for name, value in el.attrib.items():
        name = name.lower()
        if name not in allowed:
            continue
        if name in ("href", "src") and not safe_url(value, image=name == "src"):
            continue
        if name in ("rowspan", "colspan", "span", "width", "height") and not value.strip().isdigit():
            continue
        yield name, value


def _html_text(text: str | None) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _html_attr(value: str) -> str:
    return _html_text(value).replace('"', "&quot;")


def plain_text(el: etree._Element) -> str:
    """An element's text without the content of dropped elements (script, style ...) or comments."""
    parts: list[str] = []

    def walk(node: etree._Element) -> None:
        parts.append(node.text or "")
        for child in node:
            tag = _tag(child)
            if tag is not None and tag not in DROP_WITH_CONTENT:
                walk(child)
            parts.append(child.tail or "")

    walk(el)
    return "".join(parts)


def sanitize_plain(text: str) -> str:
    """Plain text (a table cell) with anything that would be live markup taken out: the text of
    allowed and unknown tags stays, dropped elements go with their content, unsafe links are reduced
    to their label. The result is still plain text: writers escape it for their format."""
    if TAG_LIKE.search(text):
        root = _fragment(text)
        text = plain_text(root) if root is not None else TAG_LIKE.sub("", text)
    return neutralise_markdown_links(text)


def _clean_table(table: TableData) -> TableData:
    # cell text comes decoded from lxml, so '&lt;script&gt;' in the model's HTML is '<script>' here:
    # it is cleaned like markup, since a consumer of the JSON may well render cells as HTML
    cells = [
        c.model_copy(update={"text": sanitize_plain(c.text)}) if "<" in c.text or "](" in c.text else c
        for c in table.cells
    ]
    return table.model_copy(update={"cells": cells})


def sanitize_draft(d: Draft, removed: _Removed | None = None) -> None:
    if d.type == BlockType.code:
        return  # literal text: the writer fences it, nothing in it is rendered
    if d.type == BlockType.formula:
        return  # LaTeX: the writer neutralises tag-like '<' inside it
    if d.table is not None:
        d.table = _clean_table(d.table)
    if d.type == BlockType.table and d.table is None and d.text:
        d.text = sanitize_html(d.text, removed)  # an unparsable table stays HTML, reduced
        return
    if d.text:
        d.text = sanitize_inline(d.text, removed)


def sanitize_result(result: ParseResult) -> ParseResult:
    """Sanitize every draft in place; what was removed as potentially hostile becomes a problem."""
    removed = _Removed()
    for d in result.drafts:
        sanitize_draft(d, removed)
    if removed.items:
        result.problems.append("removed unsafe markup: " + ", ".join(sorted(removed.items)))
    return result
