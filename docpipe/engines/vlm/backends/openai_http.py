"""OpenAI-compatible `/v1/chat/completions` over HTTP (vLLM, SGLang, OpenAI, Gemini/Claude gateways).

Images travel as `data:` URIs. Requests run on asyncio with at most `max_concurrency` in flight;
429, 5xx, timeouts and dropped connections are retried with exponential back-off (Retry-After
honoured) up to `max_retries` times, anything else fails at once with the server's message.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import TYPE_CHECKING, Any

from docpipe.engines.vlm.backends.base import BackendError, VlmRequest, VlmResponse, require
from docpipe.engines.vlm.images import data_uri

if TYPE_CHECKING:
    from docpipe.engines.vlm.settings import VlmSettings

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 60.0


class _Transient(Exception):
    pass


class OpenAIBackend:
    name = "openai"

    def __init__(self, settings: VlmSettings, transport: Any = None) -> None:
        self.settings = settings
        self._httpx = require("httpx", "vlm")
        self._transport = transport  # tests may inject an httpx transport; normally None
        self._loop_state: dict[int, tuple[Any, asyncio.Semaphore]] = {}
        self.url = settings.base_url.rstrip("/") + "/chat/completions"

    # -- request building -------------------------------------------------------------------
    def build_body(self, req: VlmRequest) -> dict[str, Any]:
        s = self.settings
        image_url: dict[str, Any] = {"url": data_uri(req.image)}
        detail = req.detail or s.detail
        if detail:
            image_url["detail"] = detail
        messages: list[dict[str, Any]] = []
        if req.system:
            messages.append({"role": "system", "content": req.system})
        messages.append(
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": image_url},
                    {"type": "text", "text": req.prompt},
                ],
            }
        )
        body: dict[str, Any] = {
            "model": s.model,
            "messages": messages,
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
        }
        if req.json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "page_blocks", "schema": req.json_schema, "strict": True},
            }
        if s.server_extras:
            # vLLM's own request fields: per-request logits-processor args and processor kwargs
            if req.sampling_extra:
                body["vllm_xargs"] = req.sampling_extra
            if req.mm_processor_kwargs:
                body["mm_processor_kwargs"] = req.mm_processor_kwargs
            if not req.skip_special_tokens:
                body["skip_special_tokens"] = False
        return body

    # -- transport --------------------------------------------------------------------------
    def _state(self) -> tuple[Any, asyncio.Semaphore]:
        """One client and one semaphore per event loop (httpx clients are loop-bound)."""
        loop = asyncio.get_running_loop()
        state = self._loop_state.get(id(loop))
        if state is None:
            httpx = self._httpx
            headers = {}
            key = self.settings.api_key
            if key is None:
                import os

                key = os.environ.get("OPENAI_API_KEY")
            if key:
                headers["Authorization"] = f"Bearer {key}"
            t = self.settings.timeout
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(t, connect=min(10.0, t)),
                headers=headers,
                transport=self._transport,
                limits=httpx.Limits(max_connections=self.settings.max_concurrency),
            )
            state = (client, asyncio.Semaphore(self.settings.max_concurrency))
            self._loop_state[id(loop)] = state
        return state

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        state = self._loop_state.pop(id(loop), None)
        if state is not None:
            await state[0].aclose()

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(MAX_RETRY_AFTER, max(0.0, float(retry_after)))
            except ValueError:
                pass
        base = self.settings.backoff * (2**attempt)
        return base * random.uniform(0.75, 1.25)  # jitter: do not retry in lock-step

    async def _post_once(self, client: Any, body: dict[str, Any]) -> dict[str, Any]:
        httpx = self._httpx
        try:
            resp = await client.post(self.url, json=body)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}", None) from exc
        if resp.status_code in RETRY_STATUS or resp.status_code >= 500:
            raise _Transient(f"HTTP {resp.status_code}: {resp.text[:200]}", resp.headers.get("retry-after"))
        if resp.status_code >= 400:
            raise BackendError(f"HTTP {resp.status_code} from {self.url}: {resp.text[:500]}")
        try:
            return resp.json()
        except ValueError as exc:
            raise _Transient(f"non-JSON reply: {resp.text[:200]}", None) from exc

    async def agenerate(self, request: VlmRequest) -> VlmResponse:
        client, sem = self._state()
        body = self.build_body(request)
        attempts = self.settings.max_retries + 1
        last = ""
        started = time.perf_counter()
        async with sem:
            for attempt in range(attempts):
                try:
                    data = await self._post_once(client, body)
                except _Transient as exc:
                    last = str(exc.args[0])
                    if attempt + 1 < attempts:
                        await asyncio.sleep(self._delay(attempt, exc.args[1]))
                    continue
                except BackendError as exc:
                    # servers without JSON-schema decoding reject response_format: ask again without it
                    msg = str(exc)
                    if "response_format" in body and ("response_format" in msg or "json_schema" in msg):
                        body.pop("response_format", None)
                        continue
                    raise
                return _response(data, time.perf_counter() - started, attempt + 1)
        raise BackendError(f"{attempts} attempt(s) to {self.url} failed; last: {last}")

    def generate_batch(self, requests: list[VlmRequest]) -> list[VlmResponse | BaseException]:
        async def run() -> list[VlmResponse | BaseException]:
            try:
                return await asyncio.gather(*(self.agenerate(r) for r in requests), return_exceptions=True)
            finally:
                await self.aclose()

        return asyncio.run(run())


def _response(data: dict[str, Any], seconds: float, attempts: int) -> VlmResponse:
    try:
        choice = data["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise BackendError(f"malformed chat completion: {str(data)[:200]}") from exc
    if isinstance(content, list):  # some gateways return content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    usage = data.get("usage") or {}
    return VlmResponse(
        text=content or "",
        finish_reason=choice.get("finish_reason"),
        completion_tokens=usage.get("completion_tokens"),
        prompt_tokens=usage.get("prompt_tokens"),
        seconds=seconds,
        attempts=attempts,
    )
