"""Spacing accents drawn as glyphs of their own over or under a letter (TeX's way with "ê", "ç",
"ã") come out as the accented letter; accent characters that stand free stay as they are."""

from __future__ import annotations

import unicodedata

import pymupdf

from docpipe.engines.textlayer import extract_text

FONT = pymupdf.Font("helv")
SIZE = 12.0


def _page_with_accents(pieces: list[tuple[str, str | None]]) -> pymupdf.Page:
    """One line: each piece's text, and an accent centred over its last letter when given."""
    doc = pymupdf.open()
    page = doc.new_page()
    writer = pymupdf.TextWriter(page.rect)
    x, y = 72.0, 100.0
    for text, accent in pieces:
        writer.append((x, y), text, font=FONT, fontsize=SIZE)
        if accent:
            last = FONT.text_length(text[-1], SIZE)
            start = x + FONT.text_length(text[:-1], SIZE)
            at = (start + (last - FONT.text_length(accent, SIZE)) / 2, y)
            writer.append(at, accent, font=FONT, fontsize=SIZE)
        x += FONT.text_length(text, SIZE)
    writer.write_text(page)
    return page


def _text(page: pymupdf.Page) -> str:
    # the marks come out combining; assembly's NFC makes each one letter
    return unicodedata.normalize("NFC", " ".join(ln.text for ln in extract_text(page).lines))


def test_the_fixture_really_has_spacing_accents():
    page = _page_with_accents([("Age", "\u02c6"), ("ncia", None)])
    assert "Age\u02c6ncia" in page.get_text()


def test_accents_over_and_under_letters_are_composed():
    pieces = [("Age", "\u02c6"), ("ncia Aviac", "\u00b8"), ("a", "\u02dc"), ("o Civil", None)]
    page = _page_with_accents(pieces)
    text = _text(page)
    assert "Agência Aviação Civil" in text, text


def test_free_standing_accents_are_kept():
    # "x ^ 2" and "a ~ b": the accent glyphs sit between letters, over none of them
    page = _page_with_accents([("x \u02c6 2 and caf\u00e9 \u00b4 quote", None)])
    assert "x \u02c6 2" in _text(page)
    assert "\u00b4 quote" in _text(page)
