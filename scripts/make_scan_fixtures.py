#!/usr/bin/env python
"""Generate scanned-page fixtures with known text: `python scripts/make_scan_fixtures.py OUTDIR`.

Text is typeset by PyMuPDF with its built-in base-14 fonts (no system fonts needed), rasterized at a
known DPI, then degraded like a cheap scan (a few degrees of skew, blur, noise) and wrapped back into
PDFs, a PNG and a multi-page TIFF. A mixed PDF combines born-digital pages, scanned pages and pages
whose text layer is garbage, for routing tests. `OUTDIR/truth.json` lists what each file holds.
Deterministic: the same OUTDIR contents every run (fixed random seed).
"""

from __future__ import annotations

import argparse
import io
import json
import random
from pathlib import Path

import cv2
import numpy as np
import pymupdf
from PIL import Image

SCAN_DPI = 200
A4 = pymupdf.paper_rect("a4")

TITLE = "Quarterly Report on River Water Quality"
BODY = (
    "The monitoring stations along the northern river recorded stable oxygen levels during the "
    "spring months. Nitrate concentrations fell by twelve percent compared with the previous year, "
    "which the regional office attributes to the new buffer strips planted beside the farmland. "
    "Water temperature rose slightly in June, and two stations reported short algae blooms after a "
    "week of warm weather. Samples were taken every Monday morning and analysed within two days."
)
LEFT_COLUMN = (
    "Field teams walked each section of the bank and noted erosion, litter and the state of the "
    "reeds. Most sections were in good condition, although the stretch below the old mill still "
    "shows damage from the winter floods."
)
RIGHT_COLUMN = (
    "The laboratory replaced its oldest spectrometer in April. Calibration against reference "
    "samples showed agreement within two percent, so results from both instruments can be "
    "compared directly across the whole season."
)
DIGITAL_TEXT = (
    "This page was typeset directly into the PDF and has a healthy text layer. It should be read "
    "from that layer without any optical character recognition at all."
)


def typeset(page: pymupdf.Page, rect: pymupdf.Rect, text: str, size: float, font: str = "helv") -> None:
    rc = page.insert_textbox(rect, text, fontsize=size, fontname=font, align=pymupdf.TEXT_ALIGN_LEFT)
    if rc < 0:
        raise RuntimeError(f"text does not fit into {rect}: {text[:40]}...")


def single_column_page(doc: pymupdf.Document) -> pymupdf.Page:
    page = doc.new_page(width=A4.width, height=A4.height)
    typeset(page, pymupdf.Rect(60, 60, 540, 100), TITLE, 18, "hebo")
    typeset(page, pymupdf.Rect(60, 110, 540, 400), BODY, 11)
    return page


def two_column_page(doc: pymupdf.Document) -> pymupdf.Page:
    page = doc.new_page(width=A4.width, height=A4.height)
    typeset(page, pymupdf.Rect(50, 60, 280, 400), LEFT_COLUMN, 11)
    typeset(page, pymupdf.Rect(315, 60, 545, 400), RIGHT_COLUMN, 11)
    return page


def rasterize(page: pymupdf.Page, dpi: int) -> np.ndarray:
    pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY)
    return np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.stride)[:, : pix.width].copy()


def degrade(img: np.ndarray, rng: np.random.Generator, skew_deg: float) -> np.ndarray:
    """Skew, blur and noise of a mediocre office scanner."""
    h, w = img.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), skew_deg, 1.0)
    img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    img = cv2.GaussianBlur(img, (3, 3), 0.8)
    noisy = img.astype(np.float32) + rng.normal(0, 12, img.shape)
    specks = rng.random(img.shape)
    noisy[specks < 0.0015] = 0
    noisy[specks > 0.9985] = 255
    return np.clip(noisy, 0, 255).astype(np.uint8)


def png_bytes(img: np.ndarray, dpi: int) -> bytes:
    buf = io.BytesIO()
    # Fast compression: noisy scans barely compress anyway, and fixtures are made on every test run.
    Image.fromarray(img).save(buf, format="PNG", dpi=(dpi, dpi), compress_level=1)
    return buf.getvalue()


def add_scan_page(doc: pymupdf.Document, img: np.ndarray, dpi: int) -> pymupdf.Page:
    h, w = img.shape
    page = doc.new_page(width=w * 72 / dpi, height=h * 72 / dpi)
    page.insert_image(page.rect, stream=png_bytes(img, dpi))
    return page


