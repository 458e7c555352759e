"""Words inside raster figures: OCR of the images that figures on text-layer pages hold (charts,
diagrams, posters, screenshots, scanned inserts), with the OCR engine's already loaded models.

The words go into each figure's `FigureData.text_lines` (page points, reading order, grouped into
paragraph-like runs). Most images hold no words, so the work is ordered by what it costs:

1. only figures of pages assembled from the text layer (OCR and VLM pages read their pixels already)
   and only images big enough, on the page and in pixels, to carry legible print;
2. each image is read once per document (a logo on every page costs one reading), cached by xref;
3. text-layer words over the image are painted out before detection: their text is exact already,
   so they are neither read twice nor paid for; an image under a whole page of text-layer words (a
   scan with its own OCR layer, which the router trusted) is not read at all;
4. a near-uniform render is skipped; detection runs on a render capped in DPI and pixels, and
   recognition only on the lines it found (a photo without text costs one detection).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pymupdf

from docpipe.errors import MissingExtra
from docpipe.model import BlockType, FigureTextLine, PageResult
from docpipe.sources.page_images import image_info, page_display
from docpipe.util.disjoint_set import DisjointSet

if TYPE_CHECKING:
    from docpipe.recognition import Engines

log = logging.getLogger(__name__)

MIN_SIDE_PT = (30.0, 10.0)  # width, height on the page: smaller images are icons and bullets
MIN_SIDE_PX = (32, 12)  # width, height in the image's own pixels
DET_DPI = 150.0  # 6 pt print gets ~9 px glyphs, what the detector needs
REC_DPI = (144.0, 300.0)  # recognition render: at least 2x a 72 dpi screenshot, at most a scan's 300
DET_MAX_PIXELS = 2_000_000
REC_MAX_PIXELS = 6_000_000
MIN_CONTRAST = 6.0  # grey-level standard deviation below which a render is blank or a flat tint
MIN_CONFIDENCE = 0.6
MIN_CONFIDENCE_SHORT = 0.85  # one or two characters: detector noise on textures reads as "I", "."
VERTICAL = 2.0  # a line box this many times taller than wide holds text set sideways
READ_ALREADY_WORDS = 40  # text-layer words inside an image that make it a page already read
MASK_PAD_PT = 1.0
TOUCH_PT = 1.0  # images of a figure this close are pieces of one picture

# (x0, y0, x1, y1) of a line as fractions of its image's box, with text and confidence
NormLine = tuple[tuple[float, float, float, float], str, float]


@dataclass
class FigureTextReader:
    """Reads the words of a document's figure images; one per document (it holds the xref cache).
    `models` returns the OCR engine's loaded models (`PaddleOcrModels`), built on first need."""

    models: Callable[[], Any]
    cache: dict[tuple, list[NormLine]] = field(default_factory=dict)
    images_read: int = 0
    unavailable: str = ""  # why the OCR models cannot be had (then figures keep no words)

    @classmethod
    def for_engines(cls, engines: Engines) -> FigureTextReader:
        """A reader sharing the OCR engine's models (loaded once per process)."""
        return cls(lambda: engines.get("ocr").models)

    def read_pages(self, doc: pymupdf.Document, pages: list[PageResult], skip: set[int]) -> None:
        """Fill `text_lines` of the figures of `pages`, except pages in `skip` (engines that typed
        their own blocks) and turned pages (their boxes are in the turned frame)."""
        if self.unavailable:
            return
        for page_result in pages:
            figures = [
                b
                for b in page_result.blocks
                if b.type in (BlockType.figure, BlockType.chart) and b.figure is not None
            ]
            if not figures or page_result.index in skip or page_result.rotation:
                continue
            page = doc.load_page(page_result.index)
            images = _candidate_images(page)
            if not images:
                continue
            words: list[pymupdf.Rect] | None = None
            display = page_display(page)
            for block in figures:
                box = pymupdf.Rect(block.bbox)
                lines: list[tuple[pymupdf.Rect, str, float]] = []
                for image in overlap_groups([im for im in images if _centre_in(im.rect, box)]):
                    if words is None:
                        words = [pymupdf.Rect(w[:4]) for w in page.get_text("words")]
                    try:
                        lines += self._read_image(display, image, words)
                    except (MissingExtra, ImportError, FileNotFoundError) as exc:
                        self.unavailable = str(exc)
                        log.warning("docpipe: figure text left out: %s", exc)
                        return
                block.figure.text_lines = group_lines(_distinct(lines))

    def _read_image(
        self, display: pymupdf.Page | pymupdf.DisplayList, image: PlacedImage, words: list[pymupdf.Rect]
    ) -> list[tuple[pymupdf.Rect, str, float]]:
        xref, rect = image.xref, image.rect
        over = [w for w in words if _centre_in(w, rect)]
        if len(over) >= READ_ALREADY_WORDS:
            return []
        # the same image placed alike: the same words at the same places relative to its box
        key = (xref, round(rect.width), round(rect.height), image.placement)
        norm = self.cache.get(key) if xref and not over else None
        if norm is None:
            norm = self._ocr(display, rect, image.dpi, over)
            if xref and not over:
                self.cache[key] = norm
        return [
            (
                pymupdf.Rect(
                    rect.x0 + b[0] * rect.width,
                    rect.y0 + b[1] * rect.height,
                    rect.x0 + b[2] * rect.width,
                    rect.y0 + b[3] * rect.height,
                ),
                text,
                conf,
            )
            for b, text, conf in norm
        ]

    def _ocr(
        self,
        display: pymupdf.Page | pymupdf.DisplayList,
        rect: pymupdf.Rect,
        native_dpi: float,
        masks: list[pymupdf.Rect],
    ) -> list[NormLine]:
        import cv2

        # OCR's modules import OpenCV, which only the ocr extra installs: loaded on first use
        from docpipe.engines.ocr import crop_line
        from docpipe.engines.orientation import quad_sides
        from docpipe.engines.packed_lines import recognise_lines
        from docpipe.engines.raster import render_gray

        self.images_read += 1
        rec_dpi = _rec_dpi(rect, native_dpi)
        rec = render_gray(display, rec_dpi, clip=rect)
        h, w = rec.shape
        sx, sy = w / rect.width, h / rect.height
        for m in masks:  # text-layer words: already exact, not to be detected again
            x0, y0 = int((m.x0 - rect.x0 - MASK_PAD_PT) * sx), int((m.y0 - rect.y0 - MASK_PAD_PT) * sy)
            x1, y1 = (
                int((m.x1 - rect.x0 + MASK_PAD_PT) * sx) + 1,
                int((m.y1 - rect.y0 + MASK_PAD_PT) * sy) + 1,
            )
            rec[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = 255
        if float(rec.std()) < MIN_CONTRAST:
            return []
        det_scale = min(1.0, DET_DPI / rec_dpi, (DET_MAX_PIXELS / (h * w)) ** 0.5)
        det = rec
        if det_scale < 0.95:
            size = (max(8, round(w * det_scale)), max(8, round(h * det_scale)))
            det = cv2.resize(rec, size, interpolation=cv2.INTER_AREA)
        models = self.models()
        quads = models.detect(det)
        if not quads:
            return []
        fx, fy = w / det.shape[1], h / det.shape[0]
        quads = merge_vertical([q * np.array([fx, fy], dtype=np.float32) for q in quads])
        crops, tall = [], []
        for q in quads:
            crop = crop_line(rec, q)
            qw, qh = quad_sides(q)
            if qh > VERTICAL * qw:  # sideways text (axis titles) mostly reads bottom to top
                crop = np.ascontiguousarray(np.rot90(crop, k=-1))
                tall.append(len(crops))
            crops.append(crop)
        if tall:
            flip = models.upside_down_prob([crops[i] for i in tall])
            for i, p in zip(tall, flip, strict=True):
                if p > 0.5:
                    crops[i] = np.ascontiguousarray(np.rot90(crops[i], k=2))
        out: list[NormLine] = []
        for q, r in zip(quads, recognise_lines(models, crops), strict=True):
            text = " ".join(r.text.split())
            if not _plausible(text, r.confidence):
                continue
            box = (
                float(q[:, 0].min()) / w,
                float(q[:, 1].min()) / h,
                float(q[:, 0].max()) / w,
                float(q[:, 1].max()) / h,
            )
            out.append((tuple(min(1.0, max(0.0, v)) for v in box), text, r.confidence))
        return out


def merge_vertical(quads: list[np.ndarray]) -> list[np.ndarray]:
    """Join the pieces of sideways text into one box. The detector, trained on horizontal lines,
    cuts a sideways label ("WFC Score" up a chart's axis) into a tall box and letter-sized ones
    stacked above or below it; read one by one they are letters in no order."""
    boxes = [
        (float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max()))
        for q in quads
    ]
    used = [False] * len(boxes)
    out: list[np.ndarray] = []
    for i, b in enumerate(boxes):
        if used[i] or (b[3] - b[1]) <= VERTICAL * (b[2] - b[0]):
            continue
        x0, y0, x1, y1 = b
        members = [i]
        grown = True
        while grown:
            grown = False
            for j, c in enumerate(boxes):
                if used[j] or j in members:
                    continue
                w = min(x1 - x0, c[2] - c[0])
                across = min(x1, c[2]) - max(x0, c[0])
                gap = max(c[1] - y1, y0 - c[3])
                if c[3] - c[1] >= 0.8 * (c[2] - c[0]) and across >= 0.6 * w and gap <= 0.8 * (x1 - x0):
                    members.append(j)
                    x0, y0, x1, y1 = min(x0, c[0]), min(y0, c[1]), max(x1, c[2]), max(y1, c[3])
                    grown = True
        if len(members) > 1:
            for j in members:
                used[j] = True
            out.append(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32))
    return out + [q for q, u in zip(quads, used, strict=True) if not u]


