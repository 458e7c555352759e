"""Parsing of replies shaped like real DeepSeek-OCR / Qwen-VL output (fixtures/vlm, written by hand
in each model's format): <center> captions, section titles without '#', replies fenced whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from docpipe.engines.vlm.parse.fences import unwrap_reply_fence
from docpipe.engines.vlm.parse.headings import continues_numbering, looks_like_section_heading
from docpipe.engines.vlm.parse.markdown_blocks import parse_markdown_page
from docpipe.engines.vlm.profiles import PageGeometry, profile_for
from docpipe.engines.vlm.settings import VlmSettings
from docpipe.model import BlockType

FIX = Path(__file__).resolve().parents[3] / "fixtures" / "vlm"
GEO = PageGeometry(612, 792, 1024, 1024)


def deepseek(name: str):
    settings = VlmSettings(model="deepseek-ai/DeepSeek-OCR")
    return profile_for(settings.model, "").parse_page((FIX / name).read_text(encoding="utf-8"), GEO, settings)


def kinds(result) -> list[tuple[str, str]]:
    return [(d.type.value, d.text) for d in result.drafts]


# -- <center> captions ------------------------------------------------------------------------------


def test_grounded_center_captions_are_captions_without_tags():
    r = deepseek("deepseek_center_captions.txt")
    assert not r.problems
    caps = [d for d in r.drafts if d.type == BlockType.caption]
    assert [c.text for c in caps] == [
        "Figure 3 | Precision against compression ratio on Fox (600–1300 text tokens per page).",
        "Table 2: Edit distance on OmniDocBench.",
    ]
    types = [d.type for d in r.drafts]
    # each caption sits next to what it captions: after its figure, before its table
    assert types.index(BlockType.figure) + 1 == types.index(BlockType.caption)
    assert types[types.index(BlockType.table) - 1] == BlockType.caption
    assert all("center" not in d.text.lower() for d in r.drafts)


def test_plain_markdown_center_lines():
    r = deepseek("deepseek_plain_markdown.txt")
    caps = [d.text for d in r.drafts if d.type == BlockType.caption]
    assert caps == ["Table 1: Tokens per mode.", "Figure 2: Precision by ratio."]
    # centred text that is no caption stays text, without the tag
    assert r.drafts[-1].type == BlockType.paragraph and r.drafts[-1].text == "Deep Learning Lab"


def test_multiline_center_caption():
    r = parse_markdown_page("<center>Figure 4: A caption\nthat wraps.</center>\n\nBody text.")
    assert kinds(r) == [("caption", "Figure 4: A caption that wraps."), ("paragraph", "Body text.")]


# -- section titles without '#' ---------------------------------------------------------------------


def test_grounded_sub_titles_are_headings_whatever_their_text_looks_like():
    r = deepseek("deepseek_subtitles_grounded.txt")
    titles = (BlockType.heading, BlockType.title)
    heads = [(d.type.value, d.text, d.level) for d in r.drafts if d.type in titles]
    assert heads == [
        ("heading", "3. Method", 2),  # would be a list item by its look
        ("heading", "3.1 Encoder architecture", 3),
        ("heading", "Related work", 2),
        ("title", "1 Introduction", 1),
    ]
    # a numbered list under a text label stays a list
    items = [d.text for d in r.drafts if d.type == BlockType.list_item]
    assert items == [
        "1. Resize the page to the mode's resolution.",
        "2. Split it into 640 × 640 tiles.",
        "3. Encode every tile with the SAM and CLIP stacks.",
    ]


def test_plain_markdown_section_titles_and_real_lists():
    r = deepseek("deepseek_plain_markdown.txt")
    heads = [(d.text, d.level) for d in r.drafts if d.type == BlockType.heading]
    assert heads == [("2.1 Related work", 3), ("2.2 Token budgets", 3), ("3 Results", 2)]
    items = [d.text for d in r.drafts if d.type == BlockType.list_item]
    assert items == [
        "1. Render the page.",
        "2. Encode the tiles.",
        "3. Decode to Markdown.",
        # loose items (blank lines between) standing alone, but consecutively numbered: a list
        "1. Apples are kept in the cold room",
        "2. Pears are kept in the warm room",
    ]
    assert next(d for d in r.drafts if d.type == BlockType.formula).latex.startswith("r = \\frac")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Intro.\n\n3. Method\n\nBody.", "heading"),
        ("Intro.\n\nIV. EXPERIMENTAL RESULTS\n\nBody.", "heading"),
        ("Intro.\n\n1. The samples were dried overnight.\n\nBody.", "list_item"),  # a sentence
        ("Intro.\n\n2 apples and pears\n\nBody.", "paragraph"),  # not capitalised
        ("Intro.\n\n3. Method\nBody right under it.", "list_item"),  # not standing alone
        ("Intro.\n\n4.2 A title that goes on and on for far too many words to be one\n\nX.", "paragraph"),
        ("1. Apples\n\n2. Pears\n\n3. Plums", "list_item"),  # a loose list: consecutive numbers
    ],
)
def test_heading_inference_both_directions(text, expected):
    drafts = parse_markdown_page(text).drafts
    line = text.split("\n\n")[1].split("\n")[0] if text.startswith("Intro") else "1. Apples"
    hit = next(d for d in drafts if d.text.startswith(line[:8]))
    assert hit.type.value == expected, [(d.type.value, d.text) for d in drafts]


def test_heading_helpers():
    assert looks_like_section_heading("2.1 Related work") == ("2.1 Related work", 3)
    assert looks_like_section_heading("3 Results") == ("3 Results", 2)
    assert looks_like_section_heading("3. Results, and more.") is None
    assert looks_like_section_heading("2019 Annual report") is None  # a year, not a section number
    assert continues_numbering("1. Apples", "2. Pears")
    assert not continues_numbering("2.1 Related work", "3 Results")
    assert not continues_numbering("2. Method", "2.1 Setup")


# -- fenced replies ---------------------------------------------------------------------------------


def test_markdown_fence_around_the_reply_is_unwrapped_and_inner_code_stays_code():
    r = parse_markdown_page((FIX / "qwen_fenced_markdown.txt").read_text(encoding="utf-8"))
    assert [d.type.value for d in r.drafts] == [
        "title", "heading", "paragraph", "list_item", "list_item", "code", "paragraph",
    ]  # fmt: skip
    assert r.drafts[5].text == "def total(xs):\n    return sum(xs)"


def test_bare_fence_around_markdown_is_unwrapped():
    r = parse_markdown_page((FIX / "generic_fenced_bare.txt").read_text(encoding="utf-8"))
    assert [d.type.value for d in r.drafts] == ["title", "paragraph", "table"]


def test_bare_fence_around_code_stays_code():
    text = (FIX / "generic_code_reply.txt").read_text(encoding="utf-8")
    assert unwrap_reply_fence(text) == (text, False)
    r = parse_markdown_page(text)
    assert [d.type.value for d in r.drafts] == ["code"] and "print(area(r))" in r.drafts[0].text


def test_code_block_inside_a_page_stays_code():
    r = parse_markdown_page((FIX / "generic_page_with_code.txt").read_text(encoding="utf-8"))
    assert [d.type.value for d in r.drafts] == ["title", "paragraph", "code", "paragraph"]


@pytest.mark.parametrize(
    ("reply", "unwrapped"),
    [
        ("```md\n# T\n\nText here.\n```", True),
        ("```markdown\n# T\n\nCut at the token limit", True),  # no closing fence
        ("```python\nprint('a page')\n```", False),  # the model said it is code
        ("```\nx = 1\n```\n\nSome prose in between the blocks here.\n\n```\ny = 2\n```", False),
        ("Intro text.\n\n```markdown\n# T\n```", False),  # the fence does not enclose the reply
    ],
)
def test_unwrap_reply_fence_cases(reply, unwrapped):
    assert unwrap_reply_fence(reply)[1] is unwrapped


def test_fenced_grounded_deepseek_reply_parses_as_grounded():
    page = (FIX / "deepseek_grounded_page.txt").read_text(encoding="utf-8")
    settings = VlmSettings(model="deepseek-ai/DeepSeek-OCR")
    prof = profile_for(settings.model, "")
    plain = prof.parse_page(page, GEO, settings)
    reply = "```markdown\n" + page.replace("<｜end▁of▁sentence｜>", "") + "\n```"
    fenced = prof.parse_page(reply, GEO, settings)
    assert kinds(fenced) == kinds(plain)
    assert not any(d.type == BlockType.code for d in fenced.drafts)


@pytest.mark.parametrize("model", ["Qwen/Qwen2.5-VL-7B-Instruct", "gpt-4.1"])
def test_markdown_profiles_unwrap_fenced_pages(model):
    settings = VlmSettings(model=model, task="markdown")
    prof = profile_for(model, "")
    r = prof.parse_page((FIX / "qwen_fenced_markdown.txt").read_text(encoding="utf-8"), GEO, settings)
    assert r.drafts[0].type == BlockType.title and r.drafts[0].text == "Quarterly Report"
    assert sum(d.type == BlockType.code for d in r.drafts) == 1
