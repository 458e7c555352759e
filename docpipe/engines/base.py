"""The engine protocol: what every engine is handed (`PageInput`) and what it promises (`Engine`).

Engines return `docpipe.model.raw.RawPage`s; everything after that is engine-independent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol

from docpipe.model.raw import RawPage

if TYPE_CHECKING:
    import pymupdf


@dataclass
class PageInput:
    """A page handed to an engine. Holds the PyMuPDF page (PDF or image document) so that an engine
    that needs pixels can rasterize it itself, at the resolution it wants, and drop them after."""

    source_name: str
    index: int
    page: pymupdf.Page
    route_reason: str = ""
    # Read once, where the page is loaded: an engine may use the size on threads that must not
    # enter MuPDF (docpipe.util.mupdf_lock).
    width: float = field(init=False)
    height: float = field(init=False)

    def __post_init__(self) -> None:
        rect = self.page.rect
        self.width, self.height = float(rect.width), float(rect.height)


class Engine(Protocol):
    """What `docpipe.recognition` relies on. `process` gets all of a window's pages routed to the
    engine at once (an engine may work on them concurrently) and records its own timings per page:
    its stages, and `engine`, the seconds the page cost it (when an engine leaves `engine` out, the
    sum of its stages stands for it). `fallback`: a page the engine fails is read again by the CPU
    engines (a model that loops or times out); engines that are the fallback leave it False."""

    name: str
    fallback: ClassVar[bool]

    def process(self, pages: Sequence[PageInput]) -> list[RawPage]:
        """Recognise a batch of pages; one RawPage per input, in order. A page that cannot be
        recognised comes back with status 'failed' and an error, never as an exception."""
        ...
