"""Scans and images through `docpipe convert --engine auto`: page-by-page routing recorded in the
JSON, two-column scans read in column order, PNG and multi-page TIFF inputs, rotation recorded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rapidfuzz.distance import Levenshtein

from docpipe.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def _cer(pred: str, truth: str) -> float:
    a, b = " ".join(pred.split()), " ".join(truth.split())
    return Levenshtein.distance(a, b) / max(len(b), 1)


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> tuple[Path, dict]:
    src = tmp_path_factory.mktemp("scans")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_scan_fixtures.py"), str(src)], check=True)
    truth = json.loads((src / "truth.json").read_text())
    out = tmp_path_factory.mktemp("out")
    inputs = [
        src / n
        for n in ("mixed.pdf", "scan_two_column.pdf", "scan_single.png", "scan_pages.tiff", "scan_rot90.pdf")
    ]
    assert main(["convert", "-q", "--workers", "2", *map(str, inputs), "-o", str(out)]) == 0
    return out, truth


def _doc(out: Path, name: str) -> dict:
    return json.loads((out / f"{name}.json").read_text())


def test_mixed_pdf_routes_page_by_page_and_says_why(converted):
    out, truth = converted
    pages = _doc(out, "mixed")["pages"]
    assert [p["engine"] for p in pages] == truth["mixed_routes"]
    assert all(p["route_reason"] for p in pages)


def test_two_column_scan_reads_left_column_first(converted):
    out, truth = converted
    md = (out / "scan_two_column.md").read_text()
    left, right = md.find(truth["left_column"][:40]), md.find(truth["right_column"][:40])
    assert 0 <= left < right, md[:400]


def test_png_and_tiff_inputs(converted):
    out, truth = converted
    png = _doc(out, "scan_single_png")
    assert png["source"]["media_type"] == "image/png" and png["pages"][0]["engine"] == "ocr"
    text = " ".join(b["text"] for b in png["pages"][0]["blocks"])
    assert _cer(text, truth["single"]) <= 0.05
    tiff = _doc(out, "scan_pages_tiff")
    assert tiff["source"]["page_count"] >= 2 and all(p["engine"] == "ocr" for p in tiff["pages"])
    assert png["pages"][0]["blocks"][0]["type"] in ("title", "heading")


def test_rotated_scan_is_turned_and_recorded(converted):
    out, truth = converted
    page = _doc(out, "scan_rot90")["pages"][0]
    assert page["rotation"] in (90, 270)
    text = " ".join(b["text"] for b in page["blocks"])
    assert _cer(text, truth["single"]) <= 0.05


def test_ruled_table_on_a_scan_becomes_a_cell_grid(pdfs, tmp_path):
    import pymupdf

    import docpipe

    src = pymupdf.open(pdfs["table_spans"])
    pix = src[0].get_pixmap(dpi=200, colorspace=pymupdf.csGRAY)
    scan = pymupdf.open()
    page = scan.new_page(width=src[0].rect.width, height=src[0].rect.height)
    page.insert_image(page.rect, stream=pix.tobytes("png"))
    path = tmp_path / "scanned_table.pdf"
    scan.save(path)
    doc = docpipe.convert(path)
    assert doc.pages[0].engine == "ocr"
    tables = [b.table for b in doc.pages[0].blocks if b.table is not None]
    assert len(tables) == 1
    cells = {(c.row, c.col): c for c in tables[0].cells}
    assert (cells[0, 0].text, cells[0, 0].row_span) == ("Region", 2)
    assert (cells[0, 1].text, cells[0, 1].col_span) == ("Sales", 2)
    assert [cells[3, c].text for c in range(3)] == ["South", "98", "110"]
    assert tables[0].header_rows == 2
    texts = [b.text for b in doc.pages[0].blocks if b.type.value == "paragraph"]
    assert texts == ["The table below lists sales figures for two years.", "Sales grew in both regions."]
