"""`docpipe view`: convert a generated PDF, write the review page, check its structure with lxml
and what it looks like in headless Chromium (a screenshot, pixels sampled where boxes must be)."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
from pathlib import Path

import lxml.html
import numpy as np
import pymupdf
import pytest
from PIL import Image

from docpipe.cli.main import main
from docpipe.cli.view_cmd import parse_pages
from docpipe.model import Document
from docpipe.util.chromium import HEADLESS_FLAGS, find_chromium
from docpipe.writers.review_html import COLORS

W, H = 595, 842
SCRIPT_TEXT = "<script>alert(1)</script>"
ROTATED_TEXT = "This paragraph sits on a page turned by ninety degrees."
TABLE = [["Item", "Count", "Price"], ["Apples", "12", "3.50"], ["Pears", "7", "2.10"]]


def make_pdf(path: Path) -> None:
    """Heading, paragraphs, a fully ruled table, a raster figure, script-like text; page 2 has /Rotate 90."""
    doc = pymupdf.open()
    page = doc.new_page(width=W, height=H)
    page.insert_text((56, 80), "Quarterly Review of the Orchard", fontsize=18, fontname="hebo")
    page.insert_textbox(
        pymupdf.Rect(56, 100, 539, 160),
        "The orchard produced more fruit this quarter than last. The table below lists what was sold "
        "and the figure shows the harvest over time.",
        fontsize=10,
    )
    x0, y0, cw, rh = 56, 180, 120, 22
    shape = page.new_shape()
    for r in range(len(TABLE) + 1):
        shape.draw_line((x0, y0 + r * rh), (x0 + 3 * cw, y0 + r * rh))
    for c in range(4):
        shape.draw_line((x0 + c * cw, y0), (x0 + c * cw, y0 + len(TABLE) * rh))
    shape.finish(color=(0, 0, 0), width=0.8)
    shape.commit()
    for r, row in enumerate(TABLE):
        for c, cell in enumerate(row):
            page.insert_text(
                (x0 + c * cw + 6, y0 + r * rh + 15), cell, fontsize=10, fontname="hebo" if r == 0 else "helv"
            )
    grad = np.zeros((120, 200, 3), dtype=np.uint8)
    grad[..., 0] = np.linspace(30, 220, 200, dtype=np.uint8)[None, :]
    grad[..., 1] = np.linspace(200, 60, 120, dtype=np.uint8)[:, None]
    grad[40:80, 60:140] = (20, 20, 120)
    buf = io.BytesIO()
    Image.fromarray(grad).save(buf, format="PNG")
    page.insert_image(pymupdf.Rect(56, 300, 256, 420), stream=buf.getvalue())
    page.insert_textbox(
        pymupdf.Rect(56, 450, 539, 500),
        f"Untrusted text follows: {SCRIPT_TEXT} and it must be shown as text, never run.",
        fontsize=10,
    )
    page2 = doc.new_page(width=W, height=H)
    page2.insert_textbox(pymupdf.Rect(56, 100, 539, 160), ROTATED_TEXT, fontsize=12)
    page2.set_rotation(90)
    doc.save(path)


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("view")
    pdf = root / "orchard.pdf"
    make_pdf(pdf)
    out = root / "out"
    assert main(["convert", "-q", "--workers", "1", str(pdf), "-o", str(out)]) == 0
    html_path = out / "orchard.view.html"
    assert main(["view", str(out / "orchard.json")]) == 0
    assert html_path.is_file()
    return out / "orchard.json", html_path


def _doc(json_path: Path) -> Document:
    return Document.model_validate_json(json_path.read_bytes())


def test_structure(converted) -> None:
    json_path, html_path = converted
    doc = _doc(json_path)
    tree = lxml.html.fromstring(html_path.read_bytes())
    sections = tree.xpath("//section[@class='page']")
    assert len(sections) == len(doc.pages) == 2
    for section, page in zip(sections, doc.pages, strict=True):
        imgs = section.xpath(".//img")
        assert len(imgs) == 1 and imgs[0].get("src").startswith("data:image/png;base64,")
        boxes = section.xpath(".//*[local-name()='g'][contains(concat(' ', @class, ' '), ' b ')]")
        assert len(boxes) == len(page.blocks) > 0
        for n, (box, block) in enumerate(zip(boxes, page.blocks, strict=True), 1):
            assert box.get("data-n") == str(n)
            assert f"t-{block.type.value}" in box.get("class").split()
            label = box.xpath("./*[local-name()='text']")[0].text_content()
            assert label == f"{n} {block.type.value}"
        items = section.xpath(".//li[contains(@class, 'blk')]")
        assert [i.get("data-box") for i in items] == [b.get("id") for b in boxes]
        meta = section.xpath(".//dl[@class='meta']")[0].text_content()
        assert page.engine in meta and page.route_reason in meta
    types = {b.type.value for _, b in doc.iter_blocks()}
    assert {"table", "figure", "paragraph"} <= types
    # The table is rendered from its parsed grid.
    cells = [
        c.text_content()
        for c in tree.xpath(
            "//li[contains(@class, 't-table')]//table//th | //li[contains(@class, 't-table')]//table//td"
        )
    ]
    assert "Apples" in cells and "3.50" in cells


def test_document_text_is_escaped(converted) -> None:
    _, html_path = converted
    raw = html_path.read_text(encoding="utf-8")
    assert SCRIPT_TEXT not in raw and "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    tree = lxml.html.fromstring(raw.encode("utf-8"))
    scripts = tree.xpath("//script")
    assert len(scripts) == 1 and "alert" not in scripts[0].text
    shown = " ".join(li.text_content() for li in tree.xpath("//li[contains(@class, 'blk')]"))
    assert SCRIPT_TEXT in shown
    # Nothing remote: a CSP that forbids it, and no URL other than data: in any src/href.
    csp = tree.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert "default-src 'none'" in csp and "img-src data:" in csp
    for attr in tree.xpath("//@src | //@href"):
        assert attr.startswith(("data:", "#")), attr


def test_rotated_page_boxes_follow_the_displayed_page(converted) -> None:
    """Page 2 has /Rotate 90: wherever the engine records its bboxes, the box drawn must cover where
    the text is on the page as displayed (the rendered image)."""
    json_path, html_path = converted
    tree = lxml.html.fromstring(html_path.read_bytes())
    section = tree.xpath("//section[@id='page-2']")[0]
    rects = section.xpath(".//*[local-name()='rect'][@class='bx']")
    assert rects
    pdf = pymupdf.open(_doc(json_path).source.path)
    page = pdf[1]
    words = page.get_text("words")  # unrotated coordinates
    # the viewer shows the displayed page turned by the page's recorded rotation (the frame its
    # text was read in), so that is where the words are in the image
    page.set_rotation((page.rotation + _doc(json_path).pages[1].rotation) % 360)
    shown = [(pymupdf.Rect(w[:4]) * page.rotation_matrix).normalize() for w in words]
    assert shown and all(r.y1 <= page.rect.height + 1 for r in shown)
    x0 = min(float(r.get("x")) for r in rects)
    y0 = min(float(r.get("y")) for r in rects)
    x1 = max(float(r.get("x")) + float(r.get("width")) for r in rects)
    y1 = max(float(r.get("y")) + float(r.get("height")) for r in rects)
    drawn = pymupdf.Rect(x0, y0, x1, y1) + (-2, -2, 2, 2)
    for r in shown:
        assert drawn.contains(r), (drawn, r)


def test_pages_option_and_errors(converted, tmp_path, capsys) -> None:
    json_path, _ = converted
    out = tmp_path / "one.html"
    assert main(["view", str(json_path), "--pages", "2", "-o", str(out), "--dpi", "50"]) == 0
    tree = lxml.html.fromstring(out.read_bytes())
    assert [s.get("id") for s in tree.xpath("//section[@class='page']")] == ["page-2"]
    assert len(tree.xpath("//section[@id='page-2']//img")) == 1 and "unavailable" not in tree.text_content()
    assert parse_pages("1-3,7") == {0, 1, 2, 6}
    assert main(["view", str(json_path), "--pages", "3-1"]) == 2
    # The source moved: a clear error naming it, and --source to point at it.
    moved = tmp_path / "moved.json"
    data = _doc(json_path).model_copy(deep=True)
    data.source.path = str(tmp_path / "gone" / "orchard.pdf")
    moved.write_text(data.model_dump_json())
    capsys.readouterr()
    assert main(["view", str(moved)]) == 1
    err = capsys.readouterr().err
    assert "gone/orchard.pdf" in err and "--source" in err
    assert main(["view", str(moved), "--source", _doc(json_path).source.path]) == 0
    assert (tmp_path / "moved.view.html").is_file()
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a document"}')
    assert main(["view", str(bad)]) == 1
    assert not list(tmp_path.glob(".*.tmp"))


# --- headless Chromium -------------------------------------------------------------------------

CHROMIUM = find_chromium()
FLAGS = [*HEADLESS_FLAGS, "--hide-scrollbars", "--force-device-scale-factor=1"]


def _screenshot(html_path: Path, png: Path, profile: Path, size: tuple[int, int]) -> np.ndarray:
    cmd = [
        CHROMIUM,
        *FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={size[0]},{size[1]}",
        f"--screenshot={png}",
        html_path.resolve().as_uri(),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return np.asarray(Image.open(png).convert("RGB")).astype(np.int32)


def _locate(screen: np.ndarray, template: np.ndarray) -> tuple[int, int]:
    """Top-left of `template` in `screen` by FFT cross-correlation of the mean-removed grayscale."""
    s = screen.mean(axis=2)
    t = template.mean(axis=2)
    s = s - s.mean()
    t = t - t.mean()
    shape = (s.shape[0] + t.shape[0], s.shape[1] + t.shape[1])
    corr = np.fft.irfft2(np.fft.rfft2(s, shape) * np.conj(np.fft.rfft2(t, shape)), shape)
    y, x = np.unravel_index(int(np.argmax(corr)), corr.shape)
    return int(x), int(y)


def _hex(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])


def _near(screen: np.ndarray, x: float, y: float, color: np.ndarray, r: int = 2) -> bool:
    xi, yi = int(round(x)), int(round(y))
    patch = screen[yi - r : yi + r + 1, xi - r : xi + r + 1].reshape(-1, 3)
    return bool((np.abs(patch - color).sum(axis=1) < 90).any())


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/setup --dev installs it)")
def test_screenshot(converted, tmp_path) -> None:
    json_path, html_path = converted
    doc = _doc(json_path)
    png = tmp_path / "shot.png"
    screen = _screenshot(html_path, png, tmp_path / "profile", (1400, 1200))
    shutil.copy(png, html_path.with_suffix(".png"))  # kept beside the page for a look by hand

    # The embedded page image (72 dpi: one pixel per point, shown at one CSS pixel per point).
    tree = lxml.html.fromstring(html_path.read_bytes())
    src = tree.xpath("//section[@id='page-1']//img/@src")[0]
    page_img = np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB"))
    assert page_img.shape[:2] == (H, W)
    ox, oy = _locate(screen, page_img.astype(np.int32))
    assert 0 <= ox < 400 and 50 < oy < 400, (ox, oy)
    shown = screen[oy : oy + 300, ox : ox + W]
    assert shown.std() > 20  # the page is visible, not blank
    # The figure's pixels are on screen where the page image puts them.
    fig = next(b for _, b in doc.iter_blocks() if b.type.value == "figure")
    fx, fy = (fig.bbox[0] + fig.bbox[2]) / 2, (fig.bbox[1] + fig.bbox[3]) / 2
    assert np.abs(screen[int(oy + fy), int(ox + fx)] - page_img[int(fy), int(fx)]).sum() < 60

    for block in doc.pages[0].blocks:
        color = _hex(COLORS[block.type])
        x0, y0, x1, y1 = block.bbox
        ym, xm = (y0 + y1) / 2, (x0 + x1) / 2
        # Each edge of the box is drawn in its type's colour.
        for x, y in ((x0, ym), (x1, ym), (xm, y1)):
            assert _near(screen, ox + x, oy + y, color), (block.id, block.type, x, y)
    # And not where no box is: the right margin of page 1 is plain paper.
    assert (screen[oy + 700 : oy + 800, ox + 560 : ox + 590] > 240).all()


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/setup --dev installs it)")
def test_viewer_script_runs_under_its_csp(converted, tmp_path) -> None:
    """The CSP names the script by hash: a hash that did not match would leave the page without its
    clicks and hovers, silently. The script marks the body when it has run."""
    _, html_path = converted
    cmd = [
        CHROMIUM,
        *FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        "--dump-dom",
        html_path.resolve().as_uri(),
    ]
    dom = subprocess.run(cmd, check=True, capture_output=True, timeout=120, text=True).stdout
    body = lxml.html.fromstring(dom).xpath("//body")[0]
    assert body.get("data-viewer") == "ready"
