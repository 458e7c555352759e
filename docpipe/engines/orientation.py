"""Page orientation for scans: which multiple of 90 degrees turns the page upright.

Two cheap questions instead of one expensive one:

1. Do text lines run horizontally or vertically? The text detector's line boxes already answer
   this: a line is much longer than it is tall along its reading direction, so the long sides of the
   boxes vote (weighted by length, since a long line is stronger evidence than a short word).
2. Upright or upside down? Asked only on a sample of the longest lines, after the page has been turned
   so that lines are horizontal, by a tiny 0/180 classifier (or any scorer with the same contract).

Skew of a few degrees does not matter to either: the boxes are minimum-area rectangles, so a line
tilted by 5 degrees still has its long side nearly horizontal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Quad = np.ndarray  # (4, 2) float32 points: top-left, top-right, bottom-right, bottom-left

MIN_ELONGATION = 2.0  # long side / short side for a box to say anything about direction
VERTICAL_MARGIN = 1.5  # vertical evidence must beat horizontal by this factor to turn the page
SAMPLE_LINES = 8
WINDOW_ASPECT = 4.0  # the 0/180 classifier's input is 192 x 48
WINDOWS_PER_LINE = 3


def order_quad(points: np.ndarray) -> Quad:
    """Order four points as top-left, top-right, bottom-right, bottom-left for a roughly
    horizontal box."""
    pts = np.asarray(points, dtype=np.float32).reshape(4, 2)
    by_x = pts[np.argsort(pts[:, 0], kind="stable")]
    left, right = by_x[:2], by_x[2:]
    tl, bl = left[np.argsort(left[:, 1])]
    tr, br = right[np.argsort(right[:, 1])]
    return np.array([tl, tr, br, bl], dtype=np.float32)


def quad_sides(quad: Quad) -> tuple[float, float]:
    """(extent along x-ish edge, extent along y-ish edge) of an ordered quad."""
    q = np.asarray(quad, dtype=np.float32)
    w = float(max(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3])))
    h = float(max(np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1])))
    return w, h


def lines_are_vertical(quads: Sequence[Quad]) -> bool:
    horizontal = vertical = 0.0
    for q in quads:
        pts = np.asarray(q, dtype=np.float32)
        dx = float(pts[:, 0].max() - pts[:, 0].min())
        dy = float(pts[:, 1].max() - pts[:, 1].min())
        if dx >= MIN_ELONGATION * dy:
            horizontal += dx
        elif dy >= MIN_ELONGATION * dx:
            vertical += dy
    return vertical > VERTICAL_MARGIN * horizontal and vertical > 0


def rotate_image(image: np.ndarray, degrees: int) -> np.ndarray:
    """Turn an image clockwise by a multiple of 90 degrees (contiguous, for OpenCV)."""
    k = (degrees // 90) % 4
    if k == 0:
        return image
    return np.ascontiguousarray(np.rot90(image, k=-k))


def rotate_quads(quads: Sequence[Quad], width: float, height: float, degrees: int) -> list[Quad]:
    """Map points of a width x height image into the same image turned clockwise by `degrees`."""
    k = (degrees // 90) % 4
    out: list[Quad] = []
    for q in quads:
        p = np.asarray(q, dtype=np.float32).reshape(4, 2)
        x, y = p[:, 0], p[:, 1]
        if k == 1:
            p = np.stack([height - y, x], axis=1)
        elif k == 2:
            p = np.stack([width - x, height - y], axis=1)
        elif k == 3:
            p = np.stack([y, width - x], axis=1)
        out.append(order_quad(p))
    return out


def longest(quads: Sequence[Quad], n: int) -> list[Quad]:
    return sorted(quads, key=lambda q: -quad_sides(q)[0])[:n]


def detect_rotation(
    image: np.ndarray,
    quads: Sequence[Quad],
    crop: Callable[[np.ndarray, Quad], np.ndarray],
    upside_down_prob: Callable[[list[np.ndarray]], list[float]],
    sample: int = SAMPLE_LINES,
) -> int:
    """Clockwise degrees (0, 90, 180, 270) that turn `image` upright, judged from its line boxes.

    `crop` cuts a line out of an image given its quad; `upside_down_prob` returns, per line crop,
    the probability that it is upside down."""
    if not quads:
        return 0
    h, w = image.shape[:2]
    base = 90 if lines_are_vertical(quads) else 0
    turned = rotate_image(image, base)
    turned_quads = rotate_quads(quads, w, h, base) if base else [order_quad(q) for q in quads]
    horizontal = [q for q in turned_quads if quad_sides(q)[0] >= MIN_ELONGATION * quad_sides(q)[1]]
    picks = longest(horizontal or turned_quads, sample)
    windows = [w for q in picks for w in line_windows(crop(turned, q))]
    if not windows:
        return base
    probs = upside_down_prob(windows)
    # Mean vote of (p - 0.5): confident windows count more than shaky ones.
    vote = sum(p - 0.5 for p in probs) / len(probs)
    return (base + 180) % 360 if vote > 0 else base


def line_windows(line: np.ndarray, aspect: float = WINDOW_ASPECT, per_line: int = WINDOWS_PER_LINE) -> list:
    """Pieces of a line crop about `aspect` times as wide as tall: the 0/180 classifier squeezes its
    input into 192x48 pixels, so a whole long line would reach it as an unreadable smear."""
    h, w = line.shape[:2]
    if h == 0 or w == 0:
        return []
    step = max(int(h * aspect), 1)
    starts = list(range(0, max(w - step // 2, 1), step))
    if len(starts) > per_line:  # spread the picks along the line
        idx = np.linspace(0, len(starts) - 1, per_line).round().astype(int)
        starts = [starts[i] for i in idx]
    pieces = [line[:, x : x + step] for x in starts]
    return [p for p in pieces if p.size and float(p.std()) > 12.0]  # skip blank gaps
