"""Small pure functions of the assembly stage."""

from __future__ import annotations

from docpipe.assemble.furniture import mark_furniture
from docpipe.assemble.reading_order import xy_cut
from docpipe.assemble.regions import Region
from docpipe.assemble.text import join_lines, normalize_chars, vocabulary


def test_join_lines_rejoins_only_line_break_hyphens():
    assert join_lines(["The docu-", "ments are here."]) == "The documents are here."
    assert join_lines(["Franco-", "German relations"]) == "Franco-German relations"
    assert join_lines(["about COVID-", "19 cases"]) == "about COVID-19 cases"
    assert join_lines(["a state-of-the-", "art method"]) == "a state-of-the-art method"
    vocab = vocabulary(["a well-known fact"])
    assert join_lines(["it is well-", "known"], vocab) == "it is well-known"
    assert join_lines(["soft\u00ad", "ware"]) == "software"
    assert join_lines(["  spaced   out ", " words "]) == "spaced out words"


def test_normalize_chars_expands_ligatures_and_composes():
    assert normalize_chars("\ufb01nal \ufb02ow e\u0301\u200b") == "final flow \u00e9"
    assert normalize_chars("a\u00a0b") == "a b"


def _r(x0, y0, x1, y1, name):
    return Region(bbox=(x0, y0, x1, y1), text=name)


def test_xy_cut_columns_and_full_width_band():
    regions = [
        _r(300, 100, 500, 150, "R1"),
        _r(50, 100, 250, 150, "L1"),
        _r(50, 160, 250, 200, "L2"),  # gap at 150-160 lines up with ...
        _r(300, 155, 500, 200, "R2"),  # ... nothing in the right column: columns must not be sliced
        _r(50, 220, 500, 240, "FULL"),
        _r(50, 260, 250, 300, "L3"),
        _r(300, 260, 500, 300, "R3"),
        _r(50, 20, 500, 60, "TITLE"),
    ]
    order = [r.text for r in xy_cut(regions, lambda r: r.bbox)]
    assert order == ["TITLE", "L1", "L2", "R1", "R2", "FULL", "L3", "R3"]
    rtl = [r.text for r in xy_cut(regions, lambda r: r.bbox, right_to_left=True)]
    assert rtl == ["TITLE", "R1", "R2", "L1", "L2", "FULL", "R3", "L3"]


def test_furniture_needs_repetition_or_a_page_number():
    pages = []
    for i in range(3):
        pages.append(
            (
                800.0,
                [
                    _r(50, 20, 300, 30, f"Annual report {2020 + i}"),  # digits masked: repeats
                    _r(50, 300, 300, 320, f"unique body {i}"),
                    _r(500, 780, 520, 790, f"{i + 1}"),
                    _r(50, 740, 300, 755, f"footnote only on page {i}" if i else "Only once at the bottom"),
                    _r(300, 782, 480, 790, f"Running title beside the number {i}" if i == 2 else "x = y"),
                ],
            )
        )
    mark_furniture(pages, body=10.0)
    types = [[r.type.value if r.type else None for r in regs] for _, regs in pages]
    # "x = y" repeats at the foot of pages 0 and 1; the text on the page number's row of page 2 is
    # part of the running foot even though it occurs once
    assert types[0] == ["page_header", None, "page_number", None, "page_footer"]
    assert types[2] == ["page_header", None, "page_number", "page_footer", "page_footer"]


def test_symbol_font_delimiter_pieces_get_their_unicode_code_points() -> None:
    # parenlefttp, parenleftex, parenleftbt and bracerightmid at the Symbol font's private-use points
    assert normalize_chars("P = \uf8eb\uf8ec\uf8ed x \uf8fd") == "P = \u239b\u239c\u239d x \u23ac"
    pieces = normalize_chars("".join(map(chr, range(0xF8E6, 0xF8FF))))
    assert not any("\ue000" <= ch <= "\uf8ff" for ch in pieces)
