"""One call for assembly: what kind of figure sits at this box of a PDF page, and, for chemical
structures, the molecule OSRA reads from it.

The crop is rendered only here, at `dpi` (200 by default: OSRA reads RDKit-style drawings best at
about that resolution; 150 dpi loses a few), and dropped when the call returns.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

import pymupdf
from PIL import Image

from docpipe.model import ChemicalData
from docpipe.model.raw import Rect
from docpipe.science.figure_kind import classify_figure
from docpipe.science.osra import OsraMissing, heavy_atoms, recognise_structure

ChemMode = Literal["off", "auto", "on"]
CLASSIFY_DPI = 110
MIN_HEAVY_ATOMS = 4


@dataclass
class FigureReading:
    kind: str  # chart, photo, diagram or chemical_structure
    chemical: ChemicalData | None = None
    # Why no structure was read although one was asked for (OSRA missing, timed out, failed).
    note: str | None = None


def drawings_in(page: pymupdf.Page, bbox: Rect, drawings: list[dict] | None = None) -> int:
    """Vector paths touching `bbox`; pass `page.get_cdrawings()` when reading several figures of a
    page, so the page's drawings are listed once."""
    clip = pymupdf.Rect(bbox)
    paths = drawings if drawings is not None else page.get_cdrawings()
    return sum(1 for d in paths if pymupdf.Rect(d["rect"]).intersects(clip))


def text_chars_in(page: pymupdf.Page, bbox: Rect) -> int:
    return len("".join(page.get_text("text", clip=pymupdf.Rect(bbox)).split()))


def _png(page: pymupdf.Page, bbox: Rect, dpi: int) -> bytes:
    return page.get_pixmap(clip=pymupdf.Rect(bbox), dpi=dpi, alpha=False).tobytes("png")


def _pixels(page: pymupdf.Page | pymupdf.DisplayList, bbox: Rect, dpi: int) -> Image.Image:
    """The crop as an RGB image: the pixmap's samples taken as they are, the same pixels a PNG of
    it decodes to without encoding one. An empty crop goes through PNG as before (whose encoder
    refuses it, which leaves the figure unread)."""
    zoom = pymupdf.Matrix(dpi / 72, dpi / 72)
    pix = page.get_pixmap(matrix=zoom, clip=pymupdf.Rect(bbox), alpha=False)
    if pix.n != 3 or pix.width < 1 or pix.height < 1 or pix.stride != 3 * pix.width:
        return Image.open(io.BytesIO(pix.tobytes("png")))
    return Image.frombytes("RGB", (pix.width, pix.height), pix.samples)


def read_figure(
    page: pymupdf.Page,
    bbox: Rect,
    chem: ChemMode = "auto",
    dpi: int = 200,
    timeout: float = 30.0,
    drawings: list[dict] | None = None,
    display: pymupdf.Page | pymupdf.DisplayList | None = None,
) -> FigureReading:
    """Classify the figure at `bbox`; with chem="on" run OSRA on every figure, with "auto" only on
    figures that look like structure diagrams, with "off" never. OSRA's absence or failure leaves
    the figure a figure and says why in `note`. `display`: the page's display list, when reading
    several figures of a page."""
    with _pixels(display or page, bbox, CLASSIFY_DPI) as img:
        kind = classify_figure(img, drawings_in(page, bbox, drawings), text_chars_in(page, bbox))
    reading = FigureReading(kind)
    if chem == "off" or (chem == "auto" and kind != "chemical_structure"):
        return reading
    try:
        found = recognise_structure(_png(page, bbox, dpi), timeout=timeout)
    except (OsraMissing, TimeoutError, ValueError, OSError) as exc:
        reading.note = str(exc)
        return reading
    # In "on" mode a chart or photo may still yield OSRA's stray one-atom "molecules" from letters.
    plausible = found is not None and found.valid and heavy_atoms(found) >= MIN_HEAVY_ATOMS
    if found is not None and (plausible or kind == "chemical_structure"):
        reading.chemical = found
        reading.kind = "chemical_structure"
    return reading
