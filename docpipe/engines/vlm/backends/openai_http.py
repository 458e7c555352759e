"""OpenAI-compatible `/v1/chat/completions` over HTTP (vLLM, SGLang, OpenAI, Gemini/Claude gateways).

Images travel as `data:` URIs. Requests run on asyncio with at most `max_concurrency` in flight.
Each attempt has a deadline as a whole (`timeout`: connect, upload, generation and reading the reply,
so a server that drips bytes cannot hold a request), and a request with its retries has one too
(`total_timeout`). 429, 5xx, deadlines and dropped connections are retried with exponential back-off
(Retry-After honoured) up to `max_retries` times.

A 400 that names a request field the backend can do without (`max_tokens` on reasoning models,
`temperature`, `response_format`, image `detail`, vLLM's own extras) is answered by asking again
without it, and the field stays out for the rest of the run: only the first request pays. A 400 for
context length shrinks `max_tokens` once. Anything else fails at once with the server's message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from docpipe.engines.vlm.backends.base import (
    BackendError,
    VlmRequest,
    VlmResponse,
    fit_max_tokens,
    predicted_prompt_tokens,
    require,
)
from docpipe.engines.vlm.images import data_uri

if TYPE_CHECKING:
    from docpipe.engines.vlm.settings import VlmSettings

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 60.0
#: while the backend's first request is out, the others wait for it this long at most, so that the
#: fields a server rejects (answered in milliseconds) are learned from one request, not a whole wave
FIRST_ANSWER_WAIT = 2.0
#: fields a request can go without; a server's 400 naming one drops it for the rest of the run
OPTIONAL_FIELDS = (
    "temperature",
    "response_format",
    "detail",
    "vllm_xargs",
    "mm_processor_kwargs",
    "skip_special_tokens",
    "return_token_ids",
)
TOKEN_FIELDS = ("max_tokens", "max_completion_tokens")
_ALIASES = {"json_schema": "response_format", "image_url.detail": "detail"}
_CONTEXT = re.compile(r"context length|context window|max_model_len|context_length_exceeded", re.I)
# vLLM's wordings across releases, and OpenAI's: "This model's maximum context length is 8192 tokens.
# However, you requested 8466 tokens (274 in the messages, 8192 in the completion)", "... and your
# request has 274 input tokens", "Input length (9000) exceeds model's maximum context length (8192)"
_CONTEXT_LEN = re.compile(r"(?:maximum context length(?: is)?|max_model_len)\D{0,12}?(\d+)", re.I)
_PROMPT_LEN = re.compile(
    r"(\d+) (?:tokens )?in the messages|(\d+) input tokens|prompt (?:contains|has) (?:at least )?(\d+)"
    r"|input length \(?(\d+)",
    re.I,
)


def is_reasoning_model(model: str) -> bool:
    """OpenAI's reasoning models (o1, o3, o4-mini, gpt-5...): they take `max_completion_tokens`, not
    `max_tokens`, and only their default temperature. gpt-5-chat is a chat model."""
    name = model.lower().rsplit("/", 1)[-1]
    return bool(re.match(r"o\d+(?:$|[-_.])", name)) or (name.startswith("gpt-5") and "chat" not in name)


class _Transient(Exception):
    pass


class _Rejected(Exception):
    """A 4xx that may name a field we can leave out, or a context overflow."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(status, text)
        self.status, self.text = status, text


@dataclass
class _LoopState:
    client: Any
    sem: asyncio.Semaphore
    probe_lock: asyncio.Lock
    first_answer: asyncio.Event


