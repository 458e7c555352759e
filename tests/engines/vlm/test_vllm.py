"""The vLLM offline backend's driver, without vLLM: a fake engine with vLLM's `add_request` / `step`
interface records what the backend adds and when. What the real engine accepts and counts is tested
against vLLM itself in tests/vllm_real."""

from __future__ import annotations

import time
from dataclasses import dataclass
from types import SimpleNamespace

import pymupdf
import pytest
from PIL import Image

from docpipe.engines.base import PageInput
from docpipe.engines.vlm import VlmEngine, VlmSettings
from docpipe.engines.vlm.backends.base import MissingExtra, VlmRequest
from docpipe.engines.vlm.backends.vllm_offline import VllmBackend
from docpipe.engines.vlm.modes import deepseek_visual_tokens
from docpipe.engines.vlm.profiles import QwenVlProfile

PAGE = "<|ref|>title<|/ref|><|det|>[[10, 10, 990, 60]]<|/det|>\n# Hello<｜end▁of▁sentence｜>"
FIGURE_PAGE = (
    "<|ref|>text<|/ref|><|det|>[[10, 10, 990, 60]]<|/det|>\nFirst page.\n\n"
    "<|ref|>image<|/ref|><|det|>[[100, 300, 600, 700]]<|/det|>\n<｜end▁of▁sentence｜>"
)


@dataclass
class Params:  # stands in for vllm.SamplingParams: keeps the keyword arguments it was built with
    temperature: float = 1.0
    max_tokens: int = 16
    skip_special_tokens: bool = True
    extra_args: dict | None = None


class FakeEngine:
    """vLLM's LLMEngine interface: requests finish `steps` steps after they were added, unless
    `hold(prompt)` keeps them running (for at most `max_hold` steps, so a broken test cannot hang)."""

    def __init__(self, reply, steps: int = 2, hold=None, max_hold: int = 5000, count=None) -> None:
        self.reply, self.steps, self.hold, self.max_hold = reply, steps, hold, max_hold
        # the image tokens the engine puts in the prompt (vLLM's DeepSeek-OCR count by default)
        self.count = count or (lambda image: deepseek_visual_tokens(*image.size))
        self.model_config = SimpleNamespace(max_model_len=8192)
        self.added: list[tuple[str, dict, Params, set[str]]] = []  # id, prompt, params, running then
        self.running: dict[str, list] = {}
        self.max_running = 0
        self.fail_next_step: Exception | None = None

    def add_request(self, rid: str, prompt: dict, params: Params) -> str:
        self.added.append((rid, prompt, params, set(self.running)))
        self.running[rid] = [prompt, self.steps, 0]
        self.max_running = max(self.max_running, len(self.running))
        return f"{rid}-0a1b2c3d"  # like vLLM 0.32: an internal id with a random suffix

    def step(self) -> list:
        time.sleep(0.001)
        if self.fail_next_step is not None:
            exc, self.fail_next_step = self.fail_next_step, None
            self.running.clear()
            raise exc
        outs = []
        for rid, state in list(self.running.items()):
            prompt, left, held = state
            if self.hold and self.hold(prompt) and held < self.max_hold:
                state[2] += 1
                continue
            state[1] = left - 1
            done = state[1] <= 0
            if done:
                del self.running[rid]
            image = prompt["multi_modal_data"]["image"]
            ids = [0, *[9] * self.count(image), 5, 6]  # one run of image tokens
            text = self.reply(prompt) if callable(self.reply) else self.reply
            comp = SimpleNamespace(
                text=text if done else "", finish_reason="stop" if done else None, token_ids=[1]
            )
            out_id = f"{rid}-0a1b2c3d"
            out = SimpleNamespace(request_id=out_id, finished=done, prompt_token_ids=ids, outputs=[comp])
            outs.append(out)
        return outs


class FakeLLM:
    def __init__(self, engine: FakeEngine) -> None:
        self.llm_engine = engine

    def get_tokenizer(self):
        return SimpleNamespace(apply_chat_template=chat_template)


def chat_template(messages, tokenize, add_generation_prompt):
    assert tokenize is False and add_generation_prompt is True
    parts = []
    for m in messages:
        content = m["content"]
        if isinstance(content, str):
            parts.append(f"<{m['role']}>{content}")
        else:
            text = "".join("<|image_pad|>" if c["type"] == "image" else c["text"] for c in content)
            parts.append(f"<{m['role']}>{text}")
    return "".join(parts) + "<assistant>"


