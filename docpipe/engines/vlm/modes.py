"""Resolution modes and the compression-aware choice between them.

DeepSeek-OCR's paper reports ~97% OCR precision while the page's text tokens stay under ~10x the
visual tokens, and ~60% at 20x. So for each page we estimate its text tokens and take the cheapest
mode that keeps the ratio at or under `max_compression`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
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
        """Columns x rows of local tiles for an image, (1, 1) when it is not tiled."""
        if not self.crop or (width <= self.image_size and height <= self.image_size):
            return (1, 1)
        return tile_grid(width, height, self.image_size, self.min_tiles, self.max_tiles)

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


# -- DeepSeek-OCR as vLLM runs it ----------------------------------------------------------------
# vLLM fixes DeepSeek-OCR's processor constants per engine (module constants, not request options),
# so the number of image placeholder tokens a request gets is a function of the image's pixel size
# alone. These functions reproduce that count so docpipe can choose a render size, and check the
# count the engine reports against its prediction.


@cache
def _grids(min_tiles: int, max_tiles: int) -> tuple[tuple[int, int], ...]:
    """Candidate (columns, rows) grids, ordered by tile count; within one count, in the order the
    engine enumerates them (ties between equally close aspect ratios go to the later grid)."""
    seen: dict[tuple[int, int], None] = {}
    for n in range(min_tiles, max_tiles + 1):
        for c in range(1, n + 1):
            for r in range(1, n + 1):
                if min_tiles <= c * r <= max_tiles:
                    seen.setdefault((c, r))
    return tuple(sorted(seen, key=lambda g: g[0] * g[1]))


def tile_grid(width: int, height: int, tile: int, min_tiles: int = 2, max_tiles: int = 6) -> tuple[int, int]:
    """The grid whose aspect ratio is closest to the image's; on a tie, the larger grid when the
    image has at least half the pixels it needs."""
    aspect = width / height
    best, best_diff = (1, 1), math.inf
    for c, r in _grids(min_tiles, max_tiles):
        diff = abs(aspect - c / r)
        if diff < best_diff:
            best, best_diff = (c, r), diff
        elif diff == best_diff and width * height > 0.5 * tile * tile * c * r:
            best = (c, r)
    return best


@dataclass(frozen=True)
class DeepSeekEngineMode:
    """The processor constants a DeepSeek-OCR engine runs with. vLLM's default is Gundam for
    DeepSeek-OCR (global view 1024 px, tiles of 640 px, 2-6 tiles) and 1024/768 for DeepSeek-OCR 2."""

    name: str
    base_size: int  # side of the padded global view, px
    image_size: int  # side of a local tile, px (the whole image's side when not cropping)
    crop: bool  # tile images larger than one tile
    version: int = 1  # 1: a newline token closes each row of queries; 2: no newline tokens
    min_tiles: int = 2
    max_tiles: int = 6

    def grid(self, width: int, height: int) -> tuple[int, int]:
        if not self.crop or (width <= self.image_size and height <= self.image_size):
            return (1, 1)
        return tile_grid(width, height, self.image_size, self.min_tiles, self.max_tiles)

    def visual_tokens(self, width: int, height: int) -> int:
        """Image placeholder tokens the engine puts in the prompt for a width x height image."""
        # 16 px patches, queries downsampled 4x per side
        qb = math.ceil((self.base_size // 16) / 4)
        qi = math.ceil((self.image_size // 16) / 4)
        newline = 1 if self.version == 1 else 0
        tokens = qb * (qb + newline)
        cols, rows = self.grid(width, height)
        if cols > 1 or rows > 1:
            tokens += (rows * qi) * (cols * qi + newline)
        return tokens + 1  # the view separator


#: Engine modes by name. vLLM serves DeepSeek-OCR in "gundam" and DeepSeek-OCR 2 in "gundam2"; the
#: others are the model authors' fixed-size modes, for engines patched to run them.
DEEPSEEK_ENGINE_MODES = {
    "tiny": DeepSeekEngineMode("tiny", 512, 512, crop=False),
    "small": DeepSeekEngineMode("small", 640, 640, crop=False),
    "base": DeepSeekEngineMode("base", 1024, 1024, crop=False),
    "large": DeepSeekEngineMode("large", 1280, 1280, crop=False),
    "gundam": DeepSeekEngineMode("gundam", 1024, 640, crop=True),
    "gundam2": DeepSeekEngineMode("gundam2", 1024, 768, crop=True, version=2),
}


def deepseek_visual_tokens(width: int, height: int, version: int = 1) -> int:
    """Visual tokens vLLM gives an image of this size under its default DeepSeek-OCR (1 or 2) mode."""
    mode = DEEPSEEK_ENGINE_MODES["gundam" if version == 1 else "gundam2"]
    return mode.visual_tokens(width, height)
