"""The test that lets the text layer skip PyMuPDF's table finder must never skip a call that finds a
table, and the drawings it hands the finder must be the ones the finder reads itself."""

from __future__ import annotations

import pymupdf

from docpipe.engines.finder_edges import FinderEdges, _box_groups, finder_paths
from docpipe.engines.lattice import rules_from_drawings
from docpipe.engines.tables import _finder_tables
from docpipe.engines.textlayer import extract_lines


def _page() -> tuple[pymupdf.Document, pymupdf.Page]:
    doc = pymupdf.open()
    return doc, doc.new_page(width=400, height=400)


def _finds(page: pymupdf.Page, clip: tuple[float, float, float, float]) -> int:
    return len(page.find_tables(use_layout=False, clip=pymupdf.Rect(clip)).tables)


def test_framed_box_is_skipped_and_finds_nothing() -> None:
    _, page = _page()
    page.draw_rect((50, 50, 300, 120), width=0.8)
    page.insert_text((60, 80), "Note: a framed remark, one cell", fontsize=10)
    page.draw_line((60, 100), (200, 100), width=0.5)  # an underline inside it
    clip = (40.0, 40.0, 310.0, 130.0)
    assert not FinderEdges(page.get_cdrawings()).can_find_table(clip, [])
    assert _finds(page, clip) == 0


def test_ruled_grid_is_not_skipped() -> None:
    _, page = _page()
    for y in (50, 80, 110):
        page.draw_line((50, y), (250, y), width=0.6)
    for x in (50, 150, 250):
        page.draw_line((x, 50), (x, 110), width=0.6)
    for x, y, text in ((55, 70, "a"), (155, 70, "b"), (55, 100, "1"), (155, 100, "2")):
        page.insert_text((x, y), text, fontsize=10)
    clip = (45.0, 45.0, 255.0, 115.0)
    assert FinderEdges(page.get_cdrawings()).can_find_table(clip, [])
    assert _finds(page, clip) == 1


def test_extra_lines_count_as_edges() -> None:
    """Row rules with no column rules: only the caller's lines can close cells."""
    _, page = _page()
    for y in (50, 80, 110):
        page.draw_line((50, y), (250, y), width=0.6)
    edges = FinderEdges(page.get_cdrawings())
    clip = (45.0, 45.0, 255.0, 115.0)
    assert not edges.can_find_table(clip, [])
    assert not edges.can_find_table(clip, [((50, 50), (50, 110)), ((250, 50), (250, 110))])
    sides = [((x, 50), (x, 110)) for x in (50, 150, 250)]
    assert edges.can_find_table(clip, sides)


def test_shaded_boxes_make_edges_of_their_group() -> None:
    """Touching filled boxes (no strokes) join into one box whose sides the finder uses."""
    _, page = _page()
    for x in (50, 150, 250):
        page.draw_rect((x, 50, x + 100, 70), color=None, fill=(0.8, 0.8, 0.8))
    drawings = page.get_cdrawings()
    clip = (45.0, 45.0, 355.0, 75.0)
    assert FinderEdges(drawings).can_find_table(clip, [])
    assert not FinderEdges(drawings).can_find_table((45.0, 45.0, 355.0, 60.0), [])


def test_finder_paths_are_get_drawings() -> None:
    _, page = _page()
    page.draw_rect((50, 50, 300, 120), width=0.8)
    page.draw_line((60, 100), (200, 100), width=0.5)
    page.draw_bezier((60, 200), (100, 150), (150, 250), (200, 200))
    page.draw_quad(pymupdf.Quad((50, 300), (90, 300), (50, 340), (90, 340)))
    ours = finder_paths(page.get_cdrawings())
    theirs = page.get_drawings()
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert {k: v for k, v in a.items() if k != "items"} == {k: v for k, v in b.items() if k != "items"}
        kinds = [item[0] for item in a["items"]]
        assert kinds == [item[0] for item in b["items"]]
        for x, y in zip(a["items"], b["items"], strict=True):
            assert [type(v) for v in x] == [type(v) for v in y]
            assert tuple(x[1:]) == tuple(y[1:])


