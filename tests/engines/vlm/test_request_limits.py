"""max_tokens fits the context minus the prompt; vLLM offline learns the context from its LLM and
reports the prompt token ids (fake LLM: no vLLM needed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from PIL import Image

from docpipe.engines.vlm.backends.base import (
    CONTEXT_MARGIN,
    VlmRequest,
    engine_visual_tokens,
    fit_max_tokens,
    offline_max_model_len,
    predicted_prompt_tokens,
)
from docpipe.engines.vlm.backends.vllm_offline import VllmBackend
from docpipe.engines.vlm.settings import VlmSettings


def req(max_tokens: int = 8192, visual_tokens: int = 273) -> VlmRequest:
    return VlmRequest(
        prompt="<|grounding|>Convert the document to markdown.",
        image=Image.new("RGB", (64, 64), "white"),
        max_tokens=max_tokens,
        visual_tokens=visual_tokens,
        raw_prompt="<image>\n<|grounding|>Convert the document to markdown.",
    )


def test_fit_max_tokens():
    r = req()
    assert fit_max_tokens(r, None) == 8192  # context unknown: as asked
    assert fit_max_tokens(r, 8192) == 8192 - predicted_prompt_tokens(r) - CONTEXT_MARGIN
    assert fit_max_tokens(r, 8192, prompt_tokens=1000) == 8192 - 1000 - CONTEXT_MARGIN
    assert fit_max_tokens(req(max_tokens=500), 8192) == 500
    assert fit_max_tokens(r, 100) == 1  # never zero or negative: the server says what is wrong
    assert predicted_prompt_tokens(r) >= 273 + len(r.prompt) // 4


@dataclass
class Params:
    temperature: float = 1.0
    max_tokens: int = 16
    skip_special_tokens: bool = True
    extra_args: dict | None = None
    kw: dict = field(default_factory=dict)


class FakeEngine:
    """vLLM's LLMEngine interface, as the offline backend drives it: every request ends at once."""

    def __init__(self, max_model_len: int | None, ids: list[int]) -> None:
        self.model_config = SimpleNamespace(max_model_len=max_model_len)
        self.ids, self.params, self._added = ids, [], []

    def add_request(self, rid, prompt, params):
        self.params.append(params)
        self._added.append(rid)

    def step(self):
        done, self._added = self._added, []
        comp = SimpleNamespace(text="# Hi", finish_reason="stop", token_ids=[5, 6])
        out = dict(finished=True, prompt_token_ids=self.ids, outputs=[comp])
        return [SimpleNamespace(request_id=r, **out) for r in done]


class FakeLLM:
    def __init__(self, max_model_len: int | None) -> None:
        self.ids = [0, 1, 2] + [128815] * 273 + [3, 4]
        self.llm_engine = FakeEngine(max_model_len, self.ids)

    @property
    def params(self):
        return self.llm_engine.params


def test_offline_context_from_the_llm_and_prompt_ids_back():
    llm = FakeLLM(8192)
    assert offline_max_model_len(llm) == 8192 and offline_max_model_len(object()) is None
    be = VllmBackend(VlmSettings(backend="vllm"), llm=llm, sampling_params_cls=Params)
    (resp,) = be.generate_batch([req()])
    assert llm.params[0].max_tokens == 8192 - predicted_prompt_tokens(req()) - CONTEXT_MARGIN
    assert resp.prompt_token_ids == llm.ids and resp.prompt_tokens == len(llm.ids)
    assert engine_visual_tokens(resp.prompt_token_ids) == 273


def test_offline_settings_context_wins():
    llm = FakeLLM(None)
    be = VllmBackend(VlmSettings(backend="vllm", max_model_len=4096), llm=llm, sampling_params_cls=Params)
    be.generate_batch([req()])
    assert llm.params[0].max_tokens == 4096 - predicted_prompt_tokens(req()) - CONTEXT_MARGIN
    be = VllmBackend(VlmSettings(backend="vllm"), llm=FakeLLM(None), sampling_params_cls=Params)
    be.generate_batch([req()])
    assert be.llm.params[0].max_tokens == 8192
