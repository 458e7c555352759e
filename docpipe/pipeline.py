"""Convert one document: open -> route each page -> engine -> assemble -> Document (+ figure images).

This module is the single place that knows the order of the stages; the scheduler runs it per
document in worker processes, the Python API calls it directly.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

from docpipe import __version__
from docpipe.assemble.build import assemble_pages
from docpipe.config import Config
from docpipe.engines.base import PageInput, RawPage
from docpipe.errors import InputError, MissingExtra
from docpipe.model import (
    BlockType,
    Document,
    DocumentStatus,
    EngineInfo,
    PageStatus,
    SourceInfo,
)
from docpipe.sources.pdf import media_type, open_document
from docpipe.writers.outputs import ImageBlob

ProgressFn = Callable[[int], None]


@dataclass
class ConversionResult:
    document: Document
    images: dict[str, ImageBlob] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


class Engines:
    """Engines are built on first use and reused for every page and document of a process:
    OCR and VLM models are expensive to load."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._cache: dict[str, object] = {}

    def get(self, name: str):
        if name not in self._cache:
            self._cache[name] = self._build(name)
        return self._cache[name]

    def _build(self, name: str):
        cfg = self.config
        if name == "textlayer":
            from docpipe.engines.textlayer import TextLayerEngine

            return TextLayerEngine(tables=cfg.convert.tables)
        if name == "ocr":
            try:
                from docpipe.engines.ocr import OcrEngine
            except ImportError as exc:
                raise MissingExtra(
                    f"the OCR engine needs rapidocr: pip install 'docpipe[ocr]' ({exc})"
                ) from exc
            return OcrEngine(dpi=cfg.ocr.dpi or None, max_pixels=cfg.ocr.max_pixels)
        if name == "vlm":
            from docpipe.engines.vlm import VlmEngine

            # Figure pixels are re-rendered from the page by the writer stage; the sink only stops
            # the engine from keeping every crop in memory over a long batch.
            return VlmEngine(cfg.vlm, image_sink=lambda *_: None)
        raise ValueError(f"unknown engine {name!r}: choose auto, textlayer, ocr or vlm")


def route(page: pymupdf.Page, config: Config) -> tuple[str, str]:
    """Which engine reads this page, and why."""
    requested = config.convert.engine
    if config.convert.force_ocr and requested in ("auto", "ocr", "textlayer"):
        return "ocr", "forced (--force-ocr)"
    if requested != "auto":
        return requested, f"requested (--engine {requested})"
    from docpipe.engines.router import decide_route

    decision = decide_route(page, requested="auto", force_ocr=False)
    return decision.engine, decision.reason


def _failed_page(page: PageInput, engine: str, error: str) -> RawPage:
    return RawPage(
        index=page.index,
        width=page.width,
        height=page.height,
        engine=engine,
        route_reason=page.route_reason,
        status="failed",
        error=error,
    )


def _run_engine(engines: Engines, name: str, page: PageInput) -> RawPage:
    try:
        return engines.get(name).process([page])[0]
    except MissingExtra:
        raise
    except Exception as exc:  # one bad page must not sink the document
        return _failed_page(page, name, f"{type(exc).__name__}: {exc}")


def _recognise(
    engines: Engines, doc: pymupdf.Document, source: str, progress: ProgressFn | None
) -> list[RawPage]:
    raw_pages: list[RawPage] = []
    for index in range(doc.page_count):
        t0 = time.perf_counter()
        try:
            page = doc.load_page(index)
            engine_name, reason = route(page, engines.config)
        except Exception as exc:
            rect = doc.page_cropbox(index) if hasattr(doc, "page_cropbox") else pymupdf.Rect()
            raw = RawPage(index=index, width=rect.width, height=rect.height, engine="none", status="failed")
            raw.error = f"cannot load page: {type(exc).__name__}: {exc}"
            raw_pages.append(raw)
            if progress:
                progress(1)
            continue
        page_input = PageInput(source_name=source, index=index, page=page, route_reason=reason)
        t_route = time.perf_counter() - t0
        raw = _run_engine(engines, engine_name, page_input)
        t_engine = time.perf_counter() - t0 - t_route
        if raw.status == "failed" and engine_name == "vlm":
            # The VLM gave up on this page (loops, timeouts): read it on the CPU instead.
            fallback = "ocr" if not page.get_text("text").strip() else "textlayer"
            cpu = _run_engine(engines, fallback, page_input)
            cpu.status = "fallback" if cpu.status != "failed" else "failed"
            cpu.error = f"vlm failed ({raw.error}); read with {fallback}"
            cpu.vlm = raw.vlm
            raw = cpu
            t_engine = time.perf_counter() - t0 - t_route
        # Engines add their own breakdown (tables, detect, recognise...); these two are uniform.
        raw.timings["route"] = t_route
        raw.timings["engine"] = t_engine
        raw_pages.append(raw)
        if progress:
            progress(1)
    return raw_pages


