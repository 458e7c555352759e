"""Section headings written without '#': DeepSeek-OCR emits '2.1 Related work' or '3. Method' on a
line of their own (under a sub_title label, or in plain Markdown). Told apart from numbered lists by
shape: a heading is short, capitalised, has no sentence punctuation and stands alone; list items
come in runs of consecutive numbers and read like sentences."""

from __future__ import annotations

import re

_ROMAN = r"(?:X{0,3})(?:IX|IV|V?I{0,3})"
_SECTION = re.compile(
    r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,4}\.?|(?=[IVX])" + _ROMAN + r"\.)\s+(?P<title>\S.*?)\s*$"
)
_SENTENCE_END = re.compile(r"[.,;:!?]$")
MAX_WORDS = 12


def section_number(line: str) -> tuple[str, str] | None:
    """(number, title) when the line starts with a section number, else None."""
    m = _SECTION.match(line.strip())
    return (m.group("num"), m.group("title")) if m else None


def heading_level(number: str) -> int:
    """'3' or '3.' -> 2, '2.1' -> 3, ... (level 1 is the document title); Roman numerals -> 2."""
    if not number[:1].isdigit():
        return 2
    return min(6, 1 + len(number.rstrip(".").split(".")))


def looks_like_section_heading(line: str) -> tuple[str, int] | None:
    """(heading text, level) if `line` is a section number + capitalised title, not a sentence."""
    found = section_number(line)
    if found is None:
        return None
    number, title = found
    if not title[0].isupper() or len(title.split()) > MAX_WORDS or len(title) > 100:
        return None
    if _SENTENCE_END.search(title) or ". " in title or "$" in title:
        return None
    return f"{number} {title}", heading_level(number)


def _last(number: str) -> tuple[int, int] | None:
    """(depth, last component) of an Arabic section/list number."""
    parts = number.rstrip(".)").lstrip("(").split(".")
    if not all(p.isdigit() for p in parts):
        return None
    return len(parts), int(parts[-1])


def continues_numbering(a: str, b: str) -> bool:
    """Are lines `a` and `b` neighbouring items of one numbered sequence (same depth, n and n+1)?"""
    na, nb = section_number(a), section_number(b)
    if na is None or nb is None:
        return False
    la, lb = _last(na[0]), _last(nb[0])
    return la is not None and lb is not None and la[0] == lb[0] and lb[1] - la[1] == 1
