"""Block typing and heading levels from the document's own font sizes."""

from __future__ import annotations

from collections import Counter

from docpipe.assemble.classify import assign_heading_levels, body_size, classify_page, size_weights
from docpipe.assemble.regions import Region
from docpipe.model import BlockType
from docpipe.model.raw import Line, Span


def region(text: str, y: float, size: float = 10.0, *, bold: bool = False, mono: bool = False) -> Region:
    bbox = (72.0, y, 72.0 + 5 * len(text), y + size)
    span = Span(text=text, bbox=bbox, size=size, bold=bold, mono=mono)
    return Region(bbox=bbox, lines=[Line(spans=[span], bbox=bbox)], text=text)


def test_body_size_is_the_most_common_size_by_characters_with_the_prior():
    regions = [region("a long paragraph of body text", 100), region("Big heading", 50, 18)]
    assert size_weights(regions) == Counter({10.0: 29, 18.0: 11})
    assert body_size(regions) == 10.0
    assert body_size(regions, Counter({18.0: 1000})) == 18.0  # earlier pages outweigh this one
    assert body_size([]) == 10.0


def test_classify_page_types_each_kind_of_region():
    regs = {
        "code": region("for x in range(3):", 100, mono=True),
        "caption": region("Figure 2: Results on the test set", 150),
        "list": region("\u2022 first point of the list", 200),
        "heading": region("Related work", 250, 14),
        "footnote": region("1 See the appendix for details", 700, 8),
        "paragraph": region("This sentence is body text, and it ends with a period.", 300),
    }
    regs["body"] = region("body text " * 20, 350)
    classify_page(list(regs.values()), body=10.0, page_height=792.0)
    assert regs["code"].type is BlockType.code
    assert regs["caption"].type is BlockType.caption
    assert regs["list"].type is BlockType.list_item
    assert regs["heading"].type is BlockType.heading
    assert regs["footnote"].type is BlockType.footnote
    assert regs["paragraph"].type is BlockType.paragraph


def test_classify_page_leaves_typed_regions_alone():
    typed = region("Page 3", 780)
    typed.type = BlockType.page_footer
    classify_page([typed], body=10.0, page_height=792.0)
    assert typed.type is BlockType.page_footer


def test_heading_levels_rank_sizes_and_the_first_page_title():
    title, h1, h2 = (
        region("A Study of Things", 40, 24),
        region("Introduction", 100, 16),
        region("Scope", 200, 12),
    )
    numbered = region("2.3.1 Details", 300, 12)
    for h in (title, h1, h2, numbered):
        h.type = BlockType.heading
    seen: set[int] = set()
    assign_heading_levels([[title, h1], [h2, numbered]], body=10.0, seen_sizes=seen)
    assert (title.type, title.level) == (BlockType.title, 1)
    assert h1.level == 2 and h2.level == 3  # the title's size does not take a level
    assert numbered.level == 4  # the section number wins over the size
    assert seen == {24, 16, 12}  # carried to the next window


def test_heading_levels_without_a_title_on_later_windows():
    big = region("Chapter Two", 40, 24)
    big.type = BlockType.heading
    assign_heading_levels([[big]], body=10.0, seen_sizes={24, 16}, first_page=False)
    assert big.type is BlockType.heading and big.level == 2
