"""The figure classifier on generated charts, photo-like images, block diagrams and molecules."""

from __future__ import annotations

import io
import json

import pymupdf
import pytest
from PIL import Image, ImageDraw, ImageFont

from docpipe.science.figure_kind import KINDS, classify_figure, figure_features


@pytest.fixture(scope="module")
def generated():
    from tests.conftest import load_script

    return load_script("make_figure_fixtures").images()


def test_every_generated_figure_gets_its_kind(generated):
    assert set(generated) == set(KINDS)
    wrong = []
    for kind, images in generated.items():
        assert len(images) >= 3
        for n, img in enumerate(images):
            got = classify_figure(img)
            if got != kind:
                wrong.append((kind, n, got, figure_features(img)))
    assert not wrong, wrong


def test_molecule_crops_from_pdf_pages(tmp_path):
    from tests.conftest import load_script

    pdf, meta = load_script("make_chem_fixtures").build(tmp_path)
    records = json.loads(meta.read_text(encoding="utf-8"))
    with pymupdf.open(pdf) as doc:
        kinds = []
        for rec in records:
            pix = doc[rec["page"]].get_pixmap(clip=pymupdf.Rect(rec["bbox"]), dpi=110)
            kinds.append(classify_figure(Image.open(io.BytesIO(pix.tobytes("png")))))
    assert kinds.count("chemical_structure") >= 0.9 * len(records), kinds


def test_text_as_image_and_labelled_figures_are_not_structures(generated):
    img = Image.new("RGB", (500, 300), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    for i in range(10):
        draw.text(
            (10, 10 + 28 * i), "The quick brown fox jumps over the lazy dog 0123", fill="black", font=font
        )
    assert classify_figure(img) == "diagram"
    # Many text-layer characters inside the figure: labels of a schematic, not atom symbols.
    molecule = generated["chemical_structure"][0]
    assert classify_figure(molecule, text_chars=200) == "diagram"


def test_vector_drawings_rule_out_photo(generated):
    photo = generated["photo"][0]
    assert classify_figure(photo, drawings=0) == "photo"
    assert classify_figure(photo, drawings=25) != "photo"


def test_tiny_and_grey_images_do_not_crash():
    assert classify_figure(Image.new("L", (3, 2), 255)) in KINDS
    assert classify_figure(Image.new("RGBA", (1, 1))) in KINDS


def _page_with_image(doc: pymupdf.Document, img: Image.Image, box: pymupdf.Rect) -> None:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    page = doc.new_page(width=595, height=842)
    page.insert_text((56, 80), "Results are summarised in the figure below.", fontsize=10)
    page.insert_image(box, stream=buf.getvalue())


def test_read_figure_modes(generated, monkeypatch, tmp_path):
    from docpipe.science.figure_reading import read_figure
    from docpipe.science.osra import osra_available

    box = pymupdf.Rect(100, 120, 340, 360)
    doc = pymupdf.open()
    _page_with_image(doc, generated["chart"][0], pymupdf.Rect(100, 120, 400, 330))
    _page_with_image(doc, generated["chemical_structure"][0], box)
    chart_page, mol_page = doc[0], doc[1]  # page objects go stale when the next page is added
    chart = read_figure(chart_page, (100, 120, 400, 330), chem="auto")
    assert chart.kind == "chart" and chart.chemical is None and chart.note is None
    off = read_figure(mol_page, tuple(box), chem="off")
    assert off.kind == "chemical_structure" and off.chemical is None
    if osra_available():
        auto = read_figure(mol_page, tuple(box), chem="auto")
        assert auto.chemical is not None and auto.chemical.valid and auto.chemical.source == "osra"
        assert auto.chemical.formula == "C9H8O4"  # aspirin
    monkeypatch.setenv("DOCPIPE_OSRA", str(tmp_path / "missing-osra"))
    missing = read_figure(mol_page, tuple(box), chem="auto")
    assert missing.kind == "chemical_structure" and missing.chemical is None
    assert "apt-get install osra" in missing.note


def test_classification_pixels_are_those_of_the_png():
    """read_figure classifies the pixmap's samples directly; they are the PNG's pixels exactly, and an
    empty crop still fails as the PNG encoder does."""
    import numpy as np

    from docpipe.science.figure_reading import _pixels, _png

    doc = pymupdf.open()
    page = doc.new_page()
    page.draw_rect(pymupdf.Rect(60, 60, 200, 140), color=(0.8, 0.1, 0.1), fill=(0.1, 0.5, 0.9))
    page.insert_text((70, 180), "Figure 1", fontsize=11)
    for bbox in [(50.3, 40.7, 260.1, 200.9), (0, 0, 612, 792)]:
        with _pixels(page, bbox, 110) as img, Image.open(io.BytesIO(_png(page, bbox, 110))) as ref:
            assert img.mode == ref.mode == "RGB"
            assert np.array_equal(np.asarray(img), np.asarray(ref))
    with pytest.raises(Exception):  # noqa: B017, PT011 - MuPDF's own error type
        _pixels(page, (700, 800, 710, 810), 110)
