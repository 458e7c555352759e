"""The simulated vLLM server: DeepSeek-OCR token counts, the OpenAI reply shape, the cost model."""

from __future__ import annotations

import asyncio
import base64
import io

import httpx
import pytest
from PIL import Image

from docpipe.bench.vlm_simulator import IMAGE_TOKEN_ID, SimConfig, SimServer, tile_grid, visual_tokens


@pytest.mark.parametrize(
    ("size", "grid", "tokens"),
    [
        ((640, 640), (1, 1), 273),  # fits one tile: the global view alone, 16 x 17 + 1
        ((300, 500), (1, 1), 273),
        ((641, 640), (2, 2), 273 + 21 * 20),  # aspect ~1: 2 x 2 tiles, 20 rows of 2*10+1
        ((1190, 1684), (2, 3), 273 + 21 * 30),  # A4 at 144 dpi: 0.707 is nearest 2/3
        ((1280, 640), (2, 1), 273 + 21 * 10),
        ((1920, 640), (3, 1), 273 + 31 * 10),
        ((2000, 500), (4, 1), 273 + 41 * 10),
        ((100, 3000), (1, 6), 273 + 11 * 60),  # thinner than any grid: the thinnest, 1 x 6
    ],
)
def test_visual_tokens_match_vllm_gundam_count(size, grid, tokens):
    assert tile_grid(*size) == grid
    assert visual_tokens(*size) == tokens


def _uri(size: tuple[int, int], fmt: str = "PNG") -> str:
    buf = io.BytesIO()
    Image.new("RGB", size, "white").save(buf, format=fmt)
    return f"data:image/{fmt.lower()};base64,{base64.b64encode(buf.getvalue()).decode()}"


def _body(uri: str, **extra) -> dict:
    content = [{"type": "image_url", "image_url": {"url": uri}}, {"type": "text", "text": "Free OCR."}]
    return {"model": "m", "messages": [{"role": "user", "content": content}], "max_tokens": 4000} | extra


FAST = dict(step_overhead_s=0.002, decode_s_per_seq=0.00005, prefill_s_per_token=1e-7, output_tokens=40)


def test_reply_has_vllm_shape_and_engine_token_counts():
    with SimServer(SimConfig(**FAST)) as sim:
        r = httpx.post(f"{sim.url}/chat/completions", json=_body(_uri((1190, 1684)), return_token_ids=True))
        assert r.status_code == 200
        data = r.json()
        choice = data["choices"][0]
        assert choice["finish_reason"] == "stop"
        assert choice["message"]["content"].startswith("<|ref|>title<|/ref|><|det|>[[")
        assert data["usage"]["completion_tokens"] == 40
        ids = data["prompt_token_ids"]
        assert data["usage"]["prompt_tokens"] == len(ids)
        assert ids.count(IMAGE_TOKEN_ID) == 903
        # JPEG goes through PIL rather than the PNG header
        r = httpx.post(f"{sim.url}/chat/completions", json=_body(_uri((600, 400), "JPEG")))
        assert r.json()["usage"]["prompt_tokens"] - 273 < 10
        # max_tokens below the wanted output: cut at the limit
        r = httpx.post(f"{sim.url}/chat/completions", json=_body(_uri((64, 64)), max_tokens=5))
        assert r.json()["choices"][0]["finish_reason"] == "length"
        assert r.json()["usage"]["completion_tokens"] == 5
        models = httpx.get(f"{sim.url}/models").json()
        assert models["data"][0]["max_model_len"] == 8192
        stats = httpx.get(f"http://127.0.0.1:{sim.port}/stats").json()
        assert stats["completed"] == 3 and stats["visual_tokens"] == 903 + 273 + 273
        httpx.post(f"http://127.0.0.1:{sim.port}/stats/reset")
        assert sim.stats()["completed"] == 0


def test_mm_processor_kwargs_ignored_or_rejected_like_vllm():
    body = _body(
        _uri((800, 800)), mm_processor_kwargs={"base_size": 512, "image_size": 512, "crop_mode": False}
    )
    with SimServer(SimConfig(**FAST)) as sim:
        r = httpx.post(f"{sim.url}/chat/completions", json=body)
        assert r.status_code == 200 and r.json()["usage"]["prompt_tokens"] > 693  # still Gundam
        assert sim.stats()["mm_kwargs_ignored"] == 1
    with SimServer(SimConfig(**FAST, reject_mm_kwargs=True)) as sim:
        r = httpx.post(f"{sim.url}/chat/completions", json=body)
        assert r.status_code == 400 and "mm_processor_kwargs" in r.json()["error"]["message"]


async def _drive(url: str, n: int, concurrency: int, uri: str) -> None:
    sem = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as client:

        async def one() -> None:
            async with sem:
                r = await client.post(f"{url}/chat/completions", json=_body(uri))
                r.raise_for_status()

        await asyncio.gather(*(one() for _ in range(n)))


def test_saturated_batch_beats_one_stream_and_stays_under_the_cap():
    # steps long enough (20 ms) that a loaded machine's scheduling noise stays small beside them
    cfg = SimConfig(
        max_num_seqs=8,
        step_overhead_s=0.020,
        decode_s_per_seq=0.0005,
        prefill_s_per_token=0,
        output_tokens=10,
    )
    uri = _uri((64, 64))
    with SimServer(cfg) as sim:
        asyncio.run(_drive(sim.url, 6, 1, uri))
        single = sim.stats()
        sim.reset()
        asyncio.run(_drive(sim.url, 32, 16, uri))  # twice the slots: a queue keeps every slot full
        full = sim.stats()
    peak = cfg.peak_decode_tokens_per_s()
    # model: 1 stream ~ 1/20.5 ms = 49 tokens/s; 8 in a batch 8/24 ms = 333 tokens/s (6.8x)
    assert full["output_tokens_per_s"] > 2.5 * single["output_tokens_per_s"]
    # completions are stamped on the simulated schedule, which never runs faster than the model
    assert full["output_tokens_per_s"] <= peak * 1.001
    assert full["max_in_flight"] > cfg.max_num_seqs and full["max_waiting"] > 0
    assert single["max_in_flight"] == 1
    assert 0 < single["capacity"] < 0.5 < full["capacity"] <= 1.0001
    assert single["occupancy"] <= 1 / cfg.max_num_seqs + 1e-6
