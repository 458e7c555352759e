"""Model profiles: one module per model family."""

from __future__ import annotations

from docpipe.engines.vlm.profiles.base import PageGeometry, Profile
from docpipe.engines.vlm.profiles.deepseek_ocr import DeepSeekOcrProfile
from docpipe.engines.vlm.profiles.generic import GenericProfile
from docpipe.engines.vlm.profiles.qwen_vl import QwenVlProfile

__all__ = ["DeepSeekOcrProfile", "GenericProfile", "PageGeometry", "Profile", "QwenVlProfile", "profile_for"]


def profile_for(model: str, name: str | None = None) -> Profile:
    """The profile named, or the one the model id suggests; generic for anything unknown."""
    key = (name or "").lower().replace("-", "_")
    low = model.lower()
    if key == "deepseek_ocr" or (not key and "deepseek" in low and "ocr" in low):
        return DeepSeekOcrProfile()
    if key == "qwen_vl" or (not key and "qwen" in low and "vl" in low):
        return QwenVlProfile(model)
    if key in ("", "generic"):
        return GenericProfile()
    raise ValueError(f"unknown VLM profile {name!r}: use deepseek_ocr, qwen_vl or generic")
