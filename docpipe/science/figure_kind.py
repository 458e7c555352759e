"""Say what a figure is - chart, photo, diagram or chemical structure - from cheap statistics.

No model: the raster is reduced to at most 256 px on its long side and measured.

Features (all shares are of the reduced image's pixels unless said otherwise):
- `background`: near-white pixels (all channels >= 235). Drawings sit on white; photos do not.
- `colourful`: pixels with HSV saturation >= 0.25 and value >= 0.2.
- `colours`: distinct colours after quantising to 4 bits a channel. Photos have hundreds to
  thousands; drawings a handful plus antialiasing shades.
- `edges`: pixels whose grey-level gradient magnitude is >= 60.
- `diagonal`: share of edge pixels whose gradient points 22.5-67.5 degrees off the axes. Bonds of
  ring structures run at 30/90/150 degrees, so about two thirds of a molecule's edges are diagonal;
  boxes, bars, axes and grids are axis-aligned.
- `h_lines` / `v_lines`: rows / columns holding an unbroken ink run over >= 45% of the width /
  height, adjacent rows merged into one line. Chart axes, frames and grid lines.
- `ink`: non-background pixels.
Hints from the PDF: `drawings` (vector paths inside the figure; a photo is a single raster) and
`text_chars` (text-layer characters inside the figure: labels of charts and diagrams; a structure
has a few atom symbols).

Decision, first match wins (thresholds tuned on scripts/make_figure_fixtures.py images):
1. photo: background < 0.30 and colours >= 300 and no vector drawings.
2. chart: both an axis-like horizontal and vertical line (h_lines >= 1 and v_lines >= 1) with
   little diagonal structure outside colour (diagonal < 0.45 or colourful > 0.02), or >= 3
   horizontal or vertical lines (a grid).
3. chemical_structure: background >= 0.80, diagonal >= 0.42 (or >= 0.35 when sparse: ink <= 0.04
   and edges <= 0.06, as acyclic molecules with many labels are), no long lines, colourful < 0.05,
   and at most 60 text characters. Text set as an image measures diagonal ~0.33 with ink >= 0.07.
4. photo again for large textured rasters without white background (background < 0.5,
   colours >= 150, edges >= 0.08).
5. diagram: everything else that is drawn (boxes and arrows, schematics, flow charts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

KINDS = ("chart", "photo", "diagram", "chemical_structure")
_SIDE = 256


@dataclass(frozen=True)
class FigureFeatures:
    background: float
    colourful: float
    colours: int
    edges: float
    diagonal: float
    h_lines: int
    v_lines: int
    ink: float


def _long_lines(ink: np.ndarray, axis: int, share: float = 0.45) -> int:
    """Count lines (adjacent rows or columns merged) holding an ink run over `share` of the extent."""
    mask = ink if axis == 0 else ink.T
    length = mask.shape[1]
    hits = []
    for row in mask:
        if row.sum() < share * length:
            hits.append(False)
            continue
        # longest run of consecutive True values
        padded = np.concatenate(([0], row.astype(np.int8), [0]))
        edges = np.flatnonzero(np.diff(padded))
        runs = edges[1::2] - edges[::2]
        hits.append(bool(runs.size) and runs.max() >= share * length)
    count, previous = 0, False
    for hit in hits:
        if hit and not previous:
            count += 1
        previous = hit
    return count


def figure_features(pixels: Image.Image) -> FigureFeatures:
    img = pixels.convert("RGB")
    scale = _SIDE / max(img.size)
    if scale < 1:
        img = img.resize(
            (max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.BILINEAR
        )
    rgb = np.asarray(img, dtype=np.int16)
    background = (rgb >= 235).all(axis=-1)
    hsv = np.asarray(img.convert("HSV"), dtype=np.float32) / 255.0
    colourful = (hsv[..., 1] >= 0.25) & (hsv[..., 2] >= 0.2)
    quant = (rgb >> 4).astype(np.int32)
    colours = int(np.unique(quant[..., 0] * 256 + quant[..., 1] * 16 + quant[..., 2]).size)
    grey = rgb.mean(axis=-1)
    gx = np.zeros_like(grey)
    gy = np.zeros_like(grey)
    gx[:, 1:-1] = grey[:, 2:] - grey[:, :-2]
    gy[1:-1, :] = grey[2:, :] - grey[:-2, :]
    magnitude = np.hypot(gx, gy)
    edge = magnitude >= 60
    angle = np.degrees(np.arctan2(np.abs(gy[edge]), np.abs(gx[edge])))  # 0..90
    diagonal = float(((angle >= 22.5) & (angle <= 67.5)).mean()) if angle.size else 0.0
    ink = (grey < 200) | colourful
    return FigureFeatures(
        background=float(background.mean()),
        colourful=float(colourful.mean()),
        colours=colours,
        edges=float(edge.mean()),
        diagonal=diagonal,
        h_lines=_long_lines(ink, 0),
        v_lines=_long_lines(ink, 1),
        ink=float(ink.mean()),
    )


def classify_features(f: FigureFeatures, drawings: int = 0, text_chars: int = 0) -> str:
    """The decision list documented in the module docstring."""
    if f.background < 0.30 and f.colours >= 300 and drawings == 0:
        return "photo"
    axes = f.h_lines >= 1 and f.v_lines >= 1
    if (axes and (f.diagonal < 0.45 or f.colourful > 0.02)) or f.h_lines + f.v_lines >= 3:
        return "chart"
    # Acyclic molecules carry more label text, so less diagonal share; they are still sparse, unlike
    # text set as an image (diagonal about 0.33, ink 0.07 and up).
    slanted = f.diagonal >= 0.42 or (f.diagonal >= 0.35 and f.ink <= 0.04 and f.edges <= 0.06)
    if (
        f.background >= 0.80
        and slanted
        and f.h_lines == 0
        and f.v_lines == 0
        and f.colourful < 0.05
        and text_chars <= 60
    ):
        return "chemical_structure"
    if f.background < 0.5 and f.colours >= 150 and f.edges >= 0.08 and drawings == 0:
        return "photo"
    return "diagram"


def classify_figure(pixels: Image.Image, drawings: int = 0, text_chars: int = 0) -> str:
    """One of "chart", "photo", "diagram", "chemical_structure" for a figure's pixels.

    `drawings`: vector paths inside the figure on its PDF page (0 for a raster or unknown);
    `text_chars`: text-layer characters inside it.
    """
    return classify_features(figure_features(pixels), drawings, text_chars)