class OpenAIBackend:
    name = "openai"

    def __init__(self, settings: VlmSettings, transport: Any = None) -> None:
        self.settings = settings
        self._httpx = require("httpx", "vlm")
        self._transport = transport  # tests may inject an httpx transport; normally None
        self._loop_state: dict[int, _LoopState] = {}
        root = settings.base_url.rstrip("/")
        self.url = root + "/chat/completions"
        self.models_url = root + "/models"
        self.reasoning = is_reasoning_model(settings.model)
        # what this server has taught us, kept for the rest of the run
        self.rejected: set[str] = set()  # optional fields it refused
        self.token_field = "max_completion_tokens" if self.reasoning else "max_tokens"
        self.max_model_len: int | None = settings.max_model_len
        self._probed = settings.max_model_len is not None
        self.prompt_slack = 0  # prompt tokens the engine counted beyond our prediction, at most
        self._first_sent = False
        self._first_answered = False

    # -- request building -------------------------------------------------------------------
    def max_tokens_for(self, req: VlmRequest) -> int:
        return fit_max_tokens(req, self.max_model_len, predicted_prompt_tokens(req) + self.prompt_slack)

    def build_body(self, req: VlmRequest) -> dict[str, Any]:
        s, rejected = self.settings, self.rejected
        image_url: dict[str, Any] = {"url": data_uri(req.image)}
        detail = req.detail or s.detail
        if detail and "detail" not in rejected:
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
            self.token_field: self.max_tokens_for(req),
        }
        if not self.reasoning and "temperature" not in rejected:
            body["temperature"] = req.temperature
        optional: dict[str, Any] = {}
        if req.json_schema is not None:
            optional["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "page_blocks", "schema": req.json_schema, "strict": True},
            }
        if s.server_extras:
            # vLLM's own request fields: per-request logits-processor args, processor kwargs, and the
            # prompt's token ids in the reply (the engine's own count of visual tokens)
            if req.sampling_extra:
                optional["vllm_xargs"] = req.sampling_extra
            if req.mm_processor_kwargs:
                optional["mm_processor_kwargs"] = req.mm_processor_kwargs
            if not req.skip_special_tokens:
                optional["skip_special_tokens"] = False
            optional["return_token_ids"] = True
        body.update((k, v) for k, v in optional.items() if k not in rejected)
        return body

    # -- transport --------------------------------------------------------------------------
    def _state(self) -> _LoopState:
        """One client and one semaphore per event loop (httpx clients are loop-bound)."""
        loop = asyncio.get_running_loop()
        state = self._loop_state.get(id(loop))
        if state is None:
            httpx = self._httpx
            headers = {}
            key = self.settings.api_key
            if key is None:
                key = os.environ.get("OPENAI_API_KEY")
            if key:
                headers["Authorization"] = f"Bearer {key}"
            t = self.settings.timeout
            # httpx's timeout is per read; the attempt's deadline in agenerate bounds the whole
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(t, connect=min(10.0, t)),
                headers=headers,
                transport=self._transport,
                limits=httpx.Limits(max_connections=self.settings.max_concurrency),
            )
            state = _LoopState(
                client, asyncio.Semaphore(self.settings.max_concurrency), asyncio.Lock(), asyncio.Event()
            )
            self._loop_state[id(loop)] = state
        return state

    async def aclose(self) -> None:
        loop = asyncio.get_running_loop()
        state = self._loop_state.pop(id(loop), None)
        if state is not None:
            await state.client.aclose()

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(MAX_RETRY_AFTER, max(0.0, float(retry_after)))
            except ValueError:
                pass
        base = self.settings.backoff * (2**attempt)
        return base * random.uniform(0.75, 1.25)  # jitter: do not retry in lock-step

    def total_deadline(self) -> float:
        s = self.settings
        if s.total_timeout is not None:
            return s.total_timeout
        attempts = s.max_retries + 1
        return s.timeout * attempts + 1.25 * s.backoff * (2**attempts)

    async def _learn_context(self, state: _LoopState) -> None:
        """vLLM's /v1/models gives the served context length (`max_model_len`); asked once per backend.
        Other servers do not say, and their requests keep the settings' max_tokens."""
        if self._probed:
            return
        async with state.probe_lock:
            if self._probed:
                return
            try:
                async with asyncio.timeout(min(10.0, self.settings.timeout)):
                    resp = await state.client.get(self.models_url)
                if resp.status_code == 200:
                    self.max_model_len = _served_context(resp.json(), self.settings.model)
            except Exception as exc:  # unknown is fine: nothing is cut then
                log.debug("no context length from %s: %s", self.models_url, exc)
            self._probed = True

    async def _post_once(self, client: Any, body: dict[str, Any]) -> dict[str, Any]:
        httpx = self._httpx
        try:
            resp = await client.post(self.url, json=body)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}", None) from exc
        if resp.status_code in RETRY_STATUS or resp.status_code >= 500:
            raise _Transient(f"HTTP {resp.status_code}: {resp.text[:200]}", resp.headers.get("retry-after"))
        if resp.status_code in (400, 422):  # may name a field to leave out (422: FastAPI's validation)
            raise _Rejected(resp.status_code, resp.text)
        if resp.status_code >= 400:
            raise BackendError(f"HTTP {resp.status_code} from {self.url}: {resp.text[:500]}")
        try:
            return resp.json()
        except ValueError as exc:
            raise _Transient(f"non-JSON reply: {resp.text[:200]}", None) from exc

    def _learn_from(self, err: _Rejected, req: VlmRequest, body: dict[str, Any], shrunk: bool) -> str | None:
        """What to change after a 4xx: 'context' (max_tokens cut), 'field' (a field left out), or None
        when the request cannot be mended."""
        params, message = error_fields(err.text)
        if _CONTEXT.search(message) or "context_length_exceeded" in params:
            if shrunk or self.token_field not in body:
                return None
            limit = _first_int(_CONTEXT_LEN, message) or self.max_model_len
            prompt = _first_int(_PROMPT_LEN, message)
            if not limit or (prompt is not None and prompt + CONTEXT_FLOOR >= limit):
                return None  # no number to go by, or the prompt alone fills the context
            self.max_model_len = limit
            if prompt is not None:
                self.prompt_slack = max(self.prompt_slack, prompt - predicted_prompt_tokens(req))
            if self.max_tokens_for(req) >= body[self.token_field]:
                # our numbers say it fits but the server disagrees: assume half the context is prompt
                self.prompt_slack = max(self.prompt_slack, limit // 2)
            log.warning(
                "%s: context length %d; max_tokens cut to %d", self.url, limit, self.max_tokens_for(req)
            )
            return "context"
        sent = [
            f for f in (*OPTIONAL_FIELDS, *TOKEN_FIELDS) if f in body or (f == "detail" and _has_detail(body))
        ]
        names = rejected_fields(params, message, sent)
        changed = False
        for name in names:
            if name in TOKEN_FIELDS:
                other = TOKEN_FIELDS[1 - TOKEN_FIELDS.index(name)]
                if other in self.rejected:
                    continue
                self.token_field = other
            changed = True  # also when another request learned it meanwhile: this body had it
            if name not in self.rejected:
                self.rejected.add(name)
                log.warning("%s rejected %r; leaving it out from now on", self.url, name)
        return "field" if changed else None

    async def agenerate(self, request: VlmRequest) -> VlmResponse:
        state = self._state()
        await self._learn_context(state)
        first = not self._first_sent
        self._first_sent = True
        if not first and not self._first_answered:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.first_answer.wait(), FIRST_ANSWER_WAIT)
        s = self.settings
        attempts = s.max_retries + 1
        posts = transient = fixes = 0
        shrunk = False
        last = ""
        async with state.sem:
            started = time.monotonic()
            total = self.total_deadline()
            try:
                while transient < attempts:
                    remaining = total - (time.monotonic() - started)
                    if remaining <= 0:
                        last = f"{last} (gave up after {total:.0f} s in all)".strip()
                        break
                    body = self.build_body(request)
                    posts += 1
                    try:
                        async with asyncio.timeout(min(s.timeout, remaining)):
                            data = await self._post_once(state.client, body)
                    except (_Transient, TimeoutError) as exc:
                        transient += 1
                        if isinstance(exc, _Transient):
                            last, retry_after = str(exc.args[0]), exc.args[1]
                        else:
                            last, retry_after = (
                                f"no complete reply within {min(s.timeout, remaining):.1f} s",
                                None,
                            )
                        if transient < attempts:
                            wait = min(
                                self._delay(transient - 1, retry_after), total - (time.monotonic() - started)
                            )
                            await asyncio.sleep(max(0.0, wait))
                        continue
                    except _Rejected as exc:
                        what = self._learn_from(exc, request, body, shrunk)
                        fixes += 1
                        if what is None or fixes > len(OPTIONAL_FIELDS) + 2:
                            raise BackendError(
                                f"HTTP {exc.status} from {self.url}: {exc.text[:500]}"
                            ) from None
                        shrunk = shrunk or what == "context"
                        continue
                    resp = _response(data, time.monotonic() - started, posts)
                    self._observe(request, resp)
                    return resp
            finally:
                self._open_gate(state, first)
        raise BackendError(f"{posts} attempt(s) to {self.url} failed; last: {last}")

    def _open_gate(self, state: _LoopState, first: bool) -> None:
        if first:
            self._first_answered = True
            state.first_answer.set()

    def _observe(self, req: VlmRequest, resp: VlmResponse) -> None:
        """Learn how far the engine's prompt count runs past our prediction (page requests only:
        they carry a visual-token estimate), so later max_tokens fit the context."""
        if req.visual_tokens and resp.prompt_tokens:
            self.prompt_slack = max(self.prompt_slack, resp.prompt_tokens - predicted_prompt_tokens(req))

    def generate_batch(self, requests: list[VlmRequest]) -> list[VlmResponse | BaseException]:
        async def run() -> list[VlmResponse | BaseException]:
            try:
                return await asyncio.gather(*(self.agenerate(r) for r in requests), return_exceptions=True)
            finally:
                await self.aclose()

        return asyncio.run(run())


