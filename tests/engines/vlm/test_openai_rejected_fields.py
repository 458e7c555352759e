"""Hosted APIs and servers that refuse request fields: a refused field is left out for the rest of
the run, so N pages cost N + 1 requests, not 2N. Against a loopback server answering as the real
APIs do."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("httpx")

from docpipe.engines.vlm.backends import openai_http  # noqa: E402
from docpipe.engines.vlm.backends.base import BackendError, VlmResponse  # noqa: E402
from docpipe.engines.vlm.backends.openai_http import (  # noqa: E402
    OpenAIBackend,
    error_fields,
    is_reasoning_model,
    rejected_fields,
)
from tests.engines.vlm.openai_loopback import (  # noqa: E402
    MAX_TOKENS_UNSUPPORTED,
    TEMPERATURE_UNSUPPORTED,
    Loopback,
    Reply,
    completion,
    image_detail,
    openai_error,
    request,
    settings,
    vllm_error,
)

N = 5


def reasoning_api(body: dict, n: int) -> Reply:
    """Answers like OpenAI's API for o-series / gpt-5 models."""
    if "max_tokens" in body:
        return MAX_TOKENS_UNSUPPORTED
    if body.get("temperature", 1) != 1:
        return TEMPERATURE_UNSUPPORTED
    return completion("fine")


def ok(results: list) -> list[VlmResponse]:
    assert all(isinstance(r, VlmResponse) for r in results), results
    return results


@pytest.mark.parametrize("model", ["o3-mini", "openai/o4-mini", "o1", "gpt-5", "gpt-5-mini-2025-08-07"])
def test_reasoning_models_get_max_completion_tokens_and_no_temperature(model):
    assert is_reasoning_model(model)
    with Loopback(reasoning_api) as srv:
        be = OpenAIBackend(settings(srv.base_url, model=model, server_extras=False))
        ok(be.generate_batch([request(max_tokens=100) for _ in range(N)]))
    assert len(srv.posts) == N  # not one failed request
    body = srv.posts[0]
    assert body["max_completion_tokens"] == 100 and "max_tokens" not in body and "temperature" not in body


@pytest.mark.parametrize("model", ["gpt-4.1", "gpt-5-chat-latest", "Qwen/Qwen2.5-VL-7B-Instruct", "omni-vl"])
def test_chat_models_keep_max_tokens_and_temperature(model):
    assert not is_reasoning_model(model)


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_rejected_max_tokens_is_learned_once(concurrency):
    """An unknown model name: the server's 400 (OpenAI's shape, naming the param) teaches the
    backend; later pages go straight to max_completion_tokens, also when they run concurrently."""
    with Loopback(reasoning_api) as srv:
        be = OpenAIBackend(settings(srv.base_url, model="house-reasoner", max_concurrency=concurrency))
        results = ok(be.generate_batch([request(max_tokens=77) for _ in range(N)]))
    # first page: max_tokens refused, then temperature refused, then accepted; every later page: 1
    assert len(srv.posts) == N + 2
    assert sum(r.attempts for r in results) == N + 2
    later = srv.posts[3:]
    assert all(b["max_completion_tokens"] == 77 and "max_tokens" not in b for b in later)
    assert all("temperature" not in b for b in later)
    assert be.token_field == "max_completion_tokens" and "temperature" in be.rejected


def test_what_was_learned_lasts_across_batches():
    with Loopback(reasoning_api) as srv:
        be = OpenAIBackend(settings(srv.base_url, model="house-reasoner"))
        ok(be.generate_batch([request()]))
        ok(be.generate_batch([request() for _ in range(N)]))
    assert len(srv.posts) == 3 + N


def test_response_format_is_remembered():
    def no_schema(body, n):
        if "response_format" in body:
            return openai_error("response_format json_schema is not supported by this server", None, None)
        return completion('{"blocks": []}')

    with Loopback(no_schema) as srv:
        be = OpenAIBackend(settings(srv.base_url, server_extras=False))
        ok(be.generate_batch([request(json_schema={"type": "object"}) for _ in range(N)]))
    assert len(srv.posts) == N + 1
    assert "response_format" in srv.posts[0] and all("response_format" not in b for b in srv.posts[1:])


def test_image_detail_is_remembered():
    def no_detail(body, n):
        if image_detail(body) is not None:
            return openai_error(
                "Invalid value: 'detail'. This model does not take an image detail.",
                "messages.[0].content.[0].image_url.detail",
                "invalid_value",
            )
        return completion()

    with Loopback(no_detail) as srv:
        be = OpenAIBackend(settings(srv.base_url, server_extras=False, max_concurrency=3))
        ok(be.generate_batch([request() for _ in range(N)]))
    assert len(srv.posts) == N + 1 and [image_detail(b) for b in srv.posts[1:]] == [None] * N


