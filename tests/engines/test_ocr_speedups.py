"""What the OCR speed-ups must keep: detection only over the inked part of a raster finds what a
full pass finds, and short page crops read in shared strips give what each gives alone."""

from __future__ import annotations

import numpy as np
import pymupdf
import pytest

from docpipe.engines.raster import INK_MARGIN, ink_box

pytest.importorskip("rapidocr")
pytest.importorskip("onnxruntime")

from docpipe.engines.ocr import OcrEngine, crop_line, shared_models  # noqa: E402
from docpipe.engines.packed_lines import recognise_lines  # noqa: E402


def gray_of(page: pymupdf.Page, dpi: float) -> np.ndarray:
    pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
    return np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)[:, : pix.width].copy()


def word_page(word: str = "habibi", at: tuple[float, float] = (380, 610), size: float = 9) -> pymupdf.Page:
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_text(at, word, fontsize=size, fontname="helv")
    return page


def test_ink_box_holds_the_ink_on_the_detectors_grid() -> None:
    gray = np.full((1754, 1240), 255, dtype=np.uint8)
    gray[1000:1020, 700:780] = 0
    x0, y0, x1, y1 = ink_box(gray)
    assert x0 <= 700 - INK_MARGIN and y0 <= 1000 - INK_MARGIN
    assert x1 >= 780 + INK_MARGIN and y1 >= 1020 + INK_MARGIN
    assert x0 % 32 == 0 and y0 % 32 == 0 and (x1 - x0) % 32 == 0 and (y1 - y0) % 32 == 0
    assert (x1 - x0) * (y1 - y0) < 0.05 * gray.size
    tinted = (gray // 2 + 100).astype(np.uint8)  # grey paper, same ink: same box
    assert ink_box(tinted) == (x0, y0, x1, y1)


def test_ink_box_leaves_full_pages_blank_pages_and_noisy_scans_alone() -> None:
    rng = np.random.default_rng(0)
    shape = (1754, 1240)  # A4 at 150 dpi
    assert ink_box(np.full(shape, 255, dtype=np.uint8)) is None  # nothing to crop to
    page = np.full(shape, 255, dtype=np.uint8)
    page[150:1600:30, 120:1100] = 0  # a page of text lines
    assert ink_box(page) is None
    bordered = np.full(shape, 250, dtype=np.uint8)
    bordered[:, :40] = bordered[:, -40:] = 20  # dark scanner borders
    bordered[800:820, 600:680] = 0
    assert ink_box(bordered) is None
    speckled = np.full(shape, 245, dtype=np.uint8)
    dots = rng.integers(0, shape, size=(60, 2))
    speckled[dots[:, 0], dots[:, 1]] = 0  # speckle all over a scan
    assert ink_box(speckled) is None
    small = np.full((468, 330), 255, dtype=np.uint8)  # A4 at 40 dpi: cheap to detect whole
    small[100:110, 50:150] = 0
    assert ink_box(small) is None


def test_small_word_on_a_blank_page_is_read_where_it_is() -> None:
    page = word_page()
    raw = OcrEngine(threads=2).process_page(page)
    assert [line.text for line in raw.lines] == ["habibi"]
    truth = page.search_for("habibi")[0]
    box = pymupdf.Rect(raw.lines[0].bbox)
    assert abs(box.x0 - truth.x0) < 4 and abs(box.x1 - truth.x1) < 4
    assert box.y0 - 4 < truth.y0 and box.y1 + 4 > truth.y1 and box.height < 3 * truth.height


def test_cropped_detection_matches_detection_of_the_whole_raster() -> None:
    models = shared_models(2)
    page = word_page("Cropped detection", at=(120, 300), size=14)
    page.insert_text((300, 420), "a second line further down", fontsize=14, fontname="helv")
    gray = gray_of(page, 150)
    assert ink_box(gray) is not None
    cropped = models.detect(gray)
    whole = models._detect_strips(gray)
    assert len(cropped) == len(whole) == 2
    whole.sort(key=lambda q: float(q[:, 1].min()))
    for a, b in zip(cropped, whole, strict=True):
        # the network sees less paper around the lines: corners move by a few pixels, no more
        height = float(b[:, 1].max() - b[:, 1].min())
        assert np.abs(a - b).max() <= 0.15 * height


def test_packed_page_recognition_reads_as_one_crop_at_a_time() -> None:
    """Page OCR hands its crops to the shared strip reader: short crops share strips, long ones are
    resized by the engine as before; the text is what each crop gives alone."""
    models = shared_models(2)
    words = ["12", "Page 3", "x = 4", "Total", "sin(t)", "Fig. 2"]
    sentence = "A long line of running text that is read on its own, as before"
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=400)
    for i, w in enumerate([*words, sentence]):
        page.insert_text((40 + 50 * (i % 2), 40 + 40 * i), w, fontsize=11, fontname="helv")
    gray = gray_of(page, 200)
    quads = models.detect(gray)
    crops = [crop_line(gray, q) for q in quads]
    alone = [r.text.strip() for r in models.recognise(crops)]
    packed = recognise_lines(models, crops, scale_long=False)
    assert sorted(alone) == sorted([*words, sentence])
    assert [r.text for r in packed] == alone
    assert all(r.confidence > 0.8 for r in packed)
