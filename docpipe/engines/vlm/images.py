"""Page rasters, crops and encodings. Pixels live only as long as the page is in flight."""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:
    from docpipe.engines.base import PageInput

Rect = tuple[float, float, float, float]


def render_page(page: PageInput, dpi: int, max_pixels: int | None = None) -> Image.Image:
    """Rasterise a page (PDF or image document) to RGB at `dpi`, or at the dpi that keeps the raster
    within `max_pixels` (a poster-sized page must not take gigabytes while it waits for the model)."""
    if max_pixels:
        area_in = max(page.width * page.height, 1.0) / 72**2
        dpi = min(dpi, max(1, int((max_pixels / area_in) ** 0.5)))
    pix = page.page.get_pixmap(dpi=dpi, alpha=False)
    mode = "RGB" if pix.n >= 3 else "L"
    img = Image.frombytes(mode, (pix.width, pix.height), pix.samples)
    return img.convert("RGB")


def fit_within(img: Image.Image, max_side: int) -> Image.Image:
    """Shrink (never enlarge) so that the longer side is at most `max_side`."""
    w, h = img.size
    scale = max_side / max(w, h)
    if scale >= 1:
        return img
    return img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)


def crop_points(img: Image.Image, bbox: Rect, page_w: float, page_h: float, pad: float = 2.0) -> Image.Image:
    """Crop a region given in page points from a raster of the whole page."""
    sx, sy = img.width / page_w, img.height / page_h
    x0, y0, x1, y1 = bbox
    box = (
        max(0, int((x0 - pad) * sx)),
        max(0, int((y0 - pad) * sy)),
        min(img.width, int((x1 + pad) * sx + 0.999)),
        min(img.height, int((y1 + pad) * sy + 0.999)),
    )
    if box[2] <= box[0] or box[3] <= box[1]:
        raise ValueError(f"empty crop {bbox} on a {page_w}x{page_h} page")
    return img.crop(box)


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def data_uri(img: Image.Image, fmt: str = "PNG") -> str:
    """Encode for an OpenAI-style image_url. PNG keeps text edges intact (JPEG smears glyphs)."""
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    mime = "image/png" if fmt.upper() == "PNG" else f"image/{fmt.lower()}"
    return f"data:{mime};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"


def ink_fraction(img: Image.Image, threshold: int = 160) -> float:
    """Share of dark pixels on a small grey copy: a cheap proxy for how much text a scan carries."""
    small = fit_within(img.convert("L"), 512)
    hist = small.histogram()
    total = sum(hist) or 1
    return sum(hist[:threshold]) / total