def test_vllm_extras_are_dropped_by_a_server_that_does_not_know_them():
    """OpenAI lists every unrecognized argument in one message, with no param: all go at once."""
    known = {"model", "messages", "max_tokens", "temperature"}

    def strict(body, n):
        unknown = sorted(set(body) - known)
        if unknown:
            return openai_error(f"Unrecognized request arguments supplied: {', '.join(unknown)}", None, None)
        return completion()

    reqs = [
        request(
            sampling_extra={"ngram_size": 30},
            mm_processor_kwargs={"crop_mode": True},
            skip_special_tokens=False,
        )
        for _ in range(N)
    ]
    with Loopback(strict) as srv:
        be = OpenAIBackend(settings(srv.base_url))
        ok(be.generate_batch(reqs))
    assert len(srv.posts) == N + 1
    first = srv.posts[0]
    assert {"vllm_xargs", "mm_processor_kwargs", "skip_special_tokens", "return_token_ids"} <= set(first)
    assert all(set(b) == known for b in srv.posts[1:])


def test_vllm_refusing_per_request_mm_kwargs_keeps_the_other_extras():
    """vLLM 0.32 without --trust-request-mm-kwargs: its 400 names mm_processor_kwargs only."""

    def vllm(body, n):
        if "mm_processor_kwargs" in body:
            return vllm_error(
                "Per-request mm_processor_kwargs are disabled by default because they can change "
                "multimodal preprocessing resource usage. Start the server with "
                "--trust-request-mm-kwargs only when clients are trusted.",
                "mm_processor_kwargs",
            )
        return completion()

    with Loopback(vllm) as srv:
        be = OpenAIBackend(settings(srv.base_url, model="deepseek-ai/DeepSeek-OCR"))
        reqs = [
            request(sampling_extra={"ngram_size": 30}, mm_processor_kwargs={"base_size": 1024})
            for _ in range(N)
        ]
        ok(be.generate_batch(reqs))
    assert len(srv.posts) == N + 1 and be.rejected == {"mm_processor_kwargs"}
    assert all(b["vllm_xargs"] == {"ngram_size": 30} and b["return_token_ids"] is True for b in srv.posts[1:])


def test_fastapi_validation_error_names_the_field_in_loc():
    def strict(body, n):
        if "return_token_ids" in body:
            detail = [
                {
                    "type": "extra_forbidden",
                    "loc": ["body", "return_token_ids"],
                    "msg": "Extra inputs are not permitted",
                    "input": True,
                }
            ]
            return Reply(status=422, payload={"detail": detail})
        return completion()

    with Loopback(strict) as srv:
        be = OpenAIBackend(settings(srv.base_url))
        ok(be.generate_batch([request() for _ in range(N)]))
    assert len(srv.posts) == N + 1


def test_other_client_errors_fail_at_once_and_are_not_remembered():
    def bad(body, n):
        return openai_error("Invalid image: could not decode the data URI.", "messages", "invalid_image")

    with Loopback(bad) as srv:
        be = OpenAIBackend(settings(srv.base_url))
        results = be.generate_batch([request() for _ in range(3)])
    assert all(isinstance(r, BackendError) and "could not decode" in str(r) for r in results)
    assert len(srv.posts) == 3 and not be.rejected


def test_a_field_refused_again_does_not_loop():
    """A server that refuses both token fields: bounded, then the server's message."""

    def stubborn(body, n):
        field = "max_tokens" if "max_tokens" in body else "max_completion_tokens"
        return openai_error(f"Unsupported parameter: '{field}'", field, "unsupported_parameter")

    with Loopback(stubborn) as srv:
        be = OpenAIBackend(settings(srv.base_url))
        (res,) = be.generate_batch([request()])
    assert isinstance(res, BackendError) and len(srv.posts) == 2


def test_first_request_gate_waits_briefly_for_what_the_server_says(monkeypatch):
    """While the first request is out, the others wait (at most FIRST_ANSWER_WAIT) — a slow but
    accepted first request does not hold the rest for long."""
    monkeypatch.setattr(openai_http, "FIRST_ANSWER_WAIT", 0.3)

    def slow_first(body, n):
        return Reply(payload=completion("slow" if n == 0 else "fast").payload, delay=1.5 if n == 0 else 0.0)

    with Loopback(slow_first) as srv:
        be = OpenAIBackend(settings(srv.base_url, max_concurrency=4))
        results = ok(be.generate_batch([request() for _ in range(4)]))
    assert [r.text for r in results] == ["slow", "fast", "fast", "fast"]
    assert max(r.seconds for r in results[1:]) < 1.0  # they did not wait for the slow one


def test_error_parsing_is_generic():
    params, msg = error_fields(
        '{"object": "error", "message": "bad \'temperature\'", "type": "BadRequestError", '
        '"param": null, "code": 400}'
    )
    assert params == [] and rejected_fields(params, msg, ["temperature", "max_tokens"]) == ["temperature"]
    params, msg = error_fields("plain text: skip_special_tokens is not allowed")
    assert rejected_fields(params, msg, ["skip_special_tokens"]) == ["skip_special_tokens"]
    # 'detail' is an English word too: only a quoted or dotted field name counts
    assert rejected_fields([], "See the docs for more detail.", ["detail"]) == []
    assert rejected_fields([], "Invalid 'detail' value", ["detail"]) == ["detail"]
    # the param field wins over names in the message
    params, msg = error_fields(json.dumps(MAX_TOKENS_UNSUPPORTED.payload))
    assert rejected_fields(params, msg, ["max_tokens", "temperature"]) == ["max_tokens"]
