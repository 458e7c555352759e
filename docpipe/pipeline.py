"""Convert one document, stage by stage: open -> windows of pages -> recognise -> assemble ->
figures -> write. This is the one place that knows the order of the stages; the scheduler runs it
per document in worker processes, the Python API calls it directly. Recognition (engines, routing,
fallback) is `docpipe.recognition`; the figure stages are `docpipe.figure_pass`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

from docpipe import __version__
from docpipe.assemble.build import Assembler
from docpipe.config import Config
from docpipe.errors import InputError
from docpipe.figure_pass import figure_images, read_figures
from docpipe.figure_text import FigureTextReader
from docpipe.model import Document, EngineInfo, PageResult, SourceInfo
from docpipe.model.raw import RawPage
from docpipe.outcome import DocOutcome, PageTally
from docpipe.recognition import Engines, ProgressFn, recognise_window
from docpipe.sources.pdf import media_type, open_document
from docpipe.writers.outputs import ImageBlob


@dataclass
class ConversionResult:
    document: Document
    images: dict[str, ImageBlob] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


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
        path,
        data,
        password=config.convert.password,
        max_image_pixels=config.ocr.max_image_pixels,
        max_embed_pixels=config.ocr.max_pixels,
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
        yield recognise_window(engines, src.doc, src.path.name, pages, progress)


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
    # one per document: an image repeated on many pages (a logo) is read once
    figure_text = FigureTextReader.for_engines(engines) if config.convert.figure_text != "off" else None
    windows = raw_windows(src, engines) if raw_windows else _local_windows(src, engines, progress)
    for raw_pages in windows:
        t0 = time.perf_counter()
        typed = {raw.index for raw in raw_pages if raw.blocks is not None}
        crops = {bid: png for raw in raw_pages for bid, png in raw.figure_images.items()}
        pages = assembler.assemble(raw_pages)
        del raw_pages
        t1 = time.perf_counter()
        read_figures(doc, pages, src.path.name, config.convert.chem, typed)
        t2 = time.perf_counter()
        _add(timings, "assemble", t1 - t0)
        _add(timings, "figures", t2 - t1)
        if figure_text is not None:
            figure_text.read_pages(doc, pages, typed)
            _add(timings, "figure_text", time.perf_counter() - t2)
            t2 = time.perf_counter()
        images = figure_images(doc, pages, config.convert.image_dpi, crops) if with_images else {}
        _add(timings, "images", time.perf_counter() - t2)
        for p in pages:  # recognition time per engine (a page that fell back counts as its CPU engine)
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
    own_engines = engines is None  # built here for this one file: released here too
    engines = engines or Engines(config)
    src = None
    try:
        src = _open(Path(path), config)
        pages: list[PageResult] = []
        images: dict[str, ImageBlob] = {}
        with_images = with_images and config.convert.extract_images
        for window_pages, window_images in iter_windows(
            src, config, engines, with_images=with_images, progress=progress
        ):
            pages += window_pages
            images |= window_images
        tally = PageTally()
        tally.add(pages)
        status, error = tally.status()
        document = src.header.model_copy(update={"pages": pages, "status": status, "error": error})
        return ConversionResult(document=document, images=images, timings=src.timings)
    finally:
        if src is not None:
            src.doc.close()
        if own_engines:
            engines.close()


def convert_to_dir(
    path: str | Path,
    config: Config,
    engines: Engines,
    out_dir: Path,
    name: str,
    raw_windows: RawWindows | None = None,
) -> DocOutcome:
    """Convert one file straight into OUT/NAME.* with memory bounded by a few windows of pages."""
    from docpipe.writers.outputs import DocumentWriter

    src = _open(Path(path), config)
    writer = None
    try:
        writer = DocumentWriter(out_dir, name, src.header, config.chunks.max_tokens)
        tally = PageTally()
        windows = iter_windows(
            src, config, engines, with_images=config.convert.extract_images, raw_windows=raw_windows
        )
        for pages, images in windows:
            t0 = time.perf_counter()
            writer.add(pages, images)
            _add(src.timings, "write", time.perf_counter() - t0)
            tally.add(pages)
        status, error = tally.status()
        t0 = time.perf_counter()
        writer.finish(status, error)
        _add(src.timings, "write", time.perf_counter() - t0)
        return DocOutcome(
            str(path),
            name,
            status,
            pages=tally.pages,
            error=error,
            timings=src.timings,
            engines=tally.engines,
            page_seconds=tally.page_seconds,
            vlm=tally.vlm,
            vlm_fallback_reason=tally.vlm_fallback_reason,
            content_hash=src.header.doc_id,
        )
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        src.doc.close()
