"""vLLM offline inference: `LLM.generate` with `multi_modal_data`, continuous batching inside vLLM.

Requests follow vLLM's offline multimodal interface: a dict per prompt with `prompt` (holding the
model's image placeholder), `multi_modal_data={"image": PIL.Image}` and, for DeepSeek-OCR's resolution
mode, `mm_processor_kwargs`; one SamplingParams per prompt, with DeepSeek-OCR's n-gram no-repeat
arguments in `extra_args` (read by its NGramPerReqLogitsProcessor, registered on the LLM).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from docpipe.engines.vlm.backends import base
from docpipe.engines.vlm.backends.base import VlmRequest, VlmResponse, require

if TYPE_CHECKING:
    from docpipe.engines.vlm.settings import VlmSettings

DEEPSEEK_NGRAM_PROCESSOR = "vllm.model_executor.models.deepseek_ocr:NGramPerReqLogitsProcessor"


class VllmBackend:
    name = "vllm"

    def __init__(self, settings: VlmSettings, llm: Any = None, sampling_params_cls: Any = None) -> None:
        self.settings = settings
        self._llm = llm
        self._sampling_cls = sampling_params_cls
        self._pending: list[tuple[VlmRequest, asyncio.Future]] = []
        self._flush_scheduled = False
        self._lock: asyncio.Lock | None = None

    @property
    def is_deepseek_ocr(self) -> bool:
        m = self.settings.model.lower()
        return "deepseek" in m and "ocr" in m

    def llm_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": self.settings.model, "limit_mm_per_prompt": {"image": 1}}
        if self.is_deepseek_ocr:
            # as in the DeepSeek-OCR recipe: no prefix cache or processor cache (the per-request
            # resolution mode changes the image tokens), and the n-gram no-repeat processor
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

    def _sampling(self, req: VlmRequest) -> Any:
        if self._sampling_cls is None:
            self._sampling_cls = require("vllm", "vllm").SamplingParams
        kwargs: dict[str, Any] = {
            "temperature": req.temperature,
            "max_tokens": base.offline_max_tokens(req, self.settings, self.llm),
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

    def build_inputs(self, requests: list[VlmRequest]) -> tuple[list[dict[str, Any]], list[Any]]:
        inputs = []
        for req in requests:
            item: dict[str, Any] = {"prompt": self._prompt(req), "multi_modal_data": {"image": req.image}}
            if req.mm_processor_kwargs:
                item["mm_processor_kwargs"] = dict(req.mm_processor_kwargs)
            inputs.append(item)
        return inputs, [self._sampling(r) for r in requests]

    def generate_batch(self, requests: list[VlmRequest]) -> list[VlmResponse | BaseException]:
        if not requests:
            return []
        inputs, params = self.build_inputs(requests)
        started = time.perf_counter()
        try:
            outputs = self.llm.generate(inputs, params, use_tqdm=False)
        except Exception as exc:  # one bad request fails the vLLM call; report it on every request
            return [exc for _ in requests]
        seconds = (time.perf_counter() - started) / len(requests)
        results: list[VlmResponse | BaseException] = []
        for out in outputs:
            comp = out.outputs[0]
            results.append(
                VlmResponse(
                    text=comp.text,
                    finish_reason=getattr(comp, "finish_reason", None),
                    completion_tokens=len(getattr(comp, "token_ids", ()) or ()),
                    prompt_tokens=len(getattr(out, "prompt_token_ids", ()) or ()),
                    prompt_token_ids=list(getattr(out, "prompt_token_ids", None) or ()) or None,
                    seconds=seconds,
                )
            )
        return results

    async def agenerate(self, request: VlmRequest) -> VlmResponse:
        """Requests awaited together are gathered into one `generate` call (vLLM batches inside)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future = loop.create_future()
        self._pending.append((request, fut))
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(lambda: asyncio.ensure_future(self._flush()))
        return await fut

    async def _flush(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            batch, self._pending = self._pending, []
            self._flush_scheduled = False
            for group in split_batch(
                batch, self.settings.max_batch_size, self.settings.max_batch_visual_tokens
            ):
                results = await asyncio.to_thread(self.generate_batch, [r for r, _ in group])
                for (_, fut), res in zip(group, results, strict=True):
                    if fut.done():
                        continue
                    if isinstance(res, BaseException):
                        fut.set_exception(res)
                    else:
                        fut.set_result(res)


def split_batch(batch: list, max_size: int, max_visual_tokens: int) -> list[list]:
    """(request, future) pairs in groups bounded by count and by visual tokens; a request bigger
    than the budget still goes, alone."""
    groups: list[list] = []
    cur: list = []
    tokens = 0
    for item in batch:
        vt = item[0].visual_tokens
        if cur and (len(cur) >= max_size or tokens + vt > max_visual_tokens):
            groups.append(cur)
            cur, tokens = [], 0
        cur.append(item)
        tokens += vt
    if cur:
        groups.append(cur)
    return groups
