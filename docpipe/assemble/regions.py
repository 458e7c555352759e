"""Group positioned lines into paragraph-sized regions.

Works on geometry alone (so OCR lines group the same way as text-layer lines): a line continues the
region above it when it overlaps it horizontally, follows it closely, and has a similar size and
style. Engine block hints only add boundaries, never merge across them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from docpipe.model import BlockType, TableData
from docpipe.model.raw import Line, RawImage, Rect

# Bullet glyphs may touch their text; ASCII look-alikes ("*", "-") need a space ("*ALLOBJ" is a word).
# Symbol-font bullets often come out as private-use code points or U+FFFD.
BULLET = re.compile(
    r"^\s*(?:[\u2022\u25cf\u25cb\u25e6\u25aa\u25a0\u25a1\u27a2\u25ba\u2713\u2714\u2023\u2043\u00b7\u2219"
    r"\ue000-\uf8ff\ufffd]+\s*|[*\-\u2013\u2014]\s+)"
)
ENUMERATOR = re.compile(r"^\s*(\(?(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,5})[.)])\s+")


@dataclass
class Region:
    """A unit of reading order: a paragraph-like run of lines, a table or an image."""

    bbox: Rect
    lines: list[Line] = field(default_factory=list)
    table: TableData | None = None
    image: RawImage | None = None
    type: BlockType | None = None
    level: int | None = None
    text: str = ""
    caption: str = ""  # figures: the caption attached to them
    latex: str = ""  # formulas

    @property
    def kind(self) -> str:
        if self.table is not None:
            return "table"
        if self.image is not None:
            return "image"
        return "text"

    @property
    def size(self) -> float:
        sizes = [ln.size for ln in self.lines]
        counts = Counter(sizes)
        # ties go to the first in set(sizes)'s order, as they always have
        return max(set(sizes), key=counts.__getitem__) if sizes else 0.0


def union(a: Rect, b: Rect) -> Rect:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def merge_same_baseline(lines: list[Line]) -> list[Line]:
    """PyMuPDF splits a visual line where spans are far apart (a bullet and its text, a tab stop);
    put them back together when they share a block hint and a baseline."""
    out: list[Line] = []
    # stable sort: within one engine block, the engine's own line order is kept
    for ln in sorted(lines, key=lambda x: x.block_hint if x.block_hint is not None else -1):
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.block_hint == ln.block_hint
            and abs(prev.bbox[3] - ln.bbox[3]) < 0.4 * max(ln.size, 1)
            and min(prev.bbox[3], ln.bbox[3]) > max(prev.bbox[1], ln.bbox[1])  # rows that meet
            and (
                -1 <= ln.bbox[0] - prev.bbox[2] < 3 * max(ln.size, 1)  # left to right
                or -1 <= prev.bbox[0] - ln.bbox[2] < 3 * max(ln.size, 1)  # right-to-left scripts
            )
        ):
            if not prev.text.endswith(" ") and not ln.text.startswith(" "):
                ln.spans[0].text = " " + ln.spans[0].text
            prev.spans = prev.spans + ln.spans
            prev.bbox = union(prev.bbox, ln.bbox)
            continue
        out.append(ln)
    return _merge_across_blocks(out)


def _merge_across_blocks(lines: list[Line]) -> list[Line]:
    """Words of one visual line that the engine put in different blocks (drawn out of order: a
    title's words with its subtitle in between) are joined when they sit on one baseline in one
    font size at most a word gap apart; columns and table cells are further apart than that."""
    rows: dict[int, list[Line]] = {}
    for ln in lines:
        if ln.block_hint is not None and ln.spans:
            rows.setdefault(round(ln.bbox[3] / 2), []).append(ln)
    if all(len(r) < 2 for r in rows.values()):
        return lines
    merged: set[int] = set()
    for row in rows.values():
        if len(row) < 2:
            continue
        row.sort(key=lambda x: x.bbox[0])
        for prev, ln in zip(row, row[1:], strict=False):
            if id(prev) in merged or prev.block_hint == ln.block_hint:
                continue
            if prev.text.endswith("  ") or ln.text.startswith("  "):
                continue  # runs of spaces set columns apart (typewriter tables); boxes include them
            size = max(ln.size, prev.size, 1.0)
            if (
                abs(prev.size - ln.size) <= 0.05 * size
                and abs(prev.bbox[3] - ln.bbox[3]) < 0.15 * size
                and -0.1 * size <= ln.bbox[0] - prev.bbox[2] <= 0.5 * size
            ):
                if not prev.text.endswith(" ") and not ln.text.startswith(" "):
                    prev.spans[-1].text += " "
                # the right-hand line takes the left-hand one in (its row neighbour may go on)
                ln.spans = prev.spans + ln.spans
                ln.bbox = union(prev.bbox, ln.bbox)
                ln.block_hint = prev.block_hint
                merged.add(id(prev))
    return [ln for ln in lines if id(ln) not in merged]


def starts_list_item(text: str) -> bool:
    return bool(BULLET.match(text) or ENUMERATOR.match(text))


_SENTENCE_END = tuple(".!?:;\u3002\uff01\uff1f\uff1a\uff1b")
FULL_LINE_EM = 25.0  # a line this many em wide is running text, not a label or a heading
WIDE_GAP_EM = 1.6  # double-spaced text: the gap between the lines of one paragraph, in em


def _alone_on_row(line: Line, lines: list[Line]) -> bool:
    """No other line shares this line's row (a title stands alone; a table's header does not)."""
    y0, y1 = line.bbox[1], line.bbox[3]
    return not any(
        other is not line and min(y1, other.bbox[3]) - max(y0, other.bbox[1]) > 0.5 * (y1 - y0)
        for other in lines
    )


def _engine_split(prev: Line, cur: Line, region: Region, lines: list[Line]) -> bool:
    """Whether two lines the engine put in different blocks still read as one paragraph. PyMuPDF
    starts a block wherever the line gap is wide, so it cuts double-spaced text and multi-line
    titles into a block a line; geometry and style alone decide these:
    - double-spaced running text: the gap is wider than single spacing, the previous line is full
      (wide, and as far right as the column reaches), does not end a sentence, and the next
      starts no further in, in the same size and weight;
    - a centred title: bold lines of one size on one centre axis, a line's height apart."""
    prev_size, cur_size = prev.size, cur.size
    size = max(prev_size, cur_size, 1.0)
    if abs(prev_size - cur_size) > 0.05 * size or prev.bold != cur.bold or prev.mono or cur.mono:
        return False
    gap = cur.bbox[1] - prev.bbox[3]
    if prev.confidence is not None or not -0.2 * size <= gap <= WIDE_GAP_EM * size:
        return False
    ov = min(prev.bbox[2], cur.bbox[2]) - max(prev.bbox[0], cur.bbox[0])
    if ov < 0.5 * min(prev.bbox[2] - prev.bbox[0], cur.bbox[2] - cur.bbox[0]):
        return False
    text = prev.text.rstrip()
    right = max(region.bbox[2], cur.bbox[2])
    # the paragraph's first line may be indented; after that, lines start at the same margin
    outdent = (4.0 if len(region.lines) == 1 else 0.5) * size
    if (
        gap > 0.9 * size  # closer lines in two blocks: the engine saw a boundary (an address block)
        and prev.bbox[2] - prev.bbox[0] >= FULL_LINE_EM * size
        and prev.bbox[2] >= right - 0.5 * size
        and cur.bbox[0] <= prev.bbox[0] + 0.5 * size
        and cur.bbox[0] >= region.bbox[0] - outdent
        and not text.endswith(_SENTENCE_END)
        and "  " not in text.strip() + cur.text.strip()  # tab-stop columns: a table's rows
        and not starts_list_item(cur.text)
    ):
        return True
    centred = abs((prev.bbox[0] + prev.bbox[2]) - (cur.bbox[0] + cur.bbox[2])) / 2 <= 0.5 * size
    if not (prev.bold and centred and gap <= 0.9 * size and len(region.lines) < 3):
        return False
    return _alone_on_row(prev, lines) and _alone_on_row(cur, lines)


