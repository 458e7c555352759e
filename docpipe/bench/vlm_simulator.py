"""A loopback stand-in for a vLLM server running DeepSeek-OCR: its HTTP interface, its visual-token
count and a simple cost model of its continuous-batching scheduler, with no model and no GPU.

    python -m docpipe.bench.vlm_simulator [--port 8000] [--max-num-seqs 32] ...

It answers `POST /v1/chat/completions` and `GET /v1/models` as vLLM's OpenAI server does, plus
`GET /stats` and `POST /stats/reset` for benchmarks. `SimServer` runs it on a background thread of
the calling process (`with SimServer(SimConfig()) as sim: ... sim.url ... sim.stats()`).

Token counts (what vLLM's DeepSeek-OCR processor would count, crop mode "Gundam", fixed upstream)
-------------------------------------------------------------------------------------------------
The image's pixel size is read from the request's `data:` URI. The 1024 px global view gives 16 x 16
patches (16 px patches, 4x down-sampling) plus a newline token per row plus one separator:
16 x 17 + 1 = 273. An image larger than 640 px on either side is also cut into a grid of 640 px
tiles, c columns x r rows with 2 <= c*r <= 6, the grid whose c/r is closest to the image's aspect
ratio; each tile row adds 10 rows of 10c + 1 tokens: 273 + (10c + 1) * 10r. Prompt tokens are the
visual tokens plus a rough count of the prompt text (BOS + one token per 4 characters).

Cost model (continuous batching, one engine step at a time)
-----------------------------------------------------------
At most `max_num_seqs` (M) sequences run. Each step, waiting requests are admitted first come first
served while slots are free and their prompt tokens fit `max_num_batched_tokens` (a step always
admits at least one when a slot is free). A step costs

    step_overhead_s + prefill_s_per_token * (prompt tokens admitted) + decode_s_per_seq * (sequences in it)

and every sequence in it emits one token: the admitted ones their first (prefill yields a token), the
others their next. So decode throughput at batch size b is b / (step_overhead_s + decode_s_per_seq*b)
tokens/s: it grows with b and stops growing at b = M, the simulator's saturation point. A request
emits `output_tokens + output_tokens_per_mpx * megapixels` tokens (capped by its max_tokens, then
finish_reason "length"), deterministically. Steps are scheduled on the event loop's clock against
deadlines (a late wake-up is caught up by the next step, up to MAX_CATCH_UP_S; anything later is
counted as `stall_s`, the simulator's own CPU starvation, which shows up as lost capacity).

Capacity kept busy
------------------
A step's *ideal* cost is what its work would have cost in a full batch: the step overhead shared by
M slots, so `step_overhead_s * k / M + prefill + decode` for k sequences in the step. Summed over
the steps in a time window, the ideal cost is the time the engine, saturated, would have needed
for the same work. So

    capacity = ideal cost of the work done in the window / length of the window

is the achieved throughput divided by the throughput at saturation for the same request mix: 1.0
when every step runs a full batch and the engine never idles, lower for partial batches (overhead
shared by fewer sequences) and for idle time. `capacity` is measured over the *feed window*, from
the first request's arrival to the last one's, the time in which the client alone decides whether
the engine has work; `capacity_run` runs to the last completion and includes the final drain,
which no client can fill. `occupancy` is the time-weighted mean of running sequences / M over the
feed window (slots in use, regardless of step cost).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import io
import json
import math
import struct
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

# DeepSeek-OCR in vLLM: fixed processor constants (crop mode on)
BASE_SIZE, TILE_SIZE, PATCH, DOWNSAMPLE = 1024, 640, 16, 4
MIN_TILES, MAX_TILES = 2, 6
IMAGE_TOKEN_ID = 128815  # DeepSeek-OCR's <image> placeholder id (only for prompt_token_ids)
BOS_TOKEN_ID = 0
#: the largest late wake-up a step catches up on; beyond it the lost time is a stall
MAX_CATCH_UP_S = 0.02
#: steps kept for windowed statistics (a long run keeps its last ones)
MAX_TIMELINE = 2_000_000


# -- visual tokens -------------------------------------------------------------------------------
def tile_grid(width: int, height: int) -> tuple[int, int]:
    """(columns, rows) of 640 px tiles for an image, (1, 1) when it fits one tile (no local views)."""
    if width <= TILE_SIZE and height <= TILE_SIZE:
        return (1, 1)
    aspect = width / height
    # grids by tile count, then columns: the order vLLM's ratio search settles ties in
    grids = sorted(
        (
            (c, r)
            for c in range(1, MAX_TILES + 1)
            for r in range(1, MAX_TILES + 1)
            if MIN_TILES <= c * r <= MAX_TILES
        ),
        key=lambda g: (g[0] * g[1], g[0]),
    )
    best, best_diff = (1, 1), math.inf
    for c, r in grids:
        diff = abs(aspect - c / r)
        if diff < best_diff:
            best, best_diff = (c, r), diff
        elif diff == best_diff and width * height > 0.5 * TILE_SIZE * TILE_SIZE * c * r:
            best = (c, r)  # an equally close larger grid wins when the image has pixels for it
    return best


def visual_tokens(width: int, height: int) -> int:
    """Image placeholder tokens vLLM's DeepSeek-OCR counts for an image of width x height px."""
    g = math.ceil(BASE_SIZE // PATCH / DOWNSAMPLE)  # 16 patches a side on the global view
    t = math.ceil(TILE_SIZE // PATCH / DOWNSAMPLE)  # 10 a side on a tile
    tokens = g * (g + 1) + 1  # rows of patches plus a newline each, and a view separator
    cols, rows = tile_grid(width, height)
    if cols * rows > 1:
        tokens += (rows * t) * (cols * t + 1)
    return tokens


def image_size(uri: str) -> tuple[int, int]:
    """Pixel size of a base64 `data:` image. PNG sizes come from the header alone (no full decode)."""
    head, sep, payload = uri.partition(",")
    if not sep or not head.startswith("data:") or ";base64" not in head:
        raise ValueError("image_url must be a base64 data: URI")
    try:
        prefix = base64.b64decode(payload[:64])
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"bad base64 image: {exc}") from exc
    if prefix[:8] == b"\x89PNG\r\n\x1a\n" and prefix[12:16] == b"IHDR":
        return struct.unpack(">II", prefix[16:24])
    from PIL import Image  # other formats: let PIL read the header

    try:
        with Image.open(io.BytesIO(base64.b64decode(payload))) as img:
            return img.size
    except Exception as exc:
        raise ValueError(f"cannot read image: {exc}") from exc


# -- configuration and output --------------------------------------------------------------------
@dataclass
class SimConfig:
    model: str = "deepseek-ai/DeepSeek-OCR"
    max_model_len: int = 8192
    max_num_seqs: int = 32
    max_num_batched_tokens: int = 8192
    step_overhead_s: float = 0.010
    prefill_s_per_token: float = 20e-6
    decode_s_per_seq: float = 0.0005
    output_tokens: int = 500
    output_tokens_per_mpx: float = 0.0
    #: answer 400 to per-request mm_processor_kwargs, as vLLM 0.32 does by default; off, they are
    #: ignored (counted in stats) and the fixed Gundam count applies, as with --trust-request-mm-kwargs
    #: for Gundam-sized requests
    reject_mm_kwargs: bool = False

    def peak_decode_tokens_per_s(self) -> float:
        m = self.max_num_seqs
        return m / (self.step_overhead_s + self.decode_s_per_seq * m)

    def decode_tokens_per_s(self, batch: int) -> float:
        b = max(1, min(batch, self.max_num_seqs))
        return b / (self.step_overhead_s + self.decode_s_per_seq * b)


_WORDS = (
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore "
    "et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip"
).split()


def page_text(n_tokens: int, seed: int) -> str:
    """Grounded DeepSeek-OCR Markdown of about n_tokens tokens: a title, then paragraphs with boxes."""
    words = max(1, round(n_tokens * 0.75))  # ~0.75 English words a token
    title = f"{_WORDS[seed % len(_WORDS)].title()} {_WORDS[(seed * 7 + 3) % len(_WORDS)].title()}"
    parts = [f"<|ref|>title<|/ref|><|det|>[[60, 40, 940, 80]]<|/det|>\n# {title}\n"]
    y, i, left = 100, seed, words - 2
    while left > 0:
        n = min(left, 60)
        text = " ".join(_WORDS[(i + k * 5) % len(_WORDS)] for k in range(n))
        y1 = min(990, y + 60)
        parts.append(f"<|ref|>text<|/ref|><|det|>[[60, {y}, 940, {y1}]]<|/det|>\n{text.capitalize()}.\n")
        y, i, left = min(930, y1 + 10), i + n, left - n
    return "\n".join(parts)


@dataclass
class _Seq:
    prompt_tokens: int
    remaining: int
    done: asyncio.Future
    arrived: float


@dataclass
class _Stats:
    received: int = 0
    completed: int = 0
    rejected: int = 0
    mm_kwargs_ignored: int = 0
    prompt_tokens: int = 0
    visual_tokens: int = 0
    output_tokens: int = 0
    steps: int = 0
    stall_s: float = 0.0
    max_waiting: int = 0
    max_in_flight: int = 0  # requests admitted or waiting at once: what the client kept queued
    first_arrival: float | None = None
    last_arrival: float | None = None
    last_completion: float | None = None
    #: (start, end, ideal cost, sequences in the step) per step
    timeline: deque = field(default_factory=lambda: deque(maxlen=MAX_TIMELINE))
    #: ("in" | "out", time) per request, for diagnosing how a client feeds the engine
    events: deque = field(default_factory=lambda: deque(maxlen=MAX_TIMELINE))


def _window(timeline, a: float, b: float, m: int) -> tuple[float, float, float]:
    """(busy s, ideal s, slot-seconds / m) of the steps, pro rata to their overlap with [a, b]."""
    busy = ideal = slots = 0.0
    for start, end, ideal_cost, k in timeline:
        overlap = min(end, b) - max(start, a)
        if overlap <= 0 or end <= start:
            continue
        share = overlap / (end - start)
        busy += overlap
        ideal += ideal_cost * share
        slots += k * overlap / m
    return busy, ideal, slots


class Simulator:
    """The engine and its statistics; lives on one event loop (the server's)."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.waiting: deque[_Seq] = deque()
        self.running: list[_Seq] = []
        self._wake: asyncio.Event | None = None
        self._lock = threading.Lock()  # stats are read from other threads
        self.stats = _Stats()
        self.started = time.time()

    def reset(self) -> None:
        with self._lock:
            self.stats = _Stats()

    def submit(self, prompt_tokens: int, output_tokens: int) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        now = loop.time()
        seq = _Seq(prompt_tokens, output_tokens, loop.create_future(), now)
        with self._lock:
            st = self.stats
            st.received += 1
            st.first_arrival = now if st.first_arrival is None else st.first_arrival
            st.last_arrival = now
            st.events.append(("in", now))
        self.waiting.append(seq)
        with self._lock:
            st.max_in_flight = max(st.max_in_flight, len(self.waiting) + len(self.running))
        assert self._wake is not None
        self._wake.set()
        return seq.done

    async def run(self) -> None:
        cfg, loop = self.config, asyncio.get_running_loop()
        self._wake = asyncio.Event()
        m = cfg.max_num_seqs
        clock = loop.time()
        while True:
            if not self.waiting and not self.running:
                self._wake.clear()
                await self._wake.wait()
                clock = loop.time()  # from idle the next step starts now
            admitted: list[_Seq] = []
            budget = cfg.max_num_batched_tokens
            while self.waiting and len(self.running) + len(admitted) < m:
                if admitted and self.waiting[0].prompt_tokens > budget:
                    break
                seq = self.waiting.popleft()
                budget -= seq.prompt_tokens
                admitted.append(seq)
            prefill = sum(s.prompt_tokens for s in admitted)
            # every sequence in the step emits a token, the ones admitted now included (their first)
            k = len(self.running) + len(admitted)
            work = cfg.prefill_s_per_token * prefill + cfg.decode_s_per_seq * k
            cost = cfg.step_overhead_s + work
            ideal = cfg.step_overhead_s * k / m + work
            now = loop.time()
            if now - clock > MAX_CATCH_UP_S:  # woke far too late: that time is lost, not caught up
                with self._lock:
                    self.stats.stall_s += now - clock
                clock = now
            start, clock = clock, clock + cost
            with self._lock:
                st = self.stats
                st.steps += 1
                st.max_waiting = max(st.max_waiting, len(self.waiting))
                st.timeline.append((start, clock, ideal, k))
            delay = clock - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                await asyncio.sleep(0)  # let requests in even when catching up
            self.running.extend(admitted)
            still: list[_Seq] = []
            done_now = 0
            for seq in self.running:
                seq.remaining -= 1
                if seq.remaining > 0:
                    still.append(seq)
                else:
                    done_now += 1
                    if not seq.done.done():
                        seq.done.set_result(clock)
                    with self._lock:
                        self.stats.events.append(("out", clock))
            self.running = still
            if done_now:
                with self._lock:
                    self.stats.completed += done_now
                    self.stats.last_completion = clock

    def snapshot(self) -> dict[str, Any]:
        cfg, m = self.config, self.config.max_num_seqs
        with self._lock:
            st = self.stats
            timeline = list(st.timeline)
            out: dict[str, Any] = {
                k: getattr(st, k)
                for k in (
                    "received",
                    "completed",
                    "rejected",
                    "mm_kwargs_ignored",
                    "prompt_tokens",
                    "visual_tokens",
                    "output_tokens",
                    "steps",
                    "max_waiting",
                    "max_in_flight",
                )
            }
            out["stall_s"] = round(st.stall_s, 4)
            first, last_in, last_out = st.first_arrival, st.last_arrival, st.last_completion
        out["config"] = asdict(cfg)
        out["peak_output_tokens_per_s"] = round(cfg.peak_decode_tokens_per_s(), 1)
        out["single_stream_output_tokens_per_s"] = round(cfg.decode_tokens_per_s(1), 1)
        out["running"], out["waiting"] = len(self.running), len(self.waiting)
        if first is None or last_out is None:
            return out
        run_s = max(last_out - first, 1e-9)
        feed_s = (last_in or first) - first
        busy, ideal, slots = _window(timeline, first, last_out, m)
        out |= {
            "run_s": round(run_s, 4),
            "busy_s": round(busy, 4),
            "idle_s": round(max(0.0, run_s - busy), 4),
            "output_tokens_per_s": round(out["output_tokens"] / run_s, 1),
            "prompt_tokens_per_s": round(out["prompt_tokens"] / run_s, 1),
            "requests_per_s": round(out["completed"] / run_s, 3),
            "capacity_run": round(ideal / run_s, 4),
            "occupancy_run": round(slots / run_s, 4),
        }
        if feed_s > 0:  # one burst of arrivals has no feed window: the run's figures stand in
            _busy, ideal_f, slots_f = _window(timeline, first, first + feed_s, m)
            out |= {
                "feed_s": round(feed_s, 4),
                "capacity": round(ideal_f / feed_s, 4),
                "occupancy": round(slots_f / feed_s, 4),
            }
        else:
            out |= {"feed_s": 0.0, "capacity": out["capacity_run"], "occupancy": out["occupancy_run"]}
        return out

    # -- one chat completion ------------------------------------------------------------------
    async def complete(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        cfg = self.config
        try:
            images, text = _request_parts(body)
        except ValueError as exc:
            return self._reject(str(exc))
        if body.get("mm_processor_kwargs"):
            if cfg.reject_mm_kwargs:
                return self._reject(
                    "Per-request mm_processor_kwargs are disabled by default; "
                    "start the server with --trust-request-mm-kwargs"
                )
            with self._lock:
                self.stats.mm_kwargs_ignored += 1
        vt = sum(visual_tokens(w, h) for w, h in images)
        prompt = vt + 1 + math.ceil(len(text) / 4)
        if prompt >= cfg.max_model_len:
            return self._reject(
                f"The prompt (length {prompt}) is longer than the maximum model length "
                f"of {cfg.max_model_len}."
            )
        limit = body.get("max_completion_tokens") or body.get("max_tokens") or cfg.max_model_len
        limit = min(int(limit), cfg.max_model_len - prompt)  # vLLM 0.32 clamps to the context left
        mpx = sum(w * h for w, h in images) / 1e6
        want = max(1, round(cfg.output_tokens + cfg.output_tokens_per_mpx * mpx))
        n_out = min(want, limit)
        with self._lock:
            st = self.stats
            st.prompt_tokens += prompt
            st.visual_tokens += vt
            st.output_tokens += n_out
        await self.submit(prompt, n_out)
        text_out = page_text(n_out, vt + n_out)
        reply: dict[str, Any] = {
            "id": f"chatcmpl-sim-{id(text_out):x}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or cfg.model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": text_out,
                        "reasoning_content": None,
                        "tool_calls": [],
                    },
                    "logprobs": None,
                    "finish_reason": "stop" if n_out == want else "length",
                    "stop_reason": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "total_tokens": prompt + n_out,
                "completion_tokens": n_out,
                "prompt_tokens_details": None,
            },
            "prompt_logprobs": None,
        }
        if body.get("return_token_ids"):
            ids = [BOS_TOKEN_ID] + [IMAGE_TOKEN_ID] * vt + [1000 + i % 5000 for i in range(prompt - vt - 1)]
            reply["prompt_token_ids"] = ids
            reply["choices"][0]["token_ids"] = [2000 + i % 5000 for i in range(n_out)]
        return 200, reply

    def _reject(self, message: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.stats.rejected += 1
        return 400, {"error": {"message": message, "type": "BadRequestError", "param": None, "code": 400}}

    def models(self) -> dict[str, Any]:
        cfg = self.config
        return {
            "object": "list",
            "data": [
                {
                    "id": cfg.model,
                    "object": "model",
                    "created": int(self.started),
                    "owned_by": "vllm",
                    "root": cfg.model,
                    "parent": None,
                    "max_model_len": cfg.max_model_len,
                    "permission": [],
                }
            ],
        }


def _request_parts(body: dict[str, Any]) -> tuple[list[tuple[int, int]], str]:
    """Image sizes and prompt text of a chat request."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ValueError("messages must be a non-empty list")
    images: list[tuple[int, int]] = []
    texts: list[str] = []
    for msg in messages:
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, str):
            texts.append(content)
            continue
        for part in content or []:
            if part.get("type") == "image_url":
                url = part.get("image_url")
                images.append(image_size(url.get("url", "") if isinstance(url, dict) else str(url)))
            elif part.get("type") == "text":
                texts.append(str(part.get("text", "")))
    return images, "\n".join(texts)


