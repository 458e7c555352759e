"""Display formulas from the text layer: math regions become formula blocks with LaTeX.

A formula is often split by line grouping (a numerator, the main row and a denominator differ in
size and sit apart), so math regions stacked directly on top of each other are merged first. The
LaTeX itself comes from docpipe.science.math_latex; the block keeps the original text and bbox.
"""

from __future__ import annotations

from docpipe.assemble.regions import Region, union
from docpipe.engines.base import Rect
from docpipe.model import BlockType
from docpipe.science.math_latex import is_math_line, lines_to_latex, math_share

MATH_SHARE = 0.4  # the same bar is_math_line sets for one line


def _is_math(reg: Region) -> bool:
    if reg.kind != "text" or reg.type is not None or not reg.lines:
        return False
    if any(ln.mono for ln in reg.lines):
        return False  # code listings are full of operators
    return math_share(reg.lines) >= MATH_SHARE and all(is_math_line(ln) for ln in reg.lines)


def _stacked(a: Region, b: Region) -> bool:
    size = max(a.size, b.size, 1.0)
    gap = b.bbox[1] - a.bbox[3]
    overlap = min(a.bbox[2], b.bbox[2]) - max(a.bbox[0], b.bbox[0])
    return -0.5 * size <= gap <= 1.2 * size and overlap > 0


def mark_formulas(regions: list[Region], rules: list[Rect]) -> list[Region]:
    """Return the regions with math regions merged and typed as formulas (LaTeX in `latex`)."""
    math = sorted((r for r in regions if _is_math(r)), key=lambda r: r.bbox[1])
    if not math:
        return regions
    merged: list[Region] = []
    for reg in math:
        if merged and _stacked(merged[-1], reg):
            merged[-1].lines += reg.lines
            merged[-1].bbox = union(merged[-1].bbox, reg.bbox)
            merged[-1].text = f"{merged[-1].text} {reg.text}"
        else:
            merged.append(Region(bbox=reg.bbox, lines=list(reg.lines), text=reg.text))
    for reg in merged:
        x0, y0, x1, y1 = reg.bbox
        inside = [
            r for r in rules if r[0] >= x0 - 2 and r[2] <= x1 + 2 and y0 - 2 <= (r[1] + r[3]) / 2 <= y1 + 2
        ]
        reg.latex = lines_to_latex(reg.lines, inside)
        reg.type = BlockType.formula if reg.latex else None
    return [r for r in regions if not _is_math(r)] + merged
