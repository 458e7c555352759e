"""Markdown as VLMs write it (headings, lists, $$ / \\[ formulas, HTML or pipe tables, code fences,
image links) to typed drafts. A small line-based grammar: VLM Markdown is shallow, and a full
CommonMark parser would not know about LaTeX or inline HTML tables anyway."""

from __future__ import annotations

import re

from docpipe.engines.vlm.parse.draft import Draft
from docpipe.engines.vlm.parse.html_tables import parse_html_tables, parse_markdown_table
from docpipe.model import BlockType

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)([-*+•●▪]|\(?\d{1,3}[.)]|\(?[a-z]\))\s+(.*)$")
_IMAGE = re.compile(r"^!\[([^\]]*)\]\(([^)]*)\)\s*$")
_FORMULA_OPEN = {"$$": "$$", "\\[": "\\]"}


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


def parse_markdown(text: str) -> list[Draft]:
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
