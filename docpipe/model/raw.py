"""The raw, engine-level page result that assembly consumes.

Engines differ in what they can see (a text layer, pixels, a model's Markdown) but all hand over
the same `RawPage`: positioned lines of text with style hints, table grids, image regions, and, for
engines that already type their output (VLMs), ready blocks. Everything after this point is
engine-independent, which is why these types live in the model and not with the engines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from docpipe.model.document import Block, PageStatus, TableData, VlmPageInfo


class PageLike(Protocol):
    """What a RawPage is made for: an engine's page input (index, size, why it was routed there)."""

    index: int
    route_reason: str

    @property
    def width(self) -> float: ...

    @property
    def height(self) -> float: ...


Rect = tuple[float, float, float, float]


def enclosing(boxes: Iterable[Rect]) -> Rect:
    """The smallest box holding all of `boxes` (at least one)."""
    x0s, y0s, x1s, y1s = zip(*boxes, strict=True)
    return (min(x0s), min(y0s), max(x1s), max(y1s))


def overlap_ratio(inner: Rect, outer: Rect) -> float:
    """Share of `inner`'s area that lies inside `outer`."""
    w = min(inner[2], outer[2]) - max(inner[0], outer[0])
    h = min(inner[3], outer[3]) - max(inner[1], outer[1])
    if w <= 0 or h <= 0:
        return 0.0
    return w * h / max((inner[2] - inner[0]) * (inner[3] - inner[1]), 1e-6)


@dataclass(slots=True)
class Span:
    text: str
    bbox: Rect
    size: float
    font: str = ""
    bold: bool = False
    italic: bool = False
    mono: bool = False
    superscript: bool = False
    baseline: float | None = None  # y of the glyph origin; sub/superscripts are read from it


@dataclass(slots=True)
class Line:
    """One line of text as the engine saw it; `block_hint` groups lines the engine believes belong
    together (PyMuPDF blocks, OCR paragraphs), or is None when the engine has no opinion."""

    spans: list[Span]
    bbox: Rect
    block_hint: int | None = None
    confidence: float | None = None
    vertical: bool = False  # rotated text: kept for table cells, left out of the running text
    # The dominant size and the span list it was worked out from: lines that merge get a new list,
    # and whoever edits span text in place calls `spans_edited`.
    _size: float = field(default=0.0, init=False, repr=False, compare=False)
    _size_of: list[Span] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)

    @property
    def size(self) -> float:
        """Dominant font size, weighted by characters. Asked for hundreds of thousands of times a
        document (grouping, tables, formulas), so kept once known."""
        if self._size_of is not self.spans:
            self._size, self._size_of = self._dominant_size(), self.spans
        return self._size

    def spans_edited(self) -> None:
        """The spans' text or sizes were changed in place: the dominant size is worked out again."""
        self._size_of = None

    def _dominant_size(self) -> float:
        if len(self.spans) == 1:  # most lines
            return round(self.spans[0].size, 1)
        weights: dict[float, int] = {}
        for s in self.spans:
            n = len(s.text.strip())
            if n:
                key = round(s.size, 1)
                weights[key] = weights.get(key, 0) + n
        if not weights:
            return round(self.spans[0].size, 1) if self.spans else 0.0
        return max(weights, key=weights.__getitem__)

    def _share(self, attr: str) -> float:
        total = marked = 0
        for s in self.spans:
            n = len(s.text.strip())
            total += n
            if getattr(s, attr):
                marked += n
        return marked / total if total else 0.0

    @property
    def bold(self) -> bool:
        return self._share("bold") > 0.6

    @property
    def mono(self) -> bool:
        return self._share("mono") > 0.6


@dataclass(slots=True)
class RawTable:
    bbox: Rect
    data: TableData


@dataclass(slots=True)
class RawImage:
    bbox: Rect
    xref: int = 0  # 0 when the region is not a single embedded image (vector art, OCR'd region)


@dataclass
class RawPage:
    index: int
    width: float
    height: float
    engine: str
    lines: list[Line] = field(default_factory=list)
    tables: list[RawTable] = field(default_factory=list)
    images: list[RawImage] = field(default_factory=list)
    rules: list[Rect] = field(default_factory=list)  # thin horizontal rules (fraction bars, table rules)
    blocks: list[Block] | None = None  # set by engines that emit typed blocks themselves
    rotation: int = 0
    route_reason: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    vlm: VlmPageInfo | None = None
    status: PageStatus = PageStatus.ok
    error: str | None = None
    text_chars: int | None = None  # letters and digits in the page's text layer, where one was read
    # PNG crops of figure blocks the engine cut from its own raster, by block id: the image stage
    # writes them instead of rendering the figure again
    figure_images: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def for_input(cls, page: PageLike, engine: str, **fields) -> RawPage:
        """An empty result for `page` (its index, size and routing reason), to be filled in."""
        return cls(
            index=page.index,
            width=page.width,
            height=page.height,
            engine=engine,
            route_reason=page.route_reason,
            **fields,
        )
