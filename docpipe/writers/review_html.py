"""The review page: one self-contained HTML file showing what docpipe made of each page.

Each page is rendered from the source and embedded as a PNG data URI; an inline SVG laid over it in
page points draws every block's bbox, coloured by type and numbered in reading order. Beside it: the
engine and why the router chose it, status, timings, VLM details, and every block's content (tables
rendered from the parsed cell grid, formulas as LaTeX, chemical structures as SMILES).

All document text is untrusted (PDF text, model output) and is escaped; a Content-Security-Policy
allows only the viewer's own style and script (by hash) and data: images, so nothing is fetched.
Pages are rendered and written one at a time, so memory does not grow with the page count.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re
from collections.abc import Iterable
from typing import TextIO

import pymupdf

from docpipe.model import FURNITURE, Block, BlockType, Document, PageResult, TableData
from docpipe.writers.tables import to_html

COLORS: dict[BlockType, str] = {
    BlockType.title: "#b80000",
    BlockType.heading: "#e6194b",
    BlockType.paragraph: "#1f5fd6",
    BlockType.list_item: "#2e9e3e",
    BlockType.table: "#f07800",
    BlockType.figure: "#8e24aa",
    BlockType.chart: "#e633c8",
    BlockType.formula: "#00897b",
    BlockType.chemical: "#8d5a1e",
    BlockType.code: "#6d7f00",
    BlockType.caption: "#00a3c4",
    BlockType.footnote: "#3d3d8f",
    BlockType.page_header: "#7a7a7a",
    BlockType.page_footer: "#7a7a7a",
    BlockType.page_number: "#7a7a7a",
}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TITLE_CHARS = 1500  # tooltip text; the full text is in the block list


def esc(text: object) -> str:
    """Escape for HTML text and attribute values; control characters (invalid in HTML) dropped."""
    return html.escape(_CONTROL.sub("", str(text)), quote=True)


def _css() -> str:
    types = "\n".join(f".t-{t.value}{{--c:{c}}}" for t, c in COLORS.items())
    hide = "\n".join(f".hide-{t.value} g.t-{t.value}{{display:none}}" for t in COLORS)
    return f"""
