"""Text checks shared by the VLM parsers and the Markdown writer: which URLs may become links, and
how text that merely looks like markup is kept from becoming live HTML in a Markdown file.

Pure string functions (no lxml), so the writers can use them without importing an engine."""

from __future__ import annotations

import html
import re

#: schemes a link may use; anything else with a scheme (javascript:, vbscript:, file:, ...) is refused
SAFE_SCHEMES = frozenset({"http", "https", "mailto", "ftp"})
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# browsers drop ASCII whitespace and controls inside a scheme ("java\tscript:"), so the check does too
_IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f]+")
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpe?g|gif|webp|bmp)[;,]", re.I)  # no svg: it can script

#: inline formatting tags, bare (no attributes), that the Markdown writer lets through as HTML
BARE_INLINE_TAGS = ("b", "strong", "i", "em", "u", "s", "del", "ins", "mark", "small", "sub", "sup", "span")
_BARE_TAG = re.compile(r"</?(?:" + "|".join(BARE_INLINE_TAGS) + r")>|<br\s*/?>", re.I)
#: a '<' that an HTML parser (or a Markdown renderer's raw-HTML rule) could take as markup
TAG_LIKE = re.compile(r"<(?=[A-Za-z/!?])")


def safe_url(url: str, *, image: bool = False) -> bool:
    """Relative URLs and http(s)/mailto/ftp; `data:` only for raster images where `image` is set."""
    u = _IGNORED_IN_URL.sub("", html.unescape(url))  # CommonMark decodes entities in destinations
    m = _SCHEME.match(u)
    if m is None:
        return True
    scheme = m.group(1).lower()
    if scheme in SAFE_SCHEMES:
        return True
    return image and scheme == "data" and bool(_DATA_IMAGE.match(u))


def _destination_end(text: str, start: int) -> int:
    """Index of the ')' closing a link destination that starts at `start` (balanced parentheses,
    as CommonMark allows), or -1."""
    depth = 0
    k = start
    while k < min(len(text), start + 4000):
        ch = text[k]
        if ch == "\\":
            k += 2  # an escaped character never opens or closes
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                return k
            depth -= 1
        elif ch == "\n" and text[k - 1 : k] == "\n":
            return -1  # a blank line ends any inline construct
        k += 1
    return -1


_LINK_START = re.compile(r"(!?)\[([^\[\]\n]*)\]\(")
_REF_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.M)


def neutralise_markdown_links(text: str) -> str:
    """Markdown links and images whose URL is not safe are replaced by their label (alt text);
    reference definitions with such URLs are removed."""
    if "](" not in text and "]:" not in text:
        return text
    out: list[str] = []
    pos = 0
    for m in _LINK_START.finditer(text):
        if m.start() < pos:
            continue
        end = _destination_end(text, m.end())
        if end < 0:
            continue
        dest = text[m.end() : end].strip()
        url = dest[1 : dest.find(">")] if dest.startswith("<") and ">" in dest else dest.split(" ")[0]
        if safe_url(url, image=bool(m.group(1))):
            continue
        out.append(text[pos : m.start()])
        out.append(m.group(2))
        pos = end + 1
    out.append(text[pos:])
    text = "".join(out)
    return _REF_DEFINITION.sub(lambda d: d.group(0) if safe_url(d.group(1)) else "", text)


def escape_tag_like(text: str, *, keep_bare_inline: bool = True) -> str:
    """Escape each '<' that could open HTML (followed by a letter, '/', '!' or '?') as '&lt;', so text
    never becomes live markup; 'p < 0.05' is left alone. Bare inline formatting tags (<sup>, <b>, <br>
    ...; no attributes, so no handlers) are kept where `keep_bare_inline`."""
    if "<" not in text:
        return text

    def sub(m: re.Match[str]) -> str:
        if keep_bare_inline and _BARE_TAG.match(text, m.start()):
            return "<"
        return "&lt;"

    return TAG_LIKE.sub(sub, text)
