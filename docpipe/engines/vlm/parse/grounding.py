"""DeepSeek-OCR grounded output: `<|ref|>LABEL<|/ref|><|det|>[[x1, y1, x2, y2], ...]<|/det|>` followed by
the region's content (Markdown, HTML tables, LaTeX). Boxes are 0..999 of the input image.

The grammar is applied with a tokenizer over the tags, not with eval or a JSON load of the boxes:
a malformed tag or box is recorded as a problem and its content kept as unplaced text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from docpipe.engines.vlm.parse.draft import Draft, ParseResult, scale_box
from docpipe.engines.vlm.parse.headings import heading_level, section_number
from docpipe.engines.vlm.parse.markdown_blocks import parse_markdown
from docpipe.engines.vlm.parse.sanitize import sanitize_result
from docpipe.model import BlockType
from docpipe.model.raw import enclosing

GRID = 999.0  # DeepSeek-OCR normalises boxes to 0..999

# label and box may not contain tag characters, so a tag missing its partner cannot swallow the next one
_TAG = re.compile(r"<\|ref\|>(?P<label>[^<>|]{0,80})<\|/ref\|>\s*<\|det\|>(?P<det>[^<>|]{0,4000})<\|/det\|>")
_ANY_TAG = re.compile(r"<\|/?(?:ref|det|grounding)\|>")
_NUM = r"\s*(-?\d+(?:\.\d+)?)\s*"
_BOX = re.compile(r"\[" + ",".join([_NUM] * 4) + r"\]")
_DET_SHAPE = re.compile(r"^\s*\[\s*(\[[^\[\]]*\]\s*,?\s*)+\]\s*$")

#: DeepSeek-OCR's layout labels (and near spellings) to block types
LABELS: dict[str, BlockType] = {
    "text": BlockType.paragraph,
    "paragraph": BlockType.paragraph,
    "title": BlockType.title,
    "doc_title": BlockType.title,
    "sub_title": BlockType.heading,
    "subtitle": BlockType.heading,
    "section_header": BlockType.heading,
    "heading": BlockType.heading,
    "table": BlockType.table,
    "image": BlockType.figure,
    "figure": BlockType.figure,
    "picture": BlockType.figure,
    "chart": BlockType.chart,
    "image_caption": BlockType.caption,
    "table_caption": BlockType.caption,
    "figure_caption": BlockType.caption,
    "caption": BlockType.caption,
    "table_footnote": BlockType.footnote,
    "footnote": BlockType.footnote,
    "equation": BlockType.formula,
    "formula": BlockType.formula,
    "isolate_formula": BlockType.formula,
    "interline_equation": BlockType.formula,
    "list": BlockType.list_item,
    "list_item": BlockType.list_item,
    "code": BlockType.code,
    "header": BlockType.page_header,
    "page_header": BlockType.page_header,
    "footer": BlockType.page_footer,
    "page_footer": BlockType.page_footer,
    "page_number": BlockType.page_number,
}
#: labels whose type beats whatever the content looks like
_STRONG = {
    BlockType.table,
    BlockType.figure,
    BlockType.chart,
    BlockType.caption,
    BlockType.footnote,
    BlockType.formula,
    BlockType.page_header,
    BlockType.page_footer,
    BlockType.page_number,
    BlockType.code,
}

EOS_MARKERS = ("<｜end▁of▁sentence｜>", "<|end▁of▁sentence|>", "</s>")


@dataclass
class Segment:
    label: str
    boxes: list[tuple[float, float, float, float]]
    content: str


def strip_eos(text: str) -> tuple[str, bool]:
    """Remove the end-of-sequence marker (present when special tokens are kept); report if it was there."""
    for marker in EOS_MARKERS:
        idx = text.find(marker)
        if idx >= 0:
            return text[:idx], True
    return text, False


def split_segments(text: str, problems: list[str]) -> tuple[str, list[Segment]]:
    """Text before the first tag, and one segment per tag with its content."""
    matches = list(_TAG.finditer(text))
    lead = text[: matches[0].start()] if matches else text
    segments: list[Segment] = []
    for k, m in enumerate(matches):
        end = matches[k + 1].start() if k + 1 < len(matches) else len(text)
        content = text[m.end() : end]
        det = m.group("det")
        boxes = [tuple(float(v) for v in b.groups()) for b in _BOX.finditer(det)]
        if not boxes or not _DET_SHAPE.match(det):
            problems.append(f"malformed box {det[:60]!r} for {m.group('label')[:30]!r}")
            boxes = [b for b in boxes if all(0 <= v <= GRID + 1 for v in b)]
        bad = [b for b in boxes if not all(0 <= v <= GRID + 1 for v in b)]
        if bad:
            problems.append(f"box outside 0..999 {bad[0]} for {m.group('label')[:30]!r}")
            boxes = [b for b in boxes if b not in bad]
        segments.append(Segment(m.group("label").strip(), boxes, content))  # type: ignore[arg-type]
    # a tag cut by the token limit or written wrong: keep the text, drop the tag debris
    stray = _ANY_TAG.findall(lead) + [t for s in segments for t in _ANY_TAG.findall(s.content)]
    if stray:
        problems.append(f"{len(stray)} unpaired grounding tag(s)")
        lead = _ANY_TAG.sub("", lead)
        for s in segments:
            s.content = _ANY_TAG.sub("", s.content)
    return lead, segments


def parse_grounded(text: str, page_w: float, page_h: float) -> ParseResult:
    text, _ = strip_eos(text)
    result = ParseResult()
    lead, segments = split_segments(text, result.problems)
    sx, sy = page_w / GRID, page_h / GRID
    if lead.strip():
        result.drafts.extend(parse_markdown(lead.strip()))
    for seg in segments:
        kind = LABELS.get(seg.label.lower())
        if kind is None:
            kind = BlockType.paragraph
        bbox = scale_box(enclosing(seg.boxes), sx, sy, page_w, page_h) if seg.boxes else None
        drafts = parse_markdown(seg.content.strip())
        if kind in (BlockType.figure, BlockType.chart):
            # images have no content of their own; text after the tag (if any) is kept as well
            result.drafts.append(Draft(kind, bbox=bbox, label=seg.label))
            for d in drafts:
                d.bbox = bbox
            result.drafts.extend(drafts)
            continue
        if not drafts:
            if kind == BlockType.table:
                result.problems.append("empty table region")
            continue
        for d in drafts:
            d.bbox = bbox
            d.label = seg.label
            if kind in _STRONG and d.type != kind:
                _retype(d, kind)
            elif kind in (BlockType.title, BlockType.heading) and d.type not in (
                BlockType.title,
                BlockType.heading,
            ):
                _to_heading(d, kind)
            elif kind == BlockType.list_item and d.type == BlockType.paragraph:
                d.type, d.level = BlockType.list_item, 1
        result.drafts.extend(drafts)
        if kind == BlockType.table and not any(d.table for d in drafts):
            result.problems.append("table region without a parsable table")
    return sanitize_result(result)


def _to_heading(d: Draft, kind: BlockType) -> None:
    """The layout label wins over the text's look: '3. Method' under sub_title is a heading, not a
    list item; its section number gives the level."""
    if d.type in (BlockType.formula, BlockType.table, BlockType.code) or not d.text.strip():
        return  # content that cannot be a heading's text
    d.type = kind
    if kind == BlockType.title:
        d.level = 1
    else:
        found = section_number(d.text)
        d.level = heading_level(found[0]) if found else 2


def _retype(d: Draft, kind: BlockType) -> None:
    """A labelled region whose content parsed as something else (e.g. an equation written bare)."""
    if kind == BlockType.formula:
        d.latex = d.latex or d.text.strip().strip("$").strip()
        d.text = d.latex
    elif kind == BlockType.table and d.table is None:
        pass  # keep the text; the problem is reported by the caller
    d.type = kind
    d.level = None
