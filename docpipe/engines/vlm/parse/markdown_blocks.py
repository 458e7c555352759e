"""Markdown as VLMs write it (headings, lists, $$ / \\[ formulas, HTML or pipe tables, code fences,
image links) to typed drafts. A small line-based grammar: VLM Markdown is shallow, and a full
CommonMark parser would not know about LaTeX or inline HTML tables anyway."""

from __future__ import annotations

import re

from docpipe.engines.vlm.parse.draft import Draft, ParseResult
from docpipe.engines.vlm.parse.fences import unwrap_reply_fence
from docpipe.engines.vlm.parse.headings import continues_numbering, looks_like_section_heading
from docpipe.engines.vlm.parse.html_tables import parse_html_tables, parse_markdown_table
from docpipe.engines.vlm.parse.sanitize import sanitize_result
from docpipe.model import BlockType

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)([-*+•●▪]|\(?\d{1,3}[.)]|\(?[a-z]\))\s+(.*)$")
_IMAGE = re.compile(r"^!\[([^\]]*)\]\(([^)]*)\)\s*$")
_FORMULA_OPEN = {"$$": "$$", "\\[": "\\]"}
_CENTER = re.compile(r"^<center>(.*)</center>$", re.I | re.S)
# what a figure/table caption starts with (DeepSeek-OCR centres captions: <center>Figure 1: ...</center>)
_CAPTION = re.compile(
    r"^(?:(?:supplementary|extended data)\s+)?(?:figure|fig\.?|table|tab\.|chart|scheme|algorithm|"
    r"listing|plate|exhibit|图|表)\s*[A-Z]?[\dIVX]",
    re.I,
)


def _formula_inline(line: str) -> str | None:
    """A whole line that is one display formula: $$...$$ or \\[...\\]."""
    s = line.strip()
    for o, c in _FORMULA_OPEN.items():
        if s.startswith(o) and s.endswith(c) and len(s) > len(o) + len(c):
            return s[len(o) : -len(c)].strip()
    return None


def split_glued_bullets(line: str) -> list[str]:
    """DeepSeek-OCR sometimes drops the newline between list items ('• a • b'); split on the bullet
    glyphs only, since a bare '-' inside a sentence is usually a hyphen or a minus."""
    if line.count("•") < 2:
        return [line]
    parts = [p.strip() for p in re.split(r"\s*•\s*", line) if p.strip()]
    return [f"• {p}" for p in parts]


def _neighbour(lines: list[str], i: int, step: int) -> str:
    j = i + step
    while 0 <= j < len(lines) and not lines[j].strip():
        j += step
    return lines[j].strip() if 0 <= j < len(lines) else ""


def _section_heading(lines: list[str], i: int) -> tuple[str, int] | None:
    """A numbered section title standing alone (blank lines around it, not one of a run of
    consecutively numbered items)."""
    if (i > 0 and lines[i - 1].strip()) or (i + 1 < len(lines) and lines[i + 1].strip()):
        return None
    s = lines[i].strip()
    found = looks_like_section_heading(s)
    if found is None:
        return None
    if continues_numbering(_neighbour(lines, i, -1), s) or continues_numbering(s, _neighbour(lines, i, 1)):
        return None
    return found


def _unwrap_center(lines: list[str], i: int) -> str | None:
    """The text inside a <center>...</center> that starts at line i (up to a few lines long), with
    those lines replaced by it; None if the element does not close there."""
    for j in range(i, min(i + 6, len(lines))):
        if j > i and not lines[j].strip():
            return None
        if "</center>" in lines[j].lower():
            m = _CENTER.match(" ".join(ln.strip() for ln in lines[i : j + 1]))
            if m is None:
                return None
            lines[i : j + 1] = [m.group(1).strip()]
            return lines[i]
    return None


def parse_markdown_page(text: str) -> ParseResult:
    """A whole Markdown reply: a fence around it unwrapped, unmarked section titles read as headings,
    every text block sanitized."""
    text, _ = unwrap_reply_fence(text.strip())
    return sanitize_result(ParseResult(drafts=parse_markdown(text.strip(), infer_headings=True)))


