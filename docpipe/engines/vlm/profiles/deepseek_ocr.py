"""DeepSeek-OCR and DeepSeek-OCR 2.

The resolution mode belongs to the engine, not to the request: vLLM builds DeepSeek-OCR's processor
from fixed constants (Gundam: a 1024 px global view plus 640 px tiles, 2-6 of them; DeepSeek-OCR 2:
768 px tiles) and refuses per-request processor options. What docpipe does choose is the size of the
image it sends, and with it the tile grid: an image of at most one tile's side gets the global view
only (273 visual tokens for DeepSeek-OCR, 257 for version 2); a larger one gets the global view plus
tiles. `render_modes` turns that into the two choices the engine's compression-aware planner ranks.

Loops are curbed by the model's n-gram no-repeat logits processor, which reads ngram_size /
window_size / whitelist_token_ids from the request (vLLM: SamplingParams.extra_args offline,
`vllm_xargs` over HTTP).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PIL import Image

from docpipe.engines.vlm.backends.base import VlmRequest, VlmResponse
from docpipe.engines.vlm.modes import DEEPSEEK_ENGINE_MODES, DeepSeekEngineMode, Mode
from docpipe.engines.vlm.parse.draft import ParseResult
from docpipe.engines.vlm.parse.fences import unwrap_reply_fence
from docpipe.engines.vlm.parse.figures import FigureReading, read_figure_text
from docpipe.engines.vlm.parse.grounding import _TAG, parse_grounded, strip_eos
from docpipe.engines.vlm.parse.markdown_blocks import parse_markdown_page
from docpipe.engines.vlm.profiles.base import PageGeometry, Profile

if TYPE_CHECKING:
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


@dataclass(frozen=True)
class RenderMode(Mode):
    """One way to size a page for a DeepSeek engine mode: the global view only, or tiled."""

    engine: DeepSeekEngineMode = field(default_factory=lambda: DEEPSEEK_ENGINE_MODES["gundam"])
    tiled: bool = False

    def target_size(self, width: int, height: int) -> tuple[int, int]:
        """Pixel size of the image to send for a width x height raster (never enlarged)."""
        eng = self.engine
        if self.tiled and eng.crop and max(width, height) > eng.image_size:
            # as large as the tile grid can use, and no larger: the engine resizes to the grid anyway
            cols, rows = eng.grid(width, height)
            scale = min(1.0, cols * eng.image_size / width, rows * eng.image_size / height)
        else:
            scale = min(1.0, eng.image_size / max(width, height))
        return max(1, round(width * scale)), max(1, round(height * scale))

    @property
    def max_side(self) -> int:
        eng = self.engine
        return eng.image_size * eng.max_tiles if self.tiled and eng.crop else eng.image_size

    def tile_grid(self, width: int, height: int) -> tuple[int, int]:
        return self.engine.grid(*self.target_size(width, height))

    def visual_tokens(self, width: int, height: int) -> int:
        return self.engine.visual_tokens(*self.target_size(width, height))


def render_modes(engine: DeepSeekEngineMode) -> dict[str, Mode]:
    """`global` (at most one tile's side: the global view alone) and, where the engine tiles, `tiled`."""
    size = (engine.base_size, engine.image_size, 0)
    modes: dict[str, Mode] = {"global": RenderMode("global", *size, engine=engine)}
    if engine.crop:
        modes["tiled"] = RenderMode("tiled", *size, engine=engine, tiled=True)
    return modes


class DeepSeekOcrProfile(Profile):
    name = "deepseek_ocr"
    version = 1
    default_engine_mode = "gundam"
    tasks = ("markdown", "free")
    compression_aware = True

    def __init__(self, engine_mode: str | None = None) -> None:
        name = engine_mode or self.default_engine_mode
        try:
            self.engine_mode = DEEPSEEK_ENGINE_MODES[name]
        except KeyError:
            raise ValueError(
                f"unknown DeepSeek-OCR engine mode {name!r}: one of {', '.join(DEEPSEEK_ENGINE_MODES)}"
            ) from None
        self.modes = render_modes(self.engine_mode)
        self.default_mode = "tiled" if "tiled" in self.modes else "global"

    def prepare_image(self, image: Image.Image, mode: Mode) -> Image.Image:
        size = mode.target_size(*image.size) if isinstance(mode, RenderMode) else image.size
        if size == image.size:
            return image
        return image.resize(size, Image.Resampling.LANCZOS)

    def _request(self, image: Image.Image, prompt: str, settings: VlmSettings) -> VlmRequest:
        return VlmRequest(
            prompt=prompt,
            image=image,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            sampling_extra=dict(NGRAM_ARGS),
            raw_prompt=RAW_TEMPLATE.format(prompt=prompt),
            skip_special_tokens=False,  # the grounding tags are special tokens
            visual_tokens=self.engine_mode.visual_tokens(*image.size),
        )

    def page_request(self, image: Image.Image, mode: Mode, settings: VlmSettings) -> VlmRequest:
        task = settings.task if settings.task in self.tasks else "markdown"
        return self._request(image, PROMPTS[task], settings)

    def figure_request(self, image: Image.Image, settings: VlmSettings) -> VlmRequest:
        return self._request(image, PROMPTS["figure"], settings)

    def check_visual_tokens(
        self, sent_w: int, sent_h: int, counted: int | None, prompt_tokens: int | None = None
    ) -> str | None:
        predicted = self.engine_mode.visual_tokens(sent_w, sent_h)
        if counted is None or counted == predicted:
            return None
        # the grounding boxes are relative to the image, so the page stays usable: say what to fix
        return (
            f"the engine counted {counted} visual tokens for a {sent_w}x{sent_h} px image where "
            f"{self.engine_mode.name} mode gives {predicted}: the engine runs another resolution mode; "
            f"set vlm.engine_mode to it ({', '.join(DEEPSEEK_ENGINE_MODES)})"
        )

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


class DeepSeekOcr2Profile(DeepSeekOcrProfile):
    """DeepSeek-OCR 2 (January 2026): the same prompts and grounding format; 768 px tiles of 144
    tokens and a 1024 px global view of 256 (no row-newline tokens)."""

    name = "deepseek_ocr2"
    version = 2
    default_engine_mode = "gundam2"
