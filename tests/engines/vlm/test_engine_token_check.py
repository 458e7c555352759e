"""The engine records the visual tokens the engine counted (from the prompt token ids a vLLM server
returns), and acts on a count that contradicts the profile: a Qwen2.5-VL server that resized the image
again fails the page loudly (its boxes would be off), a DeepSeek-OCR engine in another mode is noted."""

from __future__ import annotations

import base64
import io

import pymupdf
from PIL import Image

from docpipe.engines.base import PageInput
from docpipe.engines.vlm import VlmEngine, VlmSettings
from docpipe.engines.vlm.modes import deepseek_visual_tokens
from tests.engines.vlm.openai_loopback import Loopback, completion

GROUNDED = "<|ref|>text<|/ref|><|det|>[[100, 100, 900, 200]]<|/det|>\nA line.\n<｜end▁of▁sentence｜>"
QWEN_HTML = '<html><body><p data-bbox="10 10 200 40">A line.</p></body></html>'


def sent_size(body: dict) -> tuple[int, int]:
    part = next(p for p in body["messages"][-1]["content"] if p["type"] == "image_url")
    return Image.open(io.BytesIO(base64.b64decode(part["image_url"]["url"].split(",", 1)[1]))).size


def page() -> tuple[pymupdf.Document, PageInput]:
    doc = pymupdf.open()
    p = doc.new_page(width=612, height=792)
    p.insert_text((72, 90), "A line of text on a page.", fontsize=11)
    return doc, PageInput(source_name="t.pdf", index=0, page=p)


def ids_with_image_run(n: int) -> list[int]:
    return [1, 2, 3, *[151655] * n, 4, 5]


def test_engine_count_is_recorded_and_a_deepseek_mode_mismatch_noted():
    def handler(body, i):
        w, h = sent_size(body)
        counted = deepseek_visual_tokens(w, h) if i == 0 else 111  # the second: a 'small'-mode engine
        return completion(GROUNDED, prompt_token_ids=ids_with_image_run(counted))

    s = dict(model="deepseek-ai/DeepSeek-OCR", dpi=72, figure_pass=False, backoff=0.01)
    with Loopback(handler) as srv:
        doc, p = page()
        (raw,) = VlmEngine(VlmSettings(base_url=srv.base_url, **s)).process([p])
        assert srv.posts[0]["return_token_ids"] is True  # asked for, so the count is the engine's
        assert raw.status == "ok" and raw.error is None
        assert raw.vlm.visual_tokens == raw.vlm.predicted_visual_tokens == 273
        assert raw.vlm.visual_tokens_source == "engine" and raw.vlm.prompt_tokens == 300
        (raw,) = VlmEngine(VlmSettings(base_url=srv.base_url, **s)).process([p])
        assert raw.status == "ok" and raw.vlm.visual_tokens == 111 and raw.vlm.predicted_visual_tokens == 273
        assert "engine_mode" in raw.error and "111" in raw.error
        doc.close()


def test_a_qwen_server_that_resized_again_fails_the_page_loudly():
    def handler(body, i):
        w, h = sent_size(body)
        return completion(QWEN_HTML, prompt_token_ids=ids_with_image_run((w // 28) * (h // 28) // 4))

    s = VlmSettings(model="Qwen/Qwen2.5-VL-7B-Instruct", dpi=72, figure_pass=False, backoff=0.01)
    with Loopback(handler) as srv:
        doc, p = page()
        (raw,) = VlmEngine(s.model_copy(update={"base_url": srv.base_url})).process([p])
        assert raw.status == "failed" and "max_pixels" in raw.error
        assert len(srv.posts) == 1  # no retry at another size: the server's setting is the problem
        doc.close()