body{{font:13px/1.4 system-ui,sans-serif;margin:0;color:#222;background:#eef0f3}}
header{{padding:8px 14px;background:#fff;border-bottom:1px solid #ccc}}
header h1{{font-size:16px;margin:0 0 4px}}
.note{{color:#a33;font-weight:600}}
.legend span{{display:inline-block;margin:2px 4px 2px 0;padding:1px 6px;border-radius:3px;
 background:var(--c);color:#fff;cursor:pointer;user-select:none}}
.legend span.off{{opacity:.3}}
.legend span.labels{{--c:#444}}
details.toc{{margin-top:4px}}
table.toc td,table.toc th{{padding:1px 6px;text-align:left;border-bottom:1px solid #eee}}
.st{{padding:0 5px;border-radius:3px;color:#fff;background:#2e9e3e}}
.st.fallback{{background:#e08a00}} .st.failed{{background:#c62828}}
section.page{{margin:14px;padding:10px;background:#fff;border:1px solid #ccc}}
section.page h2{{font-size:15px;margin:0 0 8px}}
.row{{display:flex;gap:14px;align-items:flex-start}}
.canvas{{position:relative;flex:none;line-height:0;border:1px solid #999}}
.canvas img{{display:block}}
.canvas svg{{position:absolute;left:0;top:0;width:100%;height:100%;overflow:visible}}
.noimg{{padding:20px;color:#a33;line-height:1.4}}
g.b rect.bx{{stroke:var(--c);fill:var(--c);fill-opacity:.07;stroke-width:2px}}
g.b.furn rect.bx{{stroke-dasharray:4 3}}
g.b rect.lb{{fill:var(--c);fill-opacity:.85}}
g.b text{{fill:#fff;font-family:sans-serif;font-weight:600}}
g.b:hover rect.bx,g.b.hl rect.bx{{fill-opacity:.25;stroke-width:3px}}
g.b.sel rect.bx{{fill-opacity:.3;stroke-width:3px}}
.hide-labels g.b rect.lb,.hide-labels g.b text{{display:none}}
.side{{flex:1;min-width:320px;max-height:95vh;overflow:auto}}
dl.meta{{display:grid;grid-template-columns:max-content 1fr;gap:1px 10px;margin:0 0 8px}}
dl.meta dt{{color:#666}} dl.meta dd{{margin:0;word-break:break-word}}
ol.blocks{{list-style:none;padding:0;margin:0}}
li.blk{{border-left:4px solid var(--c);margin:0 0 6px;padding:2px 6px;background:#fafafa;cursor:pointer}}
li.blk.sel,li.blk.hl{{background:#fff6cc}}
li.blk .n{{display:inline-block;min-width:1.6em;text-align:center;background:var(--c);color:#fff;
 border-radius:3px;font-weight:600}}
li.blk .ty{{font-weight:600;color:var(--c)}} li.blk .m{{color:#888;font-size:11px}}
.tx{{white-space:pre-wrap;word-break:break-word;margin:2px 0;max-height:16em;overflow:auto}}
.side table{{border-collapse:collapse;margin:4px 0;font-size:12px}}
.side td,.side th{{border:1px solid #bbb;padding:1px 4px;vertical-align:top;white-space:pre-wrap}}
.side th{{background:#eee}}
code,pre{{font-family:ui-monospace,monospace;font-size:12px;white-space:pre-wrap;word-break:break-word}}
{types}
{hide}
"""


_JS = """
(function () {
  function mark(cls, li, on) {
    if (!li) return;
    li.classList.toggle(cls, on);
    var box = document.getElementById(li.dataset.box);
    if (box) box.classList.toggle(cls, on);
  }
  function select(li, scrollBox) {
    document.querySelectorAll('.sel').forEach(function (e) { e.classList.remove('sel'); });
    mark('sel', li, true);
    if (scrollBox) {
      var box = document.getElementById(li.dataset.box);
      if (box) box.scrollIntoView({block: 'nearest'});
    } else {
      li.scrollIntoView({block: 'nearest'});
    }
  }
  document.addEventListener('click', function (ev) {
    var t = ev.target;
    var toggle = t.closest('[data-toggle]');
    if (toggle) {
      document.body.classList.toggle('hide-' + toggle.dataset.toggle);
      toggle.classList.toggle('off');
      return;
    }
    var g = t.closest('g.b');
    if (g) { select(document.getElementById(g.dataset.ref), false); return; }
    var li = t.closest('li.blk');
    if (li) select(li, true);
  });
  function hover(ev, on) {
    var g = ev.target.closest('g.b');
    var li = g ? document.getElementById(g.dataset.ref) : ev.target.closest('li.blk');
    mark('hl', li, on);
  }
  document.addEventListener('mouseover', function (ev) { hover(ev, true); });
  document.addEventListener('mouseout', function (ev) { hover(ev, false); });
  document.body.setAttribute('data-viewer', 'ready');  // the CSP let the script run
})();
"""


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def _csp(css: str) -> str:
    # Only the viewer's own style and script (by hash), images from data: URIs, nothing remote.
    return (
        f"default-src 'none'; img-src data:; style-src {_csp_hash(css)}; script-src {_csp_hash(_JS)}; "
        "base-uri 'none'; form-action 'none'"
    )


# --- geometry ---------------------------------------------------------------------------------


def _match_score(page: pymupdf.Page, blocks: list[Block], to_unrotated: pymupdf.Matrix | None) -> float:
    """Share of the blocks' words found in the text layer under their boxes, the boxes read as
    unrotated coordinates (to_unrotated None) or as displayed ones mapped back."""
    found = total = 0
    for block in blocks:
        words = set(block.text.split())
        rect = pymupdf.Rect(block.bbox)
        if to_unrotated is not None:
            rect = (rect * to_unrotated).normalize()
        under = set(page.get_textbox(rect + (-2, -2, 2, 2)).split())
        found += len(words & under)
        total += len(words)
    return found / total if total else 0.0


def bboxes_unrotated(page: pymupdf.Page, result: PageResult) -> bool:
    """Whether a page with /Rotate has its bboxes in unrotated coordinates (the text layer's own
    frame) rather than the displayed page's. Decided from the evidence, not the engine name, so the
    viewer stays right when the engines change: the text under the boxes, else where they lie."""
    if page.rotation % 360 == 0 or result.rotation:
        return False
    texts = [b for b in result.blocks if len(b.text.split()) >= 2][:8]
    if texts:
        as_unrotated = _match_score(page, texts, None)
        as_displayed = _match_score(page, texts, page.derotation_matrix)
        if as_unrotated != as_displayed:
            return as_unrotated > as_displayed
    disp = page.rect
    unrot = (page.rect * page.derotation_matrix).normalize()

    def fits(r: pymupdf.Rect, b: tuple[float, float, float, float]) -> bool:
        return b[0] >= r.x0 - 2 and b[1] >= r.y0 - 2 and b[2] <= r.x1 + 2 and b[3] <= r.y1 + 2

    bbs = [b.bbox for b in result.blocks]
    return bool(bbs) and not all(fits(disp, b) for b in bbs) and all(fits(unrot, b) for b in bbs)


MAX_PAGE_PIXELS = 16_000_000  # a poster-sized page is shown at a lower dpi rather than as a 1 GB raster


def render_page_png(page: pymupdf.Page, dpi: float, turn: int) -> tuple[bytes, int, int]:
    """The page as displayed, turned clockwise by `turn` degrees (the frame OCR recognised it in)."""
    zoom = dpi / 72.0
    area = max(page.rect.width * page.rect.height, 1.0)
    zoom = min(zoom, (MAX_PAGE_PIXELS / area) ** 0.5 * 0.995)  # pixel edges round up
    pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
    if not turn % 360:
        return pix.tobytes("png"), pix.width, pix.height
    from PIL import Image

    img = Image.frombytes("RGB", (pix.width, pix.height), pix.samples)
    del pix
    img = img.rotate(-turn, expand=True)  # PIL turns counter-clockwise for positive angles
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue(), img.width, img.height


# --- HTML pieces -------------------------------------------------------------------------------


def _fmt_bbox(b: Iterable[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in b)


def _table_html(table: TableData) -> str:
    # docpipe's own renderer (spans kept); it escapes cell text but keeps control characters.
    if not (table.n_rows and table.cells):
        return "<p><i>empty table grid</i></p>"
    clean = [c.model_copy(update={"text": _CONTROL.sub("", c.text)}) for c in table.cells]
    return to_html(table.model_copy(update={"cells": clean}))


def _block_content(block: Block) -> str:
    out: list[str] = []
    if block.table is not None:
        out.append(
            f"<div class='m'>{block.table.n_rows} rows × {block.table.n_cols} columns, "
            f"{block.table.header_rows} header rows</div>"
        )
        out.append(_table_html(block.table))
    if block.latex is not None:
        out.append(f"<div>LaTeX: <code class='latex'>{esc(block.latex)}</code></div>")
    if block.chemical is not None:
        c = block.chemical
        out.append(f"<div>SMILES: <code class='smiles'>{esc(c.smiles)}</code></div>")
        extra = [
            ("canonical", c.canonical_smiles),
            ("InChIKey", c.inchikey),
            ("formula", c.formula),
            ("valid", str(c.valid)),
            ("source", c.source),
        ]
        out.append("<div class='m'>" + " · ".join(f"{k}: {esc(v)}" for k, v in extra if v) + "</div>")
    if block.chart is not None:
        ch = block.chart
        out.append(
            f"<div class='m'>chart: {esc(ch.chart_type or '?')}"
            + (f" · caption: {esc(ch.caption)}" if ch.caption else "")
            + "</div>"
        )
        if ch.data is not None:
            out.append(_table_html(ch.data))
    if block.figure is not None:
        f = block.figure
        parts = [(k, v) for k, v in (("kind", f.kind), ("image", f.image_path), ("caption", f.caption)) if v]
        if parts:
            out.append("<div class='m'>" + " · ".join(f"{k}: {esc(v)}" for k, v in parts) + "</div>")
        if f.text_lines:
            read = " / ".join(f"{line.text} ({line.confidence:.2f})" for line in f.text_lines)
            out.append(f"<div class='m'>words read in the image: {esc(_CONTROL.sub('', read))}</div>")
    if block.text and block.table is None:
        out.append(f"<div class='tx'>{esc(block.text)}</div>")
    return "".join(out)


def _block_item(page_no: int, n: int, block: Block) -> str:
    meta = [block.id]
    if block.level is not None:
        meta.append(f"level {block.level}")
    if block.confidence is not None:
        meta.append(f"conf {block.confidence:.2f}")
    meta.append(f"bbox {_fmt_bbox(block.bbox)}")
    t = block.type.value
    return (
        f"<li class='blk t-{t}' id='blk-{page_no}-{n}' data-box='bx-{page_no}-{n}'>"
        f"<span class='n'>{n}</span> <span class='ty'>{t}</span> "
        f"<span class='m'>{esc(' · '.join(meta))}</span>"
        f"{_block_content(block)}</li>"
    )


def _box(page_no: int, n: int, block: Block, bbox: pymupdf.Rect, font: float) -> str:
    t = block.type.value
    furn = " furn" if block.type in FURNITURE else ""
    label = f"{n} {t}"
    lw, lh = font * (0.6 * len(label) + 0.6), font * 1.25
    # Label just above the box, inside it when the box touches the top of the page.
    ly = bbox.y0 - lh if bbox.y0 >= lh else bbox.y0
    tip = block.text if len(block.text) <= _TITLE_CHARS else block.text[:_TITLE_CHARS] + "…"
    return (
        f"<g class='b t-{t}{furn}' id='bx-{page_no}-{n}' data-n='{n}' data-type='{t}' "
        f"data-ref='blk-{page_no}-{n}'><title>{esc(f'{n} {t}: {tip}')}</title>"
        f"<rect class='bx' x='{bbox.x0:.2f}' y='{bbox.y0:.2f}' width='{bbox.width:.2f}' "
        f"height='{bbox.height:.2f}' vector-effect='non-scaling-stroke'/>"
        f"<rect class='lb' x='{bbox.x0:.2f}' y='{ly:.2f}' width='{lw:.2f}' height='{lh:.2f}'/>"
        f"<text x='{bbox.x0 + font * 0.3:.2f}' y='{ly + font * 1.0:.2f}' font-size='{font:.2f}'>"
        f"{esc(label)}</text></g>"
    )


def _meta_rows(rows: list[tuple[str, str]]) -> str:
    return "<dl class='meta'>" + "".join(f"<dt>{esc(k)}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def _page_meta(result: PageResult, notes: list[str]) -> str:
    rows = [
        ("engine", f"<b>{esc(result.engine)}</b>"),
        ("route", esc(result.route_reason or "-")),
        ("status", f"<span class='st {esc(result.status.value)}'>{esc(result.status.value)}</span>"),
    ]
    if result.error:
        rows.append(("error", f"<span class='note'>{esc(result.error)}</span>"))
    rows.append(("size", f"{result.width:.1f} × {result.height:.1f} pt"))
    if result.rotation:
        rows.append(("rotation", f"turned {result.rotation}° clockwise before recognition (shown turned)"))
    if result.timings:
        rows.append(("timings", esc(", ".join(f"{k} {v * 1000:.1f} ms" for k, v in result.timings.items()))))
    if result.vlm is not None:
        v = result.vlm
        vlm = [
            f"model {v.model}",
            f"mode {v.mode}",
            f"visual tokens {v.visual_tokens} ({v.visual_tokens_source})",
        ]
        for label, value in (
            ("predicted", v.predicted_visual_tokens),
            ("prompt tokens", v.prompt_tokens),
            ("text tokens", v.text_tokens),
            ("compression", v.compression_ratio),
            ("output tokens", v.output_tokens),
        ):
            if value is not None:
                vlm.append(f"{label} {value}")
        text = esc(", ".join(vlm))
        if v.raw_output:
            text += f"<details><summary>raw model output</summary><pre>{esc(v.raw_output)}</pre></details>"
        rows.append(("vlm", text))
    counts: dict[str, int] = {}
    for b in result.blocks:
        counts[b.type.value] = counts.get(b.type.value, 0) + 1
    rows.append(("blocks", esc(", ".join(f"{n} {t}" for t, n in counts.items()) or "none")))
    for note in notes:
        rows.append(("note", f"<span class='note'>{esc(note)}</span>"))
    return _meta_rows(rows)


def _header(doc: Document, notes: list[str], css: str, pages: list[PageResult]) -> str:
    src = doc.source
    legend = "".join(
        f"<span class='t-{t.value}' data-toggle='{t.value}' title='show/hide'>{t.value}</span>"
        for t in COLORS
    )
    legend += "<span class='labels' data-toggle='labels' title='show/hide'>labels</span>"
    rows = [
        ("source", esc(src.path)),
        (
            "document",
            f"{esc(src.media_type)}, {src.page_count} pages, {src.size_bytes} bytes, "
            f"<span class='st {esc(doc.status.value)}'>{esc(doc.status.value)}</span>"
            + (f" <span class='note'>{esc(doc.error)}</span>" if doc.error else ""),
        ),
        (
            "engine",
            esc(
                f"{doc.engine.name} · docpipe {doc.engine.docpipe_version} · "
                f"PyMuPDF {doc.engine.pymupdf_version} · config {doc.engine.config_hash[:12]}"
            ),
        ),
    ]
    rows += [("note", f"<span class='note'>{esc(n)}</span>") for n in notes]
    toc = "".join(
        f"<tr><td><a href='#page-{p.index + 1}'>{p.index + 1}</a></td><td>{esc(p.engine)}</td>"
        f"<td><span class='st {esc(p.status.value)}'>{esc(p.status.value)}</span></td>"
        f"<td>{len(p.blocks)}</td><td>{esc(p.route_reason)}</td></tr>"
        for p in pages
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"{esc(_csp(css))}\">"
        "<meta name='viewport' content='width=device-width'>"
        f"<title>{esc(src.name)} · docpipe review</title><style>{css}</style></head><body>\n"
        f"<header><h1>{esc(src.name)}</h1>{_meta_rows(rows)}"
        f"<div class='legend'>{legend}</div>"
        f"<details class='toc'><summary>{len(pages)} pages shown</summary><table class='toc'>"
        f"<tr><th>page</th><th>engine</th><th>status</th><th>blocks</th><th>route</th></tr>{toc}</table>"
        "</details></header>\n"
    )


def _page_section(result: PageResult, source: pymupdf.Document | None, dpi: float) -> str:
    page_no = result.index + 1
    notes: list[str] = []
    canvas: str
    try:
        if source is None:
            raise ValueError("source not opened")
        if result.index >= source.page_count:
            raise ValueError(f"the source has only {source.page_count} pages")
        page = source.load_page(result.index)
        turn = result.rotation % 360
        png, _, _ = render_page_png(page, dpi, turn)
        w_pt, h_pt = page.rect.width, page.rect.height
        if turn in (90, 270):
            w_pt, h_pt = h_pt, w_pt
        to_display = None
        if bboxes_unrotated(page, result):
            to_display = page.rotation_matrix
            notes.append(
                f"bboxes are recorded in the page's unrotated coordinates, though the page has /Rotate "
                f"{page.rotation}; drawn here mapped onto the displayed page"
            )
        if abs(w_pt - result.width) > 1.5 or abs(h_pt - result.height) > 1.5:
            notes.append(f"recorded page size differs from the source page ({w_pt:.1f} × {h_pt:.1f} pt)")
        font = max(5.0, min(w_pt, h_pt) / 80)
        boxes = []
        for n, block in enumerate(result.blocks, 1):
            rect = pymupdf.Rect(block.bbox)
            if to_display is not None:
                rect = (rect * to_display).normalize()
            boxes.append(_box(page_no, n, block, rect, font))
        data = base64.b64encode(png).decode("ascii")
        del png
        # CSS size in points: one CSS pixel per point, whatever the dpi of the pixels.
        canvas = (
            f"<div class='canvas'><img alt='page {page_no}' width='{w_pt:.0f}' height='{h_pt:.0f}' "
            f"src='data:image/png;base64,{data}'>"
            f"<svg viewBox='0 0 {w_pt:.2f} {h_pt:.2f}' preserveAspectRatio='none' "
            f"xmlns='http://www.w3.org/2000/svg'>{''.join(boxes)}</svg></div>"
        )
    except Exception as exc:  # one page that cannot be rendered must not lose the rest
        canvas = (
            f"<div class='canvas noimg'>page image unavailable: {esc(f'{type(exc).__name__}: {exc}')}</div>"
        )
    items = "".join(_block_item(page_no, n, b) for n, b in enumerate(result.blocks, 1))
    return (
        f"<section class='page' id='page-{page_no}' data-page='{page_no}'>"
        f"<h2>Page {page_no} · {esc(result.engine)} · "
        f"<span class='st {esc(result.status.value)}'>{esc(result.status.value)}</span></h2>"
        f"<div class='row'>{canvas}<div class='side'>{_page_meta(result, notes)}"
        f"<ol class='blocks'>{items}</ol></div></div></section>\n"
    )


def write_review(
    doc: Document,
    source: pymupdf.Document | None,
    out: TextIO,
    dpi: float = 72,
    pages: set[int] | None = None,
    notes: list[str] | None = None,
) -> int:
    """Write the review page for `doc` (pages: 0-based indexes to show, None for all) into `out`,
    one page at a time; returns the number of pages written. `source` None still writes the blocks."""
    chosen = [p for p in doc.pages if pages is None or p.index in pages]
    css = _css()
    out.write(_header(doc, notes or [], css, chosen))
    for result in chosen:
        out.write(_page_section(result, source, dpi))
    out.write(f"<script>{_JS}</script></body></html>\n")
    return len(chosen)
