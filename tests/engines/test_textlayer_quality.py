"""Word spacing and silent loss in the text-layer engine (issue 11, classes 3 and 4), on generated PDFs
(scripts/make_textq_fixtures.py)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pymupdf
import pytest

import docpipe
from docpipe.assemble.build import Assembler
from docpipe.engines.textlayer import extract_text, needs_spacing, respace_line
from docpipe.errors import InputError
from docpipe.model import DocumentStatus, PageStatus
from docpipe.model.raw import Line, RawPage, Span

ROOT = Path(__file__).resolve().parents[2]


def _fixtures():
    name = "make_textq_fixtures"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


fx = _fixtures()


def _md(path: Path) -> tuple[docpipe.Document, str]:
    doc = docpipe.convert(path, engine="textlayer")
    return doc, docpipe.to_markdown(doc)


def _flat(text: str) -> str:
    return " ".join(text.replace("*", " ").split())


# -- word spacing ---------------------------------------------------------------------------------


def test_the_fixture_really_lacks_spaces(tmp_path):
    text = pymupdf.open(fx.glued_words(tmp_path / "g.pdf"))[0].get_text()
    assert "CompositionofthepretrainingdataforOLMo2" in text  # MuPDF alone glues these words


def test_spaces_inferred_from_glyph_gaps(tmp_path):
    doc, md = _md(fx.glued_words(tmp_path / "g.pdf"))
    flat = _flat(md)
    assert fx.GLUED in flat
    assert f"{fx.PARTLY_HEAD} {fx.PARTLY_TAIL}" in flat  # only some spaces missing on this line
    assert fx.PER_GLYPH in flat  # set glyph by glyph
    assert not re.search(r"[A-Za-z]{16,}", md)
    assert doc.status is DocumentStatus.ok


def test_normally_spaced_text_is_left_alone(tmp_path):
    path = fx.spacing_controls(tmp_path / "c.pdf")
    page = pymupdf.open(path)[0]
    expected = [ln.strip() for ln in page.get_text().splitlines() if ln.strip()]
    got = [ln.text.strip() for ln in extract_text(page).lines]
    assert got == expected  # justified, compound words, tracked heading, CJK: nothing inserted
    _, md = _md(path)
    assert fx.COMPOUND in _flat(md) and fx.CJK[:26] in md


def _raw_line(glyphs: list[tuple[str, float]], size: float = 10.0) -> dict:
    """A rawdict line from (char, advance) pairs placed edge to edge, with extra gaps given as
    ('', gap) entries."""
    chars, x = [], 72.0
    for c, w in glyphs:
        if not c:
            x += w
            continue
        chars.append({"c": c, "bbox": (x, 90.0, x + w, 100.0), "origin": (x, 98.0)})
        x += w
    return {"dir": (1.0, 0.0), "spans": [{"size": size, "chars": chars}]}


def test_kerning_and_tracking_are_not_word_gaps():
    word = [(c, 5.0) for c in "Typography"]
    kerned = word[:1] + [("", -1.0)] + word[1:5] + [("", 0.4)] + word[5:]  # "T|y" tight, one loose pair
    assert respace_line(_raw_line(kerned)) is None
    tracked = []
    for c in "SPACEDOUT":
        tracked += [(c, 6.0), ("", 2.0)]  # 0.2 em letter-spacing on every pair
    assert respace_line(_raw_line(tracked)) is None
    words = []
    for i, w in enumerate(["two", "words", "here"]):
        words += ([("", 1.2)] if i else []) + [(c, 5.0) for c in w]  # 0.12 em between words
    assert respace_line(_raw_line(words)) == ["two words here"]


def test_cheap_trigger():
    assert needs_spacing("CompositionofthepretrainingdataforOLMo2")
    assert needs_spacing("Table 3 lists the pretrainingdataforeachmodel")
    assert not needs_spacing("An ordinary line of running text, with spaces between its words.")
    assert not needs_spacing(fx.CJK)


# -- silent loss ----------------------------------------------------------------------------------


def test_sideways_label_is_kept(tmp_path):
    doc, md = _md(fx.vertical_label(tmp_path / "v.pdf"))
    assert fx.SIDEWAYS_LABEL in md
    assert all(line in _flat(md) for line in fx.BODY)
    assert doc.pages[0].status is PageStatus.ok


@pytest.mark.parametrize("builder", ["rotated_page", "sideways_content"])
def test_turned_text_is_read_in_its_own_frame(tmp_path, builder):
    doc, md = _md(getattr(fx, builder)(tmp_path / "r.pdf"))
    flat = _flat(md)
    positions = [flat.find(line) for line in fx.ROTATED]
    assert all(p >= 0 for p in positions), md
    assert positions == sorted(positions)  # in reading order
    assert doc.pages[0].status is PageStatus.ok


def test_truncated_pdf_pages_fail_with_the_reason(tmp_path):
    doc = docpipe.convert(fx.truncated(tmp_path / "t.pdf"))
    failed = [p for p in doc.pages if p.status is PageStatus.failed]
    assert len(doc.pages) == fx.TRUNCATED_PAGES
    assert len(failed) >= fx.TRUNCATED_PAGES // 2
    assert doc.status is DocumentStatus.partial
    assert all(f"page {p.index + 1}:" in p.error and "truncated" in p.error for p in failed)
    for p in doc.pages:  # a page is whole and ok, or says why not
        text = " ".join(b.text for b in p.blocks)
        if p.status is PageStatus.ok:
            assert f"Page {p.index + 1} line 30:" in text
        else:
            assert p.status in (PageStatus.failed, PageStatus.partial) and "truncated" in p.error
    assert any(p.status is PageStatus.partial for p in doc.pages)  # a content stream cut midway


def test_file_without_readable_pages_is_an_input_error(tmp_path):
    src = pymupdf.open()
    for i in range(20):
        page = src.new_page()
        for k in range(30):
            page.insert_text((72, 72 + 14 * k), f"Page {i + 1} line {k}: the quick brown fox", fontsize=11)
    data = src.tobytes(garbage=3, use_objstms=1)  # the page tree sits in an object stream at the end
    (tmp_path / "t.pdf").write_bytes(data[: len(data) // 10])
    with pytest.raises(InputError, match="truncated or damaged"):
        docpipe.convert(tmp_path / "t.pdf")


def _line(text: str, y: float) -> Line:
    bbox = (72.0, y, 72.0 + 5 * len(text), y + 10)
    return Line(spans=[Span(text=text, bbox=bbox, size=10.0)], bbox=bbox)


def test_safety_net_marks_a_page_that_lost_its_text_partial():
    """Whatever the cause, a page whose output holds far less than its text layer is not ok."""
    kept = RawPage(index=0, width=612, height=792, engine="textlayer", lines=[_line("Short heading", 72)])
    kept.text_chars = 12
    lossy = RawPage(index=1, width=612, height=792, engine="textlayer", lines=[_line("Short heading", 72)])
    lossy.text_chars = 5000
    pages = Assembler().assemble([kept, lossy])
    assert pages[0].status is PageStatus.ok
    assert pages[1].status is PageStatus.partial and "5000" in pages[1].error
