"""The review page renderer on hand-built documents: hostile text in every field stays text, pages
are written one at a time, OCR-turned pages are shown in the frame their boxes are in."""

from __future__ import annotations

import base64
import hashlib
import io

import lxml.html
import numpy as np
import pymupdf
import pytest
from PIL import Image

import docpipe
from docpipe.model import (
    Block,
    BlockType,
    ChartData,
    ChemicalData,
    Document,
    EngineInfo,
    FigureData,
    PageResult,
    SourceInfo,
    TableCell,
    TableData,
    VlmPageInfo,
)
from docpipe.writers import review_html
from docpipe.writers.review_html import render_page_png, write_review

EVIL = "<script>alert(1)</script><img src=http://example.com/x onerror=alert(2)>\"'&\x00\x07"


def _doc(pages: list[PageResult], path: str = "missing.pdf") -> Document:
    return Document(
        doc_id="0" * 64,
        source=SourceInfo(
            path=path, name=EVIL, media_type="application/pdf", size_bytes=1, page_count=len(pages)
        ),
        error=EVIL,
        pages=pages,
        engine=EngineInfo(name="auto", docpipe_version="0", pymupdf_version="2.0", config_hash=EVIL),
    )


def _hostile_page() -> PageResult:
    table = TableData(
        n_rows=2,
        n_cols=2,
        header_rows=1,
        cells=[
            TableCell(row=0, col=0, col_span=2, text=EVIL, is_header=True),
            TableCell(row=1, col=0, text="a"),
            TableCell(row=1, col=1, text=EVIL),
        ],
    )
    blocks = [
        Block(id="p0-b0", type=BlockType.heading, bbox=(10, 10, 100, 20), text=EVIL, level=2),
        Block(id="p0-b1", type=BlockType.table, bbox=(10, 30, 100, 60), text=EVIL, table=table),
        Block(id="p0-b2", type=BlockType.formula, bbox=(10, 70, 100, 80), text=EVIL, latex=EVIL),
        Block(
            id="p0-b3",
            type=BlockType.chemical,
            bbox=(10, 90, 100, 120),
            chemical=ChemicalData(smiles=EVIL, canonical_smiles="CCO", source=EVIL),
        ),
        Block(
            id="p0-b4",
            type=BlockType.chart,
            bbox=(10, 130, 100, 160),
            chart=ChartData(chart_type=EVIL, data=table),
            figure=FigureData(image_path=EVIL, caption=EVIL),
        ),
        Block(id="p0-b5", type=BlockType.page_number, bbox=(10, 180, 20, 190), text="1"),
    ]
    return PageResult(
        index=0,
        width=200,
        height=200,
        engine=EVIL,
        route_reason=EVIL,
        status="failed",
        error=EVIL,
        blocks=blocks,
        timings={EVIL: 0.1},
        vlm=VlmPageInfo(model=EVIL, mode=EVIL, visual_tokens=100, raw_output=EVIL),
    )


def test_hostile_text_stays_text() -> None:
    out = io.StringIO()
    write_review(_doc([_hostile_page()]), None, out)
    raw = out.getvalue()
    assert "<script>alert" not in raw and "<img src=http" not in raw and "\x00" not in raw
    tree = lxml.html.fromstring(raw)
    scripts = tree.xpath("//script")
    assert len(scripts) == 1 and "alert" not in scripts[0].text
    assert not tree.xpath("//@onerror")
    for attr in tree.xpath("//@src | //@href"):
        assert attr.startswith(("data:", "#")), attr
    text = tree.text_content()
    assert text.count("<script>alert(1)</script>") >= 10  # shown, as text, in each field
    # Tables come from docpipe's own renderer, spans kept.
    ths = tree.xpath("//li[@id='blk-1-2']//table//th")
    assert ths[0].get("colspan") == "2" and "<script>" in ths[0].text_content()
    assert tree.xpath("//code[@class='latex']")[0].text_content().startswith("<script>")
    assert tree.xpath("//code[@class='smiles']")[0].text_content().startswith("<script>")
    # No source: the blocks are still listed, with why the image is missing.
    assert "page image unavailable" in text
    assert len(tree.xpath("//li[contains(@class, 'blk')]")) == 6


