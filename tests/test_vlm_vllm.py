"""vLLM offline request building, without vLLM: a fake LLM only captures what the backend builds."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pymupdf
import pytest
from PIL import Image

from docpipe.engines.base import PageInput
from docpipe.engines.vlm import VlmEngine, VlmSettings
from docpipe.engines.vlm.backends.base import MissingExtra
from docpipe.engines.vlm.backends.vllm_offline import VllmBackend
from docpipe.engines.vlm.profiles import QwenVlProfile


@dataclass
class Params:  # stands in for vllm.SamplingParams: keeps the keyword arguments it was built with
    temperature: float = 1.0
    max_tokens: int = 16
    skip_special_tokens: bool = True
    extra_args: dict | None = None
    kw: dict = field(default_factory=dict)


class FakeTokenizer:
    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
        assert tokenize is False and add_generation_prompt is True
        parts = []
        for m in messages:
            content = m["content"]
            if isinstance(content, str):
                parts.append(f"<{m['role']}>{content}")
            else:
                parts.append(
                    f"<{m['role']}>"
                    + "".join("<|image_pad|>" if c["type"] == "image" else c["text"] for c in content)
                )
        return "".join(parts) + "<assistant>"


class FakeLLM:
    def __init__(self, reply: str) -> None:
        self.calls: list[tuple[list, list]] = []
        self.reply = reply

    def get_tokenizer(self):
        return FakeTokenizer()

    def generate(self, inputs, params, use_tqdm=True):
        self.calls.append((inputs, params))
        return [
            SimpleNamespace(
                prompt_token_ids=[1, 2, 3],
                outputs=[SimpleNamespace(text=self.reply, finish_reason="stop", token_ids=[5, 6])],
            )
            for _ in inputs
        ]


def pages(n: int) -> tuple[pymupdf.Document, list[PageInput]]:
    doc = pymupdf.open()
    for i in range(n):
        p = doc.new_page(width=612, height=792)
        p.insert_textbox(p.rect + (36, 36, -36, -36), f"Page {i} " + "text " * (600 * i), fontsize=6)
    # page objects are taken after all pages exist (adding a page invalidates earlier handles)
    return doc, [PageInput(source_name="t.pdf", index=i, page=doc[i]) for i in range(n)]


def test_deepseek_requests_follow_the_offline_recipe():
    page_text = "<|ref|>title<|/ref|><|det|>[[10, 10, 990, 60]]<|/det|>\n# Hello<｜end▁of▁sentence｜>"
    llm = FakeLLM(page_text)
    s = VlmSettings(model="deepseek-ai/DeepSeek-OCR", backend="vllm", dpi=72)
    backend = VllmBackend(s, llm=llm, sampling_params_cls=Params)
    doc, inputs = pages(3)
    raws = VlmEngine(s, backend=backend).process(inputs)
    assert [r.status for r in raws] == ["ok"] * 3 and raws[0].blocks[0].text == "Hello"
    # the three pages went to vLLM in ONE generate call (continuous batching happens inside vLLM)
    assert len(llm.calls) == 1
    reqs, params = llm.calls[0]
    assert len(reqs) == 3 and len(params) == 3
    for r, p in zip(reqs, params, strict=True):
        assert r["prompt"] == "<image>\n<|grounding|>Convert the document to markdown."
        assert isinstance(r["multi_modal_data"]["image"], Image.Image)
        assert set(r["mm_processor_kwargs"]) == {"base_size", "image_size", "crop_mode"}
        assert p.temperature == 0.0 and p.max_tokens == 8192 and p.skip_special_tokens is False
        assert p.extra_args == {"ngram_size": 30, "window_size": 90, "whitelist_token_ids": {128821, 128822}}
    # more text -> richer modes, page by page
    modes = [r["mm_processor_kwargs"]["base_size"] for r in reqs]
    assert modes[0] <= modes[1] <= modes[2] and modes[0] < modes[2]
    assert [r.vlm.mode for r in raws][0] == "tiny"
    doc.close()


def test_llm_construction_arguments_for_deepseek():
    be = VllmBackend(
        VlmSettings(model="deepseek-ai/DeepSeek-OCR", vllm_kwargs={"gpu_memory_utilization": 0.8})
    )
    with pytest.raises(MissingExtra, match=r"docpipe\[vllm\]"):
        be.llm_kwargs()  # needs vllm's NGramPerReqLogitsProcessor class
    plain = VllmBackend(VlmSettings(model="Qwen/Qwen2.5-VL-7B-Instruct", vllm_kwargs={"max_model_len": 8192}))
    assert plain.llm_kwargs() == {
        "model": "Qwen/Qwen2.5-VL-7B-Instruct",
        "limit_mm_per_prompt": {"image": 1},
        "max_model_len": 8192,
    }
    with pytest.raises(MissingExtra, match=r"pip install 'docpipe\[vllm\]'"):
        _ = plain.llm


def test_chat_models_get_their_chat_template_and_image_placeholder():
    llm = FakeLLM('<html><body><p data-bbox="0 0 100 100">x</p></body></html>')
    s = VlmSettings(
        model="Qwen/Qwen2.5-VL-7B-Instruct", backend="vllm", task="html", dpi=72, figure_pass=False
    )
    backend = VllmBackend(s, llm=llm, sampling_params_cls=Params)
    doc, inputs = pages(1)
    (raw,) = VlmEngine(s, backend=backend).process(inputs)
    (req,), (param,) = llm.calls[0]
    assert req["prompt"].startswith("<system>You are an AI specialized")
    assert "<user><|image_pad|>QwenVL HTML<assistant>" in req["prompt"]
    assert "mm_processor_kwargs" not in req and param.extra_args is None and param.skip_special_tokens
    img = req["multi_modal_data"]["image"]
    assert img.width % 28 == 0 and img.height % 28 == 0  # resized to Qwen2.5's patch grid here
    assert raw.status == "ok" and raw.vlm.visual_tokens == (img.width // 28) * (img.height // 28)
    assert isinstance(VlmEngine(s, backend=backend).profile, QwenVlProfile)
    doc.close()


def test_generate_failure_is_reported_per_page():
    class Boom(FakeLLM):
        def generate(self, inputs, params, use_tqdm=True):
            raise RuntimeError("CUDA out of memory")

    s = VlmSettings(model="deepseek-ai/DeepSeek-OCR", backend="vllm", dpi=72)
    doc, inputs = pages(2)
    raws = VlmEngine(s, backend=VllmBackend(s, llm=Boom(""), sampling_params_cls=Params)).process(inputs)
    assert [r.status for r in raws] == ["failed", "failed"] and "out of memory" in raws[0].error
    doc.close()