def _continues(prev: Line, cur: Line, region: Region, lines: list[Line]) -> bool:
    if prev.block_hint != cur.block_hint:
        return _engine_split(prev, cur, region, lines)
    prev_size, cur_size = prev.size, cur.size
    size = max(prev_size, cur_size, 1.0)
    # OCR sizes are estimated from box heights, which vary with ascenders and descenders
    tolerance = 0.22 * size if cur.confidence is not None else max(0.9, 0.12 * size)
    if abs(prev_size - cur_size) > tolerance:
        return False
    if prev.mono != cur.mono or (prev.bold != cur.bold and (prev.bold or len(region.lines) == 1)):
        return False
    gap = cur.bbox[1] - prev.bbox[3]
    if gap > 0.9 * size or gap < -0.6 * size:
        return False
    # horizontal overlap with the previous line (columns never merge)
    ov = min(prev.bbox[2], cur.bbox[2]) - max(prev.bbox[0], cur.bbox[0])
    if ov < 0.2 * min(prev.bbox[2] - prev.bbox[0], cur.bbox[2] - cur.bbox[0]):
        return False
    text = cur.text
    if starts_list_item(text) and not cur.mono:
        return False
    # A short previous line followed by an indented line: a new paragraph in an indent-only layout.
    right = region.bbox[2]
    return not (
        len(region.lines) > 1
        and prev.bbox[2] < right - 4 * size
        and cur.bbox[0] > region.bbox[0] + 1.0 * size
        and text[:1].isupper()
    )