def test_csp_allows_only_the_viewers_own_style_and_script() -> None:
    out = io.StringIO()
    write_review(_doc([_hostile_page()]), None, out)
    tree = lxml.html.fromstring(out.getvalue())
    csp = tree.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert directives["default-src"] == "'none'" and directives["img-src"] == "data:"
    assert directives["script-src"] == digest(tree.xpath("//script")[0].text)
    assert directives["style-src"] == digest(tree.xpath("//style")[0].text)


def _pdf(n_pages: int) -> pymupdf.Document:
    pdf = pymupdf.open()
    for i in range(n_pages):
        page = pdf.new_page(width=200, height=300)
        page.insert_text((20, 40), f"page {i + 1}", fontsize=14)
        page.draw_rect(pymupdf.Rect(0, 0, 40, 20), color=(1, 0, 0), fill=(1, 0, 0))  # top-left marker
    return pdf


def test_pages_are_rendered_and_written_one_at_a_time(monkeypatch) -> None:
    pdf = _pdf(6)
    pages = [PageResult(index=i, width=200, height=300, engine="textlayer") for i in range(6)]
    out = io.StringIO()
    written_before_render: list[int] = []
    real = review_html.render_page_png

    def spy(page, dpi, turn):
        written_before_render.append(out.getvalue().count("<section class='page'"))
        return real(page, dpi, turn)

    monkeypatch.setattr(review_html, "render_page_png", spy)
    assert write_review(_doc(pages), pdf, out, pages={1, 3, 4}) == 3
    # Each page's section is out before the next page is rendered: nothing accumulates.
    assert written_before_render == [0, 1, 2]


def test_ocr_turned_page_is_shown_turned_clockwise() -> None:
    """OCR records `rotation` when it turned the page clockwise before reading it; its bboxes are in
    that turned frame, so the image must be turned the same way (as engines/orientation does)."""
    page = _pdf(1)[0]
    plain, w, h = render_page_png(page, 72, 0)
    turned, tw, th = render_page_png(page, 72, 90)
    assert (tw, th) == (h, w) == (300, 200)
    a = np.asarray(Image.open(io.BytesIO(plain)).convert("RGB"))
    b = np.asarray(Image.open(io.BytesIO(turned)).convert("RGB"))
    assert np.array_equal(np.rot90(a, k=-1), b)
    assert (b[5, tw - 5] == (255, 0, 0)).all()  # the top-left marker is now top-right


def test_view_api_writes_atomically(tmp_path, monkeypatch) -> None:
    pdf_path = tmp_path / "doc.pdf"
    _pdf(2).save(pdf_path)
    pages = [PageResult(index=i, width=200, height=300, engine="textlayer") for i in range(2)]
    doc = _doc(pages, path=str(pdf_path))
    json_path = tmp_path / "doc.json"
    json_path.write_text(doc.model_dump_json())
    out = docpipe.view(json_path)
    assert out == tmp_path / "doc.view.html"
    html = out.read_text()
    assert html.count("<img ") == 2
    assert "content hash differs" in html  # doc_id is not the file's hash: said on the page

    def boom(result, source, dpi):
        raise RuntimeError("disk full")

    monkeypatch.setattr(review_html, "_page_section", boom)
    with pytest.raises(RuntimeError):
        docpipe.view(json_path, tmp_path / "again.html")
    assert not (tmp_path / "again.html").exists()
    assert not list(tmp_path.glob(".*.tmp"))


def test_poster_pages_are_capped_in_pixels() -> None:
    pdf = pymupdf.open()
    pdf.new_page(width=10_000, height=8_000)
    _, w, h = render_page_png(pdf[0], 72, 0)
    assert w * h <= review_html.MAX_PAGE_PIXELS and abs(w / h - 10 / 8) < 0.01