def pages(n: int) -> tuple[pymupdf.Document, list[PageInput]]:
    doc = pymupdf.open()
    for i in range(n):
        p = doc.new_page(width=612, height=792)
        # page 0: a line; later pages: ~3,000 text tokens, more than 10x the global view's 273
        words = "optical " * (2000 if i else 1)
        assert p.insert_textbox(p.rect + (36, 36, -36, -36), f"Page {i} {words}", fontsize=6) >= 0
    # page objects are taken after all pages exist (adding a page invalidates earlier handles)
    return doc, [PageInput(source_name="t.pdf", index=i, page=doc[i]) for i in range(n)]


def deepseek(**kw) -> VlmSettings:
    return VlmSettings(model="deepseek-ai/DeepSeek-OCR", backend="vllm", dpi=72, **kw)


def test_deepseek_requests_follow_the_offline_recipe():
    engine = FakeEngine(PAGE)
    s = deepseek()
    doc, inputs = pages(3)
    backend = VllmBackend(s, llm=FakeLLM(engine), sampling_params_cls=Params)
    raws = VlmEngine(s, backend=backend).process(inputs)
    assert [r.status for r in raws] == ["ok"] * 3 and raws[0].blocks[0].text == "Hello"
    assert len(engine.added) == 3
    for _, prompt, params, _ in engine.added:
        assert prompt["prompt"] == "<image>\n<|grounding|>Convert the document to markdown."
        assert isinstance(prompt["multi_modal_data"]["image"], Image.Image)
        assert "mm_processor_kwargs" not in prompt  # the engine's mode is fixed: vLLM refuses them
        assert params.temperature == 0.0 and params.skip_special_tokens is False
        ngram = {"ngram_size": 30, "window_size": 90, "whitelist_token_ids": {128821, 128822}}
        assert params.extra_args == ngram
    # max_tokens leaves the context room for the prompt (8192 would overflow DeepSeek-OCR's context)
    by_page = {p["multi_modal_data"]["image"].size: params for _, p, params, _ in engine.added}
    for size, params in by_page.items():
        assert params.max_tokens <= 8192 - deepseek_visual_tokens(*size)
    # more text -> the tiled size, and the count recorded is the engine's
    assert [r.vlm.mode for r in raws] == ["global", "tiled", "tiled"]
    assert [r.vlm.visual_tokens for r in raws] == [273, 903, 903]
    assert {r.vlm.visual_tokens_source for r in raws} == {"engine"}
    doc.close()


def test_figure_requests_join_while_pages_run():
    """Page 0 has a figure; page 1 finishes only once that figure's request has been added. With
    generate() batches the figure would wait for page 1's batch to end: here it joins the running
    batch. Page 0 in turn waits until page 1 is inside the engine, so the order of arrival is fixed."""

    def reply(prompt):
        return "A chart." if "Parse the figure." in prompt["prompt"] else FIGURE_PAGE

    def kind(prompt) -> str:
        if "Parse the figure." in prompt["prompt"]:
            return "figure"
        return "page1" if prompt["multi_modal_data"]["image"].width < 480 else "page0"

    def hold(prompt) -> bool:
        added = {kind(p) for _, p, _, _ in engine.added}
        return {"page0": "page1" not in added, "page1": "figure" not in added}.get(kind(prompt), False)

    engine = FakeEngine(reply, hold=hold)
    s = deepseek()
    doc = pymupdf.open()
    for width in (612, 540):  # page 1 is narrower: its image tells the engine which page it is
        doc.new_page(width=width, height=792).insert_text((72, 90), "A page with a figure.", fontsize=11)
    inputs = [PageInput(source_name="t.pdf", index=i, page=doc[i]) for i in range(2)]
    backend = VllmBackend(s, llm=FakeLLM(engine), sampling_params_cls=Params)
    raws = VlmEngine(s, backend=backend).process(inputs)
    assert [r.status for r in raws] == ["ok", "ok"]
    kinds = [kind(p) for _, p, _, _ in engine.added]
    assert kinds.count("figure") == 2  # a figure on each page (the same reply)
    first_figure = next(entry for entry in engine.added if kind(entry[1]) == "figure")
    page1_id = next(rid for rid, p, _, _ in engine.added if kind(p) == "page1")
    assert page1_id in first_figure[3], "the figure request waited for the slow page to end"
    doc.close()