def scan_pdf(path: Path, images: list[np.ndarray], dpi: int) -> None:
    doc = pymupdf.open()
    for img in images:
        add_scan_page(doc, img, dpi)
    doc.save(path)


def shifted(text: str) -> str:
    """What a subset font without ToUnicode often extracts as: every code shifted by 29."""
    return "".join(chr(ord(c) - 29) if 61 <= ord(c) <= 126 else c for c in text)


def soup(rng: random.Random, n: int) -> str:
    alphabet = "bcdfghjklmnpqrstvwxzQWRTZPSDFGHJKLXCVBNM#%&*+=<>~^|{}[]0123456789"
    words = ["".join(rng.choice(alphabet) for _ in range(rng.randint(2, 9))) for _ in range(n)]
    return " ".join(words)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    args = parser.parse_args(argv)
    out: Path = args.outdir
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    prng = random.Random(7)

    source = pymupdf.open()
    single = degrade(rasterize(single_column_page(source), SCAN_DPI), rng, skew_deg=2.5)
    columns = degrade(rasterize(two_column_page(source), SCAN_DPI), rng, skew_deg=-1.5)

    scan_pdf(out / "scan_single.pdf", [single], SCAN_DPI)
    scan_pdf(out / "scan_two_column.pdf", [columns], SCAN_DPI)
    for degrees in (90, 180, 270):
        # Pixels turned clockwise, as a sheet fed sideways would come out; no /Rotate to help.
        turned = np.ascontiguousarray(np.rot90(single, k=-degrees // 90))
        scan_pdf(out / f"scan_rot{degrees}.pdf", [turned], SCAN_DPI)
    (out / "scan_single.png").write_bytes(png_bytes(single, SCAN_DPI))
    Image.fromarray(single).save(
        out / "scan_pages.tiff",
        save_all=True,
        append_images=[Image.fromarray(columns)],
        dpi=(SCAN_DPI, SCAN_DPI),
        compression="packbits",
    )

    # Mixed document: what each page is, and where the router should send it.
    mixed = pymupdf.open()
    routes: list[str] = []
    page = mixed.new_page(width=A4.width, height=A4.height)
    typeset(page, pymupdf.Rect(60, 60, 540, 300), DIGITAL_TEXT, 12)
    routes.append("textlayer")
    add_scan_page(mixed, single, SCAN_DPI)
    routes.append("ocr")
    page = add_scan_page(mixed, columns, SCAN_DPI)
    # A scanner's invisible OCR layer of good quality: trusted.
    _invisible_text(page, f"{LEFT_COLUMN} {RIGHT_COLUMN}")
    routes.append("textlayer")
    page = add_scan_page(mixed, single, SCAN_DPI)
    _invisible_text(page, soup(prng, 60))  # a bad invisible OCR layer: redone
    routes.append("ocr")
    page = mixed.new_page(width=A4.width, height=A4.height)
    typeset(page, pymupdf.Rect(60, 60, 540, 400), shifted(BODY), 11)  # broken font encoding
    routes.append("ocr")
    mixed.new_page(width=A4.width, height=A4.height)  # blank
    routes.append("textlayer")
    mixed.save(out / "mixed.pdf")

    garbage = pymupdf.open()
    page = garbage.new_page(width=A4.width, height=A4.height)
    typeset(page, pymupdf.Rect(60, 60, 540, 400), soup(prng, 80), 11)
    page = garbage.new_page(width=A4.width, height=A4.height)
    # Replacement and private-use characters, as unmapped glyphs extract.
    cjk = pymupdf.Font("cjk")
    page.insert_font(fontname="F0", fontbuffer=cjk.buffer)
    bad = "".join(prng.choice(["\ufffd", "\ue000", "\ue013", "\uf8ff", "a", "e"]) for _ in range(200))
    page.insert_text((60, 80), bad[:70], fontname="F0", fontsize=11)
    page.insert_text((60, 100), bad[70:140], fontname="F0", fontsize=11)
    garbage.save(out / "garbage.pdf")

    truth = {
        "dpi": SCAN_DPI,
        "single": f"{TITLE} {BODY}",
        "title": TITLE,
        "left_column": LEFT_COLUMN,
        "right_column": RIGHT_COLUMN,
        "mixed_routes": routes,
        "garbage_routes": ["ocr", "ocr"],
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=2), encoding="utf-8")
    return 0


def _invisible_text(page: pymupdf.Page, text: str) -> None:
    page.insert_textbox(pymupdf.Rect(60, 60, 540, 700), text, fontsize=11, render_mode=3)


if __name__ == "__main__":
    raise SystemExit(main())