def group_lines(lines: list[Line]) -> list[Region]:
    """Lines (any order) -> paragraph regions. Each line joins the open region it continues."""
    lines = merge_same_baseline(lines)
    lines.sort(key=lambda ln: (ln.bbox[1], ln.bbox[0]))
    regions: list[Region] = []
    open_regions: list[Region] = []
    for ln in lines:
        target = None
        for reg in reversed(open_regions):
            if _continues(reg.lines[-1], ln, reg, lines):
                target = reg
                break
        if target is None:
            target = Region(bbox=ln.bbox, lines=[ln])
            regions.append(target)
            open_regions.append(target)
        else:
            target.lines.append(ln)
            target.bbox = union(target.bbox, ln.bbox)
        # regions whose last line is far above the current one can no longer grow
        reach = 2 * max(ln.size, 1)
        open_regions = [r for r in open_regions if ln.bbox[1] - r.lines[-1].bbox[3] < reach]
    return regions


def merge_code_regions(regions: list[Region]) -> list[Region]:
    """Re-join a code listing that the engine split into blocks (at a blank line, a closing brace):
    monospace regions directly below one another in the same column are one listing."""
    out: list[Region] = []
    for reg in sorted(regions, key=lambda r: (r.bbox[1], r.bbox[0])):
        mono = bool(reg.lines) and all(ln.mono for ln in reg.lines)
        host = None
        if mono:
            for prev in reversed(out):
                if not (prev.lines and all(ln.mono for ln in prev.lines)):
                    continue
                gap = reg.bbox[1] - prev.bbox[3]
                overlap = min(prev.bbox[2], reg.bbox[2]) - max(prev.bbox[0], reg.bbox[0])
                if -1 <= gap <= 2.5 * max(reg.size, 1.0) and overlap > 0:
                    host = prev
                    break
        if host is None:
            out.append(reg)
        else:
            host.lines = host.lines + reg.lines
            host.bbox = union(host.bbox, reg.bbox)
    return out


def attach_drop_caps(regions: list[Region]) -> list[Region]:
    """A drop cap (one big letter beside the first lines of a paragraph) is that paragraph's first
    letter: "T" + "his release ..." reads "This release ...", not a one-letter title."""
    out: list[Region] = []
    for reg in regions:
        text = reg.text.strip()
        host = None
        if len(reg.lines) == 1 and len(text) == 1 and text.isalpha():
            for other in regions:
                if other is reg or not other.lines or other.size * 2 > reg.size:
                    continue
                first = other.lines[0].bbox  # lines below the cap may wrap under it
                beside = -1 <= first[0] - reg.bbox[2] <= other.size * 1.5
                top_aligned = reg.bbox[1] - other.size <= first[1] <= reg.bbox[3]
                if beside and top_aligned and other.text[:1].islower():
                    host = other
                    break
        if host is None:
            out.append(reg)
        else:
            host.text = text + host.text
            host.lines = reg.lines + host.lines
            host.bbox = union(host.bbox, reg.bbox)
    return out
