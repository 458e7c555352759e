"""DeepSeek-OCR served by `python -m vllm.entrypoints.openai.api_server` (the recipe's flags) on
127.0.0.1, through docpipe's OpenAIBackend and `docpipe convert`."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from pages import small_pdf
from realvllm import (
    DEEPSEEK_KWARGS,
    DEEPSEEK_SERVER_FLAGS,
    DEEPSEEK_SIZES,
    ROOT,
    engine_env,
    page_image,
    repeated_ngrams,
    vllm_deepseek_tokens,
    vllm_server,
)

from docpipe.engines.vlm.backends import VlmRequest
from docpipe.engines.vlm.images import data_uri
from docpipe.engines.vlm.profiles import DeepSeekOcrProfile
from docpipe.engines.vlm.settings import VlmSettings

TEXT = "<|grounding|>Convert the document to markdown."


@pytest.fixture(scope="module")
def server(tiny_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Any:
    model = tiny_models["deepseek-ocr-tiny"]
    log = tmp_path_factory.mktemp("logs") / "deepseek-ocr-server.log"
    with vllm_server(model, log, DEEPSEEK_KWARGS, DEEPSEEK_SERVER_FLAGS) as base_url:
        yield base_url, str(model)


@pytest.fixture(scope="module")
def image_token_id(tiny_models: dict[str, Path]) -> int:
    tokenizer = json.loads((tiny_models["deepseek-ocr-tiny"] / "tokenizer.json").read_text())
    return next(t["id"] for t in tokenizer["added_tokens"] if t["content"] == "<image>")


def settings(server: tuple[str, str], **kw: Any) -> VlmSettings:
    base_url, model = server
    return VlmSettings(model=model, backend="openai", base_url=base_url, max_tokens=16, max_retries=0, **kw)


def chat_body(model: str, width: int, height: int) -> dict[str, Any]:
    content = [
        {"type": "image_url", "image_url": {"url": data_uri(page_image(width, height))}},
        {"type": "text", "text": TEXT},
    ]
    return {"model": model, "messages": [{"role": "user", "content": content}], "max_tokens": 1}


@pytest.mark.parametrize(("width", "height"), DEEPSEEK_SIZES)
def test_server_counts_visual_tokens_by_vllm_rule(
    server: tuple[str, str], image_token_id: int, width: int, height: int
) -> None:
    """The server's own rendering of a chat request (/v1/chat/completions/render: chat template and
    multimodal processor, no model run) holds vLLM's fixed count of image tokens."""
    base_url, model = server
    r = httpx.post(base_url + "/chat/completions/render", json=chat_body(model, width, height), timeout=120)
    assert r.status_code == 200, r.text[:500]
    counted = r.json()["token_ids"].count(image_token_id)
    print(
        f"deepseek-ocr server {width}x{height}: engine {counted}, rule {vllm_deepseek_tokens(width, height)}"
    )
    assert counted == vllm_deepseek_tokens(width, height)


def test_page_request_is_accepted_and_reports_the_engines_tokens(
    server: tuple[str, str], image_token_id: int
) -> None:
    """docpipe's own page request (profile default mode, 640 x 480 page) through OpenAIBackend: accepted,
    and the response carries the prompt token ids the engine used, whose image tokens docpipe predicts."""
    from docpipe.engines.vlm.backends.openai_http import OpenAIBackend

    s = settings(server)
    profile = DeepSeekOcrProfile()
    mode = profile.mode(profile.default_mode)
    req = profile.page_request(profile.prepare_image(page_image(640, 480), mode), mode, s)
    (resp,) = OpenAIBackend(s).generate_batch([req])
    assert not isinstance(resp, BaseException), f"{type(resp).__name__}: {resp}"
    ids = getattr(resp, "prompt_token_ids", None)
    assert ids, "VlmResponse carries no prompt_token_ids (the server returns them with return_token_ids)"
    assert ids.count(image_token_id) == vllm_deepseek_tokens(*req.image.size)


def test_ngram_no_repeat_processor_is_active(server: tuple[str, str]) -> None:
    """vllm_xargs from docpipe's request body reach the server's n-gram processor: greedy decoding of
    random weights repeats 3-grams without it, and none with ngram_size=3."""
    from docpipe.engines.vlm.backends.openai_http import OpenAIBackend

    backend = OpenAIBackend(settings(server))
    image = page_image(640, 480)

    async def run(extra: dict[str, Any]) -> list[int]:
        body = backend.build_body(VlmRequest(prompt=TEXT, image=image, max_tokens=16, sampling_extra=extra))
        body["return_token_ids"] = True
        async with httpx.AsyncClient(timeout=300) as client:
            r = await client.post(backend.url, json=body)
        assert r.status_code == 200, r.text[:500]
        return r.json()["choices"][0]["token_ids"]

    loose = asyncio.run(run({}))
    strict = asyncio.run(run({"ngram_size": 3, "window_size": 64}))
    print(f"deepseek-ocr server greedy: {loose}\n  with ngram_size=3: {strict}")
    assert len(loose) == len(strict) == 16
    assert repeated_ngrams(loose, 3), "random weights should loop without the processor (test precondition)"
    assert not repeated_ngrams(strict, 3)


def test_convert_end_to_end(server: tuple[str, str], tmp_path: Path) -> None:
    """`docpipe convert --engine vlm --backend openai` against the server: the page went to the engine and
    came back; with random weights it may fall back as unparsable, never for an HTTP error."""
    base_url, model = server
    pdf = small_pdf(tmp_path / "small.pdf")
    out = tmp_path / "out"
    cmd = [
        sys.executable, "-c", "import sys; from docpipe.cli.main import main; sys.exit(main())",
        "convert", str(pdf), "-o", str(out), "--engine", "vlm", "--backend", "openai",
        "--base-url", base_url, "--model", model, "--workers", "1", "-q",
        "--set", "vlm.max_tokens=16", "--set", "vlm.max_retries=0", "--set", "vlm.figure_pass=false",
    ]  # fmt: skip
    proc = subprocess.run(cmd, cwd=ROOT, env=engine_env(), capture_output=True, text=True, timeout=600)
    results = list(out.rglob("*.json"))
    doc = next((json.loads(p.read_text()) for p in results if p.name == "small.json"), None)
    assert doc is not None, f"exit {proc.returncode}; no small.json in {results}\n{proc.stderr[-2000:]}"
    (page,) = doc["pages"]
    summary = {k: page.get(k) for k in ("engine", "status", "route_reason", "error")}
    errors = page.get("error") or ""
    assert "HTTP 4" not in errors and "HTTP 5" not in errors, summary
    assert page["engine"] == "vlm" and page["status"] != "failed", summary
    assert page["status"] == "ok" or errors.startswith("unparsable model output"), summary
