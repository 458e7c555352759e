"""Support for the real-vLLM tier: engine settings, the loopback server, images, token-count rules."""

from __future__ import annotations

import contextlib
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[2]
#: every engine here runs on 2 shared CPU cores: compile nothing, reserve a small KV cache (the CPU
#: backend otherwise wants 92% of the NUMA node free), random weights, fixed seed
ENGINE_KWARGS: dict[str, Any] = {
    "load_format": "dummy",
    "dtype": "float32",
    "enforce_eager": True,
    "kv_cache_memory_bytes": 512 << 20,
    "seed": 0,
}
#: Qwen2-VL's processor on transformers' PIL backend (the torchvision stand-in has no image ops), no videos
QWEN_KWARGS: dict[str, Any] = {
    "max_model_len": 4096,
    "mm_processor_kwargs": {"use_fast": False},
    "limit_mm_per_prompt": {"image": 1, "video": 0},
}
DEEPSEEK_KWARGS: dict[str, Any] = {"max_model_len": 8192}
#: DeepSeek-OCR's serving recipe (also what docpipe's VllmBackend sets offline)
DEEPSEEK_SERVER_FLAGS = [
    "--logits-processors",
    "vllm.model_executor.models.deepseek_ocr:NGramPerReqLogitsProcessor",
    "--no-enable-prefix-caching",
    "--mm-processor-cache-gb",
    "0",
]
SERVER_START_TIMEOUT = float(os.environ.get("DOCPIPE_VLLM_START_TIMEOUT", "420"))

# Image sizes: one global view only (<= 640 px), then 2, 3, 4 and 6 tiles (vLLM: 2..6 tiles of 640 px)
DEEPSEEK_SIZES = [(640, 480), (1280, 640), (1920, 640), (1280, 1280), (1000, 1400)]


def vllm_deepseek_tokens(width: int, height: int, version: int = 1) -> int:
    """Image placeholder tokens vLLM 0.32 gives one image, from its own constants (Gundam mode: a 1024 px
    global view; 640 px tiles for OCR 1, 768 px for OCR 2; 2..6 tiles when a side exceeds a tile), written
    out independently of docpipe. OCR 1 adds a newline token per row; OCR 2 does not."""
    tile = 640 if version == 1 else 768
    q_base, q_tile = 1024 // 16 // 4, tile // 16 // 4
    base = q_base * (q_base + 1) if version == 1 else q_base * q_base
    cols, rows = 1, 1
    if width > tile or height > tile:
        cols, rows = _tile_grid(width, height, tile)
    local = 0
    if cols * rows > 1:
        local = (rows * q_tile) * (cols * q_tile + (1 if version == 1 else 0))
    return base + local + 1  # + the view separator


def _tile_grid(width: int, height: int, tile: int) -> tuple[int, int]:
    grids = sorted(
        {(c, r) for c in range(1, 7) for r in range(1, 7) if 2 <= c * r <= 6}, key=lambda g: g[0] * g[1]
    )
    aspect, best, best_diff = width / height, (1, 1), math.inf
    for c, r in grids:
        diff = abs(aspect - c / r)
        if diff < best_diff:
            best, best_diff = (c, r), diff
        elif diff == best_diff and width * height > 0.5 * tile * tile * c * r:
            best = (c, r)
    return best


def page_image(width: int, height: int) -> Image.Image:
    """A page-like image: dark lines of 'text' on white (the content is irrelevant to random weights)."""
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    for y in range(20, height - 20, 24):
        draw.rectangle((24, y, width - 24 - (y * 7) % (width // 3), y + 10), fill=(30, 30, 30))
    return img


def repeated_ngrams(ids: list[int], n: int) -> set[tuple[int, ...]]:
    seen: set[tuple[int, ...]] = set()
    repeats: set[tuple[int, ...]] = set()
    for i in range(len(ids) - n + 1):
        g = tuple(ids[i : i + n])
        (repeats if g in seen else seen).add(g)
    return repeats


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def engine_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["HF_HUB_OFFLINE"] = "1"  # nothing may come from a model hub
    return env


def server_args(model: Path, port: int, kwargs: dict[str, Any], extra: list[str]) -> list[str]:
    import json

    args = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model)]
    args += ["--host", "127.0.0.1", "--port", str(port)]
    for key, value in {**ENGINE_KWARGS, **kwargs}.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        else:
            args += [flag, json.dumps(value) if isinstance(value, dict) else str(value)]
    return args + extra


@contextlib.contextmanager
def vllm_server(
    model: Path, log: Path, kwargs: dict[str, Any], extra: list[str] | None = None
) -> Iterator[str]:
    """`python -m vllm.entrypoints.openai.api_server` on a free loopback port; yields the /v1 base URL,
    and stops the server (its process group: only what this started) on the way out."""
    import httpx

    port = free_port()
    # /v1/chat/completions/render (the engine's prompt, placeholders expanded, without generating) is a
    # "scale-out" endpoint, off unless asked for
    args = server_args(model, port, kwargs, [*(extra or []), "--enable-scale-out"])
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=engine_env(), start_new_session=True
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"vLLM server exited with {proc.returncode}; log: {log}\n{_tail(log)}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"vLLM server not healthy after {SERVER_START_TIMEOUT:.0f} s; log: {log}")
            time.sleep(1)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class GenerateSpy:
    """Keeps the engine's finished RequestOutputs (prompt and output token ids), in the order they finish,
    whichever way the backend drives the offline engine: `LLM.generate`, or `llm_engine.step()`."""

    def __init__(self, llm: Any) -> None:
        self.llm, self.outputs = llm, []
        self._generate, self._step = llm.generate, llm.llm_engine.step

    def _wrap_generate(self, *args: Any, **kwargs: Any) -> Any:
        out = self._generate(*args, **kwargs)
        self.outputs.extend(out)
        return out

    def _wrap_step(self, *args: Any, **kwargs: Any) -> Any:
        out = self._step(*args, **kwargs)
        self.outputs.extend(o for o in out if getattr(o, "finished", False))
        return out

    def __enter__(self) -> GenerateSpy:
        self.llm.generate, self.llm.llm_engine.step = self._wrap_generate, self._wrap_step
        return self

    def __exit__(self, *exc: object) -> None:
        self.llm.generate, self.llm.llm_engine.step = self._generate, self._step


def offline_prompt_ids(llm: Any, prompt: str, image: Image.Image) -> list[int]:
    """The prompt token ids vLLM's offline engine builds for a request (its renderer and multimodal
    processor, placeholders expanded), without running the model."""
    from vllm import SamplingParams

    inputs = {"prompt": prompt, "multi_modal_data": {"image": image}}
    req = llm.input_processor.process_inputs("count", inputs, SamplingParams(max_tokens=1), ("generate",))
    return list(req.prompt_token_ids)


def shutdown_llm(llm: Any) -> None:
    """Stop an in-process vLLM engine so the next one does not run beside it."""
    import gc

    with contextlib.suppress(Exception):
        llm.llm_engine.engine_core.shutdown()
    del llm
    gc.collect()
