"""Page images (PNG, JPEG, WEBP, TIFF with any number of frames, BMP) as a PyMuPDF document.

Each frame becomes one PDF page whose size in points comes from the image's resolution (its DPI
metadata, else 72 dpi, so one pixel is one point), with the pixels embedded unchanged where MuPDF can
take the file as is (plain PNG and JPEG) and losslessly re-encoded as PNG otherwise. Downstream code
then sees scans and images exactly like PDF pages.

Headers are read before any pixels: a frame above the pixel cap (a decompression bomb, or just a
poster nobody should OCR whole) is refused with an error naming the file and the frame.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pymupdf

from docpipe.errors import InputError
from docpipe.sources.discover import IMAGE_SUFFIXES

__all__ = ["DEFAULT_MAX_IMAGE_PIXELS", "IMAGE_SUFFIXES", "open_image_document"]

DEFAULT_MAX_IMAGE_PIXELS = 180_000_000
DEFAULT_DPI = 72.0
_MIN_DPI, _MAX_DPI = 10.0, 10_000.0  # outside this the metadata is junk (0, 1, or absurd values)
_PASSTHROUGH = {"PNG", "JPEG"}  # formats MuPDF embeds from the original bytes


def _frame_dpi(info: dict) -> tuple[float, float]:
    dpi = info.get("dpi")
    try:
        x, y = (float(dpi[0]), float(dpi[1])) if dpi else (DEFAULT_DPI, DEFAULT_DPI)
    except (TypeError, ValueError, IndexError):
        x = y = DEFAULT_DPI
    if not (_MIN_DPI <= x <= _MAX_DPI):
        x = DEFAULT_DPI
    if not (_MIN_DPI <= y <= _MAX_DPI):
        y = x
    return x, y


def _png_bytes(frame) -> bytes:
    from PIL import Image

    if frame.mode not in ("1", "L", "RGB", "RGBA", "LA"):
        # CMYK, palette, 16-bit and float modes: widen to what PNG and MuPDF agree on.
        frame = frame.convert("RGBA" if "A" in frame.getbands() or "transparency" in frame.info else "RGB")
    if frame.mode in ("RGBA", "LA"):
        # Scans have no meaningful alpha; flatten on white so transparent areas are paper, not black.
        base = Image.new("RGB" if frame.mode == "RGBA" else "L", frame.size, "white")
        base.paste(frame, mask=frame.getchannel("A"))
        frame = base
    buf = io.BytesIO()
    frame.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def open_image_document(path: str | Path, max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS) -> pymupdf.Document:
    """Open an image file as a PDF document with one page per frame; raises InputError (naming the
    file, and the frame where it is about one) for unreadable, empty or oversized images."""
    try:
        from PIL import Image, ImageOps, UnidentifiedImageError
    except ImportError as exc:  # pragma: no cover - Pillow comes with docpipe
        raise InputError(str(path), "reading images needs Pillow: pip install pillow") from exc
    path = Path(path)
    name = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(name, f"cannot read the file: {exc.strerror or exc}") from exc
    if not data:
        raise InputError(name, "the file is empty (0 bytes)")

    doc = pymupdf.open()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            try:
                img = Image.open(io.BytesIO(data))
            except Image.DecompressionBombError as exc:
                raise InputError(name, f"image refused as a decompression bomb: {exc}") from exc
            except UnidentifiedImageError as exc:
                raise InputError(name, "not a readable image (unknown format or corrupt header)") from exc
            except (OSError, ValueError) as exc:
                raise InputError(name, f"not a readable image: {exc}") from exc
            with img:
                frames = getattr(img, "n_frames", 1) or 1
                for i in range(frames):
                    where = f"frame {i + 1} of {frames}" if frames > 1 else "the image"
                    try:
                        img.seek(i)
                    except (EOFError, OSError, ValueError) as exc:
                        raise InputError(name, f"cannot read {where}: {exc}") from exc
                    w, h = img.size
                    if w <= 0 or h <= 0:
                        raise InputError(name, f"{where} has no pixels ({w}x{h})")
                    if w * h > max_pixels:
                        raise InputError(
                            name,
                            f"{where} is {w}x{h} = {w * h / 1e6:.1f} megapixels, above the limit of "
                            f"{max_pixels / 1e6:.1f} megapixels (possible decompression bomb); "
                            "raise the image pixel limit in the config to accept it",
                        )
                    xdpi, ydpi = _frame_dpi(img.info)
                    try:
                        # EXIF orientation (cameras, phones): apply it, MuPDF would not.
                        rotated = frames == 1 and img.getexif().get(0x0112, 1) not in (1, None)
                        if frames == 1 and img.format in _PASSTHROUGH and not rotated:
                            stream = data
                        else:
                            frame = ImageOps.exif_transpose(img) if rotated else img
                            w, h = frame.size
                            stream = _png_bytes(frame)
                    except (OSError, ValueError, SyntaxError) as exc:
                        raise InputError(name, f"cannot decode {where}: {exc}") from exc
                    rect = pymupdf.Rect(0, 0, w * 72.0 / xdpi, h * 72.0 / ydpi)
                    page = doc.new_page(width=rect.width, height=rect.height)
                    try:
                        page.insert_image(rect, stream=stream, keep_proportion=False)
                    except Exception as exc:  # MuPDF rejects what it cannot decode
                        raise InputError(name, f"cannot embed {where}: {exc}") from exc
    except BaseException:
        doc.close()
        raise
    return doc
