"""Convert one document: open -> route each page -> engine -> assemble -> Document (+ figure images).

This module is the single place that knows the order of the stages; the scheduler runs it per
document in worker processes, the Python API calls it directly.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

from docpipe import __version__
from docpipe.assemble.build import Assembler
from docpipe.config import Config
from docpipe.engines.base import PageInput, RawPage
from docpipe.errors import InputError, MissingExtra
from docpipe.model import (
    BlockType,
    Document,
    DocumentStatus,
    EngineInfo,
    PageResult,
    PageStatus,
    SourceInfo,
)
from docpipe.sources.pdf import media_type, open_document, page_damage
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

    def __init__(self, config: Config, ocr_threads: int | None = None) -> None:
        self.config = config
        self.ocr_threads = ocr_threads  # None: onnxruntime's share of the machine decided by the engine
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
            return OcrEngine(dpi=cfg.ocr.dpi or None, max_pixels=cfg.ocr.max_pixels, threads=self.ocr_threads)
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


def _run_engine(engines: Engines, name: str, page: PageInput) -> RawPage:
    try:
        return engines.get(name).process([page])[0]
    except MissingExtra:
        raise
    except Exception as exc:  # one bad page must not sink the document
        return RawPage.for_input(page, name, status="failed", error=f"{type(exc).__name__}: {exc}")


def _failed_load(doc: pymupdf.Document, index: int, exc: Exception) -> RawPage:
    try:
        rect = doc.page_cropbox(index)
    except Exception:  # the page tree itself is broken here: the size is unknown
        rect = pymupdf.Rect()
    raw = RawPage(index=index, width=rect.width, height=rect.height, engine="none", status="failed")
    raw.error = f"cannot load page: {type(exc).__name__}: {exc}"
    return raw


def _recognise(
    engines: Engines, doc: pymupdf.Document, source: str, indexes: range, progress: ProgressFn | None
) -> list[RawPage]:
    """Route every page of the window, then run the engines: CPU engines page by page, the VLM on
    all of its pages at once (its backend keeps `max_concurrency` requests in flight, or hands
    vLLM whole batches, while the next pages are rendered)."""
    results: dict[int, RawPage] = {}
    vlm_inputs: list[PageInput] = []
    route_s: dict[int, float] = {}
    for index in indexes:
        t0 = time.perf_counter()
        try:
            page = doc.load_page(index)
            damage = page_damage(page)
            if not damage:
                engine_name, reason = route(page, engines.config)
        except Exception as exc:
            results[index] = _failed_load(doc, index, exc)
            if progress:
                progress(1)
            continue
        if damage and damage[0] == "failed":  # nothing there to read: OCR would only see a blank page
            error = f"page {index + 1}: {damage[1]}"
            blank = PageInput(source, index, page)
            results[index] = RawPage.for_input(blank, "none", status="failed", error=error)
            if progress:
                progress(1)
            continue
        route_s[index] = time.perf_counter() - t0
        page_input = PageInput(source_name=source, index=index, page=page, route_reason=reason)
        if engine_name == "vlm":
            vlm_inputs.append(page_input)
            continue
        t1 = time.perf_counter()
        raw = _run_engine(engines, engine_name, page_input)
        raw.timings["engine"] = time.perf_counter() - t1
        if damage and raw.status == "ok":
            raw.status, raw.error = "partial", f"page {index + 1}: {damage[1]}"
        results[index] = raw
        if progress:
            progress(1)
    if vlm_inputs:
        for page_input, raw in zip(vlm_inputs, _run_vlm(engines, vlm_inputs), strict=True):
            if raw.status == "failed":
                # The VLM gave up on this page (loops, timeouts): read it on the CPU instead.
                raw = _cpu_fallback(engines, page_input, raw)
            results[page_input.index] = raw
            if progress:
                progress(1)
    for index, raw in results.items():
        # Engines add their own breakdown (tables, detect, recognise...); these two are uniform.
        raw.timings["route"] = route_s.get(index, 0.0)
    return [results[i] for i in indexes]


def _run_vlm(engines: Engines, pages: list[PageInput]) -> list[RawPage]:
    try:
        raws = engines.get("vlm").process(pages)
    except MissingExtra:
        raise
    except Exception as exc:
        raws = [
            RawPage.for_input(p, "vlm", status="failed", error=f"{type(exc).__name__}: {exc}") for p in pages
        ]
    for raw in raws:
        # pages run concurrently: a page's own latency is its render + requests, not a share of wall
        raw.timings["engine"] = sum(v for k, v in raw.timings.items() if k in ("render", "vlm", "figures"))
    return raws


def _cpu_fallback(engines: Engines, page_input: PageInput, failed: RawPage) -> RawPage:
    fallback = "ocr" if not page_input.page.get_text("text").strip() else "textlayer"
    t0 = time.perf_counter()
    cpu = _run_engine(engines, fallback, page_input)
    cpu.timings["engine"] = failed.timings.get("engine", 0.0) + time.perf_counter() - t0
    cpu.status = "fallback" if cpu.status != "failed" else "failed"
    cpu.error = f"vlm failed ({failed.error}); read with {fallback}"
    cpu.vlm = failed.vlm
    return cpu


_warned: set[str] = set()


def _read_figures(doc: pymupdf.Document, pages: list[PageResult], source: str, chem: str) -> None:
    """Classify CPU-engine figures (chart, photo, diagram, chemical structure) and, per `chem`, read
    structure diagrams into SMILES with OSRA. VLM pages carry their own figure pass."""
    from docpipe.science.figure_reading import read_figure

    for page_result in pages:
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
                print(f"docpipe: {source}, page {page_result.index + 1}: {note}", file=sys.stderr)


def _figure_images(doc: pymupdf.Document, pages: list[PageResult], dpi: int) -> dict[str, ImageBlob]:
    """Figure pixels: the embedded image itself when the figure is one, else a rendering of its box."""
    out: dict[str, ImageBlob] = {}
    for page_result in pages:
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


def _status_from_counts(
    n_pages: int, failed: int, first_error: str | None, partial: int = 0, first_partial: str | None = None
) -> tuple[DocumentStatus, str | None]:
    if n_pages and failed == n_pages:
        return DocumentStatus.failed, f"all {n_pages} pages failed; first: {first_error}"
    if failed or partial:
        parts = [f"{failed} of {n_pages} pages failed"] if failed else []
        if partial:
            parts.append(f"{partial} of {n_pages} pages partial; first: {first_partial}")
        return DocumentStatus.partial, "; ".join(parts)
    return DocumentStatus.ok, None


def _doc_status(pages: list[PageResult]) -> tuple[DocumentStatus, str | None]:
    failed = [p for p in pages if p.status is PageStatus.failed]
    partial = [p for p in pages if p.status is PageStatus.partial]
    return _status_from_counts(
        len(pages),
        len(failed),
        failed[0].error if failed else None,
        len(partial),
        partial[0].error if partial else None,
    )


@dataclass
class OpenedSource:
    path: Path
    doc: pymupdf.Document
    header: Document  # everything but the pages, status and error
    timings: dict[str, float]


def _open(path: Path, config: Config) -> OpenedSource:
    t0 = time.perf_counter()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot read file: {exc.strerror or exc}") from exc
    doc = open_document(
        path, data, password=config.convert.password, max_image_pixels=config.ocr.max_image_pixels
    )
    header = Document(
        doc_id=hashlib.sha256(data).hexdigest(),
        source=SourceInfo(
            path=str(path),
            name=path.name,
            media_type=media_type(path),
            size_bytes=len(data),
            page_count=doc.page_count,
        ),
        metadata={k: str(v) for k, v in (doc.metadata or {}).items() if v},
        engine=EngineInfo(
            name=config.convert.engine,
            docpipe_version=__version__,
            pymupdf_version=pymupdf.__version__,
            config=config.recorded(),
            config_hash=config.hash(),
        ),
    )
    return OpenedSource(path, doc, header, {"open": time.perf_counter() - t0})


def _add(timings: dict[str, float], stage: str, seconds: float) -> None:
    timings[stage] = timings.get(stage, 0.0) + seconds


def window_ranges(page_count: int, window: int) -> list[range]:
    return [range(start, min(start + window, page_count)) for start in range(0, page_count, window)]


# Recognises the pages of each window in order; by default in this process, or, for one big
# document, in worker processes (scheduler.batch hands in such a source).
RawWindows = Callable[[OpenedSource, Engines], Iterator[list[RawPage]]]


def _local_windows(
    src: OpenedSource, engines: Engines, progress: ProgressFn | None = None
) -> Iterator[list[RawPage]]:
    window = engines.config.convert.max_pages_in_flight
    for pages in window_ranges(src.doc.page_count, window):
        yield _recognise(engines, src.doc, src.path.name, pages, progress)


def recognise_pages(path: str | Path, pages: range, config: Config, engines: Engines) -> list[RawPage]:
    """Recognise some pages of a file on their own (a worker's share of a big document)."""
    path = Path(path)
    doc = open_document(
        path,
        path.read_bytes(),
        password=config.convert.password,
        max_image_pixels=config.ocr.max_image_pixels,
    )
    try:
        return _recognise(engines, doc, path.name, pages, None)
    finally:
        doc.close()


def iter_windows(
    src: OpenedSource,
    config: Config,
    engines: Engines,
    *,
    with_images: bool,
    progress: ProgressFn | None = None,
    raw_windows: RawWindows | None = None,
) -> Iterator[tuple[list[PageResult], dict[str, ImageBlob]]]:
    """Pages of the document, assembled `max_pages_in_flight` at a time, with their figure images.
    Only a few windows of pages (and their pixels) are alive at once."""
    doc, timings = src.doc, src.timings
    assembler = Assembler()
    windows = raw_windows(src, engines) if raw_windows else _local_windows(src, engines, progress)
    for raw_pages in windows:
        t0 = time.perf_counter()
        pages = assembler.assemble(raw_pages)
        del raw_pages
        t1 = time.perf_counter()
        _read_figures(doc, pages, src.path.name, config.convert.chem)
        t2 = time.perf_counter()
        images = _figure_images(doc, pages, config.convert.image_dpi) if with_images else {}
        _add(timings, "assemble", t1 - t0)
        _add(timings, "figures", t2 - t1)
        _add(timings, "images", time.perf_counter() - t2)
        for p in pages:  # recognition time per engine (a VLM page that fell back counts as its CPU engine)
            _add(timings, "route", p.timings.get("route", 0.0))
            _add(timings, p.engine, p.timings.get("engine", 0.0))
        yield pages, images


def convert_file(
    path: str | Path,
    config: Config,
    engines: Engines | None = None,
    *,
    with_images: bool = True,
    progress: ProgressFn | None = None,
) -> ConversionResult:
    """Convert one file into an in-memory Document (the Python API). Raises InputError when the file
    cannot be opened at all; page-level failures are recorded in the Document instead."""
    engines = engines or Engines(config)
    src = _open(Path(path), config)
    try:
        pages: list[PageResult] = []
        images: dict[str, ImageBlob] = {}
        for window_pages, window_images in iter_windows(
            src, config, engines, with_images=with_images and config.convert.extract_images, progress=progress
        ):
            pages += window_pages
            images |= window_images
        status, error = _doc_status(pages)
        document = src.header.model_copy(update={"pages": pages, "status": status, "error": error})
        return ConversionResult(document=document, images=images, timings=src.timings)
    finally:
        src.doc.close()


@dataclass
class WrittenSummary:
    """What the batch needs to know about a document streamed to disk (its pages are gone)."""

    doc_id: str  # sha256 of the file: the manifest's content hash
    status: DocumentStatus
    error: str | None
    pages: int
    timings: dict[str, float]
    engines: dict[str, int]
    page_seconds: list[float]
    vlm: dict[str, float]


def convert_to_dir(
    path: str | Path,
    config: Config,
    engines: Engines,
    out_dir: Path,
    name: str,
    raw_windows: RawWindows | None = None,
) -> WrittenSummary:
    """Convert one file straight into OUT/NAME.* with memory bounded by a few windows of pages."""
    from docpipe.writers.outputs import DocumentWriter

    src = _open(Path(path), config)
    writer = None
    try:
        writer = DocumentWriter(out_dir, name, src.header, config.chunks.max_tokens)
        n_pages, failed, first_error, partial, first_partial = 0, 0, None, 0, None
        engine_pages: dict[str, int] = {}
        page_seconds: list[float] = []
        vlm: dict[str, float] = {}
        windows = iter_windows(
            src, config, engines, with_images=config.convert.extract_images, raw_windows=raw_windows
        )
        for pages, images in windows:
            t0 = time.perf_counter()
            writer.add(pages, images)
            _add(src.timings, "write", time.perf_counter() - t0)
            for p in pages:
                n_pages += 1
                engine_pages[p.engine] = engine_pages.get(p.engine, 0) + 1
                page_seconds.append(p.timings.get("route", 0.0) + p.timings.get("engine", 0.0))
                if p.status is PageStatus.failed:
                    failed += 1
                    first_error = first_error or p.error
                elif p.status is PageStatus.partial:
                    partial += 1
                    first_partial = first_partial or p.error
                if p.vlm is not None:
                    _add(vlm, "pages", 1)
                    _add(vlm, "visual_tokens", p.vlm.visual_tokens)
                    _add(vlm, "text_tokens", p.vlm.text_tokens or 0)
                    _add(vlm, "output_tokens", p.vlm.output_tokens or 0)
                    _add(vlm, "seconds", p.timings.get("engine", 0.0))
        status, error = _status_from_counts(n_pages, failed, first_error, partial, first_partial)
        t0 = time.perf_counter()
        writer.finish(status, error)
        _add(src.timings, "write", time.perf_counter() - t0)
        return WrittenSummary(
            src.header.doc_id, status, error, n_pages, src.timings, engine_pages, page_seconds, vlm
        )
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        src.doc.close()
