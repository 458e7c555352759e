"""The OpenAI-compatible backend through real HTTP against a local scripted server."""

from __future__ import annotations

import asyncio
import base64
import io
import time

import pytest
from PIL import Image

pytest.importorskip("httpx")

from docpipe.engines.vlm.backends.base import BackendError, VlmRequest  # noqa: E402
from docpipe.engines.vlm.backends.openai_http import OpenAIBackend  # noqa: E402
from docpipe.engines.vlm.settings import VlmSettings  # noqa: E402
from tests.engines.vlm.support_server import FakeChatServer, image_url, user_text  # noqa: E402


def settings(url: str, **kw) -> VlmSettings:
    base = dict(model="deepseek-ai/DeepSeek-OCR", base_url=url, api_key="sk-test", backoff=0.01, timeout=2.0)
    base.update(kw)
    return VlmSettings(**base)


def request(prompt: str = "Free OCR.", **kw) -> VlmRequest:
    return VlmRequest(prompt=prompt, image=Image.new("RGB", (40, 30), "white"), **kw)


def test_request_shape_and_reply():
    with FakeChatServer(lambda body, n: ("reply", "hello", "stop")) as srv:
        be = OpenAIBackend(settings(srv.base_url))
        req = request(
            "<|grounding|>Convert the document to markdown.",
            sampling_extra={"ngram_size": 30, "window_size": 90, "whitelist_token_ids": [128821, 128822]},
            mm_processor_kwargs={"base_size": 1024, "image_size": 640, "crop_mode": True},
            skip_special_tokens=False,
            max_tokens=123,
        )
        (resp,) = be.generate_batch([req])
    assert resp.text == "hello" and resp.finish_reason == "stop" and resp.attempts == 1
    body = srv.requests[0]
    assert body["_path"] == "/v1/chat/completions" and body["_auth"] == "Bearer sk-test"
    assert body["model"] == "deepseek-ai/DeepSeek-OCR" and body["max_tokens"] == 123
    assert user_text(body) == "<|grounding|>Convert the document to markdown."
    url = image_url(body)
    assert url["detail"] == "high" and url["url"].startswith("data:image/png;base64,")
    img = Image.open(io.BytesIO(base64.b64decode(url["url"].split(",", 1)[1])))
    assert img.size == (40, 30)
    assert body["vllm_xargs"]["ngram_size"] == 30 and body["vllm_xargs"]["whitelist_token_ids"] == [
        128821,
        128822,
    ]
    assert body["mm_processor_kwargs"] == {"base_size": 1024, "image_size": 640, "crop_mode": True}
    assert body["skip_special_tokens"] is False


def test_detail_and_server_extras_can_be_left_out():
    with FakeChatServer(lambda body, n: ("reply", "ok")) as srv:
        be = OpenAIBackend(settings(srv.base_url, detail=None, server_extras=False))
        be.generate_batch([request(sampling_extra={"ngram_size": 30}, skip_special_tokens=False)])
    body = srv.requests[0]
    assert "detail" not in image_url(body)
    assert not {"vllm_xargs", "mm_processor_kwargs", "skip_special_tokens"} & set(body)


def test_retries_429_500_and_dropped_connection():
    script = [("status", 429, {"Retry-After": "0"}), ("status", 500), ("drop",), ("reply", "finally")]
    with FakeChatServer(lambda body, n: script[n]) as srv:
        be = OpenAIBackend(settings(srv.base_url, max_retries=4))
        (resp,) = be.generate_batch([request()])
    assert resp.text == "finally" and resp.attempts == 4 and len(srv.requests) == 4


def test_slow_reply_times_out_then_succeeds():
    script = [("sleep", 1.5, "late"), ("reply", "quick")]
    with FakeChatServer(lambda body, n: script[min(n, 1)]) as srv:
        be = OpenAIBackend(settings(srv.base_url, timeout=0.5, max_retries=2))
        (resp,) = be.generate_batch([request()])
    assert resp.text == "quick" and resp.attempts == 2


def test_bounded_attempts_then_error():
    with FakeChatServer(lambda body, n: ("status", 503)) as srv:
        be = OpenAIBackend(settings(srv.base_url, max_retries=2))
        (res,) = be.generate_batch([request()])
    assert isinstance(res, BackendError) and "3 attempt(s)" in str(res) and "503" in str(res)
    assert len(srv.requests) == 3


def test_client_errors_are_not_retried():
    with FakeChatServer(lambda body, n: ("status", 401)) as srv:
        be = OpenAIBackend(settings(srv.base_url, max_retries=5))
        (res,) = be.generate_batch([request()])
    assert isinstance(res, BackendError) and "401" in str(res) and len(srv.requests) == 1


def test_response_format_dropped_only_when_server_rejects_it():
    def rejects(body, n):
        if "response_format" in body:
            return ("status", 400, {}, "response_format json_schema is not supported")
        return ("reply", '{"blocks": []}')

    with FakeChatServer(rejects) as srv:
        be = OpenAIBackend(settings(srv.base_url, model="gpt-x"))
        (resp,) = be.generate_batch([request(json_schema={"type": "object"})])
    assert resp.text == '{"blocks": []}'
    first, second = srv.requests
    assert (
        first["response_format"]["type"] == "json_schema"
        and first["response_format"]["json_schema"]["strict"]
    )
    assert "response_format" not in second
    # any other 400 is an error at once
    with FakeChatServer(lambda body, n: ("status", 400, {}, "bad image")) as srv:
        be = OpenAIBackend(settings(srv.base_url, model="gpt-x"))
        (res,) = be.generate_batch([request(json_schema={"type": "object"})])
    assert isinstance(res, BackendError) and "bad image" in str(res) and len(srv.requests) == 1


def test_concurrency_is_bounded():
    inflight, peak = [0], [0]

    import threading

    lock = threading.Lock()

    def script(body, n):
        with lock:
            inflight[0] += 1
            peak[0] = max(peak[0], inflight[0])
        time.sleep(0.15)
        with lock:
            inflight[0] -= 1
        return ("reply", user_text(body))

    with FakeChatServer(script) as srv:
        be = OpenAIBackend(settings(srv.base_url, max_concurrency=3))
        results = be.generate_batch([request(f"r{i}") for i in range(9)])
    assert [r.text for r in results] == [f"r{i}" for i in range(9)]  # in order
    assert peak[0] == 3


def test_async_entry_point_in_callers_loop():
    with FakeChatServer(lambda body, n: ("reply", "a")) as srv:
        be = OpenAIBackend(settings(srv.base_url))

        async def main():
            try:
                return await asyncio.gather(be.agenerate(request()), be.agenerate(request()))
            finally:
                await be.aclose()

        out = asyncio.run(main())
    assert [r.text for r in out] == ["a", "a"]
