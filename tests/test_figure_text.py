"""Words inside raster figures: generated PDFs whose figures are pictures of text (a screenshot, a
chart with a sideways axis title, a logo on every page), read into the JSON, Markdown and chunks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pymupdf
import pytest

import docpipe
from docpipe.config import Config
from docpipe.figure_text import FigureTextReader, group_lines, merge_vertical
from docpipe.model import BlockType, Document
from docpipe.pipeline import convert_file
from docpipe.writers.chunks import make_chunks

BODY = "The body text of this page is in its text layer and says nothing about the picture."


def text_picture(lines: list[str], size: float = 14, width: float = 300, dpi: int = 150) -> bytes:
    """PNG of black text on white: the page of a throwaway PDF, rendered."""
    height = 20 + len(lines) * size * 1.6
    src = pymupdf.open()
    page = src.new_page(width=width, height=height)
    for i, line in enumerate(lines):
        page.insert_text((10, 10 + size * (1.2 + 1.6 * i)), line, fontsize=size, fontname="helv")
    data = page.get_pixmap(dpi=dpi).tobytes("png")
    src.close()
    return data


def add_body(page: pymupdf.Page, y: float = 60) -> None:
    page.insert_text((72, y), BODY, fontsize=10, fontname="helv")


def build(path: Path, pictures: list[tuple[pymupdf.Rect, bytes]], pages: int = 1, overlay: str = "") -> Path:
    doc = pymupdf.open()
    for _ in range(pages):
        page = doc.new_page(width=612, height=792)
        add_body(page)
        for rect, png in pictures:
            page.insert_image(rect, stream=png)
        if overlay:  # text-layer words drawn over the first picture
            r = pictures[0][0]
            page.insert_text((r.x0 + 10, r.y1 - 12), overlay, fontsize=12, fontname="helv")
        page.insert_text((72, 700), "Closing paragraph of the page, below every figure.", fontsize=10)
    doc.save(path)
    doc.close()
    return path


def figures(doc: Document) -> list:
    return [b for p in doc.pages for b in p.blocks if b.type is BlockType.figure]


def words(block) -> str:
    return " ".join(line.text for line in block.figure.text_lines)


@pytest.fixture(scope="module")
def screenshot(tmp_path_factory) -> Path:
    png = text_picture(["Runaway stabilizer procedure", "Hold the control column firmly"])
    return build(tmp_path_factory.mktemp("figtext") / "shot.pdf", [(pymupdf.Rect(72, 100, 372, 180), png)])


def test_words_in_a_picture_reach_json_markdown_and_chunks(screenshot, tmp_path):
    doc = docpipe.convert(screenshot)
    (fig,) = figures(doc)
    text = words(fig).lower()
    assert "runaway stabilizer procedure" in text and "control column" in text
    for line in fig.figure.text_lines:  # boxes on the page, inside the figure
        assert fig.bbox[0] - 1 <= line.bbox[0] < line.bbox[2] <= fig.bbox[2] + 1
        assert fig.bbox[1] - 1 <= line.bbox[1] < line.bbox[3] <= fig.bbox[3] + 1
    # two lines set as one paragraph: one group, in reading order
    assert len({line.group for line in fig.figure.text_lines}) == 1
    assert fig.figure.text_lines[0].bbox[1] < fig.figure.text_lines[-1].bbox[1]
    md = docpipe.to_markdown(doc)
    assert "> Runaway stabilizer procedure Hold the control column firmly" in md
    assert md.index(BODY[:30]) < md.index("> Runaway") < md.index("Closing paragraph")
    assert any("control column" in c.text for c in make_chunks(doc))

    # the files docpipe convert writes: JSON valid against the schema, Markdown with the image link
    import jsonschema

    summary = docpipe.convert_to([screenshot], tmp_path / "out")
    assert [o.status.value for o in summary.outcomes] == ["ok"]
    out = tmp_path / "out"
    data = json.loads((out / "shot.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, Document.model_json_schema())
    written = (out / "shot.md").read_text(encoding="utf-8")
    link = written.index("](shot_images/")
    assert link < written.index("> Runaway stabilizer procedure")
    chunks = (out / "shot.chunks.jsonl").read_text(encoding="utf-8")
    assert "control column" in chunks
    review = docpipe.view(out / "shot.json").read_text(encoding="utf-8")
    assert "words read in the image: Runaway stabilizer procedure" in review


def test_figure_text_json_keeps_words_out_of_markdown_and_off_reads_nothing(screenshot):
    doc = docpipe.convert(screenshot, overrides={"convert": {"figure_text": "json"}})
    (fig,) = figures(doc)
    assert "control column" in words(fig).lower()
    md = docpipe.to_markdown(doc)
    assert "control column" not in md.lower() and BODY[:30] in md
    assert any("control column" in c.text.lower() for c in make_chunks(doc))  # RAG still finds them
    assert "control column" in docpipe.to_markdown(doc, figure_text=True).lower()

    off = docpipe.convert(screenshot, overrides={"convert": {"figure_text": "off"}})
    assert figures(off)[0].figure.text_lines == []


def test_the_cli_flag_sets_the_config(screenshot, tmp_path):
    from docpipe.cli.main import main

    assert main(["convert", str(screenshot), "-o", str(tmp_path), "--figure-text", "json", "-q"]) == 0
    data = json.loads((tmp_path / "shot.json").read_text(encoding="utf-8"))
    assert data["engine"]["config"]["convert"]["figure_text"] == "json"
    assert "control column" not in (tmp_path / "shot.md").read_text(encoding="utf-8").lower()


def read(path: Path, **convert) -> tuple[Document, FigureTextReader]:
    """Convert with the figure reader kept, to see what it did."""
    import docpipe.pipeline as pipeline

    made: list[FigureTextReader] = []
    real = pipeline.FigureTextReader.for_engines

    def spy(engines):
        made.append(real(engines))
        return made[-1]

    config = Config.model_validate({"convert": convert})
    pipeline.FigureTextReader.for_engines = spy
    try:
        doc = convert_file(path, config, with_images=False).document
    finally:
        pipeline.FigureTextReader.for_engines = real
    return doc, made[0]


def test_a_logo_on_every_page_is_read_once(tmp_path):
    logo = text_picture(["ACME Research Institute"], size=18)
    pdf = build(tmp_path / "logo.pdf", [(pymupdf.Rect(72, 100, 372, 150), logo)], pages=4)
    doc, reader = read(pdf)
    assert reader.images_read == 1
    got = [words(f) for f in figures(doc)]
    assert len(got) == 4 and all("ACME Research Institute" in w for w in got), got


def test_text_layer_words_over_a_picture_are_not_read_twice(tmp_path):
    png = text_picture(["Pictured words only", "", ""])
    pdf = build(tmp_path / "over.pdf", [(pymupdf.Rect(72, 100, 372, 200), png)], overlay="Overlaid label")
    doc, _ = read(pdf)
    (fig,) = figures(doc)
    assert "Pictured words only" in words(fig)
    assert "Overlaid" not in words(fig)
    assert "Overlaid label" in fig.text  # where the text layer's labels of a figure always were


def test_pictures_without_words_cost_no_recognition(tmp_path):
    flat = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 300, 200), False)
    flat.clear_with(200)  # a flat grey tint
    rng = np.random.default_rng(7)
    noise = (rng.random((200, 300)) * 40 + 100).astype(np.uint8)  # a smooth, textureless "photo"
    photo = pymupdf.Pixmap(pymupdf.csGRAY, 300, 200, noise.tobytes(), False)
    icon = text_picture(["OK"], size=8, width=20, dpi=72)  # too small to carry words
    pictures = [
        (pymupdf.Rect(72, 100, 272, 233), flat.tobytes("png")),
        (pymupdf.Rect(300, 100, 500, 233), photo.tobytes("png")),
        (pymupdf.Rect(72, 300, 92, 320), icon),
    ]
    pdf = build(tmp_path / "plain.pdf", pictures)
    doc, reader = read(pdf)
    assert all(not f.figure.text_lines for f in figures(doc))
    assert reader.images_read == 2  # the icon is not even rendered


def test_a_sideways_axis_title_reads_as_one_line(tmp_path):
    src = pymupdf.open()
    page = src.new_page(width=200, height=160)
    page.insert_text((30, 120), "WFC Score", fontsize=14, rotate=90)
    for i, tick in enumerate(("30", "20", "10")):
        page.insert_text((50, 30 + 40 * i), tick, fontsize=10)
    page.draw_line((70, 10), (70, 140))
    page.draw_line((70, 140), (190, 140))
    png = page.get_pixmap(dpi=200).tobytes("png")
    src.close()
    pdf = build(tmp_path / "axis.pdf", [(pymupdf.Rect(72, 100, 272, 260), png)])
    doc = docpipe.convert(pdf)
    (fig,) = figures(doc)
    assert "WFC Score" in [line.text for line in fig.figure.text_lines], fig.figure.text_lines


def test_merge_vertical_joins_stacked_pieces_only():
    def box(x0, y0, x1, y1):
        return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)

    tall, letter_above, letter_below = box(0, 85, 19, 142), box(0, 60, 15, 80), box(1, 146, 17, 160)
    tick, wide = box(39, 214, 59, 237), box(465, 67, 528, 88)
    out = merge_vertical([tall, letter_above, letter_below, tick, wide])
    spans = sorted((float(q[:, 1].min()), float(q[:, 1].max())) for q in out if q[:, 0].min() < 20)
    assert spans == [(60.0, 160.0)]
    assert len(out) == 3  # the tick label and the horizontal line stay as they are
    assert len(merge_vertical([tick, wide])) == 2


def test_group_lines_makes_paragraphs_in_reading_order():
    r = pymupdf.Rect
    lines = [
        (r(10, 50, 200, 62), "second line of the box", 0.9),
        (r(10, 35, 220, 47), "first line of the box", 0.9),
        (r(300, 35, 360, 47), "Legend", 0.95),
        (r(10, 120, 60, 132), "Axis", 0.9),
    ]
    out = group_lines(lines)
    assert [line.text for line in out] == [
        "first line of the box",
        "second line of the box",
        "Legend",
        "Axis",
    ]
    assert [line.group for line in out] == [0, 0, 1, 2]


def test_a_page_sized_scan_keeps_its_text_layer_in_the_body(tmp_path):
    """A scan with an OCR text layer: its page-sized image is no figure hosting 'labels'."""
    scan = text_picture(["President and Vice President", "Railroad Commissioner"], width=612)
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    page.insert_image(page.rect, stream=scan)
    for i, line in enumerate(("President and Vice President", "Railroad Commissioner")):
        page.insert_text((10, 40 + 200 * i), line, fontsize=14, render_mode=3)
    for i in range(8):
        page.insert_text((10, 500 + 14 * i), f"{BODY} Row {i}.", fontsize=10, render_mode=3)
    doc.save(tmp_path / "scan.pdf")
    md = docpipe.to_markdown(docpipe.convert(tmp_path / "scan.pdf"))
    assert "President and Vice President" in md and "Railroad Commissioner" in md


def test_short_lines_packed_in_one_strip_read_as_alone():
    from docpipe.engines.ocr import shared_models
    from docpipe.engines.packed_lines import recognise_lines

    labels = ["35", "Control", "Time", "2.25 pt", "WFC Score", "More Arrows..."]
    sentence = "This sentence is long enough to be read on its own strip"
    crops = []
    for label in [*labels, sentence]:  # tight crops, as the detector cuts them
        src = pymupdf.open()
        page = src.new_page(width=10 + 8 * len(label), height=24)
        page.insert_text((4, 17), label, fontsize=13, fontname="helv")
        pix = page.get_pixmap(dpi=150, colorspace=pymupdf.csGRAY)
        crops.append(np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width).copy())
        src.close()
    got = recognise_lines(shared_models(2), crops)
    assert [r.text for r in got[:-1]] == labels
    assert got[-1].text == sentence
    assert all(r.confidence > 0.8 for r in got)


def test_without_the_ocr_extra_the_text_layer_converts_and_figures_keep_no_words(screenshot):
    """OpenCV and onnxruntime come with the ocr extra only: a text-layer document must still
    convert without them, its figures without words and the reason in the log."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "for name in ('cv2', 'onnxruntime', 'rapidocr'):\n"
        "    sys.modules[name] = None  # import fails as if not installed\n"
        "import docpipe\n"
        f"doc = docpipe.convert({str(screenshot)!r})\n"
        "figs = [b for p in doc.pages for b in p.blocks if b.figure is not None]\n"
        "print(len(figs), sum(len(b.figure.text_lines) for b in figs), doc.pages[0].engine)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["1", "0", "textlayer"]
    assert "figure text left out" in run.stderr


