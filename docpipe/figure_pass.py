"""The figure stages after assembly: what each figure is (chart, photo, diagram, chemical
structure, read with OSRA per `--chem`), and its pixels for NAME_images/."""

from __future__ import annotations

import logging

import pymupdf

from docpipe.model import BlockType, PageResult
from docpipe.sources.page_images import image_info, page_display
from docpipe.writers.outputs import ImageBlob

log = logging.getLogger(__name__)

# Notes already logged, by kind ("osra not installed"...): one line per kind and process, not one
# per figure of a long batch.
_logged: set[str] = set()


def read_figures(
    doc: pymupdf.Document, pages: list[PageResult], source: str, chem: str, typed: set[int]
) -> None:
    """Classify the figures of pages assembled from lines, and read structure diagrams into SMILES.
    `typed`: indexes of pages whose engine typed its own blocks, figures included (a VLM's figure
    pass), which are left as they are."""
    from docpipe.science.figure_reading import read_figure

    for page_result in pages:
        figures = [b for b in page_result.blocks if b.type is BlockType.figure and b.figure is not None]
        if not figures or page_result.index in typed or page_result.rotation:
            continue
        page = doc.load_page(page_result.index)
        drawings = page.get_cdrawings()
        display = page_display(page)
        for block in figures:
            try:
                reading = read_figure(page, block.bbox, chem=chem, drawings=drawings, display=display)
            except Exception as exc:  # a figure we cannot read stays a plain figure
                reading = None
                note = f"figure {block.id}: {type(exc).__name__}: {exc}"
            else:
                note = reading.note
                block.figure.kind = reading.kind
                if reading.chemical is not None:
                    block.type = BlockType.chemical
                    block.chemical = reading.chemical
            if note and note.split(":")[0] not in _logged:
                _logged.add(note.split(":")[0])
                log.warning("docpipe: %s, page %d: %s", source, page_result.index + 1, note)


def figure_images(
    doc: pymupdf.Document, pages: list[PageResult], dpi: int, crops: dict[str, bytes]
) -> dict[str, ImageBlob]:
    """Figure pixels: the crop the engine made (PNG, by block id) when there is one, else the
    embedded image itself when the figure is one, else a rendering of its box."""
    out: dict[str, ImageBlob] = {}
    for page_result in pages:
        figures = [b for b in page_result.blocks if b.figure is not None]
        for block in [b for b in figures if b.id in crops]:
            out[block.id] = ImageBlob(crops[block.id], "png")
        figures = [b for b in figures if b.id not in out]
        if not figures:
            continue
        page = doc.load_page(page_result.index)
        xrefs = {tuple(round(v) for v in info["bbox"]): info.get("xref", 0) for info in image_info(page)}
        for block in figures:
            try:
                xref = xrefs.get(tuple(round(v) for v in block.bbox), 0)
                if xref and page_result.rotation == 0:
                    img = doc.extract_image(xref)
                    if img and img.get("image") and img.get("ext") in ("png", "jpeg", "jpg"):
                        out[block.id] = ImageBlob(img["image"], "jpeg" if img["ext"] == "jpg" else img["ext"])
                        continue
                pix = page.get_pixmap(clip=pymupdf.Rect(block.bbox), dpi=dpi)
                out[block.id] = ImageBlob(pix.tobytes("png"), "png")
            except Exception:  # a figure we cannot render stays in the JSON without a file
                continue
    return out