# -- HTTP ------------------------------------------------------------------------------------------
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}


class SimServer:
    """The simulator behind HTTP/1.1 (keep-alive) on 127.0.0.1, on a thread with its own event loop."""

    def __init__(self, config: SimConfig | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sim = Simulator(config or SimConfig())
        self.host, self.port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> SimServer:
        self._thread = threading.Thread(target=self._main, name="vlm-simulator", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise RuntimeError(f"simulator failed to start: {self._error}") from self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stats(self) -> dict[str, Any]:
        return self.sim.snapshot()

    def reset(self) -> None:
        self.sim.reset()

    def _main(self) -> None:
        try:
            asyncio.run(self.serve())
        except BaseException as exc:  # reported to start() when it happens before ready
            self._error = exc
            self._ready.set()

    async def serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        engine = asyncio.create_task(self.sim.run())
        server = await asyncio.start_server(self._handle, self.host, self.port, backlog=1024)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            server.close()
            engine.cancel()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                method, target, _version = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while True:
                    h = await reader.readline()
                    if h in (b"\r\n", b"\n", b""):
                        break
                    k, _, v = h.decode("latin-1").partition(":")
                    headers[k.strip().lower()] = v.strip()
                n = int(headers.get("content-length") or 0)
                body = await reader.readexactly(n) if n else b""
                status, payload = await self._route(method, target.split("?")[0], body)
                data = json.dumps(payload).encode()
                writer.write(
                    f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(data)}\r\n\r\n".encode()
                    + data
                )
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass  # a client that went away or spoke nonsense: drop the connection
        finally:
            writer.close()

    async def _route(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        if path == "/v1/chat/completions":
            if method != "POST":
                return 405, {"error": {"message": "use POST", "code": 405}}
            try:
                req = json.loads(body)
            except ValueError as exc:
                return self.sim._reject(f"invalid JSON: {exc}")
            if not isinstance(req, dict):
                return self.sim._reject("the body must be a JSON object")
            return await self.sim.complete(req)
        if path == "/v1/models" and method == "GET":
            return 200, self.sim.models()
        if path == "/stats" and method == "GET":
            return 200, self.sim.snapshot()
        if path == "/stats/reset" and method == "POST":
            self.sim.reset()
            return 200, {"reset": True}
        if path == "/health":
            return 200, {}
        return 404, {"error": {"message": f"no route {method} {path}", "code": 404}}


def add_sim_arguments(p: argparse.ArgumentParser, prefix: str = "") -> None:
    """The simulator's knobs as command-line options (`prefix` e.g. 'sim-')."""
    d = SimConfig()
    p.add_argument(
        f"--{prefix}max-num-seqs",
        type=int,
        default=d.max_num_seqs,
        help=f"sequences in a batch at most (default {d.max_num_seqs})",
    )
    p.add_argument(
        f"--{prefix}max-num-batched-tokens",
        type=int,
        default=d.max_num_batched_tokens,
        help=f"prompt tokens admitted per step (default {d.max_num_batched_tokens})",
    )
    p.add_argument(
        f"--{prefix}step-overhead",
        type=float,
        default=d.step_overhead_s,
        help=f"seconds per engine step (default {d.step_overhead_s})",
    )
    p.add_argument(
        f"--{prefix}prefill-per-token",
        type=float,
        default=d.prefill_s_per_token,
        help=f"seconds per prompt token (default {d.prefill_s_per_token})",
    )
    p.add_argument(
        f"--{prefix}decode-per-seq",
        type=float,
        default=d.decode_s_per_seq,
        help=f"seconds per decoding sequence per step (default {d.decode_s_per_seq})",
    )
    p.add_argument(
        f"--{prefix}output-tokens",
        type=int,
        default=d.output_tokens,
        help=f"output tokens per request (default {d.output_tokens})",
    )
    p.add_argument(
        f"--{prefix}output-tokens-per-mpx",
        type=float,
        default=d.output_tokens_per_mpx,
        help="additional output tokens per megapixel of image (default 0)",
    )


def sim_config_from_args(args: argparse.Namespace, prefix: str = "") -> SimConfig:
    a = prefix.replace("-", "_")
    return SimConfig(
        max_num_seqs=getattr(args, f"{a}max_num_seqs"),
        max_num_batched_tokens=getattr(args, f"{a}max_num_batched_tokens"),
        step_overhead_s=getattr(args, f"{a}step_overhead"),
        prefill_s_per_token=getattr(args, f"{a}prefill_per_token"),
        decode_s_per_seq=getattr(args, f"{a}decode_per_seq"),
        output_tokens=getattr(args, f"{a}output_tokens"),
        output_tokens_per_mpx=getattr(args, f"{a}output_tokens_per_mpx"),
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--reject-mm-kwargs", action="store_true", help="400 on mm_processor_kwargs, as vLLM")
    add_sim_arguments(ap)
    args = ap.parse_args(argv)
    cfg = sim_config_from_args(args)
    cfg.reject_mm_kwargs = args.reject_mm_kwargs
    server = SimServer(cfg, port=args.port).start()
    print(f"vLLM simulator on {server.url} (stats: GET http://127.0.0.1:{server.port}/stats)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
