"""Qwen2-VL, Qwen2.5-VL and Qwen3-VL: document parsing to QwenVL HTML (elements with data-bbox), or
plain Markdown.

The processor resizes every image to whole visual tokens (smart_resize: sides in multiples of patch x
merge, 28 px for Qwen2/2.5 and 32 px for Qwen3, pixels within min_pixels..max_pixels). docpipe
resizes here to a size that the server's resize leaves alone, so Qwen2/2.5's absolute pixel boxes
refer to the image docpipe sent. That holds only while the server's pixel bounds hold docpipe's
image: a server started with a smaller max_pixels resizes again, silently. Hence VlmSettings
max_pixels/min_pixels (the server's `--mm-processor-kwargs`), the predicted visual tokens, and
check_visual_tokens against the engine's own count."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image

from docpipe.engines.vlm.backends.base import VlmRequest
from docpipe.engines.vlm.modes import Mode
from docpipe.engines.vlm.parse.draft import ParseResult
from docpipe.engines.vlm.parse.figures import FIGURE_JSON_PROMPT, FigureReading, read_figure_json
from docpipe.engines.vlm.parse.markdown_blocks import parse_markdown_page
from docpipe.engines.vlm.parse.qwen_html import parse_qwen_html
from docpipe.engines.vlm.profiles.base import PageGeometry, Profile, VisualTokenMismatch

if TYPE_CHECKING:
    from docpipe.engines.vlm.settings import VlmSettings

# Qwen2.5-VL's document parsing prompt (QwenLM/Qwen2.5-VL cookbooks/document_parsing.ipynb)
HTML_SYSTEM = (
    "You are an AI specialized in recognizing and extracting text from images. Your mission is to "
    "analyze the image document and generate the result in QwenVL Document Parser HTML format using "
    "specified tags while maintaining user privacy and data integrity."
)
HTML_PROMPT = "QwenVL HTML"
# Qwen3-VL's (QwenLM/Qwen3-VL cookbooks/document_parsing.ipynb): the bare user prompt "qwenvl html",
# no system prompt; its data-bbox values are relative, 0..1000 of the image's width and height (the
# cookbook draws them as x / 1000 * width)
QWEN3_HTML_PROMPT = "qwenvl html"
MARKDOWN_PROMPT = (
    "Convert this document page to Markdown. Keep the reading order. Write tables as HTML <table>, "
    "display formulas as $$...$$ in LaTeX, and skip page headers and footers. Output only the Markdown."
)


@dataclass(frozen=True)
class QwenVariant:
    name: str
    unit: int  # px per visual token side: patch x spatial merge
    min_pixels: int  # the checkpoint's processor defaults (preprocessor_config.json), which a server
    max_pixels: int  # started without --mm-processor-kwargs resizes to
    html_system: str | None
    html_prompt: str
    relative_boxes: bool  # data-bbox in 0..1000 rather than pixels of the image seen


# Qwen2-VL / Qwen2.5-VL: patch 14, merge 2x2; min_pixels 56*56, max_pixels 12845056 (16384 tokens)
QWEN25 = QwenVariant("qwen2.5-vl", 28, 56 * 56, 12845056, HTML_SYSTEM, HTML_PROMPT, False)
# Qwen3-VL: patch 16, merge 2x2; size shortest_edge 65536, longest_edge 16777216 (16384 tokens)
QWEN3 = QwenVariant("qwen3-vl", 32, 65536, 16777216, None, QWEN3_HTML_PROMPT, True)


def variant_for(model: str) -> QwenVariant:
    return QWEN3 if re.search(r"qwen3", model.lower()) else QWEN25


def smart_resize(width: int, height: int, unit: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """(width, height) the Qwen processor resizes an image to: sides rounded to multiples of `unit`,
    scaled down into max_pixels or up to min_pixels keeping the aspect (transformers' smart_resize)."""
    u = unit
    w = max(u, round(width / u) * u)
    h = max(u, round(height / u) * u)
    if w * h > max_pixels:
        beta = math.sqrt(width * height / max_pixels)
        w = max(u, math.floor(width / beta / u) * u)
        h = max(u, math.floor(height / beta / u) * u)
    elif w * h < min_pixels:
        beta = math.sqrt(min_pixels / (width * height))
        w, h = math.ceil(width * beta / u) * u, math.ceil(height * beta / u) * u
    return w, h


@dataclass(frozen=True)
class PixelBudgetMode(Mode):
    """Qwen's dynamic resolution: one visual token per (unit x unit) pixels, up to a pixel budget."""

    unit: int = 28
    max_pixels: int = 0  # 0: base_size ** 2
    min_pixels: int = 0  # 0: (4 unit) ** 2

    def size(self, width: int, height: int) -> tuple[int, int]:
        u = self.unit
        return smart_resize(
            width, height, u, self.min_pixels or (4 * u) ** 2, self.max_pixels or self.base_size**2
        )

    @property
    def max_side(self) -> int:
        return self.base_size * 2

    def visual_tokens(self, width: int, height: int) -> int:
        w, h = self.size(width, height)
        return (w // self.unit) * (h // self.unit)


def _modes(unit: int, min_pixels: int, max_pixels: int) -> dict[str, Mode]:
    """Pixel budgets of ~512, 1280 and 2560 visual tokens, each held inside the server's bounds so
    that the server keeps the image as sent."""
    modes: dict[str, Mode] = {}
    for name, tokens in (("low", 512), ("base", 1280), ("high", 2560)):
        budget = min(tokens * unit * unit, max_pixels)
        modes[name] = PixelBudgetMode(
            name,
            round(math.sqrt(tokens) * unit),
            0,
            budget // (unit * unit),
            unit=unit,
            max_pixels=budget,
            min_pixels=min(min_pixels, budget),
        )
    return modes


class QwenVlProfile(Profile):
    name = "qwen_vl"
    default_mode = "base"
    tasks = ("html", "markdown")

    def __init__(self, model: str, *, max_pixels: int | None = None, min_pixels: int | None = None) -> None:
        """`max_pixels`/`min_pixels`: the server's processor bounds (VlmSettings max_pixels and
        min_pixels); None takes the checkpoint's defaults."""
        self.variant = variant_for(model)
        self.qwen3 = self.variant is QWEN3
        self.unit = self.variant.unit
        self.max_pixels = max_pixels or self.variant.max_pixels
        self.min_pixels = min(min_pixels or self.variant.min_pixels, self.max_pixels)
        self.modes = _modes(self.unit, self.min_pixels, self.max_pixels)

    @classmethod
    def for_settings(cls, settings: VlmSettings) -> QwenVlProfile:
        return cls(settings.model, max_pixels=settings.max_pixels, min_pixels=settings.min_pixels)

    def prepare_image(self, image: Image.Image, mode: Mode) -> Image.Image:
        assert isinstance(mode, PixelBudgetMode)
        size = mode.size(*image.size)
        return image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)

    def page_request(self, image: Image.Image, mode: Mode, settings: VlmSettings) -> VlmRequest:
        html = settings.task != "markdown"
        v = self.variant
        return VlmRequest(
            prompt=v.html_prompt if html else MARKDOWN_PROMPT,
            system=v.html_system if html else None,
            image=image,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            tag="html" if html else "markdown",
            visual_tokens=self.predicted_visual_tokens(*image.size),
        )

    def figure_request(self, image: Image.Image, settings: VlmSettings) -> VlmRequest:
        img = self.prepare_image(image, self.modes["low"])
        return VlmRequest(
            prompt=FIGURE_JSON_PROMPT,
            image=img,
            max_tokens=2048,
            temperature=0.0,
            visual_tokens=self.predicted_visual_tokens(*img.size),
        )

    # -- the engine's own count ------------------------------------------------------------------
    def predicted_visual_tokens(self, sent_w: int, sent_h: int) -> int:
        """Visual tokens the engine will count for an image of this size: the server's own resize
        (within the bounds docpipe was told) of the image, one token per unit x unit pixels."""
        w, h = smart_resize(sent_w, sent_h, self.unit, self.min_pixels, self.max_pixels)
        return (w // self.unit) * (h // self.unit)

    def check_visual_tokens(
        self, sent_w: int, sent_h: int, counted: int | None, prompt_tokens: int | None = None
    ) -> str | None:
        """Compare the engine's count of visual tokens (engine_visual_tokens of the response's
        prompt_token_ids) with the prediction for the image sent. Without token ids, a whole prompt
        (usage.prompt_tokens) smaller than the predicted image shows a re-resize as well.

        Returns None when they agree (or nothing is known). On a mismatch, Qwen2/2.5 raises
        VisualTokenMismatch: its boxes are pixels of an image docpipe never saw, off by up to the
        resize. Qwen3-VL's boxes are relative and survive a resize, so it returns the note instead."""
        predicted = self.predicted_visual_tokens(sent_w, sent_h)
        if counted is not None:
            if counted == predicted:
                return None
            seen = f"the engine counted {counted}"
        elif prompt_tokens is not None and 0 < prompt_tokens < predicted:
            counted, seen = prompt_tokens, f"the engine counted {prompt_tokens} prompt tokens in all"
        else:
            return None
        u2 = self.unit * self.unit
        if counted < predicted:
            fix = (
                f"the server's max_pixels is smaller than docpipe's {self.max_pixels} (the count suggests "
                f"about {counted * u2}): set the VLM setting max_pixels to the server's max_pixels "
                f"(--mm-processor-kwargs), or start the server with max_pixels >= {sent_w * sent_h}"
            )
        else:
            fix = (
                f"the server's min_pixels is larger than docpipe's {self.min_pixels} (the count suggests "
                f"about {counted * u2}): set the VLM setting min_pixels to the server's min_pixels "
                f"(--mm-processor-kwargs), or start the server with min_pixels <= {sent_w * sent_h}"
            )
        msg = (
            f"{self.variant.name}: the engine resized the image again: docpipe sent {sent_w}x{sent_h} px, "
            f"{predicted} visual tokens, but {seen}; {fix}"
        )
        if self.variant.relative_boxes:
            return msg
        raise VisualTokenMismatch(msg + ". Its boxes would be off, so the page is not used.")

    def parse_page(self, text: str, geo: PageGeometry, settings: VlmSettings) -> ParseResult:
        if settings.task == "markdown":
            return parse_markdown_page(text)
        cw, ch = (1000.0, 1000.0) if self.variant.relative_boxes else (float(geo.sent_w), float(geo.sent_h))
        return parse_qwen_html(text, geo.page_w, geo.page_h, cw, ch)

    def parse_figure(self, text: str) -> FigureReading:
        return read_figure_json(text)
