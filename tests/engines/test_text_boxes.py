"""Line boxes from the detector's probability map (engines/text_boxes) against rapidocr's own DB
post-processing, the reference the OCR engine used before, on the real detector's output."""

from __future__ import annotations

import numpy as np
import pymupdf
import pytest

pytest.importorskip("rapidocr")
pytest.importorskip("onnxruntime")

from docpipe.engines.ocr import PaddleOcrModels  # noqa: E402
from docpipe.engines.ocr_runtime import padded  # noqa: E402
from docpipe.engines.orientation import order_quad  # noqa: E402
from docpipe.engines.text_boxes import line_boxes  # noqa: E402

WORDS = ["Quarterly report", "Net revenue 4,210", "see Table 3 below", "x", "Appendix B: methods"]


def _page() -> np.ndarray:
    doc = pymupdf.open()
    page = doc.new_page(width=400, height=300)
    for i, text in enumerate(WORDS):
        page.insert_text((20 + 30 * i, 40 + 50 * i), text, fontsize=8 + 3 * i, fontname="helv")
    page.insert_text((300, 280), "sideways", fontsize=10, rotate=90)
    page.draw_rect(pymupdf.Rect(250, 20, 390, 120), color=(0, 0, 0), width=0.5)
    pix = page.get_pixmap(dpi=150, colorspace=pymupdf.csGRAY)
    return np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)[:, : pix.width].copy()


@pytest.fixture(scope="module")
def probability_map() -> np.ndarray:
    gray = _page()
    models = PaddleOcrModels(threads=1, runtime="onnxruntime")
    h, w = gray.shape
    x = np.full((padded(h, 32), padded(w, 32)), 1.0, dtype=np.float32)
    x[:h, :w] = gray * (2.0 / 255.0) - 1.0
    return models.det.run(np.broadcast_to(x, (1, 3, *x.shape)).copy())[0, 0, :h, :w]


def test_the_same_boxes_as_rapidocrs_post_processing(probability_map) -> None:
    from rapidocr.ch_ppocr_det.utils import DBPostProcess

    reference = DBPostProcess(
        thresh=0.3, box_thresh=0.5, max_candidates=2000, unclip_ratio=1.6, use_dilation=True
    )
    h, w = probability_map.shape
    expected, _ = reference(probability_map[None, None], (h, w))
    ours = line_boxes(probability_map)
    assert len(ours) == len(expected) >= len(WORDS)
    for got, want in zip(ours, expected, strict=True):
        np.testing.assert_array_equal(got, order_quad(want))


def test_boxes_cover_the_lines_and_stay_on_the_map(probability_map) -> None:
    h, w = probability_map.shape
    boxes = line_boxes(probability_map)
    for quad in boxes:
        assert quad.dtype == np.float32 and quad.shape == (4, 2)
        assert (quad >= 0).all() and (quad[:, 0] <= w - 1).all() and (quad[:, 1] <= h - 1).all()
        assert quad[0, 0] <= quad[1, 0] and quad[0, 1] <= quad[3, 1]  # top-left, top-right, ..., bottom-left
    # the widest box is the longest line at its size; nothing is found on a blank map
    assert max(q[1, 0] - q[0, 0] for q in boxes) > 0.3 * w
    assert line_boxes(np.zeros((64, 64), np.float32)) == []
