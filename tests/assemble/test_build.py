"""The Assembler: raw engine pages -> typed blocks in reading order, window by window."""

from __future__ import annotations

from docpipe.assemble.build import Assembler
from docpipe.model import Block, BlockType, PageStatus, TableCell, TableData
from docpipe.model.raw import Line, RawPage, RawTable, Span


def line(text: str, x: float, y: float, size: float = 10.0, hint: int = 0) -> Line:
    bbox = (x, y, x + 5.0 * len(text), y + size)
    return Line(spans=[Span(text=text, bbox=bbox, size=size)], bbox=bbox, block_hint=hint)


def page(index: int, lines: list[Line], **kw) -> RawPage:
    return RawPage(index=index, width=612.0, height=792.0, engine="textlayer", lines=lines, **kw)


def body(index: int) -> list[Line]:
    return [
        line(f"Body text of page {index}, the first line of a paragraph that goes", 72, 300, hint=1),
        line("on to a second line, and a word split across the line by a hyph-", 72, 312, hint=1),
        line("enation that is joined again.", 72, 324, hint=1),
    ]


def test_a_page_is_grouped_typed_ordered_and_dehyphenated():
    raw = page(0, [line("Results", 72, 250, size=16, hint=0), *body(0)], timings={"engine": 0.5})
    (result,) = Assembler().assemble([raw])
    assert [b.type for b in result.blocks] == [BlockType.title, BlockType.paragraph]
    assert result.blocks[1].text.endswith("a hyphenation that is joined again.")
    assert [b.id for b in result.blocks] == ["p0-b0", "p0-b1"]
    assert result.timings == {"engine": 0.5} and result.status is PageStatus.ok


def test_lines_inside_a_ruled_table_are_left_to_the_table():
    grid = TableData(n_rows=1, n_cols=1, cells=[TableCell(row=0, col=0, text="42")])
    raw = page(
        0, [*body(0), line("42", 80, 500, hint=2)], tables=[RawTable(bbox=(70, 495, 200, 515), data=grid)]
    )
    (result,) = Assembler().assemble([raw])
    table = [b for b in result.blocks if b.type is BlockType.table]
    assert len(table) == 1 and table[0].table == grid
    assert not any(b.text == "42" for b in result.blocks)


def test_typed_blocks_and_failures_pass_through():
    blocks = [Block(id="p0-b0", type=BlockType.heading, bbox=(0, 0, 10, 10), text="Typed", level=2)]
    typed = RawPage(index=0, width=612, height=792, engine="vlm", blocks=blocks, status=PageStatus.fallback)
    failed = page(1, [], status=PageStatus.failed, error="boom")
    first, second = Assembler().assemble([typed, failed])
    assert first.blocks == blocks and first.status is PageStatus.fallback and first.engine == "vlm"
    assert second.blocks == [] and second.status is PageStatus.failed and second.error == "boom"


def test_running_headers_are_found_across_windows():
    """The margin texts seen carry from window to window: a header repeated over pages is furniture
    in the later windows too."""
    assembler = Assembler()
    header = lambda i: line("Journal of Repeated Headers", 72, 30, hint=9)  # noqa: E731
    first = assembler.assemble([page(i, [header(i), *body(i)]) for i in range(3)])
    (later,) = assembler.assemble([page(3, [header(3), *body(3)])])
    assert all(p.blocks[0].type is BlockType.page_header for p in first)
    assert later.blocks[0].type is BlockType.page_header
