"""Recognition: pages of a window -> `RawPage`s. Builds the engines, routes each page
(`engines.router`), hands each engine all of the window's pages routed to it in one
`process(batch)` call, and has the CPU engines read again the pages that an engine allowing it
(`Engine.fallback`) failed.

Adding an engine takes a class that follows `docpipe.engines.base.Engine` and one entry in
`REGISTRY`; nothing here or in the pipeline names an engine otherwise.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymupdf

from docpipe.config import Config
from docpipe.engines.base import Engine, PageInput
from docpipe.engines.router import decide_route, fallback_route, text_layer_words
from docpipe.errors import MissingExtra
from docpipe.model import PageStatus
from docpipe.model.raw import RawPage
from docpipe.sources.pdf import open_document, page_damage

ProgressFn = Callable[[int], None]

log = logging.getLogger(__name__)


def _textlayer_class() -> type:
    from docpipe.engines.textlayer import TextLayerEngine

    return TextLayerEngine


def _ocr_class() -> type:
    try:
        from docpipe.engines.ocr import OcrEngine
    except ImportError as exc:
        raise MissingExtra(f"the OCR engine needs rapidocr: pip install 'docpipe[ocr]' ({exc})") from exc
    return OcrEngine


def _vlm_class() -> type:
    from docpipe.engines.vlm import VlmEngine

    return VlmEngine


@dataclass(frozen=True)
class Registered:
    """An engine as the registry knows it: how to import its class (heavy dependencies load on first
    use) and how to build it from the config and OCR's share of the cores (None: the engine's own)."""

    engine_class: Callable[[], type]
    build: Callable[[Any, Config, int | None], Engine]


#: The engine registry, the one place that names engines.
REGISTRY: dict[str, Registered] = {
    "textlayer": Registered(_textlayer_class, lambda cls, config, _: cls(tables=config.convert.tables)),
    "ocr": Registered(
        _ocr_class,
        lambda cls, config, threads: cls(
            dpi=config.ocr.dpi or None,
            max_pixels=config.ocr.max_pixels,
            threads=threads,
            runtime=config.ocr.runtime,
        ),
    ),
    # No image sink: the engine's figure crops ride on each RawPage to the image stage.
    "vlm": Registered(_vlm_class, lambda cls, config, _: cls(config.vlm)),
}


class Engines:
    """Engines are built on first use and reused for every page and document of a process:
    OCR and VLM models are expensive to load."""

    def __init__(self, config: Config, ocr_threads: int | None = None) -> None:
        self.config = config
        self.ocr_threads = ocr_threads  # None: onnxruntime's share of the machine decided by the engine
        self._cache: dict[str, Engine] = {}

    @staticmethod
    def _registered(name: str) -> Registered:
        if name not in REGISTRY:
            raise ValueError(f"unknown engine {name!r}: choose auto, {', '.join(REGISTRY)}")
        return REGISTRY[name]

    def get(self, name: str) -> Engine:
        if name not in self._cache:
            entry = self._registered(name)
            self._cache[name] = entry.build(entry.engine_class(), self.config, self.ocr_threads)
        return self._cache[name]

    def close(self) -> None:
        """Release what engines hold beyond their pages (a VLM engine's connections and threads)."""
        for engine in self._cache.values():
            close = getattr(engine, "close", None)
            if close is not None:
                close()
        self._cache.clear()

    def allows_fallback(self, name: str) -> bool:
        """Whether the pages this engine fails are read again on the CPU. Its class says so, which
        is known even when the engine cannot be built (a bad setting fails its pages, which then
        fall back like pages the model failed)."""
        return bool(getattr(self._registered(name).engine_class(), "fallback", False))


def _failed_load(doc: pymupdf.Document, index: int, exc: Exception) -> RawPage:
    try:
        rect = doc.page_cropbox(index)
    except Exception:  # the page tree itself is broken here: the size is unknown
        rect = pymupdf.Rect()
    raw = RawPage(index=index, width=rect.width, height=rect.height, engine="none", status=PageStatus.failed)
    raw.error = f"cannot load page: {type(exc).__name__}: {exc}"
    return raw


def run_engine(engines: Engines, name: str, pages: list[PageInput]) -> list[RawPage]:
    """One engine on a batch of pages. An engine that raises fails its pages, not the document."""
    try:
        raws = engines.get(name).process(pages)
    except MissingExtra:
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raws = [RawPage.for_input(p, name, status=PageStatus.failed, error=error) for p in pages]
    for raw in raws:
        # An engine that runs its pages concurrently reports its stages; their sum is the page's
        # own cost (a share of the batch's wall time would mean nothing).
        raw.timings.setdefault("engine", sum(raw.timings.values()))
    return raws


def _read_again(engines: Engines, failed: list[tuple[PageInput, RawPage]]) -> list[RawPage]:
    """The fallback rule: pages that an engine allowing fallback failed are read by the CPU engine
    the router names for them; the result keeps the failed engine's error and VLM record."""
    by_engine: dict[str, list[int]] = {}
    for k, (page_input, _) in enumerate(failed):
        name = fallback_route(page_input.page, engines.config.convert.force_ocr)
        by_engine.setdefault(name, []).append(k)
    out: list[RawPage] = [raw for _, raw in failed]
    for name, ks in by_engine.items():
        for k, cpu in zip(ks, run_engine(engines, name, [failed[k][0] for k in ks]), strict=True):
            before = failed[k][1]
            cpu.timings["engine"] += before.timings.get("engine", 0.0)
            cpu.status = PageStatus.failed if cpu.status == PageStatus.failed else PageStatus.fallback
            cpu.error = f"{before.engine} failed ({before.error}); read with {name}"
            cpu.vlm = before.vlm
            out[k] = cpu
            log.info("docpipe: %s, page %d: %s", failed[k][0].source_name, cpu.index + 1, cpu.error)
    return out


# OCR that reads less than this share of the plausible words in the text layer it replaced missed
# the page (a script it cannot read, text too small or faint): the text layer, flaws and all, is
# the better reading.
OCR_SHORTFALL = 0.5
OCR_SHORTFALL_MIN_CHARS = 4


def _ocr_chars(raw: RawPage) -> int:
    return sum(ch.isalnum() for ln in raw.lines for ch in ln.text)


def _rescue_from_text_layer(engines: Engines, inputs: list[PageInput], raws: list[RawPage]) -> None:
    """Pages the router sent from a doubtful text layer to OCR, where OCR read (almost) nothing of
    what the text layer holds, are read from the text layer instead, as a fallback with the reason."""
    picked = []
    for k, (page_input, raw) in enumerate(zip(inputs, raws, strict=True)):
        if raw.status is not PageStatus.ok:
            continue
        words = text_layer_words(page_input.page)
        got = _ocr_chars(raw)
        if words >= OCR_SHORTFALL_MIN_CHARS and got < OCR_SHORTFALL * words:
            picked.append((k, f"OCR read {got} letters and digits where the text layer has {words} in words"))
    if not picked:
        return
    again = run_engine(engines, "textlayer", [inputs[k] for k, _ in picked])
    for (k, why), text in zip(picked, again, strict=True):
        if text.status is PageStatus.failed:
            continue
        text.timings["engine"] += raws[k].timings.get("engine", 0.0)
        text.status = PageStatus.fallback
        text.error = f"{why}; read with textlayer"
        text.route_reason = raws[k].route_reason
        raws[k] = text
        log.info("docpipe: %s, page %d: %s", inputs[k].source_name, text.index + 1, text.error)


def recognise_window(
    engines: Engines, doc: pymupdf.Document, source: str, indexes: range, progress: ProgressFn | None = None
) -> list[RawPage]:
    """Route every page of the window, then run each engine once on all of its pages (the VLM
    backend keeps requests in flight while the next pages render), then the fallback."""
    convert = engines.config.convert
    results: dict[int, RawPage] = {}
    routed: dict[str, list[PageInput]] = {}
    route_s: dict[int, float] = {}
    damaged: dict[int, str] = {}  # pages whose content streams were partly cut off
    for index in indexes:
        t0 = time.perf_counter()
        try:
            page = doc.load_page(index)
            damage = page_damage(page)
            if damage and damage[0] == "failed":  # nothing there to read: OCR would see a blank page
                error = f"page {index + 1}: {damage[1]}"
                blank = PageInput(source, index, page)
                results[index] = RawPage.for_input(blank, "none", status=PageStatus.failed, error=error)
                if progress:
                    progress(1)
                continue
            if damage:
                damaged[index] = f"page {index + 1}: {damage[1]}"
            decision = decide_route(page, convert.engine, convert.force_ocr)
        except Exception as exc:
            results[index] = _failed_load(doc, index, exc)
            if progress:
                progress(1)
            continue
        route_s[index] = time.perf_counter() - t0
        log.debug("docpipe: %s, page %d: %s (%s)", source, index + 1, decision.engine, decision.reason)
        page_input = PageInput(source_name=source, index=index, page=page, route_reason=decision.reason)
        routed.setdefault(decision.engine, []).append(page_input)
    for name, inputs in routed.items():
        raws = run_engine(engines, name, inputs)
        if name == "ocr" and convert.engine == "auto" and not convert.force_ocr:
            _rescue_from_text_layer(engines, inputs, raws)
        if engines.allows_fallback(name):
            failed = [k for k, raw in enumerate(raws) if raw.status == PageStatus.failed]
            again = _read_again(engines, [(inputs[k], raws[k]) for k in failed])
            for k, raw in zip(failed, again, strict=True):
                raws[k] = raw
        for page_input, raw in zip(inputs, raws, strict=True):
            results[page_input.index] = raw
        if progress:
            progress(len(inputs))
    for index, raw in results.items():
        # Engines add their own breakdown (tables, detect, recognise...); `route` is the router's.
        raw.timings["route"] = route_s.get(index, 0.0)
        if index in damaged and raw.status == PageStatus.ok:
            raw.status, raw.error = PageStatus.partial, damaged[index]
    return [results[i] for i in indexes]


def recognise_pages(path: str | Path, pages: range, config: Config, engines: Engines) -> list[RawPage]:
    """Recognise some pages of a file on their own (a worker's share of a big document)."""
    path = Path(path)
    doc = open_document(
        path,
        path.read_bytes(),
        password=config.convert.password,
        max_image_pixels=config.ocr.max_image_pixels,
        max_embed_pixels=config.ocr.max_pixels,
    )
    try:
        return recognise_window(engines, doc, path.name, pages)
    finally:
        doc.close()
