"""OCR engine on real and generated scans: text (CER), orientation, columns, size estimates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pymupdf
import pytest
from rapidfuzz.distance import Levenshtein

from docpipe.engines.base import PageInput
from docpipe.eval.text import normalize_markdown
from docpipe.model.raw import RawPage

pytest.importorskip("rapidocr")
pytest.importorskip("onnxruntime")

from docpipe.engines.ocr import OcrEngine  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path("/work/shared/corpus/dev")
MAX_CER = 0.05


def cer(pred: str, truth: str) -> float:
    return Levenshtein.normalized_distance(normalize_markdown(pred), normalize_markdown(truth))


def page_text(raw: RawPage) -> str:
    return " ".join(line.text for line in raw.lines)


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scans")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_scan_fixtures.py"), str(out)], check=True)
    return out


@pytest.fixture(scope="module")
def truth(fixtures: Path) -> dict:
    return json.loads((fixtures / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def engine() -> OcrEngine:
    return OcrEngine(threads=2)


def ocr(engine: OcrEngine, path: Path, index: int = 0) -> RawPage:
    doc = pymupdf.open(path)
    raw = engine.process([PageInput(path.name, index, doc[index])])[0]
    assert raw.status == "ok", raw.error
    return raw


@pytest.mark.parametrize(
    "name", ["ocr_test", "ocr_test_rotated_90", "ocr_test_rotated_180", "ocr_test_rotated_270"]
)
def test_corpus_scans_within_cer(engine: OcrEngine, name: str) -> None:
    pdf = CORPUS / "pdf" / f"{name}.pdf"
    if not pdf.exists():
        pytest.skip("dev corpus not available")
    raw = ocr(engine, pdf)
    truth = (CORPUS / "groundtruth" / f"{name}.md").read_text(encoding="utf-8")
    assert cer(page_text(raw), truth) <= MAX_CER
    # The upright page is portrait: /Rotate plus the detected turn must cancel out.
    assert raw.height > raw.width


def test_skewed_noisy_scan(engine: OcrEngine, fixtures: Path, truth: dict) -> None:
    raw = ocr(engine, fixtures / "scan_single.pdf")
    assert raw.rotation == 0
    assert cer(page_text(raw), truth["single"]) <= MAX_CER
    assert all(
        0 <= ln.bbox[0] < ln.bbox[2] <= raw.width and 0 <= ln.bbox[1] < ln.bbox[3] <= raw.height
        for ln in raw.lines
    )
    assert all(ln.confidence is not None and 0.5 <= ln.confidence <= 1 for ln in raw.lines)


def test_title_is_estimated_larger_than_body(engine: OcrEngine, fixtures: Path, truth: dict) -> None:
    raw = ocr(engine, fixtures / "scan_single.pdf")
    title = [ln for ln in raw.lines if cer(ln.text, truth["title"]) < 0.1]
    body = [ln for ln in raw.lines if ln not in title]
    assert len(title) == 1 and body
    body_size = sorted(ln.size for ln in body)[len(body) // 2]
    assert title[0].size > 1.25 * body_size  # set at 18 pt over 11 pt
    assert 8 <= body_size <= 15


@pytest.mark.parametrize("degrees,expected", [(90, 270), (180, 180), (270, 90)])
def test_rotated_scans_are_turned_upright(
    engine: OcrEngine, fixtures: Path, truth: dict, degrees: int, expected: int
) -> None:
    raw = ocr(engine, fixtures / f"scan_rot{degrees}.pdf")
    assert raw.rotation == expected  # clockwise turn that undoes a clockwise scan rotation
    assert raw.height > raw.width
    assert cer(page_text(raw), truth["single"]) <= MAX_CER


def test_two_columns_keep_their_line_boxes_apart(engine: OcrEngine, fixtures: Path, truth: dict) -> None:
    raw = ocr(engine, fixtures / "scan_two_column.pdf")
    mid = raw.width / 2
    left = [ln for ln in raw.lines if (ln.bbox[0] + ln.bbox[2]) / 2 < mid]
    right = [ln for ln in raw.lines if (ln.bbox[0] + ln.bbox[2]) / 2 >= mid]
    assert left and right
    assert max(ln.bbox[2] for ln in left) < min(ln.bbox[0] for ln in right)
    by_y = lambda lines: " ".join(ln.text for ln in sorted(lines, key=lambda ln: ln.bbox[1]))  # noqa: E731
    assert cer(by_y(left), truth["left_column"]) <= MAX_CER
    assert cer(by_y(right), truth["right_column"]) <= MAX_CER


def test_image_files_png_and_multipage_tiff(engine: OcrEngine, fixtures: Path, truth: dict) -> None:
    from docpipe.sources.images import open_image_document

    png = open_image_document(fixtures / "scan_single.png")
    raw = engine.process([PageInput("scan_single.png", 0, png[0])])[0]
    assert cer(page_text(raw), truth["single"]) <= MAX_CER
    tiff = open_image_document(fixtures / "scan_pages.tiff")
    assert tiff.page_count == 2
    raws = engine.process([PageInput("scan_pages.tiff", i, tiff[i]) for i in range(2)])
    assert [r.index for r in raws] == [0, 1]
    assert cer(page_text(raws[0]), truth["single"]) <= MAX_CER
    assert "spectrometer" in page_text(raws[1])


def test_blank_page_gives_no_lines_and_bad_page_fails_alone(engine: OcrEngine) -> None:
    doc = pymupdf.open()
    blank = doc.new_page()
    raws = engine.process([PageInput("blank", 0, blank)])
    assert raws[0].status == "ok" and raws[0].lines == []

    class Broken:
        rect = pymupdf.Rect(0, 0, 100, 100)

        def get_pixmap(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("cannot render")

    bad = PageInput("broken", 1, Broken())  # type: ignore[arg-type]
    raws = engine.process([bad, PageInput("blank", 0, blank)])
    assert raws[0].status == "failed" and "cannot render" in (raws[0].error or "")
    assert raws[1].status == "ok"


def test_models_load_from_the_wheel_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """No download path may run: any attempt to open a socket fails the test."""
    import socket

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the OCR engine tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    from docpipe.engines.ocr import PaddleOcrModels

    models = PaddleOcrModels(threads=1)
    doc = pymupdf.open()
    page = doc.new_page(width=300, height=80)
    page.insert_text((10, 50), "Offline check", fontsize=24)
    raw = OcrEngine(threads=1)
    raw._models = models
    result = raw.process([PageInput("t", 0, page)])[0]
    assert "Offline check" in page_text(result)


def test_detection_in_strips_finds_the_lines_of_one_pass(engine: OcrEngine, monkeypatch) -> None:
    """A raster above the strip size is detected strip by strip (bounded memory) with the same
    line boxes, each once, lines on the seams included."""
    import numpy as np

    from docpipe.engines import ocr

    doc = pymupdf.open()
    page = doc.new_page(width=612, height=2400)
    for i, y in enumerate(range(40, 2380, 26)):
        page.insert_text((40, y), f"Line {i} of a tall page read in strips", fontsize=11)
    pix = page.get_pixmap(dpi=100, colorspace=pymupdf.csGRAY, alpha=False)
    gray = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)[:, : pix.width].copy()
    models = engine.models
    whole = models.detect(gray)
    monkeypatch.setattr(ocr, "DET_STRIP_PIXELS", 600_000)
    monkeypatch.setattr(ocr, "DET_STRIP_MIN_ROWS", 256)
    strips = models.detect(gray)
    assert len(whole) == len(strips) == 90
    for a, b in zip(whole, strips, strict=True):
        assert np.abs(a - b).max() <= 4  # the network sees a little less context at a strip edge
