"""Hugging Face transformers: slow, one request at a time; for debugging and for tests with tiny models.
Works with chat-template vision models (Qwen2-VL / 2.5-VL / 3-VL, and others loadable with
AutoModelForImageTextToText)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING, Any

from docpipe.engines.vlm.backends.base import BackendError, VlmRequest, VlmResponse, require

if TYPE_CHECKING:
    from docpipe.engines.vlm.settings import VlmSettings


class TransformersBackend:
    name = "transformers"

    def __init__(self, settings: VlmSettings, model: Any = None, processor: Any = None) -> None:
        self.settings = settings
        self.torch = require("torch", "hf")
        self.transformers = require("transformers", "hf")
        self._model, self._processor = model, processor
        self._lock = threading.Lock()  # generate() is not re-entrant on one model

    def _load(self) -> tuple[Any, Any]:
        if self._model is None:
            tf, s = self.transformers, self.settings
            self._processor = tf.AutoProcessor.from_pretrained(s.model)
            dtype = s.dtype if s.dtype == "auto" else getattr(self.torch, s.dtype)
            self._model = tf.AutoModelForImageTextToText.from_pretrained(s.model, dtype=dtype).to(s.device)
            self._model.eval()
        return self._model, self._processor

    def generate_one(self, req: VlmRequest) -> VlmResponse:
        model, processor = self._load()
        messages: list[dict[str, Any]] = []
        if req.system:
            messages.append({"role": "system", "content": [{"type": "text", "text": req.system}]})
        messages.append(
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": req.prompt}]}
        )
        prompt = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        inputs = processor(text=[prompt], images=[req.image], return_tensors="pt").to(model.device)
        sample = req.temperature > 0
        gen_kwargs: dict[str, Any] = {"max_new_tokens": req.max_tokens, "do_sample": sample}
        if sample:
            gen_kwargs["temperature"] = req.temperature
        started = time.perf_counter()
        with self._lock, self.torch.inference_mode():
            out = model.generate(**inputs, **gen_kwargs)
        new = out[0, inputs["input_ids"].shape[1] :]
        eos = model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos]) if eos is not None else set()
        ended = len(new) > 0 and int(new[-1]) in eos_ids
        text = processor.batch_decode([new], skip_special_tokens=req.skip_special_tokens)[0]
        return VlmResponse(
            text=text,
            finish_reason="stop" if ended or len(new) < req.max_tokens else "length",
            completion_tokens=len(new),
            prompt_tokens=int(inputs["input_ids"].shape[1]),
            seconds=time.perf_counter() - started,
        )

    def generate_batch(self, requests: list[VlmRequest]) -> list[VlmResponse | BaseException]:
        results: list[VlmResponse | BaseException] = []
        for r in requests:
            try:
                results.append(self.generate_one(r))
            except Exception as exc:
                results.append(BackendError(f"transformers generate failed: {exc}"))
        return results

    async def agenerate(self, request: VlmRequest) -> VlmResponse:
        try:
            return await asyncio.to_thread(self.generate_one, request)
        except Exception as exc:
            raise BackendError(f"transformers generate failed: {exc}") from exc