#: a prompt this close to the context leaves no room for an answer: no point retrying
CONTEXT_FLOOR = 16


def _first_int(pattern: re.Pattern[str], text: str) -> int | None:
    m = pattern.search(text)
    if m is None:
        return None
    return int(next(g for g in m.groups() if g is not None))


def _has_detail(body: dict[str, Any]) -> bool:
    return any(
        isinstance(part, dict) and "detail" in (part.get("image_url") or {})
        for msg in body.get("messages", ())
        if isinstance(msg.get("content"), list)
        for part in msg["content"]
    )


def error_fields(text: str) -> tuple[list[str], str]:
    """(named parameters, message text) of an error reply, in any of the usual shapes: OpenAI's
    `{"error": {"message", "param", "code"}}`, vLLM's flat `{"object": "error", "message", "param"}`,
    FastAPI's `{"detail": [{"loc": [...], "msg"}]}`; the raw text when it is not JSON."""
    try:
        data = json.loads(text)
    except ValueError:
        return [], text
    params: list[str] = []
    messages: list[str] = []

    def walk(obj: Any, depth: int) -> None:
        if depth > 6:
            return
        if isinstance(obj, list):
            for item in obj[:50]:
                walk(item, depth + 1)
        elif isinstance(obj, dict):
            for key, value in obj.items():
                if key in ("param", "code") and isinstance(value, str):
                    params.append(value)
                elif key == "loc" and isinstance(value, list):
                    params.append(".".join(str(v) for v in value))
                elif key in ("message", "msg", "detail", "error") and isinstance(value, str):
                    messages.append(value)
                elif key in ("error", "detail", "errors"):
                    walk(value, depth + 1)

    walk(data, 0)
    return params, " ".join(messages) if messages else text


