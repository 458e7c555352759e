"""Raw engine pages -> typed blocks in reading order.

Per page: lines inside ruled tables are dropped (the table carries them), tables without rules are
taken out, lines are grouped into regions, region text is joined and de-hyphenated with the
document's vocabulary, formulas and figures are formed. Then, across the pages seen so far, running
headers/footers are found, regions are typed and heading levels ranked, and finally each page is put
in reading order and turned into `Block`s. `Assembler` does this a window of pages at a time.
"""

from __future__ import annotations

import re
from collections import Counter

from docpipe.assemble.classify import assign_heading_levels, body_size, classify_page, size_weights
from docpipe.assemble.figures import absorb_figure_labels, cluster_images, place_figures
from docpipe.assemble.formulas import mark_formulas
from docpipe.assemble.furniture import mark_furniture, mark_recurring_in_place
from docpipe.assemble.reading_order import xy_cut
from docpipe.assemble.regions import (
    BULLET,
    Region,
    attach_drop_caps,
    group_lines,
    merge_code_regions,
    union,
)
from docpipe.assemble.stream_tables import find_stream_tables
from docpipe.assemble.text import join_lines, normalize_chars, vocabulary
from docpipe.model import FURNITURE, Block, BlockType, FigureData, PageResult, PageStatus
from docpipe.model.raw import Line, RawPage, overlap_ratio
from docpipe.science.math_latex import inline_math

_RTL = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_ALNUM = re.compile(r"[^\W_]")
# Safety net against silent loss: a page whose blocks (furniture and figure labels included: they
# are in the JSON) hold less than this share of the letters and digits its text layer held is
# `partial`, never `ok`. Small pages are left alone: a few stray glyphs are not a loss worth a flag.
LOSS_RATIO = 0.5
LOSS_MIN_CHARS = 100
BACKGROUND_SHARE = 0.8  # of the page area: an image this big is the page (a scan), not a figure on it


def output_chars(blocks: list[Block]) -> int:
    """Letters and digits a page's blocks carry: text, table cells, formula sources."""
    n = 0
    for b in blocks:
        n += len(_ALNUM.findall(b.text or (b.latex or "")))
        if b.table is not None:
            n += sum(len(_ALNUM.findall(c.text)) for c in b.table.cells)
    return n


def _normalize_lines(raw: RawPage) -> None:
    for ln in raw.lines:
        for span in ln.spans:
            span.text = normalize_chars(span.text)
        ln.spans_edited()


def _vertical_regions(lines: list[Line], vocab: set[str]) -> list[Region]:
    """Text running up or down a page that reads left to right (sideways labels, margin stamps, a
    rotated caption): the engine's blocks become regions of their own, lines in the engine's order,
    so the text stays in the output and in reading order by its position."""
    groups: dict[object, list[Line]] = {}
    for n, ln in enumerate(lines):
        groups.setdefault(ln.block_hint if ln.block_hint is not None else ("line", n), []).append(ln)
    regions = []
    for group in groups.values():
        bbox = group[0].bbox
        for ln in group[1:]:
            bbox = union(bbox, ln.bbox)
        text = join_lines([ln.text for ln in group], vocab)
        if text:  # never a heading: its size says nothing about the running text's hierarchy
            regions.append(Region(bbox=bbox, lines=group, text=text, type=BlockType.paragraph))
    return regions


SIDE_MARGIN_SHARE = 0.12


def _mark_side_stamps(pages: list[tuple[float, list[Region]]], seen: Counter) -> None:
    """Sideways text in the left or right margin that recurs on other pages (production stamps,
    journal names running up the edge) is page furniture, like a running footer."""
    found = []
    for width, regions in pages:
        on_page = set()
        for reg in regions:
            sideways = bool(reg.lines) and all(ln.vertical for ln in reg.lines)
            if reg.type is not BlockType.paragraph or not sideways:
                continue
            if reg.bbox[2] <= width * SIDE_MARGIN_SHARE or reg.bbox[0] >= width * (1 - SIDE_MARGIN_SHARE):
                key = ("side", re.sub(r"\d+", "#", " ".join(reg.text.lower().split())))
                found.append((reg, key))
                on_page.add(key)
        seen.update(on_page)
    for reg, key in found:
        if seen[key] >= 2:
            reg.type = BlockType.page_footer


