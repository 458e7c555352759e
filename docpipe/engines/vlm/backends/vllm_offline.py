"""vLLM offline inference with continuous batching: requests join the running batch as they come.

`LLM.generate` takes a fixed list and returns when its slowest request ends, so pages rendered
later, and the figure requests a finished page gives rise to, would wait for the whole batch. This
backend drives vLLM's engine itself instead: one driver thread owns the `LLM`, adds each request
the moment it arrives (`llm_engine.add_request`), calls `llm_engine.step()` while anything runs, and
hands each finished request back to the event loop that asked. vLLM's scheduler decides what runs in
each step; this backend only bounds how many requests (and visual tokens: image tensors live in
memory from the moment a request is added) sit inside vLLM at once.

Requests follow vLLM's offline multimodal interface: a dict per prompt with `prompt` (holding the
model's image placeholder) and `multi_modal_data={"image": PIL.Image}`; one SamplingParams per
prompt, with DeepSeek-OCR's n-gram no-repeat arguments in `extra_args` (read by its
NGramPerReqLogitsProcessor, registered on the LLM).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from docpipe.engines.vlm.backends.base import VlmRequest, VlmResponse, offline_max_tokens, require

if TYPE_CHECKING:
    from docpipe.engines.vlm.settings import VlmSettings

log = logging.getLogger(__name__)

DEEPSEEK_NGRAM_PROCESSOR = "vllm.model_executor.models.deepseek_ocr:NGramPerReqLogitsProcessor"


@dataclass
class _Job:
    request: VlmRequest
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    queued: float


class VllmBackend:
    name = "vllm"

    def __init__(self, settings: VlmSettings, llm: Any = None, sampling_params_cls: Any = None) -> None:
        self.settings = settings
        self._llm = llm
        self._sampling_cls = sampling_params_cls
        self._inbox: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._driver: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._ids = itertools.count()

    @property
    def is_deepseek_ocr(self) -> bool:
        m = self.settings.model.lower()
        return "deepseek" in m and "ocr" in m

    def llm_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": self.settings.model, "limit_mm_per_prompt": {"image": 1}}
        if self.is_deepseek_ocr:
            # the DeepSeek-OCR recipe: no prefix or processor cache, and the n-gram no-repeat processor
            module, cls = DEEPSEEK_NGRAM_PROCESSOR.split(":")
            kwargs.update(
                enable_prefix_caching=False,
                mm_processor_cache_gb=0,
                logits_processors=[getattr(require(module, "vllm"), cls)],
            )
        kwargs.update(self.settings.vllm_kwargs)
        return kwargs

    @property
    def llm(self) -> Any:
        if self._llm is None:
            vllm = require("vllm", "vllm")
            self._llm = vllm.LLM(**self.llm_kwargs())
        return self._llm

    # -- request building -----------------------------------------------------------------------
    def _sampling(self, req: VlmRequest) -> Any:
        if self._sampling_cls is None:
            self._sampling_cls = require("vllm", "vllm").SamplingParams
        kwargs: dict[str, Any] = {
            "temperature": req.temperature,
            "max_tokens": offline_max_tokens(req, self.settings, self.llm),  # fits the context
            "skip_special_tokens": req.skip_special_tokens,
        }
        if req.sampling_extra:
            extra = dict(req.sampling_extra)
            if "whitelist_token_ids" in extra:  # the processor expects a set
                extra["whitelist_token_ids"] = set(extra["whitelist_token_ids"])
            kwargs["extra_args"] = extra
        if req.json_schema is not None:
            guided = require("vllm.sampling_params", "vllm")
            kwargs["structured_outputs"] = guided.StructuredOutputsParams(json=req.json_schema)
        return self._sampling_cls(**kwargs)

    def _prompt(self, req: VlmRequest) -> str:
        if req.raw_prompt is not None:
            return req.raw_prompt
        # chat models: the tokenizer's chat template places the model's image placeholder
        messages: list[dict[str, Any]] = []
        if req.system:
            messages.append({"role": "system", "content": req.system})
        messages.append(
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": req.prompt}]}
        )
        tok = self.llm.get_tokenizer()
        return tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def build_input(self, req: VlmRequest) -> tuple[dict[str, Any], Any]:
        """vLLM's prompt dict and SamplingParams for one request."""
        item: dict[str, Any] = {"prompt": self._prompt(req), "multi_modal_data": {"image": req.image}}
        if req.mm_processor_kwargs:
            item["mm_processor_kwargs"] = dict(req.mm_processor_kwargs)
        return item, self._sampling(req)

    # -- the async interface --------------------------------------------------------------------
    async def agenerate(self, request: VlmRequest) -> VlmResponse:
        loop = asyncio.get_running_loop()
        job = _Job(request, loop.create_future(), loop, time.perf_counter())
        self._inbox.put(job)
        self._ensure_driver()
        return await job.future

    def generate_batch(self, requests: list[VlmRequest]) -> list[VlmResponse | BaseException]:
        async def run() -> list[VlmResponse | BaseException]:
            return await asyncio.gather(*(self.agenerate(r) for r in requests), return_exceptions=True)

        return asyncio.run(run()) if requests else []

    def _ensure_driver(self) -> None:
        with self._start_lock:
            if self._driver is None or not self._driver.is_alive():
                self._driver = threading.Thread(target=self._drive, name="docpipe-vllm", daemon=True)
                self._driver.start()

    # -- the driver thread: the only thread that touches the LLM ----------------------------------
    def _drive(self) -> None:
        s = self.settings
        waiting: deque[_Job] = deque()
        running: dict[str, _Job] = {}
        tokens_in = 0  # visual tokens of the requests inside vLLM
        while True:
            try:  # block only when there is nothing to do
                waiting.append(self._inbox.get(block=not (running or waiting), timeout=None))
                while True:
                    waiting.append(self._inbox.get_nowait())
            except queue.Empty:
                pass
            # admit what fits; a request larger than the whole budget still goes, alone
            while waiting and (
                not running
                or len(running) < s.max_batch_size
                and tokens_in + waiting[0].request.visual_tokens <= s.max_batch_visual_tokens
            ):
                job = waiting.popleft()
                if job.future.cancelled():
                    continue
                rid = str(next(self._ids))
                try:
                    prompt, params = self.build_input(job.request)
                    self.llm.llm_engine.add_request(rid, prompt, params)
                except Exception as exc:  # this request is bad (or vLLM is missing): it fails alone
                    _resolve(job, exc)
                    continue
                running[rid] = job
                tokens_in += job.request.visual_tokens
            if not running:
                continue
            try:
                outputs = self.llm.llm_engine.step()
            except Exception as exc:  # the engine itself failed: every request inside it fails
                log.error("vLLM step failed: %s", exc)
                for job in running.values():
                    _resolve(job, exc)
                running.clear()
                tokens_in = 0
                continue
            for out in outputs:
                if not getattr(out, "finished", True):
                    continue
                rid = _external_id(out.request_id, running)
                job = running.pop(rid, None)
                if job is None:
                    continue
                tokens_in -= job.request.visual_tokens
                _resolve(job, _response(out, time.perf_counter() - job.queued))


def _external_id(request_id: str, running: dict[str, _Job]) -> str:
    """vLLM may report the id it was given or that id with a random suffix of its own."""
    return request_id if request_id in running else request_id.rsplit("-", 1)[0]


def _response(out: Any, seconds: float) -> VlmResponse:
    comp = out.outputs[0]
    prompt_ids = list(getattr(out, "prompt_token_ids", None) or [])
    return VlmResponse(
        text=comp.text,
        finish_reason=getattr(comp, "finish_reason", None),
        completion_tokens=len(getattr(comp, "token_ids", ()) or ()),
        prompt_tokens=len(prompt_ids) or None,
        prompt_token_ids=prompt_ids or None,
        seconds=seconds,
    )


def _resolve(job: _Job, result: VlmResponse | BaseException) -> None:
    def settle() -> None:
        if job.future.done():
            return
        if isinstance(result, BaseException):
            job.future.set_exception(result)
        else:
            job.future.set_result(result)

    with contextlib.suppress(RuntimeError):  # the loop that asked is gone (its caller gave up)
        job.loop.call_soon_threadsafe(settle)