def _distinct(lines: list[tuple[pymupdf.Rect, str, float]]) -> list[tuple[pymupdf.Rect, str, float]]:
    """One of each line read twice: producers stack copies of an image (a logo drawn four times for
    a bolder look), and overlapping images of one figure show the same words."""
    kept: list[tuple[pymupdf.Rect, str, float]] = []
    for line in sorted(lines, key=lambda x: -x[2]):
        rect, text = line[0], line[1]
        if not any(k[1] == text and abs(rect & k[0]) > 0.5 * min(abs(rect), abs(k[0])) for k in kept):
            kept.append(line)
    return kept


def _plausible(text: str, confidence: float) -> bool:
    if not any(ch.isalnum() for ch in text):
        return False
    short = len(text.replace(" ", "")) <= 2
    return confidence >= (MIN_CONFIDENCE_SHORT if short else MIN_CONFIDENCE)


def _centre_in(a: pymupdf.Rect, b: pymupdf.Rect) -> bool:
    cx, cy = (a.x0 + a.x1) / 2, (a.y0 + a.y1) / 2
    return b.x0 <= cx <= b.x1 and b.y0 <= cy <= b.y1


@dataclass(frozen=True, slots=True)
class PlacedImage:
    xref: int  # 0 for inline images
    rect: pymupdf.Rect  # on the page, clipped to it
    dpi: float  # the image's own pixels per inch as placed
    placement: tuple[float, ...] = ()  # scale, turn and flip of the placement (transform a, b, c, d)


