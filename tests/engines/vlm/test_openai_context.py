"""max_tokens fitted into the model's context (learned from vLLM's /v1/models, the settings, or a
context-length 400), and the engine's own prompt token ids. Against a loopback server answering as
vLLM does."""

from __future__ import annotations

import pytest

pytest.importorskip("httpx")

from docpipe.engines.vlm.backends.base import (  # noqa: E402
    CONTEXT_MARGIN,
    BackendError,
    engine_visual_tokens,
    predicted_prompt_tokens,
)
from docpipe.engines.vlm.backends.openai_http import OpenAIBackend  # noqa: E402
from tests.engines.vlm.openai_loopback import Loopback, completion, request, settings, vllm_error  # noqa: E402

MODEL = "deepseek-ai/DeepSeek-OCR"
# vLLM's /v1/models: a ModelCard with max_model_len
MODELS = {
    "object": "list",
    "data": [{"id": MODEL, "object": "model", "owned_by": "vllm", "root": MODEL, "max_model_len": 8192}],
}
N = 4


def page(**kw):
    return request("<|grounding|>Convert the document to markdown.", max_tokens=8192, visual_tokens=273, **kw)


def test_context_learned_from_v1_models_once():
    with Loopback(lambda body, n: completion(), models=MODELS) as srv:
        be = OpenAIBackend(settings(srv.base_url, model=MODEL))
        be.generate_batch([page() for _ in range(N)])
        be.generate_batch([page()])
    assert srv.gets == ["/v1/models"]  # asked once per backend
    expect = 8192 - predicted_prompt_tokens(page()) - CONTEXT_MARGIN
    assert all(b["max_tokens"] == expect for b in srv.posts) and expect < 8192 - 273


def test_settings_max_model_len_wins_and_nothing_is_asked():
    with Loopback(lambda body, n: completion(), models=MODELS) as srv:
        be = OpenAIBackend(settings(srv.base_url, model=MODEL, max_model_len=4096))
        be.generate_batch([page(), request(max_tokens=100)])
    assert srv.gets == []
    assert srv.posts[0]["max_tokens"] == 4096 - predicted_prompt_tokens(page()) - CONTEXT_MARGIN
    assert srv.posts[1]["max_tokens"] == 100  # small requests keep theirs


def test_servers_without_a_context_keep_max_tokens():
    with Loopback(lambda body, n: completion(), models=None) as srv:  # /v1/models: 404
        be = OpenAIBackend(settings(srv.base_url, model=MODEL))
        be.generate_batch([page()])
    assert srv.gets == ["/v1/models"] and srv.posts[0]["max_tokens"] == 8192


@pytest.mark.parametrize(
    "message",
    [
        # vLLM <= 0.10 (and OpenAI)
        "This model's maximum context length is 8192 tokens. However, you requested 9195 tokens "
        "(1003 in the messages, 8192 in the completion). "
        "Please reduce the length of the messages or completion.",
        # later vLLM releases
        "'max_tokens' or 'max_completion_tokens' is too large: 8192. This model's maximum context length "
        "is 8192 tokens and your request has 1003 input tokens (8192 > 8192 - 1003).",
    ],
)
def test_context_overflow_400_shrinks_once_and_is_remembered(message):
    """No /v1/models; the engine counts more prompt tokens than predicted (1003 vs ~300): the first
    page pays one 400, the rest fit at once."""

    def old_vllm(body, n):
        if body["max_tokens"] + 1003 > 8192:
            return vllm_error(message, "max_tokens")
        return completion(prompt_tokens=1003)

    with Loopback(old_vllm) as srv:
        be = OpenAIBackend(settings(srv.base_url, model=MODEL, max_concurrency=3))
        results = be.generate_batch([page() for _ in range(N)])
    assert all(r.text == "ok" for r in results), results
    assert len(srv.posts) == N + 1
    assert srv.posts[0]["max_tokens"] == 8192
    assert all(b["max_tokens"] == 8192 - 1003 - CONTEXT_MARGIN for b in srv.posts[1:])
    assert be.max_model_len == 8192


def test_a_prompt_that_fills_the_context_fails_at_once():
    msg = (
        "This model's maximum context length is 8192 tokens. However, your prompt contains at least "
        "8193 input tokens, which exceeds this limit even without any output tokens. Please reduce "
        "the length of the input prompt."
    )
    with Loopback(lambda body, n: vllm_error(msg, "input_tokens")) as srv:
        be = OpenAIBackend(settings(srv.base_url, model=MODEL))
        (res,) = be.generate_batch([page()])
    assert isinstance(res, BackendError) and "8193 input tokens" in str(res) and len(srv.posts) == 1


def test_prompt_slack_learned_from_usage():
    """The engine counted more prompt tokens than predicted: later requests leave room for it."""
    with Loopback(lambda body, n: completion(prompt_tokens=1500), models=MODELS) as srv:
        be = OpenAIBackend(settings(srv.base_url, model=MODEL, max_concurrency=1))
        be.generate_batch([page(), page()])
    assert srv.posts[1]["max_tokens"] == 8192 - 1500 - CONTEXT_MARGIN


def test_prompt_token_ids_asked_for_and_read():
    ids = [0, 151644, 872, 198, 151652] + [151655] * 1240 + [151653, 4340, 151645]
    with Loopback(lambda body, n: completion(prompt_token_ids=ids, prompt_tokens=len(ids))) as srv:
        be = OpenAIBackend(settings(srv.base_url, model="Qwen/Qwen2.5-VL-7B-Instruct"))
        (resp,) = be.generate_batch([page()])
    assert srv.posts[0]["return_token_ids"] is True
    assert resp.prompt_token_ids == ids and engine_visual_tokens(resp.prompt_token_ids) == 1240


def test_no_token_ids_without_server_extras():
    with Loopback(lambda body, n: completion()) as srv:
        be = OpenAIBackend(settings(srv.base_url, server_extras=False))
        (resp,) = be.generate_batch([page()])
    assert "return_token_ids" not in srv.posts[0] and resp.prompt_token_ids is None
