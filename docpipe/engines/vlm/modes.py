"""Resolution modes and the compression-aware choice between them.

DeepSeek-OCR's paper reports ~97% OCR precision while the page's text tokens stay under ~10x the
visual tokens, and ~60% at 20x. So for each page we estimate its text tokens and take the cheapest
mode that keeps the ratio at or under `max_compression`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from docpipe.engines.vlm.images import ink_fraction

if TYPE_CHECKING:
    from PIL import Image

    from docpipe.engines.base import PageInput


@dataclass(frozen=True)
class Mode:
    name: str
    base_size: int  # side of the global view, px
    image_size: int  # side of a local tile, px (== base_size when not tiling)
    tokens: int  # visual tokens of the global view
    tile_tokens: int = 0  # visual tokens per local tile (tiling modes only)
    crop: bool = False  # tile the page (DeepSeek-OCR "Gundam")
    min_tiles: int = 2
    max_tiles: int = 6

    @property
    def max_side(self) -> int:
        """Longest image side worth sending: more pixels than this are thrown away by the model."""
        return self.image_size * 3 if self.crop else self.base_size

    def tile_grid(self, width: int, height: int) -> tuple[int, int]:
        """Columns x rows of local tiles for an image, (1, 1) when it is not tiled.

        The grid is the one whose aspect ratio is closest to the image's, among grids of
        min_tiles..max_tiles tiles; ties go to the larger grid when the image has the pixels for it.
        """
        if not self.crop or (width <= self.image_size and height <= self.image_size):
            return (1, 1)
        aspect = width / height
        grids = sorted(
            {
                (c, r)
                for c in range(1, self.max_tiles + 1)
                for r in range(1, self.max_tiles + 1)
                if self.min_tiles <= c * r <= self.max_tiles
            },
            key=lambda g: g[0] * g[1],
        )
        best, best_diff = (1, 1), math.inf
        for c, r in grids:
            diff = abs(aspect - c / r)
            if diff < best_diff:
                best, best_diff = (c, r), diff
            elif diff == best_diff and width * height > 0.5 * self.image_size**2 * c * r:
                best = (c, r)
        return best

    def visual_tokens(self, width: int, height: int) -> int:
        cols, rows = self.tile_grid(width, height)
        tiles = cols * rows if cols * rows > 1 else 0
        return self.tokens + tiles * self.tile_tokens


def estimate_text_tokens(page: PageInput, raster: Image.Image | None = None) -> tuple[int, str]:
    """Text tokens a page will produce, and how we know: 'textlayer' or 'ink'.

    Latin text averages about 4 characters a token; CJK about one character a token. Without a text
    layer, the share of dark pixels stands in, scaled by INK_TOKENS_PER_LETTER_PAGE.
    """
    text = ""
    try:
        text = page.page.get_text("text") or ""
    except Exception:  # image documents and odd pages: fall through to the raster
        text = ""
    chars = [c for c in text if not c.isspace()]
    if len(chars) >= 20:
        wide = sum(1 for c in chars if ord(c) > 0x2E7F)
        return math.ceil((len(chars) - wide) / 4 + wide), "textlayer"
    if raster is None:
        return 0, "none"
    area = (page.width * page.height) / (612 * 792)
    return round(ink_fraction(raster) * INK_TOKENS_PER_LETTER_PAGE * area), "ink"


#: text-layer tokens per unit ink fraction of a 144 dpi raster, letter-size page: median over 16
#: text pages of the dev corpus (quartiles 8,900 and 21,000; figures ink without adding text)
INK_TOKENS_PER_LETTER_PAGE = 13000.0


def choose_mode(
    modes: list[Mode], text_tokens: int, width: int, height: int, max_compression: float
) -> tuple[Mode, int, float]:
    """Cheapest mode with text/visual <= max_compression; the richest mode when none is enough."""
    ranked = sorted(modes, key=lambda m: m.visual_tokens(width, height))
    for mode in ranked:
        vt = mode.visual_tokens(width, height)
        if text_tokens / vt <= max_compression:
            return mode, vt, text_tokens / vt
    mode = ranked[-1]
    vt = mode.visual_tokens(width, height)
    return mode, vt, text_tokens / vt