def overlap_groups(images: list[PlacedImage]) -> list[PlacedImage]:
    """Images of one figure that overlap or touch, each group as one image over the group's box at
    its finest resolution. A picture cut into strips or tiles, or a photo with insets and callouts
    laid over it, is then read once: one detection instead of one per piece (a handbook figure of
    35 pieces), and words that run across a cut stay one line. An image alone keeps its xref (the
    cache reads it once per document); a group's box is no image of its own (xref 0)."""
    if len(images) < 2:
        return images
    grown = [im.rect + (-TOUCH_PT, -TOUCH_PT, TOUCH_PT, TOUCH_PT) for im in images]
    sets = DisjointSet(len(images))
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            if grown[i].intersects(grown[j]):
                sets.union(i, j)
    out: list[PlacedImage] = []
    for group in sets.groups(images):
        if len(group) == 1:
            out.append(group[0])
            continue
        rect = pymupdf.Rect(group[0].rect)
        for im in group[1:]:
            rect |= im.rect
        out.append(PlacedImage(0, rect, max(im.dpi for im in group)))
    return out


def _candidate_images(page: pymupdf.Page) -> list[PlacedImage]:
    """The images of the page that can hold words; one entry per placement."""
    out: list[PlacedImage] = []
    seen: set[tuple] = set()
    for info in image_info(page):
        rect = pymupdf.Rect(info["bbox"]) & page.rect
        if rect.is_empty or rect.width < MIN_SIDE_PT[0] or rect.height < MIN_SIDE_PT[1]:
            continue
        if info["width"] < MIN_SIDE_PX[0] or info["height"] < MIN_SIDE_PX[1]:
            continue
        xref = int(info.get("xref") or 0)
        key = (xref, *(round(v) for v in rect))
        if key in seen:  # the same image drawn twice at one place (PDF producers do that)
            continue
        seen.add(key)
        full = pymupdf.Rect(info["bbox"])
        dpi = 72 * min(info["width"] / max(full.width, 1e-3), info["height"] / max(full.height, 1e-3))
        placement = tuple(round(float(v), 1) for v in tuple(info.get("transform") or ())[:4])
        out.append(PlacedImage(xref, rect, dpi, placement))
    return out


