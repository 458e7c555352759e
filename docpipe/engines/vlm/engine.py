"""The VLM engine: page raster -> resolution mode -> model -> parsed blocks -> figure pass.

`VlmEngine.process` implements the Engine protocol; `VlmEngine.aprocess_page` is the async entry
point for a scheduler that keeps a bounded number of pages in flight (the backend bounds requests).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from docpipe.engines.base import PageInput
from docpipe.engines.vlm.backends import Backend, VlmResponse, make_backend
from docpipe.engines.vlm.images import crop_points, png_bytes, render_page
from docpipe.engines.vlm.modes import Mode, choose_mode, estimate_text_tokens
from docpipe.engines.vlm.parse.draft import Draft, ParseResult
from docpipe.engines.vlm.parse.model_text import clean_model_text, json_safe
from docpipe.engines.vlm.parse.repetition import is_repetition_loop
from docpipe.engines.vlm.parse.sanitize import sanitize_inline
from docpipe.engines.vlm.profiles import PageGeometry, Profile, VisualTokenMismatch, profile_for
from docpipe.engines.vlm.settings import VlmSettings
from docpipe.model import Block, BlockType, ChartData, ChemicalData, FigureData, PageStatus, VlmPageInfo
from docpipe.model.raw import RawPage
from docpipe.util import mupdf_lock

#: called with (page index, block id, PNG bytes) for each figure crop; returns the path to record in
#: FigureData.image_path (relative to the JSON), or None
ImageSink = Callable[[int, str, bytes], "str | None"]

log = logging.getLogger(__name__)

_TAGS = re.compile(r"<\|[^|>]{1,40}\|>|<｜[^｜]{1,40}｜>")


@dataclass
class _Attempt:
    mode: Mode
    temperature: float


class VlmEngine:
    name = "vlm"
    fallback = True  # a page the model fails (loops, timeouts) is read again by the CPU engines

    def __init__(
        self,
        settings: VlmSettings | None = None,
        *,
        backend: Backend | None = None,
        profile: Profile | None = None,
        image_sink: ImageSink | None = None,
    ) -> None:
        self.settings = settings or VlmSettings()
        s = self.settings
        self.profile = profile or profile_for(
            s.model, s.profile, engine_mode=s.engine_mode, max_pixels=s.max_pixels, min_pixels=s.min_pixels
        )
        self._backend = backend
        self.image_sink = image_sink
        self._mupdf_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="docpipe-render")
        self._warned: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None  # started by the first process()
        # Pages rendered and not yet answered, on the engine's loop: the requests in flight plus as
        # many again waiting their turn. Bounds the pixels alive however many documents (threads)
        # feed the engine at once.
        self._page_slots: asyncio.Semaphore | None = None
        if self.settings.mode != "auto":
            self.profile.mode(self.settings.mode)  # fail early on a mode the profile does not have

    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = make_backend(self.settings)
        return self._backend

    # -- Engine protocol ------------------------------------------------------------------------
    def process(self, pages: Sequence[PageInput]) -> list[RawPage]:
        """Recognise a window of pages. All windows run on the engine's one event loop, so the
        backend's connections and its cap on requests in flight carry over from window to window."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._page_slots = asyncio.Semaphore(2 * self.settings.max_concurrency)
            threading.Thread(target=self._loop.run_forever, name="docpipe-vlm-loop", daemon=True).start()
        done = asyncio.run_coroutine_threadsafe(self.aprocess(pages), self._loop)
        # While the model works, other documents of this process may use MuPDF (to route, assemble,
        # write, and render pages for this engine): nothing below touches a PDF on this thread.
        with mupdf_lock.released():
            return done.result()

    async def aprocess(self, pages: Sequence[PageInput]) -> list[RawPage]:
        try:
            raws = list(await asyncio.gather(*(self._bounded_page(p) for p in pages)))
        finally:
            # a caller's own loop (not the engine's) takes its connections with it
            if asyncio.get_running_loop() is not self._loop:
                await self._aclose_backend()
        for raw in raws:
            # pages run concurrently: a page's own cost is its stages, not a share of the wall time
            raw.timings["engine"] = sum(raw.timings.get(k, 0.0) for k in ("render", "vlm", "figures"))
        return raws

    async def _aclose_backend(self) -> None:
        close = getattr(self._backend, "aclose", None)
        if close is not None:
            await close()

    def close(self) -> None:
        """Close the backend's connections and stop the engine's threads (idempotent)."""
        loop, self._loop = self._loop, None
        if loop is not None:
            asyncio.run_coroutine_threadsafe(self._aclose_backend(), loop).result()
            loop.call_soon_threadsafe(loop.stop)
        self._mupdf_thread.shutdown(wait=False)

    async def _bounded_page(self, page: PageInput) -> RawPage:
        slots = self._page_slots if asyncio.get_running_loop() is self._loop else None
        if slots is None:  # a caller's own loop: its own pages only, no bound across calls
            return await self.aprocess_page(page)
        async with slots:
            return await self.aprocess_page(page)

    # -- one page -------------------------------------------------------------------------------
    def _plan(self, page: PageInput, raster) -> tuple[list[_Attempt], int, float, int]:
        s, prof = self.settings, self.profile
        text_tokens, _source = estimate_text_tokens(page, raster)
        if s.mode == "auto" and prof.compression_aware:
            mode, vt, ratio = choose_mode(
                list(prof.modes.values()), text_tokens, *raster.size, s.max_compression
            )
        else:
            mode = prof.mode(prof.default_mode if s.mode == "auto" else s.mode)
            vt = mode.visual_tokens(*raster.size)
            ratio = text_tokens / vt
        # the retry takes another mode (a loop is often a resolution problem) and some temperature
        ranked = sorted(prof.modes.values(), key=lambda m: m.visual_tokens(*raster.size))
        k = ranked.index(mode)
        alt = ranked[k + 1] if k + 1 < len(ranked) else ranked[k - 1] if k > 0 else mode
        plan = [_Attempt(mode, s.temperature), _Attempt(alt, s.retry_temperature)]
        return plan, vt, ratio, text_tokens

    def _render_and_plan(self, page: PageInput):
        with mupdf_lock.hold():  # the document threads of this process may be in MuPDF too
            raster = render_page(page, self.settings.dpi, self.settings.max_render_pixels)
            plan = self._plan(page, raster)
        # the first attempt's image is sized here too: resampling a page costs ~0.1 s of CPU, which on
        # the event loop would hold back every request and reply in flight
        return raster, plan, self.profile.prepare_image(raster, plan[0][0].mode)

    async def aprocess_page(self, page: PageInput) -> RawPage:
        s, prof = self.settings, self.profile
        raw = RawPage.for_input(page, self.name)
        t0 = time.perf_counter()
        try:
            # Rendering runs on the engine's one MuPDF thread (MuPDF must not be entered from two
            # threads at once), so the event loop stays free: requests already rendered go out,
            # and the model works while the next pages render.
            loop = asyncio.get_running_loop()
            rendered = await loop.run_in_executor(self._mupdf_thread, self._render_and_plan, page)
            raster, (plan, vt, ratio, text_tokens), first_image = rendered
        except Exception as exc:  # a page PyMuPDF cannot render: the pipeline falls back
            raw.status, raw.error = PageStatus.failed, f"render failed: {exc}"
            return raw
        raw.timings["render"] = time.perf_counter() - t0
        errors: list[str] = []  # why attempts failed
        notes: list[str] = []  # what went wrong without costing the page
        resp: VlmResponse | None = None
        parsed: ParseResult | None = None
        used = plan[0].mode
        t1 = time.perf_counter()
        for attempt in plan:
            image = (
                first_image
                if attempt is plan[0]
                else await asyncio.to_thread(prof.prepare_image, raster, attempt.mode)
            )
            req = prof.page_request(image, attempt.mode, s)
            req.temperature = attempt.temperature
            req.tag = f"p{page.index}"
            req.visual_tokens = attempt.mode.visual_tokens(*raster.size)
            try:
                resp = await self.backend.agenerate(req)
            except Exception as exc:
                errors.append(f"{attempt.mode.name}: {exc}")
                continue
            # -- output safety: invalid text (lone surrogates, NUL) fails this page only; the reply
            # is kept JSON-safe as raw_output and the pipeline falls back to the CPU engines
            text, invalid = clean_model_text(resp.text)
            resp = dataclasses.replace(resp, text=text)  # never mutate what the backend returned
            if invalid:
                errors.extend(f"{attempt.mode.name}: {p}" for p in invalid)
                break
            # -- end output safety
            try:
                note = prof.check_visual_tokens(*image.size, resp.visual_tokens, resp.prompt_tokens)
            except VisualTokenMismatch as exc:  # the boxes would be wrong: no retry helps
                errors.append(self._warn_once(str(exc)))
                resp = None
                break
            if note:
                notes.append(self._warn_once(note))
            if is_repetition_loop(resp.text, prof.finished(resp)):
                errors.append(f"{attempt.mode.name}: repetition loop (no end of sequence)")
                continue
            used = attempt.mode
            geo = PageGeometry(page.width, page.height, image.width, image.height)
            parsed = prof.parse_page(resp.text, geo, s)
            break
        raw.timings["vlm"] = time.perf_counter() - t1
        if used is not plan[0].mode:
            vt = used.visual_tokens(*raster.size)
        info = VlmPageInfo(
            model=s.model,
            mode=used.name,
            visual_tokens=vt,
            predicted_visual_tokens=vt,
            text_tokens=text_tokens,
        )
        raw.vlm = info
        if resp is not None:
            info.output_tokens = resp.completion_tokens
            info.prompt_tokens = resp.prompt_tokens
            if resp.visual_tokens is not None:  # the engine's own count is the truth
                info.visual_tokens, info.visual_tokens_source = resp.visual_tokens, "engine"
        info.compression_ratio = round(text_tokens / max(info.visual_tokens, 1), 3)
        if parsed is None or resp is None:
            # the errors may quote the model's reply
            raw.status, raw.error = PageStatus.failed, json_safe("; ".join(errors))[:2000]
            info.raw_output = resp.text if resp is not None else None
            return raw
        truncated = not prof.finished(resp)
        if not parsed.drafts:
            # nothing parsable: keep what the model said as plain text and let the user judge
            raw.status = PageStatus.fallback
            raw.error = "; ".join(["unparsable model output", *parsed.problems])[:2000]
            info.raw_output = resp.text
            text = sanitize_inline(_TAGS.sub(" ", resp.text))  # output safety: model text, unparsed
            raw.blocks = (
                [
                    Block(
                        id=f"p{page.index}-b0",
                        type=BlockType.paragraph,
                        bbox=(0.0, 0.0, page.width, page.height),
                        text=text,
                    )
                ]
                if text
                else []
            )
            return raw
        if parsed.problems or truncated:
            info.raw_output = resp.text
            notes += parsed.problems + (["output truncated at the token limit"] if truncated else [])
        if notes:
            raw.error = "; ".join(notes)[:2000]
        raw.blocks = self._blocks(page, parsed.drafts)
        t2 = time.perf_counter()
        await self._figures(page, raster, raw)
        raw.timings["figures"] = time.perf_counter() - t2
        return raw

    def _warn_once(self, note: str) -> str:
        """A setting to fix is said once per run, not once per page; every page still records it."""
        if note not in self._warned:
            self._warned.add(note)
            log.warning("docpipe: %s", note)
        return note

    # -- blocks ---------------------------------------------------------------------------------
    def _blocks(self, page: PageInput, drafts: list[Draft]) -> list[Block]:
        full = (0.0, 0.0, page.width, page.height)
        blocks: list[Block] = []
        for d in drafts:
            if d.type == BlockType.table and d.table is None and not d.text:
                continue
            level = d.level if d.type in (BlockType.title, BlockType.heading, BlockType.list_item) else None
            b = Block(
                id=f"p{page.index}-b{len(blocks)}",
                type=d.type,
                bbox=d.bbox or full,
                text=d.text,
                level=level,
                table=d.table,
                latex=d.latex,
            )
            if d.type == BlockType.figure:
                b.figure = FigureData(kind=None)
            elif d.type == BlockType.chart:
                b.chart = ChartData()
                b.figure = FigureData(kind="chart")
            elif (
                d.type == BlockType.caption
                and blocks
                and blocks[-1].type in (BlockType.figure, BlockType.chart)
            ):
                (blocks[-1].figure or FigureData()).caption = d.text
            blocks.append(b)
        # captions written before their figure (common for tables and some layouts)
        for prev, cur in zip(blocks, blocks[1:], strict=False):
            if prev.type == BlockType.caption and cur.figure is not None and cur.figure.caption is None:
                cur.figure.caption = prev.text
        return blocks

    async def _figures(self, page: PageInput, raster, raw: RawPage) -> None:
        full = (0.0, 0.0, page.width, page.height)
        kinds = (BlockType.figure, BlockType.chart)
        targets = [b for b in raw.blocks or [] if b.type in kinds and b.bbox != full]
        jobs = []
        for b in targets:
            try:
                crop = crop_points(raster, b.bbox, page.width, page.height)
            except ValueError:
                continue
            png = png_bytes(crop)
            raw.figure_images[b.id] = png  # the pipeline's image stage writes these, no re-rendering
            path = self.image_sink(page.index, b.id, png) if self.image_sink else None
            b.figure = b.figure or FigureData()
            b.figure.image_path = path
            if self.settings.figure_pass:
                jobs.append(self._read_figure(b, crop))
        notes = [n for n in await asyncio.gather(*jobs) if n]
        if notes:
            raw.error = "; ".join(filter(None, [raw.error, *notes]))[:2000]

    async def _read_figure(self, block: Block, crop) -> str | None:
        prof = self.profile
        req = prof.figure_request(prof.prepare_image(crop, prof.mode(prof.default_mode)), self.settings)
        req.tag = f"{block.id}/figure"
        try:
            resp = await self.backend.agenerate(req)
        except Exception as exc:
            return json_safe(f"figure {block.id}: {exc}")
        text, invalid = clean_model_text(resp.text)  # output safety: an invalid reading is dropped
        resp = dataclasses.replace(resp, text=text)
        if invalid:
            return f"figure {block.id}: {'; '.join(invalid)}"
        if is_repetition_loop(resp.text, prof.finished(resp)):
            return f"figure {block.id}: repetition loop"
        reading = prof.parse_figure(resp.text)
        fig = block.figure or FigureData()
        if reading.kind == "chart" and reading.table is not None:
            block.type = BlockType.chart
            block.chart = ChartData(chart_type=reading.chart_type, data=reading.table, caption=fig.caption)
            fig.kind = "chart"
        elif reading.kind == "chemical_structure" and reading.smiles:
            block.type = BlockType.chemical
            block.chemical = _chemical(reading.smiles, self.settings.model)
            block.text = reading.smiles
            fig.kind = "chemical_structure"
        else:
            fig.kind = fig.kind or reading.kind
            if reading.text and not block.text:
                block.text = reading.text[:2000]
        block.figure = fig
        return None


def _chemical(smiles: str, source: str) -> ChemicalData:
    """RDKit validation; invalid SMILES are kept and flagged, never dropped."""
    try:
        from docpipe.util.chem import chemical_from_smiles

        return chemical_from_smiles(smiles, source=source)
    except Exception:  # RDKit missing: keep the reading unvalidated
        return ChemicalData(smiles=smiles.strip(), valid=False, source=source)
