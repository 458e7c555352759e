"""Recognition of many short lines (a figure's tick labels, legend entries and box captions; a scanned
page's formula pieces, table cells and page numbers) at a fraction of the usual cost. Page OCR and
figure text both read their crops here.

The recognizer reads a 48-pixel-high strip and was trained on strips at least 320 pixels wide, so
every crop is padded to that width: a chart's thirty tick labels cost thirty full-width rows. Here
short crops are laid side by side, white gaps between them, in strips of about a long line's width,
and each strip is read once; the CTC decoder's time steps fall at known x positions, so every
character is handed back to the crop it was read from. Long crops are read as the engine reads them.
Crops keep their aspect ratio: narrowed to save time, doubled letters and dots ("Fill",
"...") fall into one time step of the CTC decoder and collapse into one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from docpipe.engines.ocr_runtime import padded

REC_HEIGHT = 48  # the recognizer's input height
REC_MIN_WIDTH = 320  # the recognizer was trained on crops padded to at least this width
SHORT = REC_MIN_WIDTH  # crops narrower than this (at REC_HEIGHT) share strips
GAP = 40  # white pixels between packed crops: wider than a word space, so no text runs across
STRIP = 1600  # width of a packed strip


@dataclass(slots=True)
class Read:
    text: str
    confidence: float


def _scaled_width(crop: np.ndarray) -> int:
    """The crop's width once brought to the recognizer's height."""
    h, w = crop.shape[:2]
    return max(1, int(round(w * REC_HEIGHT / max(h, 1))))


def _scaled(crop: np.ndarray) -> np.ndarray:
    return cv2.resize(crop, (_scaled_width(crop), REC_HEIGHT), interpolation=cv2.INTER_AREA)


def recognise_lines(models: Any, crops: Sequence[np.ndarray], scale_long: bool = True) -> list[Read]:
    """Text and confidence of each grey crop; `models` is the OCR engine's `PaddleOcrModels`.
    `scale_long`: long crops are brought to the recognizer's height here (area averaging, what
    figure text was tuned on); else the engine resizes them itself (bilinear, as page OCR reads)."""
    # widths decide the route; a crop is resized only where this module reads it at that height
    widths = [_scaled_width(c) for c in crops]
    out: list[Read] = [Read("", 0.0)] * len(crops)
    long_ids = [i for i, w in enumerate(widths) if w >= SHORT]
    if long_ids:
        long = [_scaled(crops[i]) if scale_long else crops[i] for i in long_ids]
        for i, r in zip(long_ids, models.recognise(long), strict=True):
            out[i] = Read(r.text, r.confidence)
    short_ids = sorted((i for i, w in enumerate(widths) if w < SHORT), key=lambda i: widths[i])
    scaled = {i: _scaled(crops[i]) for i in short_ids}
    strips: list[list[int]] = []
    width = 0
    for i in short_ids:
        if not strips or width + GAP + scaled[i].shape[1] > STRIP:
            strips.append([])
            width = -GAP
        width += GAP + scaled[i].shape[1]
        strips[-1].append(i)
    layouts = [_layout([scaled[k] for k in ids], models.rec.shape_step) for ids in strips]
    inputs = (
        _strip_input([scaled[k] for k in ids], spans, w)
        for ids, (spans, w) in zip(strips, layouts, strict=True)
    )
    for ids, (spans, w), probs in zip(strips, layouts, models.rec.run_all(inputs), strict=True):
        _decode_strip(models.charset, probs[0], spans, w, ids, out)
    return out


def _layout(pieces: list[np.ndarray], shape_step: int) -> tuple[list[tuple[int, int]], int]:
    """Where each piece lies along the strip, and the strip's width."""
    spans: list[tuple[int, int]] = []
    x = GAP // 2
    for p in pieces:
        spans.append((x, x + p.shape[1]))
        x += p.shape[1] + GAP
    return spans, padded(max(SHORT, x - GAP // 2), shape_step)


def _strip_input(pieces: list[np.ndarray], spans: list[tuple[int, int]], width: int) -> np.ndarray:
    row = np.full((REC_HEIGHT, width), 255, dtype=np.uint8)
    for (x0, x1), p in zip(spans, pieces, strict=True):
        row[:, x0:x1] = p
    return np.broadcast_to(row.astype(np.float32) * (2.0 / 255.0) - 1.0, (1, 3, REC_HEIGHT, width)).copy()


def _decode_strip(
    charset: np.ndarray,
    probs: np.ndarray,
    spans: list[tuple[int, int]],
    width: int,
    ids: list[int],
    out: list[Read],
) -> None:
    best = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    step = width / len(best)
    chars: list[list[str]] = [[] for _ in spans]
    scores: list[list[float]] = [[] for _ in spans]
    prev = 0
    for t, k in enumerate(best):
        if k != 0 and k != prev:
            # the crop nearest the time step's centre; gaps are wide, so half a gap is no doubt
            centre = (t + 0.5) * step
            dist = [max(x0 - centre, centre - x1, 0.0) for x0, x1 in spans]
            n = int(np.argmin(dist))
            if dist[n] <= GAP / 2:
                chars[n].append(str(charset[k]))
                scores[n].append(float(conf[t]))
        prev = k
    for n, i in enumerate(ids):
        text = "".join(chars[n]).strip()
        out[i] = Read(text, float(np.mean(scores[n])) if scores[n] else 0.0)
