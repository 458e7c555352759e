"""Qwen2-VL (tiny, random weights) through docpipe's VllmBackend (offline) and OpenAIBackend (server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from realvllm import ENGINE_KWARGS, QWEN_KWARGS, page_image, shutdown_llm, vllm_server

from docpipe.engines.vlm.profiles import QwenVlProfile
from docpipe.engines.vlm.settings import VlmSettings

#: rasters docpipe may hand the profile; it snaps each to 28 px multiples inside its pixel budget
RASTERS = [(700, 500), (1224, 1584)]


@pytest.fixture(scope="module")
def model(tiny_models: dict[str, Path]) -> Path:
    return tiny_models["qwen2-vl-tiny"]


@pytest.fixture(scope="module")
def image_pad_id(model: Path) -> int:
    tokenizer = json.loads((model / "tokenizer.json").read_text())
    return next(t["id"] for t in tokenizer["added_tokens"] if t["content"] == "<|image_pad|>")


def page_request(width: int, height: int, settings: VlmSettings) -> Any:
    profile = QwenVlProfile(settings.model)
    mode = profile.mode(profile.default_mode)
    req = profile.page_request(profile.prepare_image(page_image(width, height), mode), mode, settings)
    req.max_tokens = 8
    return req, mode.visual_tokens(width, height)


@pytest.fixture(scope="module")
def offline(model: Path) -> Any:
    from docpipe.engines.vlm.backends.vllm_offline import VllmBackend

    backend = VllmBackend(
        VlmSettings(
            model=str(model), backend="vllm", max_tokens=8, vllm_kwargs={**ENGINE_KWARGS, **QWEN_KWARGS}
        )
    )
    _ = backend.llm
    yield backend
    shutdown_llm(backend._llm)
    backend._llm = None


def test_offline_requests_accepted_with_predicted_image_tokens(offline: Any, image_pad_id: int) -> None:
    """Both page sizes in one batch; each prompt holds (w/28)*(h/28) image tokens for the image sent,
    which is what the profile predicts for the raster."""
    reqs = [page_request(w, h, offline.settings) for w, h in RASTERS]
    results = offline.generate_batch([r for r, _ in reqs])
    assert not [r for r in results if isinstance(r, BaseException)], results
    for (req, predicted), resp in zip(reqs, results, strict=True):
        w, h = req.image.size
        ids = getattr(resp, "prompt_token_ids", None)
        assert ids, "VlmResponse carries no prompt_token_ids (offline: RequestOutput.prompt_token_ids)"
        counted = ids.count(image_pad_id)
        print(f"qwen2-vl offline {w}x{h}: engine {counted}, (w/28)*(h/28) {(w // 28) * (h // 28)}")
        assert counted == (w // 28) * (h // 28) == predicted


@pytest.fixture(scope="module")
def server(model: Path, tmp_path_factory: pytest.TempPathFactory, offline: Any) -> Any:
    # after the offline engine: the two never run side by side
    shutdown_llm(offline._llm)
    offline._llm = None
    log = tmp_path_factory.mktemp("logs") / "qwen2-vl-server.log"
    with vllm_server(model, log, QWEN_KWARGS) as base_url:
        yield base_url


def test_server_requests_accepted_with_predicted_image_tokens(
    server: str, model: Path, image_pad_id: int
) -> None:
    from docpipe.engines.vlm.backends.openai_http import OpenAIBackend

    s = VlmSettings(model=str(model), backend="openai", base_url=server, max_tokens=8, max_retries=0)
    backend = OpenAIBackend(s)
    reqs = [page_request(w, h, s) for w, h in RASTERS]
    results = backend.generate_batch([r for r, _ in reqs])
    assert not [r for r in results if isinstance(r, BaseException)], results
    for req, predicted in reqs:
        w, h = req.image.size
        body = backend.build_body(req) | {"return_token_ids": True}
        r = httpx.post(backend.url, json=body, timeout=300)
        assert r.status_code == 200, r.text[:500]
        counted = r.json()["prompt_token_ids"].count(image_pad_id)
        print(f"qwen2-vl server {w}x{h}: engine {counted}, (w/28)*(h/28) {(w // 28) * (h // 28)}")
        assert counted == (w // 28) * (h // 28) == predicted
