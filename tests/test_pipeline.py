"""The pipeline's window loop: windows of `max_pages_in_flight` pages, recognised and assembled in
order, carrying document-wide state (running headers, the title, the vocabulary)."""

from __future__ import annotations

from pathlib import Path

import pymupdf
import pytest

from docpipe.config import load_config
from docpipe.model import BlockType
from docpipe.pipeline import _open, convert_file, iter_windows, window_ranges
from docpipe.recognition import Engines, recognise_window


@pytest.fixture(scope="module")
def five_pages(tmp_path_factory) -> Path:
    doc = pymupdf.open()
    for i in range(5):
        p = doc.new_page(width=400, height=600)
        p.insert_text((40, 30), "Running Header Of The Report", fontsize=9)
        if i == 0:
            p.insert_text((40, 90), "The Title", fontsize=22)
        p.insert_text((40, 140), f"Section {i + 1} heading", fontsize=14)
        p.insert_text(
            (40, 170), f"Body text of page {i + 1}, a sentence that goes on for a while.", fontsize=10
        )
    path = tmp_path_factory.mktemp("win") / "five.pdf"
    doc.save(path)
    return path


def test_window_ranges_cover_the_pages_in_order():
    assert window_ranges(5, 2) == [range(0, 2), range(2, 4), range(4, 5)]
    assert window_ranges(0, 64) == []
    assert window_ranges(3, 64) == [range(0, 3)]


def test_windows_are_recognised_in_order_and_carry_document_state(five_pages):
    whole = convert_file(five_pages, load_config(), with_images=False).document
    config = load_config(overrides={"convert": {"max_pages_in_flight": 2}})
    seen: list[list[int]] = []

    def raw_windows(src, engines):
        for pages in window_ranges(src.doc.page_count, 2):
            raws = recognise_window(engines, src.doc, src.path.name, pages)
            seen.append([r.index for r in raws])
            yield raws

    src = _open(five_pages, config)
    try:
        windows = list(iter_windows(src, config, Engines(config), with_images=False, raw_windows=raw_windows))
    finally:
        src.doc.close()
    assert seen == [[0, 1], [2, 3], [4]]
    pages = [p for window, _ in windows for p in window]
    assert [p.index for p in pages] == [0, 1, 2, 3, 4]
    # the same blocks as one window gives (heading levels aside: later windows do not see the title,
    # so a size below it can rank one level deeper than in a single window)
    strip = lambda ps: [[(b.type, b.text) for b in p.blocks] for p in ps]  # noqa: E731
    assert strip(pages) == strip(whole.pages)
    # document-wide state carried over: the header is furniture and the title only on page 1
    assert all(p.blocks[0].type is BlockType.page_header for p in pages)
    assert [b.type for p in pages for b in p.blocks].count(BlockType.title) == 1
    assert {"open", "route", "textlayer", "assemble", "figures", "images"} <= set(src.timings)
