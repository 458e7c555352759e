"""Qwen-VL: the image docpipe sends survives the processor's own resize, the visual tokens it predicts
are the ones the engine counts, and a server that resized again is caught loudly; Qwen3-VL is its own
variant (prompt, 32-px grid, relative boxes)."""

from __future__ import annotations

import pytest
from PIL import Image

from docpipe.engines.vlm.backends.base import engine_visual_tokens
from docpipe.engines.vlm.profiles.qwen_vl import (
    HTML_PROMPT,
    HTML_SYSTEM,
    MARKDOWN_PROMPT,
    QWEN3,
    QWEN25,
    QwenVlProfile,
    VisualTokenMismatch,
    smart_resize,
)
from docpipe.engines.vlm.settings import VlmSettings

QWEN25_MODEL = "Qwen/Qwen2.5-VL-7B-Instruct"
QWEN3_MODEL = "Qwen/Qwen3-VL-8B-Instruct"
PAGES = [(1224, 1584), (612, 792), (2000, 300), (1700, 2200), (90, 60)]


def sent(prof: QwenVlProfile, size: tuple[int, int], mode: str = "base") -> Image.Image:
    return prof.prepare_image(Image.new("RGB", size, "white"), prof.modes[mode])


def test_variants_by_model_name():
    q25, q3 = QwenVlProfile(QWEN25_MODEL), QwenVlProfile(QWEN3_MODEL)
    assert q25.variant is QWEN25 and q25.unit == 28 and not q25.qwen3
    assert q3.variant is QWEN3 and q3.unit == 32 and q3.qwen3
    assert QwenVlProfile("Qwen/Qwen3-VL-30B-A3B-Instruct").variant is QWEN3
    assert QwenVlProfile("Qwen/Qwen2-VL-2B-Instruct").variant is QWEN25
    html = VlmSettings(model=QWEN3_MODEL, task="html")
    req = q3.page_request(sent(q3, (612, 792)), q3.modes["base"], html)
    assert req.prompt == "qwenvl html" and req.system is None  # Qwen3-VL's own cookbook prompt
    req = q25.page_request(sent(q25, (612, 792)), q25.modes["base"], html)
    assert req.prompt == HTML_PROMPT and req.system == HTML_SYSTEM
    md = VlmSettings(model=QWEN3_MODEL, task="markdown")
    assert q3.page_request(sent(q3, (612, 792)), q3.modes["base"], md).prompt == MARKDOWN_PROMPT