def _rec_dpi(rect: pymupdf.Rect, native: float) -> float:
    """The image's own resolution on the page, held within REC_DPI and REC_MAX_PIXELS."""
    dpi = min(max(native, REC_DPI[0]), REC_DPI[1])
    pixels = rect.width * rect.height * (dpi / 72) ** 2
    if pixels > REC_MAX_PIXELS:
        dpi *= (REC_MAX_PIXELS / pixels) ** 0.5
    return dpi


def group_lines(lines: list[tuple[pymupdf.Rect, str, float]]) -> list[FigureTextLine]:
    """Lines in reading order, numbered by group: a line joins the group of the line above it when
    it starts below it within a line's height and their spans overlap across (the lines of one
    label or box); groups go top to bottom, then left to right."""
    if not lines:
        return []
    order = sorted(range(len(lines)), key=lambda i: (lines[i][0].y0, lines[i][0].x0))
    sets = DisjointSet(len(lines))
    for k, i in enumerate(order):
        a = lines[i][0]
        for j in order[:k]:
            b = lines[j][0]
            height = min(a.height, b.height)
            gap = a.y0 - b.y1
            overlap = min(a.x1, b.x1) - max(a.x0, b.x0)
            similar = max(a.height, b.height) <= 1.6 * height
            if similar and -0.5 * height <= gap <= 0.9 * height and overlap > 0.3 * min(a.width, b.width):
                sets.union(i, j)
    members: dict[int, list[int]] = {}
    for i in order:
        members.setdefault(sets.find(i), []).append(i)
    # a group's place is its first line's; within a group, top to bottom
    ranked = sorted(members.values(), key=lambda ids: (lines[ids[0]][0].y0, lines[ids[0]][0].x0))
    out: list[FigureTextLine] = []
    for g, ids in enumerate(ranked):
        for i in ids:
            rect, text, conf = lines[i]
            bbox = (round(rect.x0, 2), round(rect.y0, 2), round(rect.x1, 2), round(rect.y1, 2))
            out.append(FigureTextLine(text=text, bbox=bbox, confidence=round(min(1.0, conf), 4), group=g))
    return out
