"""Any OpenAI-compatible vision model (GPT-4.1, o3, Gemini, Claude, vLLM/SGLang-served InternVL,
Gemma 3, ...): a Markdown prompt, or a structured mode that asks for JSON blocks with boxes, using the
server's JSON-schema constrained decoding (response_format json_schema) where it has it.

Visual tokens are not knowable for an arbitrary model; the counts below follow OpenAI's published
tiling (85 base tokens, 170 per 512 px tile after fitting into 2048 and shortening to 768), which is
the closest thing to a common scale."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from docpipe.engines.vlm.backends.base import VlmRequest
from docpipe.engines.vlm.modes import Mode
from docpipe.engines.vlm.parse.draft import ParseResult
from docpipe.engines.vlm.parse.figures import FIGURE_JSON_PROMPT, FigureReading, read_figure_json
from docpipe.engines.vlm.parse.markdown_blocks import parse_markdown_page
from docpipe.engines.vlm.parse.structured import page_json_schema, parse_structured
from docpipe.engines.vlm.profiles.base import PageGeometry, Profile

if TYPE_CHECKING:
    from PIL import Image

    from docpipe.engines.vlm.settings import VlmSettings

MARKDOWN_PROMPT = (
    "Convert this document page to Markdown. Keep the reading order. Use # headings, - lists, "
    "HTML <table> for tables (with rowspan/colspan where cells are merged), $$...$$ LaTeX for display "
    "formulas, and ![](figure) where a picture is. Leave out page headers, footers and page numbers. "
    "Output only the Markdown."
)
STRUCTURED_PROMPT = (
    "Read this document page into layout blocks in reading order. Reply with one JSON object "
    '{"blocks": [...]}; each block has "type" (title, heading, paragraph, list_item, table, figure, '
    'chart, formula, code, caption, footnote, page_header, page_footer, page_number), "bbox" '
    '[x0, y0, x1, y1] in 0..1000 of the image width and height, "text", "level" (headings, else '
    'null), "latex" (formulas, else null) and "table_html" (tables as one HTML <table>, else null).'
)


@dataclass(frozen=True)
class TiledMode(Mode):
    detail: str = "high"

    def visual_tokens(self, width: int, height: int) -> int:
        if self.detail == "low":
            return 85
        scale = min(1.0, 2048 / max(width, height))
        w, h = width * scale, height * scale
        scale = min(1.0, 768 / min(w, h))
        w, h = w * scale, h * scale
        return 85 + 170 * math.ceil(w / 512) * math.ceil(h / 512)


MODES: dict[str, Mode] = {
    "low": TiledMode("low", 512, 512, 85, detail="low"),
    "high": TiledMode("high", 2048, 2048, 85, detail="high"),
}


class GenericProfile(Profile):
    name = "generic"
    modes = MODES
    default_mode = "high"
    tasks = ("markdown", "structured")

    def page_request(self, image: Image.Image, mode: Mode, settings: VlmSettings) -> VlmRequest:
        structured = settings.task == "structured"
        return VlmRequest(
            prompt=STRUCTURED_PROMPT if structured else MARKDOWN_PROMPT,
            image=image,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            json_schema=page_json_schema() if structured and settings.structured_output else None,
            detail=mode.detail if isinstance(mode, TiledMode) else None,
        )

    def figure_request(self, image: Image.Image, settings: VlmSettings) -> VlmRequest:
        return VlmRequest(prompt=FIGURE_JSON_PROMPT, image=image, max_tokens=2048, temperature=0.0)

    def parse_page(self, text: str, geo: PageGeometry, settings: VlmSettings) -> ParseResult:
        if settings.task == "structured":
            return parse_structured(text, geo.page_w, geo.page_h)
        return parse_markdown_page(text)

    def parse_figure(self, text: str) -> FigureReading:
        return read_figure_json(text)