@pytest.mark.parametrize("model", [QWEN25_MODEL, QWEN3_MODEL])
@pytest.mark.parametrize("mode", ["low", "base", "high"])
def test_the_server_keeps_the_image_docpipe_sends(model, mode):
    prof = QwenVlProfile(model)
    u = prof.unit
    for size in PAGES:
        img = sent(prof, size, mode)
        w, h = img.size
        assert w % u == 0 and h % u == 0
        # the server's smart_resize, with the checkpoint's default bounds, leaves it alone
        assert smart_resize(w, h, u, prof.variant.min_pixels, prof.variant.max_pixels) == (w, h)
        assert prof.predicted_visual_tokens(w, h) == (w // u) * (h // u)
        assert prof.modes[mode].visual_tokens(*size) == (w // u) * (h // u)
        req = prof.page_request(img, prof.modes[mode], VlmSettings(model=model))
        assert req.visual_tokens == (w // u) * (h // u)


def test_pixel_bounds_from_settings():
    s = VlmSettings(model=QWEN25_MODEL, max_pixels=401408, min_pixels=200704)
    prof = QwenVlProfile.for_settings(s)
    assert (prof.max_pixels, prof.min_pixels) == (401408, 200704)
    for mode in ("low", "base", "high"):
        for size in PAGES:
            w, h = sent(prof, size, mode).size
            assert 200704 <= w * h <= 401408 or min(size) < 100  # tiny crops may fall short of it
            assert smart_resize(w, h, 28, 200704, 401408) == (w, h)


def _processor(prof: QwenVlProfile, min_pixels: int, max_pixels: int):
    transformers = pytest.importorskip("transformers")
    cls = getattr(transformers, "Qwen2VLImageProcessorPil", None) or transformers.Qwen2VLImageProcessor
    size = {"shortest_edge": min_pixels, "longest_edge": max_pixels}
    return cls(size=size, patch_size=prof.unit // 2, merge_size=2)


def _counted(proc, img: Image.Image) -> int:
    t, h, w = (int(v) for v in proc(images=[img], return_tensors="np")["image_grid_thw"][0])
    return t * h * w // 4  # merge 2x2


@pytest.mark.parametrize("model", [QWEN25_MODEL, QWEN3_MODEL])
def test_prediction_agrees_with_the_transformers_processor(model):
    """vLLM counts Qwen's image tokens with the HF processor: its grid is the truth."""
    for bounds in ((None, None), (401408, None)):
        prof = QwenVlProfile(model, max_pixels=bounds[0])
        proc = _processor(prof, prof.min_pixels, prof.max_pixels)
        for size in PAGES:
            img = sent(prof, size)
            assert _counted(proc, img) == prof.predicted_visual_tokens(*img.size), (size, bounds)
            assert prof.check_visual_tokens(*img.size, counted=_counted(proc, img)) is None


def test_a_server_with_a_smaller_max_pixels_fails_the_page_loudly():
    prof = QwenVlProfile(QWEN25_MODEL)  # docpipe assumes the checkpoint's default bounds
    img = sent(prof, (1224, 1584))
    server = _processor(prof, 3136, 401408)  # but the server was started with max_pixels 401408
    counted = _counted(server, img)
    assert counted < prof.predicted_visual_tokens(*img.size)
    with pytest.raises(VisualTokenMismatch) as err:
        prof.check_visual_tokens(*img.size, counted=counted)
    msg = str(err.value)
    assert "max_pixels" in msg and "--mm-processor-kwargs" in msg and f"{img.width}x{img.height}" in msg
    # set to the server's bounds, docpipe sends what the server keeps
    fixed = QwenVlProfile(QWEN25_MODEL, max_pixels=401408)
    img = sent(fixed, (1224, 1584))
    assert fixed.check_visual_tokens(*img.size, counted=_counted(server, img)) is None


def test_check_from_token_ids_and_from_prompt_tokens():
    prof = QwenVlProfile(QWEN25_MODEL)
    w, h = 868, 1120  # 31 x 40 = 1240 tokens
    ids = [151644, 872, 198, 151652] + [151655] * 1240 + [151653, 151645]
    assert prof.check_visual_tokens(w, h, engine_visual_tokens(ids)) is None
    short = [151644, 872, 198, 151652] + [151655] * 475 + [151653, 151645]
    with pytest.raises(VisualTokenMismatch):
        prof.check_visual_tokens(w, h, engine_visual_tokens(short))
    # a server larger min_pixels upscales: the fix named is min_pixels
    with pytest.raises(VisualTokenMismatch, match="min_pixels"):
        prof.check_visual_tokens(w, h, 2000)
    # no ids: a whole prompt smaller than the image alone shows the re-resize too
    with pytest.raises(VisualTokenMismatch):
        prof.check_visual_tokens(w, h, None, prompt_tokens=500)
    assert prof.check_visual_tokens(w, h, None, prompt_tokens=1300) is None
    assert prof.check_visual_tokens(w, h, None) is None


def test_qwen3_boxes_are_relative_so_a_resize_is_only_noted():
    prof = QwenVlProfile(QWEN3_MODEL)
    note = prof.check_visual_tokens(992, 1280, counted=374)
    assert note is not None and "qwen3-vl" in note and "max_pixels" in note


def test_engine_visual_tokens():
    assert engine_visual_tokens(None) is None and engine_visual_tokens([]) is None
    assert engine_visual_tokens([1, 2, 2, 3]) == 2
    assert engine_visual_tokens([5] * 7 + [1, 1] + [9] * 3) == 7
    assert engine_visual_tokens([0, 128815] * 1 + [128815] * 272 + [1]) == 273
