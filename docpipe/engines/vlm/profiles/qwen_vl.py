"""Qwen2.5-VL and Qwen3-VL: document parsing to QwenVL HTML (elements with data-bbox), or plain
Markdown. Images are resized here to the model's patch grid (28 px per visual token side for 2.5,
32 px for 3) so the server does not resize again and absolute boxes refer to the image we sent."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image

from docpipe.engines.vlm.backends.base import VlmRequest
from docpipe.engines.vlm.modes import Mode
from docpipe.engines.vlm.parse.draft import ParseResult
from docpipe.engines.vlm.parse.figures import FIGURE_JSON_PROMPT, FigureReading, read_figure_json
from docpipe.engines.vlm.parse.markdown_blocks import parse_markdown_page
from docpipe.engines.vlm.parse.qwen_html import parse_qwen_html
from docpipe.engines.vlm.profiles.base import PageGeometry, Profile

if TYPE_CHECKING:
    from docpipe.engines.vlm.settings import VlmSettings

HTML_SYSTEM = (
    "You are an AI specialized in recognizing and extracting text from images. Your mission is to "
    "analyze the image document and generate the result in QwenVL Document Parser HTML format using "
    "specified tags while maintaining user privacy and data integrity."
)
HTML_PROMPT = "QwenVL HTML"
MARKDOWN_PROMPT = (
    "Convert this document page to Markdown. Keep the reading order. Write tables as HTML <table>, "
    "display formulas as $$...$$ in LaTeX, and skip page headers and footers. Output only the Markdown."
)


@dataclass(frozen=True)
class PixelBudgetMode(Mode):
    """Qwen's dynamic resolution: one visual token per (unit x unit) pixels, up to a pixel budget."""

    unit: int = 28

    def size(self, width: int, height: int) -> tuple[int, int]:
        u, max_px, min_px = self.unit, self.base_size**2, (4 * self.unit) ** 2
        w = max(u, round(width / u) * u)
        h = max(u, round(height / u) * u)
        if w * h > max_px:
            beta = math.sqrt(width * height / max_px)
            w = max(u, math.floor(width / beta / u) * u)
            h = max(u, math.floor(height / beta / u) * u)
        elif w * h < min_px:
            beta = math.sqrt(min_px / (width * height))
            w, h = math.ceil(width * beta / u) * u, math.ceil(height * beta / u) * u
        return w, h

    @property
    def max_side(self) -> int:
        return self.base_size * 2

    def visual_tokens(self, width: int, height: int) -> int:
        w, h = self.size(width, height)
        return (w // self.unit) * (h // self.unit)


def _modes(unit: int) -> dict[str, Mode]:
    # pixel budgets ~ 512, 1280 and 2560 visual tokens
    return {
        name: PixelBudgetMode(name, round(math.sqrt(tokens) * unit), 0, tokens, unit=unit)
        for name, tokens in (("low", 512), ("base", 1280), ("high", 2560))
    }


class QwenVlProfile(Profile):
    name = "qwen_vl"
    default_mode = "base"
    tasks = ("html", "markdown")

    def __init__(self, model: str) -> None:
        self.qwen3 = "qwen3" in model.lower()
        # Qwen3-VL boxes are 0..1000 relative; Qwen2.5-VL boxes are pixels of the image it saw
        self.unit = 32 if self.qwen3 else 28
        self.modes = _modes(self.unit)

    def prepare_image(self, image: Image.Image, mode: Mode) -> Image.Image:
        assert isinstance(mode, PixelBudgetMode)
        size = mode.size(*image.size)
        return image if size == image.size else image.resize(size, Image.Resampling.LANCZOS)

    def page_request(self, image: Image.Image, mode: Mode, settings: VlmSettings) -> VlmRequest:
        html = settings.task != "markdown"
        return VlmRequest(
            prompt=HTML_PROMPT if html else MARKDOWN_PROMPT,
            system=HTML_SYSTEM if html else None,
            image=image,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            tag="html" if html else "markdown",
        )

    def figure_request(self, image: Image.Image, settings: VlmSettings) -> VlmRequest:
        img = self.prepare_image(image, self.modes["low"])
        return VlmRequest(prompt=FIGURE_JSON_PROMPT, image=img, max_tokens=2048, temperature=0.0)

    def parse_page(self, text: str, geo: PageGeometry, settings: VlmSettings) -> ParseResult:
        if settings.task == "markdown":
            return parse_markdown_page(text)
        cw, ch = (1000.0, 1000.0) if self.qwen3 else (float(geo.sent_w), float(geo.sent_h))
        return parse_qwen_html(text, geo.page_w, geo.page_h, cw, ch)

    def parse_figure(self, text: str) -> FigureReading:
        return read_figure_json(text)