def test_a_picture_cut_into_tiles_is_read_once_across_the_cuts(tmp_path):
    """Producers cut big pictures into strips and tiles; the pieces of one figure are read as one
    picture, so a line of words running across the cuts comes out whole."""
    src = pymupdf.open()
    page = src.new_page(width=300, height=40)
    page.insert_text((10, 26), "Release the parking brake slowly", fontsize=16, fontname="helv")
    cuts = [0, 95, 190, 300]  # through the words
    pictures = []
    for x0, x1 in zip(cuts, cuts[1:], strict=False):
        png = page.get_pixmap(dpi=150, clip=pymupdf.Rect(x0, 0, x1, 40)).tobytes("png")
        pictures.append((pymupdf.Rect(72 + x0, 100, 72 + x1, 140), png))
    src.close()
    pdf = build(tmp_path / "tiles.pdf", pictures)
    doc, reader = read(pdf)
    (fig,) = figures(doc)
    assert reader.images_read == 1
    assert [line.text for line in fig.figure.text_lines] == ["Release the parking brake slowly"]


def test_overlap_groups_join_touching_pieces_only():
    from docpipe.figure_text import PlacedImage, overlap_groups

    left = PlacedImage(11, pymupdf.Rect(0, 0, 100, 50), 150.0)
    right = PlacedImage(12, pymupdf.Rect(100.5, 0, 200, 50), 300.0)  # touches `left`
    inset = PlacedImage(13, pymupdf.Rect(150, 10, 180, 40), 72.0)  # lies on `right`
    apart = PlacedImage(14, pymupdf.Rect(0, 80, 100, 120), 96.0)
    assert overlap_groups([left]) == [left]
    groups = overlap_groups([left, right, inset, apart])
    assert groups == [PlacedImage(0, pymupdf.Rect(0, 0, 200, 50), 300.0), apart]
