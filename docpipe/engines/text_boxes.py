"""Line boxes from the text detector's probability map (PP-OCR's DB detector: "Differentiable
Binarization", Liao et al. 2020).

The detector scores every pixel for "inside a text line", trained on line areas shrunk towards their
centre line. So a box is found as the regions above `thresh`, each region's minimum-area rectangle
kept when the map's mean inside it reaches `box_thresh`, then grown back by the shrink: a distance
of area x `unclip_ratio` / perimeter on every side, rounded corners, whose minimum-area rectangle is
the box. Written here rather than imported from rapidocr, whose detector module loads its whole
configuration stack on import (~0.5 s on the first page that needs OCR).
"""

from __future__ import annotations

import cv2
import numpy as np
import pyclipper

from docpipe.engines.orientation import Quad, order_quad

THRESH = 0.3  # map value above which a pixel is text
BOX_THRESH = 0.5  # mean map value a box needs
UNCLIP_RATIO = 1.6
MAX_CANDIDATES = 2000
MIN_SIDE = 3  # pixels: thinner regions are noise
_DILATE = np.ones((2, 2), dtype=np.uint8)  # joins regions one pixel apart


def line_boxes(prob: np.ndarray) -> list[Quad]:
    """Quads (top-left, top-right, bottom-right, bottom-left; pixel coordinates of `prob`, a 2-D
    map in [0, 1]) of the text lines, in the order their regions were traced."""
    h, w = prob.shape
    mask = cv2.dilate((prob > THRESH).astype(np.uint8), _DILATE)
    contours, _ = cv2.findContours(mask * 255, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    out: list[Quad] = []
    for contour in contours[:MAX_CANDIDATES]:
        corners, short = _min_rect(contour)
        if short < MIN_SIDE or _mean_inside(prob, corners) < BOX_THRESH:
            continue
        corners, short = _min_rect(_grown(corners))
        if short < MIN_SIDE + 2:
            continue
        corners = np.clip(np.round(corners), 0, (w, h))
        # within the last row and column, whole pixels
        quad = order_quad(np.minimum(corners, (w - 1, h - 1)).astype(np.int32))
        width, height = np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[3] - quad[0])
        if int(width) <= MIN_SIDE or int(height) <= MIN_SIDE:
            continue
        out.append(quad)
    return out


def _min_rect(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Corners of the minimum-area rectangle around `points`, clockwise from the top-left, and its
    shorter side."""
    rect = cv2.minAreaRect(points)
    pts = sorted(cv2.boxPoints(rect), key=lambda p: p[0])
    top_left, bottom_left = (pts[0], pts[1]) if pts[1][1] > pts[0][1] else (pts[1], pts[0])
    top_right, bottom_right = (pts[2], pts[3]) if pts[3][1] > pts[2][1] else (pts[3], pts[2])
    return np.array([top_left, top_right, bottom_right, bottom_left]), min(rect[1])


def _mean_inside(prob: np.ndarray, corners: np.ndarray) -> float:
    """Mean of the map over the rectangle's pixels (its integer outline filled)."""
    h, w = prob.shape
    x0 = int(np.clip(np.floor(corners[:, 0].min()), 0, w - 1))
    x1 = int(np.clip(np.ceil(corners[:, 0].max()), 0, w - 1))
    y0 = int(np.clip(np.floor(corners[:, 1].min()), 0, h - 1))
    y1 = int(np.clip(np.ceil(corners[:, 1].max()), 0, h - 1))
    inside = np.zeros((y1 - y0 + 1, x1 - x0 + 1), dtype=np.uint8)
    cv2.fillPoly(inside, (corners - (x0, y0)).reshape(1, -1, 2).astype(np.int32), 1)
    return cv2.mean(prob[y0 : y1 + 1, x0 : x1 + 1], inside)[0]


def _grown(corners: np.ndarray) -> np.ndarray:
    """The rectangle pushed out by the detector's shrink distance, corners rounded."""
    x, y = corners[:, 0].astype(np.float64), corners[:, 1].astype(np.float64)
    area = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
    perimeter = float(np.hypot(x - np.roll(x, -1), y - np.roll(y, -1)).sum())
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(corners, pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    return np.array(offset.Execute(area * UNCLIP_RATIO / perimeter)).reshape((-1, 1, 2))