def _wait_for_company(engine: FakeEngine, total: int, until: int) -> None:
    """Hold a request that runs alone while fewer than `until` of the `total` requests have reached
    the engine: the requests reach the driver thread one by one, and on a loaded machine the first
    could finish before the second arrives, so the peak would measure scheduling noise, not the cap.
    At most 2000 steps (about 2 s): an order the budget does not let run together still ends."""
    engine.hold = lambda _prompt: len(engine.running) < 2 and len(engine.added) < min(until, total)
    engine.max_hold = 2000


def test_requests_inside_vllm_are_bounded_by_count_and_visual_tokens():
    engine = FakeEngine(PAGE, steps=3)
    _wait_for_company(engine, total=5, until=5)
    be = VllmBackend(deepseek(max_batch_size=2), llm=FakeLLM(engine), sampling_params_cls=Params)
    img = Image.new("RGB", (600, 600), "white")
    req = VlmRequest(prompt="p", image=img, visual_tokens=273, raw_prompt="<image>\np")
    results = be.generate_batch([req] * 5)
    assert all(r.text.endswith("<｜end▁of▁sentence｜>") for r in results)
    assert engine.max_running == 2
    engine = FakeEngine(PAGE, steps=3)
    _wait_for_company(engine, total=4, until=2)
    be = VllmBackend(deepseek(max_batch_visual_tokens=600), llm=FakeLLM(engine), sampling_params_cls=Params)
    reqs = [
        VlmRequest(prompt="p", image=img, visual_tokens=vt, raw_prompt="<image>\np")
        for vt in (273, 273, 903, 273)
    ]
    assert len(be.generate_batch(reqs)) == 4
    assert engine.max_running == 2  # 273 + 273 fit in 600; 903 goes alone (larger than the budget)


def test_a_bad_request_fails_alone_and_an_engine_failure_fails_what_ran():
    engine = FakeEngine(PAGE)
    original_add = engine.add_request

    def add(rid, prompt, params):
        if prompt["multi_modal_data"]["image"].width == 7:
            raise ValueError("image too small for the processor")
        return original_add(rid, prompt, params)

    engine.add_request = add
    be = VllmBackend(deepseek(), llm=FakeLLM(engine), sampling_params_cls=Params)
    good, bad = (Image.new("RGB", (w, 50), "white") for w in (50, 7))
    results = be.generate_batch(
        [VlmRequest(prompt="p", image=im, raw_prompt="<image>\np") for im in (good, bad)]
    )
    assert results[0].finish_reason == "stop" and "too small" in str(results[1])
    engine.fail_next_step = RuntimeError("CUDA out of memory")
    (res,) = be.generate_batch([VlmRequest(prompt="p", image=good, raw_prompt="<image>\np")])
    assert isinstance(res, RuntimeError) and "out of memory" in str(res)
    (res,) = be.generate_batch([VlmRequest(prompt="p", image=good, raw_prompt="<image>\np")])
    assert res.finish_reason == "stop"  # the driver goes on


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
    engine = FakeEngine(
        '<html><body><p data-bbox="0 0 100 100">x</p></body></html>',
        count=lambda im: (im.width // 28) * (im.height // 28),  # Qwen2.5: a token per 28 x 28 px
    )
    s = VlmSettings(
        model="Qwen/Qwen2.5-VL-7B-Instruct", backend="vllm", task="html", dpi=72, figure_pass=False
    )
    backend = VllmBackend(s, llm=FakeLLM(engine), sampling_params_cls=Params)
    doc, inputs = pages(1)
    (raw,) = VlmEngine(s, backend=backend).process(inputs)
    ((_, req, param, _),) = engine.added
    assert req["prompt"].startswith("<system>You are an AI specialized")
    assert "<user><|image_pad|>QwenVL HTML<assistant>" in req["prompt"]
    assert "mm_processor_kwargs" not in req and param.extra_args is None and param.skip_special_tokens
    img = req["multi_modal_data"]["image"]
    assert img.width % 28 == 0 and img.height % 28 == 0  # resized to Qwen2.5's patch grid here
    assert raw.status == "ok" and raw.vlm.predicted_visual_tokens == (img.width // 28) * (img.height // 28)
    assert isinstance(VlmEngine(s, backend=backend).profile, QwenVlProfile)
    doc.close()
