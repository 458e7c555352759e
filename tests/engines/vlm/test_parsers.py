"""VLM output parsers on recorded outputs (fixtures/vlm), written in each model's documented format."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from docpipe.engines.vlm.modes import DEEPSEEK_ENGINE_MODES, choose_mode, deepseek_visual_tokens
from docpipe.engines.vlm.parse.figures import looks_like_smiles, read_figure_json, read_figure_text
from docpipe.engines.vlm.parse.grounding import parse_grounded
from docpipe.engines.vlm.parse.html_tables import parse_html_tables
from docpipe.engines.vlm.parse.markdown_blocks import parse_markdown
from docpipe.engines.vlm.parse.qwen_html import parse_qwen_html
from docpipe.engines.vlm.parse.repetition import is_repetition_loop, periodic_tail
from docpipe.engines.vlm.parse.structured import page_json_schema, parse_structured
from docpipe.engines.vlm.profiles import (
    DeepSeekOcr2Profile,
    DeepSeekOcrProfile,
    GenericProfile,
    QwenVlProfile,
    profile_for,
)
from docpipe.model import BlockType

FIX = Path(__file__).resolve().parents[3] / "fixtures" / "vlm"
W, H = 612.0, 792.0


def fixture(name: str) -> str:
    return (FIX / name).read_text(encoding="utf-8")


def grid(table) -> dict[tuple[int, int], tuple[str, int, int]]:
    return {(c.row, c.col): (c.text, c.row_span, c.col_span) for c in table.cells}


def test_grounded_page_types_boxes_and_content():
    res = parse_grounded(fixture("deepseek_grounded_page.txt"), W, H)
    assert res.problems == [] and not res.truncated
    types = [d.type for d in res.drafts]
    assert types == [
        BlockType.title,
        BlockType.paragraph,
        BlockType.heading,
        BlockType.list_item,
        BlockType.list_item,
        BlockType.list_item,
        BlockType.list_item,
        BlockType.formula,
        BlockType.table,
        BlockType.caption,
        BlockType.figure,
        BlockType.caption,
        BlockType.page_number,
    ]
    title = res.drafts[0]
    assert title.text == "Optical Compression of Long Contexts" and title.level == 1
    # 0..999 grid -> page points
    assert title.bbox == pytest.approx((120 / 999 * W, 60 / 999 * H, 880 / 999 * W, 105 / 999 * H), abs=0.01)
    assert res.drafts[1].text.endswith("with little loss of precision.")  # wrapped lines joined
    assert res.drafts[2].level == 2
    items = [(d.text, d.level) for d in res.drafts[3:7]]
    assert items == [
        ("Encoder", 1),
        ("SAM window attention", 2),
        ("CLIP global attention", 2),
        ("Decoder", 1),
    ]
    assert res.drafts[7].latex == r"r = \frac{T_{text}}{T_{vision}}"
    table = res.drafts[8].table
    assert (table.n_rows, table.n_cols) == (4, 3)
    g = grid(table)
    assert g[(0, 0)] == ("Mode", 2, 1) and g[(0, 1)] == ("Tokens", 1, 2)
    assert g[(1, 1)] == ("global", 1, 1) and g[(3, 2)] == ("100", 1, 1)
    assert res.drafts[10].bbox == pytest.approx(
        (150 / 999 * W, 660 / 999 * H, 550 / 999 * W, 900 / 999 * H), abs=0.01
    )
    assert res.drafts[-1].text == "3"


def test_truncated_output_keeps_what_was_read():
    res = parse_grounded(fixture("deepseek_truncated.txt"), W, H)
    assert [d.type for d in res.drafts] == [BlockType.title, BlockType.paragraph, BlockType.table]
    table = res.drafts[2].table
    assert table is not None and table.n_rows == 3  # lxml closes the cut-off row
    assert grid(table)[(2, 0)][0] == "South"


def test_malformed_tags_are_reported_not_fatal_and_never_executed():
    res = parse_grounded(fixture("deepseek_malformed.txt"), W, H)
    assert any("malformed box" in p for p in res.problems)
    assert any("outside 0..999" in p for p in res.problems)
    assert any("unpaired" in p for p in res.problems)
    texts = [d.text for d in res.drafts]
    assert "This paragraph has a box the parser cannot read." in texts
    assert any("A reference tag without its detection tag." in t for t in texts)
    # the code-looking line is text, kept verbatim
    assert "__import__('os').system('echo owned')" in texts
    unplaced = [d for d in res.drafts if d.text.startswith("This paragraph")]
    assert unplaced[0].bbox is None


def test_repetition_loop_detected_only_without_eos():
    loop = fixture("deepseek_loop.txt")
    period, covered = periodic_tail(loop)
    assert period == len("the model repeats this phrase forever, ") and covered > 2000
    assert is_repetition_loop(loop, finished=False)
    good = fixture("deepseek_grounded_page.txt")
    assert not is_repetition_loop(good, finished=True)
    assert not is_repetition_loop(good, finished=False)
    # a long table of empty cells that did end is not a loop
    assert not is_repetition_loop("<td></td>" * 100, finished=True)


def test_free_ocr_markdown_glued_bullets_and_formula():
    drafts = parse_markdown(fixture("deepseek_free_ocr.txt"))
    assert [d.type for d in drafts] == [
        BlockType.paragraph,
        BlockType.paragraph,
        BlockType.list_item,
        BlockType.list_item,
        BlockType.list_item,
        BlockType.formula,
    ]
    assert [d.text for d in drafts[2:5]] == ["Growth in all regions", "Lower costs", "New products"]
    assert drafts[5].latex == "E = m c^2"


def test_markdown_pipe_table_code_and_ordered_list():
    md = "| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nx = 1\n```\n\n1. first\n2. second\n"
    drafts = parse_markdown(md)
    assert [d.type for d in drafts] == [
        BlockType.table,
        BlockType.code,
        BlockType.list_item,
        BlockType.list_item,
    ]
    assert grid(drafts[0].table)[(1, 1)] == ("2", 1, 1) and drafts[0].table.header_rows == 1
    assert drafts[1].text == "x = 1" and drafts[1].label == "python"
    assert drafts[2].text == "1. first"


def test_html_table_spans_headers_and_hostile_spans():
    html = (
        "<table><thead><tr><th>A</th><th>B</th><th>C</th></tr></thead>"
        "<tr><td rowspan='2'>x</td><td colspan='2'>y</td></tr><tr><td>z</td><td>w<br>v</td></tr></table>"
    )
    (t,) = parse_html_tables(html)
    assert (t.n_rows, t.n_cols, t.header_rows) == (3, 3, 1)
    g = grid(t)
    assert g[(1, 0)] == ("x", 2, 1) and g[(1, 1)] == ("y", 1, 2)
    assert g[(2, 1)] == ("z", 1, 1) and g[(2, 2)][0] == "wv"
    (big,) = parse_html_tables('<table><tr><td rowspan="99999999" colspan="99999999">a</td></tr></table>')
    assert big.cells[0].row_span == 1 and big.cells[0].col_span == 200  # clipped, not allocated


def test_qwen25_html_absolute_pixels():
    sent_w, sent_h = 1092, 1400  # the image Qwen2.5-VL saw: boxes are its pixels
    res = parse_qwen_html(fixture("qwen25_html.html"), W, H, sent_w, sent_h)
    types = [d.type for d in res.drafts]
    assert types == [
        BlockType.title,
        BlockType.paragraph,
        BlockType.list_item,
        BlockType.list_item,
        BlockType.list_item,
        BlockType.table,
        BlockType.figure,
        BlockType.formula,
        BlockType.page_number,
    ]
    assert res.drafts[0].bbox == pytest.approx(
        (56 * W / sent_w, 40 * H / sent_h, 1036 * W / sent_w, 96 * H / sent_h), abs=0.01
    )
    assert [(d.text, d.level) for d in res.drafts[2:5]] == [
        ("Growth in all regions", 1),
        ("North up 12%", 2),
        ("Lower costs", 1),
    ]
    t = res.drafts[5].table
    assert t.header_rows == 1 and grid(t)[(2, 0)] == ("Total 14", 1, 2)
    assert res.drafts[7].latex == "E = mc^2"


def test_qwen3_uses_relative_coordinates():
    prof = QwenVlProfile("Qwen/Qwen3-VL-8B-Instruct")
    assert prof.qwen3 and prof.unit == 32
    from docpipe.engines.vlm.profiles import PageGeometry
    from docpipe.engines.vlm.settings import VlmSettings

    res = prof.parse_page(
        '<h1 data-bbox="100 100 900 200">T</h1>', PageGeometry(W, H, 777, 999), VlmSettings(task="html")
    )
    assert res.drafts[0].bbox == pytest.approx((0.1 * W, 0.1 * H, 0.9 * W, 0.2 * H))


def test_generic_structured_json_validated():
    res = parse_structured(fixture("generic_structured.json"), W, H)
    assert res.problems == []
    assert [d.type for d in res.drafts] == [
        BlockType.title,
        BlockType.paragraph,
        BlockType.table,
        BlockType.formula,
        BlockType.figure,
    ]
    assert grid(res.drafts[2].table)[(1, 1)] == ("14", 1, 1)
    assert res.drafts[3].latex == "E = mc^2"
    assert res.drafts[0].bbox == pytest.approx((0.1 * W, 0.05 * H, 0.9 * W, 0.1 * H))
    bad = parse_structured('{"blocks": [{"type": "sidebar", "bbox": [1, 2]}]}', W, H)
    assert bad.drafts == [] and bad.problems
    # the schema sent for constrained decoding is strict: every property required, nothing extra
    schema = page_json_schema()
    block = schema["$defs"]["VlmBlock"]
    assert block["additionalProperties"] is False and set(block["required"]) == set(block["properties"])


def test_figure_readings():
    chart = read_figure_text(fixture("deepseek_figure_chart.txt"))
    assert chart.kind == "chart" and grid(chart.table)[(2, 1)] == ("60%", 1, 1)
    chem = read_figure_text("CC(=O)Oc1ccccc1C(=O)O")
    assert chem.kind == "chemical_structure" and chem.smiles == "CC(=O)Oc1ccccc1C(=O)O"
    assert read_figure_text("A photo of a cat on a mat.").kind == "figure"
    assert not looks_like_smiles("Figure") and not looks_like_smiles("pH") and looks_like_smiles("c1ccccc1")
    j = read_figure_json(
        '```json\n{"kind": "chemical_structure", "smiles": "C1CC(", "description": "ring"}\n```'
    )
    assert j.kind == "chemical_structure" and j.smiles == "C1CC("


def test_deepseek_visual_tokens_follow_vllm():
    # vLLM's own counts (seen on the real engine): 273 for an image of at most 640 px, 903 for a
    # portrait page in 2 x 3 tiles; the fixed-size modes 73 / 111 / 273 / 421
    assert deepseek_visual_tokens(640, 640) == 273 and deepseek_visual_tokens(600, 300) == 273
    assert deepseek_visual_tokens(1224, 1584) == 903
    assert deepseek_visual_tokens(1584, 1224) == 272 + 20 * 31 + 1  # 3 x 2 tiles
    assert deepseek_visual_tokens(1000, 1000) == 272 + 20 * 21 + 1  # 2 x 2
    fixed = ("tiny", "small", "base", "large")
    sizes = {name: DEEPSEEK_ENGINE_MODES[name].visual_tokens(1224, 1584) for name in fixed}
    assert sizes == {"tiny": 73, "small": 111, "base": 273, "large": 421}
    # DeepSeek-OCR 2: 256 + 144 per 768 px tile, no row newlines
    assert deepseek_visual_tokens(700, 700, version=2) == 257
    assert deepseek_visual_tokens(1224, 1584, version=2) == 257 + 6 * 144


def test_mode_choice_by_compression_ratio():
    """Inside the engine's Gundam mode the choice is the size of the image sent: the global view alone
    (273 tokens) or tiles (903 for a portrait page)."""
    prof = DeepSeekOcrProfile()
    modes = list(prof.modes.values())
    mode, vt, ratio = choose_mode(modes, 800, 1224, 1584, 10.0)
    assert (mode.name, vt) == ("global", 273) and ratio == pytest.approx(800 / 273)
    mode, vt, _ = choose_mode(modes, 3000, 1224, 1584, 10.0)
    assert (mode.name, vt) == ("tiled", 903)  # 3000 / 273 = 11x: too compressed
    mode, vt, ratio = choose_mode(modes, 20000, 1224, 1584, 10.0)
    assert mode.name == "tiled" and ratio > 10  # nothing is enough: the richest
    assert choose_mode(modes, 0, 1224, 1584, 10.0)[0].name == "global"
    # the image sent never outgrows what the engine uses, and its size predicts the engine's count
    for p in (prof, DeepSeekOcr2Profile()):
        for m in modes:
            img = Image.new("RGB", (3000, 1000))
            sent = p.prepare_image(img, p.mode(m.name))
            assert p.engine_mode.visual_tokens(*sent.size) == p.mode(m.name).visual_tokens(3000, 1000)
    with pytest.raises(ValueError, match="gundam"):
        DeepSeekOcrProfile("ultra")


def test_profile_selection():
    assert isinstance(profile_for("deepseek-ai/DeepSeek-OCR"), DeepSeekOcrProfile)
    assert isinstance(profile_for("deepseek-ai/DeepSeek-OCR-2"), DeepSeekOcr2Profile)
    assert isinstance(profile_for("/models/deepseek_ocr2"), DeepSeekOcr2Profile)
    assert type(profile_for("deepseek-ai/DeepSeek-OCR")) is DeepSeekOcrProfile
    assert isinstance(profile_for("Qwen/Qwen2.5-VL-7B-Instruct"), QwenVlProfile)
    assert isinstance(profile_for("gpt-4.1"), GenericProfile)
    assert isinstance(profile_for("anything", "deepseek-ocr"), DeepSeekOcrProfile)
    with pytest.raises(ValueError):
        profile_for("x", "nope")
