"""Joining lines into paragraphs: scripts without spaces between words join without one, and
lines the text layer put in blocks of their own (double spacing, multi-line titles) still make
one paragraph when geometry and style say so, while separate paragraphs stay apart."""

from __future__ import annotations

import pymupdf

import docpipe
from docpipe.assemble.text import join_lines


def test_chinese_and_japanese_lines_join_without_a_space():
    assert join_lines(["保证季度报告内容的真", "实、准确、完整"]) == "保证季度报告内容的真实、准确、完整"
    assert join_lines(["彼らの店に食", "べ物を運ぶ"]) == "彼らの店に食べ物を運ぶ"
    # Latin on either side of the break, and Korean (which spaces its words), keep the space
    assert join_lines(["报告 2018", "年第一季度"]) == "报告 2018 年第一季度"
    assert join_lines(["한국어 문장", "다음 줄"]) == "한국어 문장 다음 줄"


def _pdf(path, lines: list[tuple[float, float, str, str, float]]) -> str:
    """Each line drawn on its own (x, y, text, font, size): wide gaps make the text layer start a
    block at every line, as it does for double-spaced documents."""
    doc = pymupdf.open()
    page = doc.new_page()
    for x, y, text, font, size in lines:
        page.insert_text((x, y), text, fontname=font, fontsize=size)
    doc.save(path)
    return str(path)


LONG_1 = "The committee reviewed the quarterly report and found that the figures it gives for"
LONG_2 = "the third quarter agree with the audited accounts of the company in every respect"
LAST = "that matters here."


def test_double_spaced_paragraph_is_one_paragraph(tmp_path):
    path = _pdf(
        tmp_path / "double.pdf",
        [(72, 100, LONG_1, "helv", 11), (72, 128, LONG_2, "helv", 11), (72, 156, LAST, "helv", 11)],
    )
    page = pymupdf.open(path)[0]
    assert len(page.get_text("blocks")) == 3  # the text layer itself splits every line
    doc = docpipe.convert(path, engine="textlayer")
    texts = [b.text for b in doc.pages[0].blocks]
    assert f"{LONG_1} {LONG_2} {LAST}" in texts, texts


def test_double_spaced_paragraphs_stay_apart(tmp_path):
    path = _pdf(
        tmp_path / "two.pdf",
        [
            (72, 100, LONG_1, "helv", 11),
            (72, 128, LAST, "helv", 11),  # a short last line ends the paragraph
            (90, 156, LONG_2, "helv", 11),
            (72, 184, "A sentence that ends with a full stop and fills the line out.", "helv", 11),
            (72, 212, "Then the next paragraph.", "helv", 11),
        ],
    )
    doc = docpipe.convert(path, engine="textlayer")
    texts = [b.text for b in doc.pages[0].blocks]
    assert f"{LONG_1} {LAST}" in texts
    assert not any(LAST in t and LONG_2 in t for t in texts), texts


def test_centred_title_on_two_lines_is_one_heading(tmp_path):
    font, size, width = pymupdf.Font("hebo"), 18.0, 595.0
    first, second = "Introduction to Geometry", "and Topology"
    centred = [(first, 100), (second, 124)]
    lines = [((width - font.text_length(t, size)) / 2, y, t, "hebo", size) for t, y in centred]
    lines.append((72, 200, "Body text of the document in a smaller regular font.", "helv", 10))
    lines.append((72, 213, "It goes on for another line of ordinary running text.", "helv", 10))
    path = _pdf(tmp_path / "title.pdf", lines)
    doc = docpipe.convert(path, engine="textlayer")
    blocks = doc.pages[0].blocks
    assert blocks[0].text == f"{first} {second}", [b.text for b in blocks]
    assert blocks[0].type.value in ("title", "heading")
