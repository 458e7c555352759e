"""Page images (PNG, JPEG, WEBP, TIFF with any number of frames, BMP) as a PyMuPDF document.

Each frame becomes one PDF page whose size in points comes from the image's resolution (its DPI
metadata, else 72 dpi, so one pixel is one point), with the pixels embedded unchanged where MuPDF can
take the file as is (plain PNG and JPEG) and losslessly re-encoded as PNG otherwise. Downstream code
then sees scans and images exactly like PDF pages.

Headers are read before any pixels: a frame above the pixel cap (a decompression bomb, or just a
poster nobody should OCR whole) is refused with an error naming the file and the frame.

Memory: a frame above `max_embed_pixels` (the OCR raster cap, 30 Mpx by default) is decoded once
by Pillow, reduced by a whole factor to fit it and embedded as PNG, so that MuPDF, which decodes an
embedded image whole every time a page is rendered, never holds more than that cap's pixels. The
peak while opening is the frame's decoded size, width x height x bytes per pixel (at most 180 Mpx
x 4 bytes for the default pixel cap), plus the reduced copy; after that a page costs what any page
under the raster cap costs. The page keeps its size in points, so geometry does not change; only
pixels finer than OCR would ever render are dropped.

A multi-frame file (TIFF) whose frame cannot be read or decoded keeps its other frames: the bad
frame becomes a blank page marked failed, with the reason (see `frame_error`). A file whose frame
list itself is cut off (a truncated TIFF) keeps the frames before the cut.
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path

import pymupdf

from docpipe.errors import InputError
from docpipe.sources.discover import IMAGE_SUFFIXES

__all__ = ["DEFAULT_MAX_IMAGE_PIXELS", "IMAGE_SUFFIXES", "frame_error", "open_image_document"]

DEFAULT_MAX_IMAGE_PIXELS = 180_000_000
DEFAULT_MAX_EMBED_PIXELS = 30_000_000  # the OCR raster cap's default (config ocr.max_pixels)
# The page dictionary key that carries why a frame could not be read (the in-memory document is
# never written out, so a private key is harmless).
_FRAME_ERROR_KEY = "DocpipeFrameError"
_LETTER = pymupdf.Rect(0, 0, 612, 792)
# What Pillow raises for a damaged frame: besides OSError/ValueError, TypeError ("Missing
# dimensions") and SyntaxError ("unknown data organization") for a cut-off TIFF directory.
_FRAME_ERRORS = (OSError, ValueError, TypeError, SyntaxError, EOFError, KeyError, IndexError)
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


def frame_error(page: pymupdf.Page) -> str | None:
    """Why this page's frame could not be read, for a page made by `open_image_document`; else None."""
    try:
        kind, value = page.parent.xref_get_key(page.xref, _FRAME_ERROR_KEY)
    except Exception:
        return None
    return value if kind == "string" else None


def _failed_frame(doc: pymupdf.Document, why: str) -> None:
    size = doc[-1].rect if doc.page_count else _LETTER
    page = doc.new_page(width=size.width, height=size.height)
    doc.xref_set_key(page.xref, _FRAME_ERROR_KEY, pymupdf.get_pdf_str(why))


def _frame_count(img) -> tuple[int, str | None]:
    """How many frames there are, and why the count stops short (a cut-off frame list), if it does."""
    try:
        return getattr(img, "n_frames", 1) or 1, None
    except _FRAME_ERRORS as exc:  # n_frames walks every directory: count the readable ones
        n = 1
        while True:
            try:
                img.seek(n)
            except EOFError:
                return n, None
            except _FRAME_ERRORS as exc2:
                return n, f"frame {n + 1}: the file is truncated or damaged ({exc2 or exc})"
            n += 1


def _add_frame(
    doc, img, data: bytes, frames: int, max_pixels: int, max_embed_pixels: int, name: str, where: str
):
    """Append the current frame of `img` as a page; InputError when it cannot be."""
    from PIL import ImageOps

    w, h = img.size
    if w <= 0 or h <= 0:
        raise InputError(name, f"{where} has no pixels ({w}x{h})")
    if w * h > max_pixels:
        raise _TooBig(
            name,
            f"{where} is {w}x{h} = {w * h / 1e6:.1f} megapixels, above the limit of "
            f"{max_pixels / 1e6:.1f} megapixels (possible decompression bomb); "
            "raise the image pixel limit in the config to accept it",
        )
    xdpi, ydpi = _frame_dpi(img.info)
    try:
        # EXIF orientation (cameras, phones): apply it, MuPDF would not.
        rotated = frames == 1 and img.getexif().get(0x0112, 1) not in (1, None)
        big = w * h > max_embed_pixels
        if frames == 1 and img.format in _PASSTHROUGH and not rotated and not big:
            stream = data
        else:
            frame = ImageOps.exif_transpose(img) if rotated else img
            w, h = frame.size
            if big:  # whole factor: fast, and keeps each output pixel an average of input pixels
                factor = math.ceil(math.sqrt(w * h / max_embed_pixels))
                frame = frame.reduce(factor)
            stream = _png_bytes(frame)
    except _FRAME_ERRORS as exc:
        raise InputError(name, f"cannot decode {where}: {exc}") from exc
    rect = pymupdf.Rect(0, 0, w * 72.0 / xdpi, h * 72.0 / ydpi)
    page = doc.new_page(width=rect.width, height=rect.height)
    try:
        page.insert_image(rect, stream=stream, keep_proportion=False)
    except Exception as exc:  # MuPDF rejects what it cannot decode
        doc.delete_page(page.number)
        raise InputError(name, f"cannot embed {where}: {exc}") from exc


class _TooBig(InputError):
    """A frame above the pixel cap: the whole file is refused (a bomb is not a damaged frame)."""


def open_image_document(
    path: str | Path,
    max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
    max_embed_pixels: int = DEFAULT_MAX_EMBED_PIXELS,
) -> pymupdf.Document:
    """Open an image file as a PDF document with one page per frame; raises InputError (naming the
    file, and the frame where it is about one) for unreadable, empty or oversized images. In a file
    of several frames, a frame that cannot be read becomes a failed page instead."""
    try:
        from PIL import Image, UnidentifiedImageError
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
            except _FRAME_ERRORS as exc:
                raise InputError(name, f"not a readable image: {exc}") from exc
            with img:
                frames, cut_short = _frame_count(img)
                many = frames > 1 or cut_short is not None
                for i in range(frames):
                    where = f"frame {i + 1} of {frames}" if frames > 1 else "the image"
                    try:
                        try:
                            img.seek(i)
                        except _FRAME_ERRORS as exc:
                            raise InputError(name, f"cannot read {where}: {exc}") from exc
                        _add_frame(doc, img, data, frames, max_pixels, max_embed_pixels, name, where)
                    except _TooBig:
                        raise
                    except InputError as exc:
                        if not many:
                            raise
                        _failed_frame(doc, exc.reason)  # the other frames are still worth reading
                if cut_short is not None:
                    _failed_frame(doc, cut_short)
            if doc.page_count and all(frame_error(page) for page in doc):
                raise InputError(name, f"no frame could be read; first: {frame_error(doc[0])}")
    except BaseException:
        doc.close()
        raise
    return doc