def _ruled_grid(page: pymupdf.Page) -> tuple[float, float, float, float]:
    """A ruled 3x3 grid with a word in each cell; returns its clip."""
    for y in (50, 80, 110, 140):
        page.draw_line((50, y), (350, y), width=0.6)
    for x in (50, 150, 250, 350):
        page.draw_line((x, 50), (x, 140), width=0.6)
    for r, y in enumerate((70, 100, 130)):
        for c, x in enumerate((55, 155, 255)):
            page.insert_text((x, y), f"r{r}c{c}", fontsize=10)
    return (45.0, 45.0, 355.0, 145.0)


def test_finder_with_shared_drawings_reads_the_same_table() -> None:
    _, page = _page()
    clip = _ruled_grid(page)
    drawings = page.get_cdrawings()
    lines = extract_lines(page)
    segs = rules_from_drawings(drawings)
    plain = _finder_tables(page, clip, lines, segs)
    shared = _finder_tables(page, clip, lines, segs, FinderEdges(drawings))
    assert len(plain) == 1
    assert shared == plain
    assert getattr(page, "_table_drawings_cache", None) is None  # the cache does not outlive the call


def _grid_and_clutter(page: pymupdf.Page) -> tuple[float, float, float, float]:
    """A ruled 3x3 grid, and elsewhere on the page a framed note, shaded boxes and a rule; returns
    the grid's clip."""
    clip = _ruled_grid(page)
    page.draw_rect((50, 200, 300, 260), width=0.8)
    page.insert_text((60, 230), "A framed note", fontsize=10)
    for x in (50, 150, 250):
        page.draw_rect((x, 300, x + 100, 320), color=None, fill=(0.8, 0.8, 0.8))
    page.insert_text((60, 315), "shaded", fontsize=10)
    page.draw_line((50, 360), (350, 360), width=0.5)
    return clip


def _edges_and_tables(page: pymupdf.Page, clip: tuple, **kwargs) -> tuple[list, list]:
    from pymupdf import table as finder

    found = page.find_tables(use_layout=False, refine=True, clip=pymupdf.Rect(clip), **kwargs)
    edges = [sorted((k, repr(v)) for k, v in e.items()) for e in finder.EDGES]
    return edges, [(tuple(t.bbox), t.extract()) for t in found.tables]


def test_box_groups_join_touching_boxes_only() -> None:
    rects = [(50.0, 300.0, 150.0, 320.0), (150.0, 300.0, 250.0, 320.0), (50.0, 400.0, 90.0, 420.0)]
    assert _box_groups(rects) == [(50.0, 300.0, 250.0, 320.0), (50.0, 400.0, 90.0, 420.0)]


def test_paths_for_a_clip_give_the_finder_the_same_edges() -> None:
    _, page = _page()
    clip = _grid_and_clutter(page)
    edges = FinderEdges(page.get_cdrawings())
    paths = edges.paths_for(clip)
    assert paths is not None
    assert 0 < len(paths) < len(edges.paths)  # the note, shaded boxes and far rule left out
    assert all(p["rect"].y1 < 200 for p in paths)
    ours = _edges_and_tables(page, clip, paths=paths)
    theirs = _edges_and_tables(page, clip)
    assert ours == theirs
    assert len(ours[1]) == 1 and ours[0]
    # copies: what the finder edits is not the page's shared extraction
    assert all(p is not q for p in paths for q in edges.paths)
    assert edges.paths_for((0.0, 0.0, 400.0, 400.0)) is None  # every path needed: no subset


def test_paths_for_keeps_a_whole_group_reaching_the_clip() -> None:
    """Shaded boxes that touch join into one group; a clip reaching one of them keeps them all, so
    the group's box (and the edges of its sides) is the finder's own."""
    _, page = _page()
    clip = _grid_and_clutter(page)
    page.draw_rect((350, 140, 390, 330), color=None, fill=(0.9, 0.9, 0.9))  # bridges grid and shading
    edges = FinderEdges(page.get_cdrawings())
    paths = edges.paths_for(clip)
    assert paths is not None and len(paths) < len(edges.paths)  # the far rule left out
    assert any(p["rect"].y1 >= 320 and not p["items"] for p in paths)  # the group's box came along
    assert _edges_and_tables(page, clip, paths=paths) == _edges_and_tables(page, clip)