_warned: set[str] = set()


def _read_figures(doc: pymupdf.Document, document: Document, chem: str) -> None:
    """Classify CPU-engine figures (chart, photo, diagram, chemical structure) and, per `chem`, read
    structure diagrams into SMILES with OSRA. VLM pages carry their own figure pass."""
    from docpipe.science.figure_reading import read_figure

    for page_result in document.pages:
        figures = [b for b in page_result.blocks if b.type is BlockType.figure and b.figure is not None]
        if not figures or page_result.engine == "vlm" or page_result.rotation:
            continue
        page = doc.load_page(page_result.index)
        drawings = page.get_cdrawings()
        for block in figures:
            try:
                reading = read_figure(page, block.bbox, chem=chem, drawings=drawings)
            except Exception as exc:  # a figure we cannot read stays a plain figure
                reading = None
                note = f"figure {block.id}: {type(exc).__name__}: {exc}"
            else:
                note = reading.note
                block.figure.kind = reading.kind
                if reading.chemical is not None:
                    block.type = BlockType.chemical
                    block.chemical = reading.chemical
            if note and note.split(":")[0] not in _warned:
                _warned.add(note.split(":")[0])
                print(
                    f"docpipe: {document.source.name}, page {page_result.index + 1}: {note}", file=sys.stderr
                )


def _figure_images(doc: pymupdf.Document, document: Document, dpi: int) -> dict[str, ImageBlob]:
    """Figure pixels: the embedded image itself when the figure is one, else a rendering of its box."""
    out: dict[str, ImageBlob] = {}
    for page_result in document.pages:
        figures = [b for b in page_result.blocks if b.figure is not None]
        if not figures:
            continue
        page = doc.load_page(page_result.index)
        xrefs = {
            tuple(round(v) for v in info["bbox"]): info.get("xref", 0)
            for info in page.get_image_info(xrefs=True)
        }
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


def _doc_status(pages: list) -> tuple[DocumentStatus, str | None]:
    failed = [p for p in pages if p.status is PageStatus.failed]
    if not pages:
        return DocumentStatus.ok, None
    if len(failed) == len(pages):
        return DocumentStatus.failed, f"all {len(pages)} pages failed; first: {failed[0].error}"
    if failed:
        return DocumentStatus.partial, f"{len(failed)} of {len(pages)} pages failed"
    return DocumentStatus.ok, None


def convert_file(
    path: str | Path,
    config: Config,
    engines: Engines | None = None,
    *,
    with_images: bool = True,
    progress: ProgressFn | None = None,
    on_open: Callable[[int], None] | None = None,
) -> ConversionResult:
    """Convert one file. Raises InputError when the file cannot be opened at all; page-level
    failures are recorded in the Document instead."""
    path = Path(path)
    engines = engines or Engines(config)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot read file: {exc.strerror or exc}") from exc
    doc = open_document(
        path, data, password=config.convert.password, max_image_pixels=config.ocr.max_image_pixels
    )
    try:
        timings["open"] = time.perf_counter() - t0
        if on_open:
            on_open(doc.page_count)
        raw_pages = _recognise(engines, doc, path.name, progress)
        t1 = time.perf_counter()
        pages = assemble_pages(raw_pages)
        timings["assemble"] = time.perf_counter() - t1
        status, error = _doc_status(pages)
        metadata = {k: str(v) for k, v in (doc.metadata or {}).items() if v}
        document = Document(
            doc_id=hashlib.sha256(data).hexdigest(),
            source=SourceInfo(
                path=str(path),
                name=path.name,
                media_type=media_type(path),
                size_bytes=len(data),
                page_count=doc.page_count,
            ),
            metadata=metadata,
            status=status,
            error=error,
            pages=pages,
            engine=EngineInfo(
                name=config.convert.engine,
                docpipe_version=__version__,
                pymupdf_version=pymupdf.__version__,
                config=config.recorded(),
                config_hash=config.hash(),
            ),
        )
        t2 = time.perf_counter()
        _read_figures(doc, document, config.convert.chem)
        timings["figures"] = time.perf_counter() - t2
        images: dict[str, ImageBlob] = {}
        if with_images and config.convert.extract_images:
            t2 = time.perf_counter()
            images = _figure_images(doc, document, config.convert.image_dpi)
            timings["images"] = time.perf_counter() - t2
        timings["route"] = sum(p.timings.get("route", 0.0) for p in pages)
        for p in pages:  # recognition time per engine (a VLM page that fell back counts as its CPU engine)
            timings[p.engine] = timings.get(p.engine, 0.0) + p.timings.get("engine", 0.0)
        return ConversionResult(document=document, images=images, timings=timings)
    finally:
        doc.close()
