"""Figures: merge image fragments into figures, absorb their labels, place them in reading order.

Technical drawings are often stored as dozens of small images; a figure is the cluster of images
that touch or overlap. Short text lying inside a figure ("Nut case", axis labels) belongs to the
figure, not to the running text. Figures are left out of the column analysis (a wide figure would
block the gutter between two columns of text) and put back before the first text region below them
in the same column.
"""

from __future__ import annotations

from docpipe.assemble.regions import Region, union
from docpipe.model.raw import RawImage, Rect, overlap_ratio

TOUCH = 4.0  # points: images closer than this are parts of one figure
LABEL_MAX_WORDS = 12


def _near(a: Rect, b: Rect, pad: float) -> bool:
    return a[0] - pad <= b[2] and b[0] - pad <= a[2] and a[1] - pad <= b[3] and b[1] - pad <= a[3]


def cluster_images(images: list[RawImage]) -> list[RawImage]:
    clusters: list[RawImage] = []
    for im in sorted(images, key=lambda i: (i.bbox[1], i.bbox[0])):
        merged = RawImage(bbox=im.bbox, xref=im.xref)
        changed = True
        while changed:  # a new image can bridge two clusters
            changed = False
            for other in list(clusters):
                if _near(merged.bbox, other.bbox, TOUCH):
                    clusters.remove(other)
                    merged = RawImage(bbox=union(merged.bbox, other.bbox), xref=0)
                    changed = True
        clusters.append(merged)
    return clusters


def absorb_figure_labels(regions: list[Region], figures: list[Region]) -> list[Region]:
    """Move short text regions lying inside a figure into that figure's text; return the rest."""
    kept: list[Region] = []
    for reg in regions:
        host = None
        if len(reg.text.split()) <= LABEL_MAX_WORDS:
            cx, cy = (reg.bbox[0] + reg.bbox[2]) / 2, (reg.bbox[1] + reg.bbox[3]) / 2
            for fig in figures:
                b = fig.bbox
                if (b[0] <= cx <= b[2] and b[1] - TOUCH <= cy <= b[3] + TOUCH) or overlap_ratio(
                    reg.bbox, b
                ) > 0.6:
                    host = fig
                    break
        if host is None:
            kept.append(reg)
        else:
            host.text = f"{host.text} {reg.text}".strip()
    return kept


def place_figures(ordered: list[Region], figures: list[Region]) -> list[Region]:
    out = list(ordered)
    for fig in sorted(figures, key=lambda f: (f.bbox[1], f.bbox[0])):
        pos = len(out)
        for i, reg in enumerate(out):
            if reg.kind == "image":
                continue
            overlaps = min(reg.bbox[2], fig.bbox[2]) - max(reg.bbox[0], fig.bbox[0]) > 0
            if overlaps and reg.bbox[1] >= fig.bbox[1] - TOUCH:
                pos = i
                break
        out.insert(pos, fig)
    return out