def _regions_for_page(raw: RawPage, vocab: set[str]) -> list[Region]:
    table_boxes = [t.bbox for t in raw.tables]
    free = [ln for ln in raw.lines if not any(overlap_ratio(ln.bbox, tb) > 0.5 for tb in table_boxes)]
    lines = [ln for ln in free if not ln.vertical]
    vertical = _vertical_regions([ln for ln in free if ln.vertical], vocab)
    stream, lines = find_stream_tables(lines)
    regions = merge_code_regions(group_lines(lines))
    for reg in regions:
        if all(ln.mono for ln in reg.lines):
            reg.text = _code_text(reg)
        else:
            reg.text = join_lines([inline_math(ln) for ln in reg.lines], vocab)
    regions = mark_formulas(attach_drop_caps([r for r in regions if r.text]), raw.rules) + vertical
    figures = [Region(bbox=im.bbox, image=im, type=BlockType.figure) for im in cluster_images(raw.images)]
    # An image under (nearly) the whole page is a scan's background, its text layer the page's text,
    # not labels of a figure.
    page_area = raw.width * raw.height
    hosts = [f for f in figures if _area(f.bbox) < BACKGROUND_SHARE * page_area]
    regions = absorb_figure_labels(regions, hosts)
    regions += [Region(bbox=t.bbox, table=t.data, type=BlockType.table) for t in raw.tables]
    regions += [Region(bbox=bbox, table=data, type=BlockType.table) for bbox, data in stream]
    return regions + figures


def _area(bbox: tuple[float, float, float, float]) -> float:
    return max(0.0, bbox[2] - bbox[0]) * max(0.0, bbox[3] - bbox[1])


def _code_text(reg: Region) -> str:
    """Keep line breaks and indentation: the x offset in character widths of the monospace font."""
    left = min(ln.bbox[0] for ln in reg.lines)
    out = []
    prev_bottom = None
    for ln in reg.lines:
        if prev_bottom is not None and ln.bbox[1] - prev_bottom > 0.9 * ln.size:
            out.append("")  # a blank line of the listing
        prev_bottom = ln.bbox[3]
        raw = ln.text.replace("\u00ad", "").rstrip()
        text = raw.lstrip()
        char_w = (ln.bbox[2] - ln.bbox[0]) / max(len(ln.text), 1)
        offset = int(round((ln.bbox[0] - left) / char_w)) if char_w > 0 else 0
        out.append(" " * (max(offset, 0) + len(raw) - len(text)) + text)
    return "\n".join(out).strip("\n")


def _attach_captions(regions: list[Region]) -> None:
    """A caption directly above or below a figure describes it."""
    figures = [r for r in regions if r.kind == "image"]
    for cap in (r for r in regions if r.type is BlockType.caption):
        best, best_gap = None, 40.0
        for fig in figures:
            ov = min(cap.bbox[2], fig.bbox[2]) - max(cap.bbox[0], fig.bbox[0])
            if ov <= 0:
                continue
            gap = min(abs(cap.bbox[1] - fig.bbox[3]), abs(fig.bbox[1] - cap.bbox[3]))
            if gap < best_gap:
                best, best_gap = fig, gap
        if best is not None:
            best.caption = cap.text


def _short_text(reg: Region) -> bool:
    """A region that may be a cell of a grid of labels: text of at most two lines."""
    return reg.kind == "text" and 0 < len(reg.lines) <= 2


def _heading(reg: Region) -> bool:
    return reg.type in (BlockType.title, BlockType.heading)


def _to_block(reg: Region, page_index: int, n: int) -> Block:
    block = Block(
        id=f"p{page_index}-b{n}", type=reg.type or BlockType.paragraph, bbox=reg.bbox, text=reg.text
    )
    if reg.type in (BlockType.heading, BlockType.title):
        block.level = reg.level or 2
    elif reg.type is BlockType.list_item:
        block.text = BULLET.sub("", reg.text, count=1).strip() or reg.text
    elif reg.type is BlockType.formula:
        block.latex = reg.latex
    elif reg.type is BlockType.table:
        block.table = reg.table
        block.text = ""
    elif reg.type is BlockType.figure:
        block.figure = FigureData(caption=reg.caption or None)
        block.text = reg.text  # labels drawn inside the figure; JSON only
    return block


