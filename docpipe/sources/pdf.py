"""Open a PDF (or image) as a PyMuPDF document, turning every way that can fail into one clear
InputError that names the file."""

from __future__ import annotations

import re
from pathlib import Path

import pymupdf

from docpipe.errors import InputError
from docpipe.sources.discover import IMAGE_SUFFIXES

_PDF_MAGIC = b"%PDF-"


def media_type(path: Path) -> str:
    suffix = path.suffix.lower()
    return {
        ".pdf": "application/pdf",
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".webp": "image/webp",
        ".tif": "image/tiff",
        ".tiff": "image/tiff",
        ".bmp": "image/bmp",
    }.get(suffix, "application/octet-stream")


def open_pdf(path: Path, data: bytes, password: str = "") -> pymupdf.Document:
    name = str(path)
    if not data:
        raise InputError(name, "the file is empty (0 bytes)")
    # MuPDF finds a header within the first 1 KiB; anything without one is not a PDF at all.
    if _PDF_MAGIC not in data[:1024]:
        raise InputError(name, "not a PDF file (no %PDF- header); check the file type")
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:  # MuPDF raises FileDataError and friends for broken files
        raise InputError(name, f"cannot open PDF: {exc}") from exc
    if doc.page_count == 0 and doc.is_repaired:  # a well-formed empty PDF is fine; a broken one is not
        doc.close()
        raise InputError(name, "no page could be read (the file is truncated or damaged)")
    if doc.needs_pass:
        if not password:
            doc.close()
            raise InputError(name, "the PDF is encrypted; pass its password with --password")
        if not doc.authenticate(password):
            doc.close()
            raise InputError(name, "the PDF is encrypted and the password given is wrong")
    return doc


def open_document(
    path: Path,
    data: bytes,
    password: str = "",
    max_image_pixels: int | None = None,
    max_embed_pixels: int | None = None,
) -> pymupdf.Document:
    if path.suffix.lower() in IMAGE_SUFFIXES:
        from docpipe.sources import images

        return images.open_image_document(
            path,
            images.DEFAULT_MAX_IMAGE_PIXELS if max_image_pixels is None else max_image_pixels,
            images.DEFAULT_MAX_EMBED_PIXELS if max_embed_pixels is None else max_embed_pixels,
        )
    return open_pdf(path, data, password)


def page_damage(page: pymupdf.Page) -> tuple[str, str] | None:
    """("failed" or "partial", why) for a PDF page that cannot be read whole, else None. A truncated
    or damaged file that MuPDF repaired keeps its page count, but pages whose object or content
    streams were cut off come out blank or cut short: they must say so, not pass as ok. Costs a few
    dictionary lookups."""
    doc = page.parent
    if not getattr(doc, "is_pdf", False):
        return None
    from docpipe.sources.images import frame_error

    frame = frame_error(page)  # an image file's frame that could not be read
    if frame is not None:
        return "failed", frame
    n = doc.xref_length()
    xref = page.xref
    if xref <= 0 or xref >= n:
        return "failed", f"the page object ({xref} 0 R) is missing: the file is truncated or damaged"
    try:
        kind, value = doc.xref_get_key(xref, "Contents")
        refs = [int(r) for r in re.findall(r"(\d+) \d+ R", value)] if kind in ("xref", "array") else []
        if len(refs) == 1 and 0 < refs[0] < n and not doc.xref_is_stream(refs[0]):
            body = doc.xref_object(refs[0]).strip()
            if body.startswith("["):  # /Contents pointing at an array of streams
                refs = [int(r) for r in re.findall(r"(\d+) \d+ R", body)]
        missing = [x for x in refs if x <= 0 or x >= n or not doc.xref_is_stream(x)]
    except Exception as exc:
        return "failed", f"the page object cannot be read ({exc}): the file is truncated or damaged"
    if not missing:
        return None
    what = f"{len(missing)} of its {len(refs)} content streams are missing"
    if len(missing) == len(refs):
        return "failed", f"{what}: the file is truncated or damaged"
    return "partial", f"{what}: the file is truncated or damaged, the page is cut short"