def parse_markdown(text: str, *, infer_headings: bool = False) -> list[Draft]:
    """Markdown to drafts, unsanitized (callers sanitize the page's result). `infer_headings`: read
    standalone numbered titles ('2.1 Related work') as headings; off where a layout label decides."""
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[Draft] = []
    para: list[str] = []
    i = 0

    def flush() -> None:
        if para:
            out.append(Draft(BlockType.paragraph, text=" ".join(s.strip() for s in para).strip()))
            para.clear()

    while i < len(lines):
        line = lines[i]
        s = line.strip()
        if not s:
            flush()
            i += 1
            continue
        if s.startswith("```"):
            flush()
            body = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                body.append(lines[i])
                i += 1
            out.append(Draft(BlockType.code, text="\n".join(body), label=s[3:].strip()))
            i += 1
            continue
        if s.lower().startswith("<center>"):
            inner = _unwrap_center(lines, i)
            if inner is not None:
                flush()
                if _CAPTION.match(inner):
                    out.append(Draft(BlockType.caption, text=inner))
                    i += 1
                elif not inner:
                    i += 1
                continue  # other centred text (a title, a formula ...) is read again without the tag
        if s.lower().startswith("<table"):
            flush()
            chunk = [line]
            while "</table>" not in " ".join(chunk).lower() and i + 1 < len(lines):
                i += 1
                chunk.append(lines[i])
            frag = "\n".join(chunk)
            for table in parse_html_tables(frag) or [None]:
                out.append(Draft(BlockType.table, table=table, text="" if table else frag))
            i += 1
            continue
        if s.startswith("|") and i + 1 < len(lines):
            j = i
            while j < len(lines) and lines[j].strip().startswith("|"):
                j += 1
            table = parse_markdown_table([ln for ln in lines[i:j]])
            if table is not None:
                flush()
                out.append(Draft(BlockType.table, table=table))
                i = j
                continue
        formula = _formula_inline(s)
        if formula is not None:
            flush()
            out.append(Draft(BlockType.formula, latex=formula, text=formula))
            i += 1
            continue
        if s in _FORMULA_OPEN:
            flush()
            close = _FORMULA_OPEN[s]
            body = []
            i += 1
            while i < len(lines) and lines[i].strip() != close:
                body.append(lines[i].strip())
                i += 1
            latex = " ".join(body).strip()
            out.append(Draft(BlockType.formula, latex=latex, text=latex))
            i += 1
            continue
        m = _HEADING.match(s)
        if m:
            flush()
            level = len(m.group(1))
            kind = BlockType.title if level == 1 else BlockType.heading
            out.append(Draft(kind, text=m.group(2), level=level))
            i += 1
            continue
        m = _IMAGE.match(s)
        if m:
            flush()
            out.append(Draft(BlockType.figure, text=m.group(1)))
            i += 1
            continue
        heading = _section_heading(lines, i) if infer_headings else None
        if heading is not None:
            flush()
            out.append(Draft(BlockType.heading, text=heading[0], level=heading[1]))
            i += 1
            continue
        pieces = split_glued_bullets(line)
        if _BULLET.match(pieces[0]):
            flush()
            for piece in pieces:
                b = _BULLET.match(piece)
                if b is None:  # a continuation line of the previous item
                    out[-1].text += " " + piece.strip()
                    continue
                indent = len(b.group(1).expandtabs(4))
                # bullets are dropped (the writer draws its own); numbers and letters are content
                text = b.group(3) if b.group(2) in "-*+•●▪" else f"{b.group(2)} {b.group(3)}"
                out.append(Draft(BlockType.list_item, text=text.strip(), level=min(6, 1 + indent // 2)))
            i += 1
            # lazy continuation lines: indented text under an item belongs to it
            while (
                i < len(lines)
                and lines[i].startswith(("  ", "\t"))
                and lines[i].strip()
                and not (_BULLET.match(lines[i]))
            ):
                out[-1].text += " " + lines[i].strip()
                i += 1
            continue
        para.append(line)
        i += 1
    flush()
    return out