class Assembler:
    """Assembles a document's pages window by window, carrying what must be known document-wide
    (vocabulary, margin texts seen, font-size statistics, heading sizes) from window to window, so
    that memory is bounded by the window, not the document. A document that fits in one window is
    assembled exactly as a whole."""

    def __init__(self) -> None:
        self.vocab: set[str] = set()
        self.margins: dict[str, Counter] = {}  # per engine: (band, signature) -> pages seen on
        self.sizes: dict[str, Counter] = {}  # per engine: characters per font size
        self.heading_sizes: dict[str, set[int]] = {}
        self.first_window = True

    def assemble(self, raw_pages: list[RawPage]) -> list[PageResult]:
        for raw in raw_pages:
            if raw.blocks is None:
                _normalize_lines(raw)
        self.vocab |= vocabulary(ln.text for raw in raw_pages if raw.blocks is None for ln in raw.lines)
        per_page = [_regions_for_page(raw, self.vocab) if raw.blocks is None else [] for raw in raw_pages]
        # Font sizes are only comparable within one engine: OCR estimates them from pixel heights.
        for engine in sorted({raw.engine for raw in raw_pages if raw.blocks is None}):
            group = [
                (raw, regs) for raw, regs in zip(raw_pages, per_page, strict=True) if raw.engine == engine
            ]
            sizes = self.sizes.setdefault(engine, Counter())
            regions = [r for _, regs in group for r in regs]
            mark_furniture(
                [(raw.height, regs) for raw, regs in group],
                body_size(regions, sizes),
                self.margins.setdefault(engine, Counter()),
                [raw.rules for raw, _ in group],
            )
            _mark_side_stamps([(raw.width, regs) for raw, regs in group], self.margins[engine])
            mark_recurring_in_place(
                [(raw.index, raw.height, regs) for raw, regs in group], self.margins[engine]
            )
            content = [r for r in regions if r.type is None]
            body = body_size(content, sizes)
            for raw, regs in group:
                classify_page(regs, body, raw.height)
            first = self.first_window and bool(group) and group[0][0].index == 0
            assign_heading_levels(
                [regs for _, regs in group if regs], body, self.heading_sizes.setdefault(engine, set()), first
            )
            sizes.update(size_weights(content))
        self.first_window = False
        return [self._page_result(raw, regs) for raw, regs in zip(raw_pages, per_page, strict=True)]

    def _page_result(self, raw: RawPage, regs: list[Region]) -> PageResult:
        result = PageResult(
            index=raw.index,
            width=raw.width,
            height=raw.height,
            rotation=raw.rotation,
            engine=raw.engine,
            route_reason=raw.route_reason,
            status=raw.status,
            error=raw.error,
            timings=dict(raw.timings),
            vlm=raw.vlm,
        )
        if raw.blocks is not None:
            result.blocks = list(raw.blocks)
            return result
        _attach_captions(regs)
        content = [r for r in regs if r.type not in FURNITURE and r.kind != "image"]
        rtl = len(_RTL.findall(" ".join(r.text for r in content))) > 0.5 * sum(len(r.text) for r in content)
        ordered = xy_cut(
            content, lambda r: r.bbox, right_to_left=rtl, cell_like=_short_text, heading_like=_heading
        )
        ordered = place_figures(ordered, [r for r in regs if r.kind == "image"])
        furniture = sorted((r for r in regs if r.type in FURNITURE), key=lambda r: r.bbox[1])
        tops = [r for r in furniture if r.bbox[1] < raw.height / 2]
        bottoms = [r for r in furniture if r.bbox[1] >= raw.height / 2]
        result.blocks = [_to_block(r, raw.index, n) for n, r in enumerate(tops + ordered + bottoms)]
        if raw.text_chars and raw.text_chars >= LOSS_MIN_CHARS and result.status is PageStatus.ok:
            kept = output_chars(result.blocks)
            if kept < LOSS_RATIO * raw.text_chars:
                result.status = PageStatus.partial
                result.error = (
                    f"page {raw.index + 1}: the output holds {kept} of the {raw.text_chars} letters and "
                    "digits in the page's text layer"
                )
        return result
