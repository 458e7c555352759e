"""Ruled tables on scans: find the rules in the raster, then reuse the lattice path of born-digital
pages (engines/lattice.py) with OCR lines as the text.

Rules are long thin runs of ink: a morphological opening with a long horizontal (vertical) kernel
keeps only strokes longer than any glyph, on the page turned upright and deskewed by the same angle
as the OCR line boxes, so rules and text share one frame.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from docpipe.engines.lattice import find_lattice_tables
from docpipe.model import TableData
from docpipe.model.raw import Line, Rect

MIN_RULE_INCH = 0.2  # longer than any glyph stroke of body text


def detect_rules(gray: np.ndarray, dpi: float, skew: float) -> list[Rect]:
    """Thin rectangles (pixels of the deskewed upright page) of horizontal and vertical rules."""
    h, w = gray.shape
    if abs(skew) > 1e-4:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), math.degrees(skew), 1.0)
        gray = cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    ink = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    n = max(15, int(MIN_RULE_INCH * dpi))
    rects: list[Rect] = []
    for kernel in ((n, 1), (1, n)):
        mask = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, kernel))
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        for x, y, bw, bh, _area in stats[1:count]:
            if (kernel[0] > 1 and bh <= max(3, dpi / 36)) or (kernel[1] > 1 and bw <= max(3, dpi / 36)):
                rects.append((float(x), float(y), float(x + bw), float(y + bh)))
    return rects


def scan_tables(gray: np.ndarray, dpi: float, skew: float, lines: list[Line]) -> list[tuple[Rect, TableData]]:
    """Tables drawn with rules on an upright scan; `lines` are the OCR lines in page points of the
    same (deskewed) frame."""
    scale = 72.0 / dpi
    rects = detect_rules(gray, dpi, skew)
    if len(rects) < 4:
        return []
    # the lattice finder reads vector drawings; rules as thin filled rectangles in points
    drawings = [
        {"items": [("re", (x0 * scale, y0 * scale, x1 * scale, y1 * scale))], "type": "f"}
        for x0, y0, x1, y1 in rects
    ]
    tables, _unresolved = find_lattice_tables(drawings, lines)
    return tables
