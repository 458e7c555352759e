"""Model profiles: one module per model family."""

from __future__ import annotations

from docpipe.engines.vlm.profiles.base import PageGeometry, Profile, VisualTokenMismatch
from docpipe.engines.vlm.profiles.deepseek_ocr import DeepSeekOcr2Profile, DeepSeekOcrProfile
from docpipe.engines.vlm.profiles.generic import GenericProfile
from docpipe.engines.vlm.profiles.qwen_vl import QwenVlProfile

__all__ = [
    "DeepSeekOcr2Profile",
    "DeepSeekOcrProfile",
    "GenericProfile",
    "PageGeometry",
    "Profile",
    "QwenVlProfile",
    "VisualTokenMismatch",
    "profile_for",
]


def profile_for(
    model: str,
    name: str | None = None,
    engine_mode: str | None = None,
    max_pixels: int | None = None,
    min_pixels: int | None = None,
) -> Profile:
    """The profile named, or the one the model id suggests; generic for anything unknown.
    `engine_mode` is DeepSeek-OCR's, `max_pixels`/`min_pixels` Qwen-VL's (the server's bounds)."""
    key = (name or "").lower().replace("-", "_")
    low = model.lower().replace("_", "-")
    deepseek = "deepseek" in low and "ocr" in low
    if key == "deepseek_ocr2" or (not key and deepseek and ("ocr-2" in low or "ocr2" in low)):
        return DeepSeekOcr2Profile(engine_mode)
    if key == "deepseek_ocr" or (not key and deepseek):
        return DeepSeekOcrProfile(engine_mode)
    if key == "qwen_vl" or (not key and "qwen" in low and "vl" in low):
        return QwenVlProfile(model, max_pixels=max_pixels, min_pixels=min_pixels)
    if key in ("", "generic"):
        return GenericProfile()
    raise ValueError(f"unknown VLM profile {name!r}: use deepseek_ocr, deepseek_ocr2, qwen_vl or generic")
