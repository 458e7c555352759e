"""What a model profile provides: prompts, image preparation and visual-token count per resolution
mode, request knobs, and the parser of its output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from docpipe.engines.vlm.images import fit_within
from docpipe.engines.vlm.modes import Mode

if TYPE_CHECKING:
    from PIL import Image

    from docpipe.engines.vlm.backends.base import VlmRequest, VlmResponse
    from docpipe.engines.vlm.parse.draft import ParseResult
    from docpipe.engines.vlm.parse.figures import FigureReading
    from docpipe.engines.vlm.settings import VlmSettings


@dataclass
class PageGeometry:
    page_w: float  # points
    page_h: float
    sent_w: int  # pixels of the image the model saw
    sent_h: int


class VisualTokenMismatch(ValueError):
    """The engine saw another image than docpipe sent: its boxes would not fit the page."""


class Profile:
    name = "base"
    modes: dict[str, Mode] = {}
    default_mode = ""
    tasks: tuple[str, ...] = ("markdown",)
    #: whether mode 'auto' picks by compression ratio; the ratio's meaning is DeepSeek-OCR's, so
    #: other profiles take their default mode under 'auto'
    compression_aware = False

    def mode(self, name: str) -> Mode:
        try:
            return self.modes[name]
        except KeyError:
            raise ValueError(
                f"mode {name!r} is not one of {self.name}'s modes: {', '.join(self.modes)} or auto"
            ) from None

    def prepare_image(self, image: Image.Image, mode: Mode) -> Image.Image:
        return fit_within(image, mode.max_side)

    def page_request(self, image: Image.Image, mode: Mode, settings: VlmSettings) -> VlmRequest:
        raise NotImplementedError

    def figure_request(self, image: Image.Image, settings: VlmSettings) -> VlmRequest:
        raise NotImplementedError

    def check_visual_tokens(
        self, sent_w: int, sent_h: int, counted: int | None, prompt_tokens: int | None = None
    ) -> str | None:
        """Compare the engine's own count of visual tokens for an image of sent_w x sent_h px with
        the profile's prediction: None when they agree or nothing is known, a note when the engine
        resized differently but the reading stays usable; VisualTokenMismatch when it does not.
        The generic profile's counts are estimates for models it does not know: nothing to check."""
        return None

    def finished(self, response: VlmResponse) -> bool:
        """Did the model end its answer (EOS) rather than run into the token limit?"""
        return response.finish_reason != "length"

    def parse_page(self, text: str, geo: PageGeometry, settings: VlmSettings) -> ParseResult:
        raise NotImplementedError

    def parse_figure(self, text: str) -> FigureReading:
        raise NotImplementedError
