"""DeepSeek-OCR (and DeepSeek-OCR 2 where the interface is the same).

Modes and token counts from the paper: Tiny 512 px / 64, Small 640 / 100, Base 1024 / 256,
Large 1280 / 400, Gundam = n x 640 px tiles (100 each) + a 1024 px global view (256).
On vLLM, the resolution mode is the processor's (base_size, image_size, crop_mode), passed per request
as mm_processor_kwargs, and loops are curbed by the model's n-gram no-repeat logits processor, which
reads ngram_size / window_size / whitelist_token_ids from SamplingParams.extra_args.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from docpipe.engines.vlm.backends.base import VlmRequest, VlmResponse
from docpipe.engines.vlm.modes import Mode
from docpipe.engines.vlm.parse.draft import ParseResult
from docpipe.engines.vlm.parse.fences import unwrap_reply_fence
from docpipe.engines.vlm.parse.figures import FigureReading, read_figure_text
from docpipe.engines.vlm.parse.grounding import _TAG, parse_grounded, strip_eos
from docpipe.engines.vlm.parse.markdown_blocks import parse_markdown_page
from docpipe.engines.vlm.profiles.base import PageGeometry, Profile

if TYPE_CHECKING:
    from PIL import Image

    from docpipe.engines.vlm.settings import VlmSettings

PROMPTS = {
    "markdown": "<|grounding|>Convert the document to markdown.",
    "free": "Free OCR.",
    "figure": "Parse the figure.",
}
RAW_TEMPLATE = "<image>\n{prompt}"  # DeepSeek-OCR's plain prompt format (no chat roles)

# The authors' settings for the n-gram no-repeat processor; <td> and </td> (ids 128821, 128822) may
# repeat, since long tables legitimately do.
NGRAM_ARGS = {"ngram_size": 30, "window_size": 90, "whitelist_token_ids": [128821, 128822]}

MODES = {
    "tiny": Mode("tiny", 512, 512, 64),
    "small": Mode("small", 640, 640, 100),
    "base": Mode("base", 1024, 1024, 256),
    "large": Mode("large", 1280, 1280, 400),
    "gundam": Mode("gundam", 1024, 640, 256, tile_tokens=100, crop=True),
}


class DeepSeekOcrProfile(Profile):
    name = "deepseek_ocr"
    modes = MODES
    default_mode = "gundam"
    tasks = ("markdown", "free")
    compression_aware = True

    def _request(self, image: Image.Image, prompt: str, mode: Mode, settings: VlmSettings) -> VlmRequest:
        return VlmRequest(
            prompt=prompt,
            image=image,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            sampling_extra=dict(NGRAM_ARGS),
            mm_processor_kwargs={
                "base_size": mode.base_size,
                "image_size": mode.image_size,
                "crop_mode": mode.crop,
            },
            raw_prompt=RAW_TEMPLATE.format(prompt=prompt),
            skip_special_tokens=False,  # the grounding tags are special tokens
        )

    def page_request(self, image: Image.Image, mode: Mode, settings: VlmSettings) -> VlmRequest:
        task = settings.task if settings.task in self.tasks else "markdown"
        return self._request(image, PROMPTS[task], mode, settings)

    def figure_request(self, image: Image.Image, settings: VlmSettings) -> VlmRequest:
        return self._request(image, PROMPTS["figure"], self.modes["base"], settings)

    def finished(self, response: VlmResponse) -> bool:
        if response.finish_reason == "length":
            return False
        # with special tokens kept, an answer that ended on its own carries the EOS marker or a 'stop'
        return response.finish_reason == "stop" or strip_eos(response.text)[1]

    def parse_page(self, text: str, geo: PageGeometry, settings: VlmSettings) -> ParseResult:
        text, _ = strip_eos(text)
        text, _ = unwrap_reply_fence(text)
        if _TAG.search(text) or "<|ref|>" in text:
            return parse_grounded(text, geo.page_w, geo.page_h)
        return parse_markdown_page(text)

    def parse_figure(self, text: str) -> FigureReading:
        return read_figure_text(text)
