"""Rasterization for the OCR engine: render a page to grayscale pixels at a DPI chosen for its print.

OCR cost grows with pixels (text detection is roughly linear in them) while its accuracy depends on
how many pixels a character gets, not on the page size. So the engine renders a cheap probe, measures
the typical character height in it, and then picks one DPI for detection (characters of about
`DET_CHAR_PX` pixels, where the detector is both fast and reliable) and one for recognition
(characters close to what the recognizer's 48-pixel input wants). Neither goes above the scan's own
resolution (no information there) nor above a pixel cap (a poster-size page must not exhaust memory).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pymupdf

PROBE_DPI = 96.0
DET_CHAR_PX = 9.0  # median glyph height the text detector sees: enough to split lines, no more
REC_CHAR_PX = 26.0  # character height in the crops handed to the recognizer
MIN_DPI = 40.0
MAX_DPI = 400.0
DEFAULT_MAX_PIXELS = 30_000_000


@dataclass(frozen=True, slots=True)
class RasterPlan:
    det_dpi: float
    rec_dpi: float
    char_height_pt: float | None  # None: the probe found nothing that looks like print


def render_gray(
    page: pymupdf.Page | pymupdf.DisplayList, dpi: float, clip: pymupdf.Rect | None = None
) -> np.ndarray:
    """The page (or the `clip` part of it) as an (h, w) uint8 array; grayscale is a third of the
    memory of RGB and all OCR needs. Pass the page's display list to render several parts of a
    page: `Page.get_pixmap` makes one from the page's content on every call."""
    pix = page.get_pixmap(
        matrix=pymupdf.Matrix(dpi / 72.0, dpi / 72.0), clip=clip, colorspace=pymupdf.csGRAY, alpha=False
    )
    arr = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.stride)[:, : pix.width]
    out = arr.copy()  # own the memory so the pixmap can be freed now
    del pix
    return out


def native_dpi(page: pymupdf.Page) -> float | None:
    """Resolution of the scan when the page is essentially one raster image, else None (vector page)."""
    area = abs(page.rect)
    if not area:
        return None
    best: float | None = None
    for info in page.get_image_info():
        x0, y0, x1, y1 = info["bbox"]
        covered = abs(pymupdf.Rect(x0, y0, x1, y1) & page.rect)
        if covered < 0.5 * area:
            continue
        w_pt, h_pt = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)
        dpi = min(info["width"] / w_pt, info["height"] / h_pt) * 72.0
        best = dpi if best is None else max(best, dpi)
    return best


def dpi_for_pixels(page: pymupdf.Page, dpi: float, max_pixels: int) -> float:
    """Largest DPI not above `dpi` at which the rendered page stays within `max_pixels`."""
    w_in, h_in = page.rect.width / 72.0, page.rect.height / 72.0
    if w_in <= 0 or h_in <= 0:
        return dpi
    limit = (max_pixels / (w_in * h_in)) ** 0.5
    return min(dpi, limit)


def estimate_char_height(gray: np.ndarray) -> float | None:
    """Median height in pixels of glyph-like connected components (dark blobs of plausible shape),
    or None when there are too few to call it text. Costs a few milliseconds on a probe raster."""
    if gray.size == 0:
        return None
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    if binary.mean() > 0.5 * 255:  # mostly dark: a negative or a photo, not ink on paper
        binary = 255 - binary
    count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count <= 1:
        return None
    w = stats[1:, cv2.CC_STAT_WIDTH]
    h = stats[1:, cv2.CC_STAT_HEIGHT]
    area = stats[1:, cv2.CC_STAT_AREA]
    max_h = gray.shape[0] / 8
    # Glyphs: a few pixels up to an eighth of the page tall, not lines/rules, not specks, fairly inked.
    keep = (h >= 3) & (h <= max_h) & (w <= 4 * h) & (h <= 6 * w + 6) & (area >= 6) & (area >= 0.12 * w * h)
    if int(keep.sum()) < 8:
        return None
    heights = h[keep].astype(np.float64)
    # Rotated text gives glyph widths in the height column; the larger median of the two is the one
    # that spans the characters' height in either orientation.
    widths = w[keep].astype(np.float64)
    return float(max(np.median(heights), np.median(widths) * 0.9))


def plan_raster(
    page: pymupdf.Page,
    probe: np.ndarray,
    probe_dpi: float,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    fixed_dpi: float | None = None,
) -> RasterPlan:
    """Choose detection and recognition DPIs for a page from the character height seen in its probe."""
    native = native_dpi(page)
    ceiling = min(MAX_DPI, native * 1.05) if native else MAX_DPI
    ceiling = max(dpi_for_pixels(page, ceiling, max_pixels), 1.0)
    char_px = estimate_char_height(probe)
    char_pt = char_px * 72.0 / probe_dpi if char_px else None
    if fixed_dpi is not None:
        dpi = max(1.0, min(float(fixed_dpi), dpi_for_pixels(page, float(fixed_dpi), max_pixels)))
        return RasterPlan(dpi, dpi, char_pt)
    if char_pt is None:
        det = rec = min(150.0, ceiling)
        return RasterPlan(det, rec, None)
    det = min(max(72.0 * DET_CHAR_PX / char_pt, MIN_DPI), ceiling)
    rec = min(max(72.0 * REC_CHAR_PX / char_pt, det), ceiling)
    return RasterPlan(det, rec, char_pt)


INK_CONTRAST = 48  # grey levels from the paper's tone that count as ink (scan noise stays below)
INK_MARGIN = 64  # pixels of paper kept around the ink: the detector sees every line's surroundings
INK_MAX_SHARE = 0.5  # crop only when it drops at least half the pixels; else the full raster
# ... and at least this many: a small raster costs little to detect, and at its coarse scale (a page
# of large print at 40 dpi) the few pixels the boxes move when cropped are points that change sizes
INK_MIN_SAVING = 500_000


def ink_box(gray: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the part of `gray` that holds ink, with a margin of paper, or None when
    that part is most of the raster (a normal page; a scan with dark borders or speckle). The paper
    tone is the median grey, so tinted paper and light-on-dark rasters work alike."""
    h, w = gray.shape
    if h * w < INK_MIN_SAVING or h < 4 * INK_MARGIN or w < 4 * INK_MARGIN:
        return None
    paper = int(np.median(gray[::7, ::7]))
    ink = cv2.absdiff(gray, np.full_like(gray, paper)) > INK_CONTRAST
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(ink.any(axis=0))
    x0, x1 = max(0, int(cols[0]) - INK_MARGIN), min(w, int(cols[-1]) + 1 + INK_MARGIN)
    y0, y1 = max(0, int(rows[0]) - INK_MARGIN), min(h, int(rows[-1]) + 1 + INK_MARGIN)
    kept = (x1 - x0) * (y1 - y0)
    if kept > INK_MAX_SHARE * h * w or h * w - kept < INK_MIN_SAVING:
        return None
    # on the detector's grid of 32 (its coarsest stride): the crop is read as the full raster was
    x0, y0 = x0 // 32 * 32, y0 // 32 * 32
    x1, y1 = min(w, x0 + -(-(x1 - x0) // 32) * 32), min(h, y0 + -(-(y1 - y0) // 32) * 32)
    return x0, y0, x1, y1
