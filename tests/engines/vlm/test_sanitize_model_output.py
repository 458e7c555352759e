"""Model output is untrusted: the lxml allow-list sanitizer, invalid-text checks at the engine boundary,
and the Markdown writer's escaping of text that looks like markup."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from docpipe.engines.vlm.parse.figures import read_figure_json, read_figure_text
from docpipe.engines.vlm.parse.html_tables import parse_html_tables
from docpipe.engines.vlm.parse.model_text import clean_model_text
from docpipe.engines.vlm.parse.qwen_html import parse_qwen_html
from docpipe.engines.vlm.parse.sanitize import sanitize_html, sanitize_inline
from docpipe.engines.vlm.parse.structured import parse_structured
from docpipe.engines.vlm.profiles import PageGeometry, profile_for
from docpipe.engines.vlm.settings import VlmSettings
from docpipe.model import Block, BlockType, ChemicalData, FigureData, TableCell, TableData
from docpipe.util.safe_markup import escape_tag_like, safe_url
from docpipe.writers.markdown import block_to_markdown

FIX = Path(__file__).resolve().parents[3] / "fixtures" / "vlm"
# what must never reach a Markdown file or a VLM text block as markup
LIVE = re.compile(r"<\s*(script|iframe|style|img|svg|object|embed)\b|\son\w+\s*=|javascript:|vbscript:", re.I)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi <script>alert(1)</script>there", "Hi there"),
        ("A <img src=x onerror=alert(1)>B", "A B"),
        ('<iframe src="//evil"></iframe>Text<style>p{}</style>', "Text"),
        ('<span onclick="x()" style="color:red">kept</span>', "<span>kept</span>"),
        (
            "mc<sup>2</sup>, H<sub>2</sub>O, <b>b</b><br/>next",
            "mc<sup>2</sup>, H<sub>2</sub>O, <b>b</b><br>next",
        ),
        ("p < 0.05 and q <= 1", "p < 0.05 and q <= 1"),  # no tag here: left exactly as is
        ("x<y holds and <b>z</b>", "x&lt;y holds and <b>z</b>"),  # not swallowed as an element <y>
        ("[a](javascript:alert(1)) [b](https://ok.example/x_(y))", "a [b](https://ok.example/x_(y))"),
        ("[a](JaVa&#x09;Script:alert(1))", "a"),  # entity and whitespace tricks
        ("[a]( vbscript:msgbox(1) )", "a"),
        (
            "![i](data:text/html;base64,PHA+) ![j](data:image/png;base64,AA)",
            "i ![j](data:image/png;base64,AA)",
        ),
        (
            '<a href="javascript:alert(1)">t</a> <a href="https://ok.example">u</a>',
            "t [u](https://ok.example)",
        ),
        ("<center>Figure 1: A</center>", "Figure 1: A"),
        ("<!--[if IE]><script>x()</script><![endif]-->after", "after"),
        ("<svg onload=alert(1)><circle/></svg>ok", "ok"),
        ("<javascript:alert(1)>", "&lt;javascript:alert(1)>"),  # an autolink, made text
    ],
)
def test_sanitize_inline(text, expected):
    out = sanitize_inline(text)
    assert out == expected
    assert sanitize_inline(out) == out  # a second pass changes nothing


def test_sanitize_html_keeps_table_structure_and_spans_only():
    out = sanitize_html(
        '<table><tr><td rowspan="2" onclick="x()" style="y">a<script>b()</script></td>'
        '<td colspan="x"><a href="javascript:z()">l</a></td></tr></table>'
    )
    assert out == '<table><tr><td rowspan="2">a</td><td><a>l</a></td></tr></table>'


def test_table_cells_are_sanitized():
    (t,) = parse_html_tables(
        "<table><tr><td>x<script>alert(4)</script></td><td><style>td{}</style>y</td>"
        "<td>[l](javascript:alert(6))</td></tr></table>"
    )
    assert [c.text for c in t.cells] == ["x", "y", "[l](javascript:alert(6))"]  # grid text as parsed
    html = (
        "<table><tr><td>[l](javascript:alert(6))</td><td>&lt;script&gt;x()&lt;/script&gt;ok</td></tr></table>"
    )
    block = {"type": "table", "bbox": [0, 0, 10, 10], "table_html": html}
    r = parse_structured(json.dumps({"blocks": [block]}), 612, 792)
    assert [c.text for c in r.drafts[0].table.cells] == ["l", "ok"]


def test_deepseek_hostile_page_has_no_live_markup_in_any_block():
    settings = VlmSettings(model="deepseek-ai/DeepSeek-OCR")
    reply = (FIX / "deepseek_hostile.txt").read_text(encoding="utf-8")
    r = profile_for(settings.model, "").parse_page(reply, PageGeometry(612, 792, 1024, 1024), settings)
    texts = [d.text for d in r.drafts] + [c.text for d in r.drafts if d.table for c in d.table.cells]
    assert not [t for t in texts if LIVE.search(t)], texts
    assert r.drafts[0].type == BlockType.title and r.drafts[0].text == "Results"
    assert "mc<sup>2</sup> holds when p < 0.05" in r.drafts[1].text
    assert "[our site](https://example.org/a_(b))" in r.drafts[1].text
    assert r.drafts[-1].type == BlockType.caption and r.drafts[-1].text == "Figure 1: Hostile caption"
    # what was taken out is said, so the page keeps its raw output for inspection
    assert any("removed unsafe markup" in p and "<script>" in p for p in r.problems)


def test_qwen_hostile_html():
    r = parse_qwen_html((FIX / "qwen25_hostile.html").read_text(encoding="utf-8"), 612, 792, 1000, 1000)
    texts = [d.text for d in r.drafts] + [c.text for d in r.drafts if d.table for c in d.table.cells]
    assert not [t for t in texts if LIVE.search(t) or "alert" in t or "evil" in t], texts
    assert [d.type.value for d in r.drafts] == ["heading", "paragraph", "table"]
    assert r.drafts[0].text == "Summary" and r.drafts[1].text.endswith("and a link.")


def test_figure_readings_are_sanitized():
    reading = read_figure_json(
        json.dumps({"kind": "photo", "description": "A cat <img src=x onerror=alert(1)>[x](javascript:y)"})
    )
    assert reading.text == "A cat x"
    reading = read_figure_text("A diagram <script>alert(1)</script>of a pump")
    assert reading.kind == "figure" and reading.text == "A diagram of a pump"


# -- invalid text at the engine boundary -------------------------------------------------------------


def test_lone_surrogate_is_invalid_and_kept_json_safe():
    text, problems = clean_model_text("ten \ud800 one")
    assert problems and "surrogate" in problems[0]
    assert text == "ten \\ud800 one"
    json.dumps(text, ensure_ascii=False).encode("utf-8")  # encodable: no crash in any writer


def test_surrogate_pair_is_joined_and_controls_dropped():
    assert clean_model_text("a\ud83d\ude00b") == ("a\U0001f600b", [])
    assert clean_model_text("line\x0cfeed\x0b\ttab\n") == ("linefeed\ttab\n", [])
    text, problems = clean_model_text("a\x00b")
    assert problems and text == "a\\x00b"


# -- the Markdown writer --------------------------------------------------------------------------


def para(text: str, kind: BlockType = BlockType.paragraph, **kw) -> Block:
    return Block(id="p0-b0", type=kind, bbox=(0, 0, 1, 1), text=text, **kw)


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (para("<script>alert(1)</script> typed in a PDF"), "&lt;script>alert(1)&lt;/script> typed in a PDF"),
        (para("p < 0.05, a<b>c</b>"), "p < 0.05, a<b>c</b>"),
        (para('<img src=x onerror="alert(1)">'), '&lt;img src=x onerror="alert(1)">'),
        (para("<!-- hidden --> <?php ?>"), "&lt;!-- hidden --> &lt;?php ?>"),
        (para("[click](javascript:alert(1))"), "click"),
        # inside inline math a '<' becomes LaTeX's \lt, so the formula still renders
        (para("Sei $a<b$ und \\(x<y\\), <i>q</i>"), "Sei $a\\lt b$ und \\(x\\lt y\\), <i>q</i>"),
        (para("Intro <script>", BlockType.heading, level=2), "## Intro &lt;script>"),
        (para("x", BlockType.formula, latex="x<y \\text{<script>}"), "$$\nx\\lt y \\text{\\lt script>}\n$$"),
        (para("a\n```\n<script>\n```", BlockType.code), "````\na\n```\n<script>\n```\n````"),
    ],
)
def test_markdown_writer_escapes_tag_like_text(block, expected):
    assert block_to_markdown(block) == expected


def test_markdown_writer_tables_and_alt_text():
    cells = [TableCell(row=0, col=0, text="h"), TableCell(row=1, col=0, text="<script>x</script>")]
    table = TableData(n_rows=2, n_cols=1, cells=cells)
    md = block_to_markdown(para("", BlockType.table, table=table))
    assert "<script" not in md and "&lt;script>" in md
    figure = FigureData(image_path="img/a.png", caption="Fig 1 <img onerror=x> [a]")
    fig = para("", BlockType.figure, figure=figure)
    assert block_to_markdown(fig) == "![Fig 1 &lt;img onerror=x> a](img/a.png)"
    chem = para("", BlockType.chemical, chemical=ChemicalData(smiles="```\n<script>"))
    assert block_to_markdown(chem) == "````smiles\n```\n<script>\n````"


def test_escape_and_url_helpers():
    assert escape_tag_like("a <b> c <i x=1>", keep_bare_inline=True) == "a <b> c &lt;i x=1>"
    assert escape_tag_like("<sup>2</sup>", keep_bare_inline=False) == "&lt;sup>2&lt;/sup>"
    assert safe_url("figures/a.png") and safe_url("https://x") and safe_url("mailto:a@b")
    assert not safe_url("java\nscript:x") and not safe_url("data:image/svg+xml;base64,x", image=True)
    assert safe_url("data:image/png;base64,x", image=True) and not safe_url("data:image/png;base64,x")