def rejected_fields(params: list[str], message: str, sent: list[str]) -> list[str]:
    """The fields of `sent` an error names: its `param` (or FastAPI `loc`) when that is one of them,
    else every one its message mentions by name."""
    for param in params:
        parts = [p for p in re.split(r"[.\[\]'\"\s]+", param) if p]
        for part in reversed(parts):  # 'messages[0].content[0].image_url.detail' -> detail
            name = _ALIASES.get(part, part)
            if name in sent:
                return [name]
    found = []
    for name in sent:
        if name == "detail":  # an English word too: only as a quoted or dotted field name
            pattern = r"(?:['\"`]detail['\"`]|image_url\.detail)"
        else:
            pattern = rf"(?<![\w.]){re.escape(name)}(?!\w)"
        if re.search(pattern, message):
            found.append(name)
    if (
        "response_format" in sent
        and "response_format" not in found
        and re.search(r"\bjson_schema\b", message)
    ):
        found.append("response_format")
    return found


def _served_context(data: Any, model: str) -> int | None:
    """`max_model_len` of the served model in a /v1/models reply (vLLM adds it; OpenAI does not)."""
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    cards = [c for c in items if isinstance(c, dict)]
    match = [c for c in cards if c.get("id") == model] or (cards if len(cards) == 1 else [])
    for card in match:
        value = card.get("max_model_len")
        if isinstance(value, int) and value > 0:
            return value
    return None


def _response(data: dict[str, Any], seconds: float, attempts: int) -> VlmResponse:
    try:
        choice = data["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise BackendError(f"malformed chat completion: {str(data)[:200]}") from exc
    if isinstance(content, list):  # some gateways return content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    usage = data.get("usage") or {}
    ids = data.get("prompt_token_ids")  # vLLM, with return_token_ids: top level of the completion
    if not (isinstance(ids, list) and all(isinstance(i, int) for i in ids)):
        ids = None
    return VlmResponse(
        text=content or "",
        finish_reason=choice.get("finish_reason"),
        completion_tokens=usage.get("completion_tokens"),
        prompt_tokens=usage.get("prompt_tokens"),
        seconds=seconds,
        attempts=attempts,
        prompt_token_ids=ids or None,
    )
