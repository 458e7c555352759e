"""VlmEngine end to end: a real PDF page, rendered, sent over HTTP to a scripted local server."""

from __future__ import annotations

import io
from pathlib import Path

import pymupdf
import pytest
from PIL import Image

pytest.importorskip("httpx")

from docpipe.engines.base import PageInput  # noqa: E402
from docpipe.engines.vlm import VlmEngine, VlmSettings  # noqa: E402
from docpipe.model import BlockType  # noqa: E402
from tests.engines.vlm.support_server import FakeChatServer, image_url, user_text  # noqa: E402

FIX = Path(__file__).resolve().parents[3] / "fixtures" / "vlm"
PAGE = (FIX / "deepseek_grounded_page.txt").read_text(encoding="utf-8")
LOOP = (FIX / "deepseek_loop.txt").read_text(encoding="utf-8")
CHART = (FIX / "deepseek_figure_chart.txt").read_text(encoding="utf-8")


def make_page(text_lines: int = 3) -> tuple[pymupdf.Document, PageInput]:
    doc = pymupdf.open()
    page = doc.new_page(width=612, height=792)
    for i in range(text_lines):
        page.insert_text(
            (72, 90 + 14 * i), f"Line {i} of a page about optical context compression.", fontsize=11
        )
    page.draw_rect(pymupdf.Rect(100, 530, 330, 710), color=(0, 0, 1), fill=(0.2, 0.4, 0.9))
    return doc, PageInput(source_name="t.pdf", index=0, page=page, route_reason="forced")


def sent_size(body: dict) -> tuple[int, int]:
    data = image_url(body)["url"].split(",")[1]
    return Image.open(io.BytesIO(__import__("base64").b64decode(data))).size


def settings(url: str, **kw) -> VlmSettings:
    base = dict(model="deepseek-ai/DeepSeek-OCR", base_url=url, backoff=0.01, timeout=5.0, dpi=72)
    base.update(kw)
    return VlmSettings(**base)


def test_page_pass_figure_pass_and_mode_record():
    def script(body, n):
        return ("reply", CHART if user_text(body) == "Parse the figure." else PAGE, "stop")

    saved: dict[str, bytes] = {}
    doc, page = make_page()
    with FakeChatServer(script) as srv:
        eng = VlmEngine(
            settings(srv.base_url),
            image_sink=lambda i, bid, png: saved.setdefault(bid, png) and f"img/{bid}.png",
        )
        (raw,) = eng.process([page])
    assert raw.status == "ok" and raw.error is None, raw.error
    assert raw.engine == "vlm" and raw.route_reason == "forced"
    # compression-aware: ~3 lines of text -> the global view alone, the fewest tokens vLLM's Gundam
    # mode gives (this server reports no token ids, so the count is docpipe's prediction)
    assert raw.vlm.mode == "global" and raw.vlm.visual_tokens == 273
    assert raw.vlm.visual_tokens_source == "predicted"
    assert raw.vlm.text_tokens and raw.vlm.compression_ratio == pytest.approx(
        raw.vlm.text_tokens / 273, abs=1e-3
    )
    page_req, fig_req = srv.requests
    assert user_text(page_req) == "<|grounding|>Convert the document to markdown."
    # the resolution is the engine's: no per-request processor options, which vLLM refuses
    assert "mm_processor_kwargs" not in page_req
    assert page_req["vllm_xargs"]["ngram_size"] == 30
    assert user_text(fig_req) == "Parse the figure."
    sent = Image.open(io.BytesIO(__import__("base64").b64decode(image_url(page_req)["url"].split(",")[1])))
    assert max(sent.size) <= 640  # at most one tile: the global view only
    blocks = raw.blocks
    assert [b.id for b in blocks] == [f"p0-b{i}" for i in range(len(blocks))]
    chart = next(b for b in blocks if b.type == BlockType.chart)
    assert chart.chart.data.n_rows == 3 and chart.figure.kind == "chart"
    assert chart.figure.image_path == f"img/{chart.id}.png" and chart.figure.caption.startswith("Figure 1")
    crop = Image.open(io.BytesIO(saved[chart.id]))
    assert (
        crop.size[0] > 100 and crop.getpixel((crop.size[0] // 2, crop.size[1] // 2))[2] > 150
    )  # the blue box
    assert next(b for b in blocks if b.type == BlockType.table).table.n_cols == 3
    assert next(b for b in blocks if b.type == BlockType.formula).latex.startswith("r = ")
    doc.close()


def test_chemical_structures_validated_invalid_kept():
    answers = iter(["C1CC(", "CC(=O)Oc1ccccc1C(=O)O"])
    page_text = (
        "<|ref|>image<|/ref|><|det|>[[100, 100, 400, 300]]<|/det|>\n\n"
        "<|ref|>image<|/ref|><|det|>[[500, 100, 900, 300]]<|/det|>\n<｜end▁of▁sentence｜>"
    )

    def script(body, n):
        return ("reply", next(answers) if user_text(body) == "Parse the figure." else page_text, "stop")

    doc, page = make_page()
    with FakeChatServer(script) as srv:
        eng = VlmEngine(settings(srv.base_url, max_concurrency=1))
        (raw,) = eng.process([page])
    chems = [b for b in raw.blocks if b.type == BlockType.chemical]
    assert len(chems) == 2 and set(raw.figure_images) == {b.id for b in chems}  # crops ride on the page
    by_smiles = {b.chemical.smiles: b.chemical for b in chems}
    assert by_smiles["C1CC("].valid is False  # flagged, not dropped
    aspirin = by_smiles["CC(=O)Oc1ccccc1C(=O)O"]
    assert aspirin.valid and aspirin.formula == "C9H8O4" and aspirin.inchikey == "BSYNRYMUTXBXSQ-UHFFFAOYSA-N"
    doc.close()


def test_loop_is_retried_with_another_mode_and_temperature():
    def script(body, n):
        return ("reply", LOOP, "length") if n == 0 else ("reply", PAGE, "stop")

    doc, page = make_page()
    with FakeChatServer(script) as srv:
        (raw,) = VlmEngine(settings(srv.base_url, figure_pass=False)).process([page])
    first, second = srv.requests
    assert first["temperature"] == 0.0 and second["temperature"] == 0.3
    # the retry sends the page at the other size: tiled (a 612 x 792 px raster at 72 dpi: 2 x 3 tiles)
    assert sent_size(first) == (495, 640) and sent_size(second) == (612, 792)
    assert raw.status == "ok" and raw.vlm.mode == "tiled" and raw.vlm.visual_tokens == 903
    doc.close()


def test_persistent_loop_fails_the_page_with_the_error():
    doc, page = make_page()
    with FakeChatServer(lambda body, n: ("reply", LOOP, "length")) as srv:
        (raw,) = VlmEngine(settings(srv.base_url)).process([page])
    assert raw.status == "failed" and "repetition loop" in raw.error and raw.blocks is None
    assert raw.vlm.raw_output == LOOP
    doc.close()


def test_server_down_fails_the_page_not_the_batch():
    doc, page = make_page()
    with FakeChatServer(lambda body, n: ("status", 500)) as srv:
        (raw,) = VlmEngine(settings(srv.base_url, max_retries=1)).process([page])
    assert raw.status == "failed" and "500" in raw.error and len(srv.requests) == 4  # 2 modes x 2 attempts
    doc.close()


def test_unparsable_output_is_kept_raw_as_fallback():
    junk = "<|ref|><|/ref|>"
    doc, page = make_page()
    with FakeChatServer(lambda body, n: ("reply", junk, "stop")) as srv:
        (raw,) = VlmEngine(settings(srv.base_url)).process([page])
    assert raw.status == "fallback" and raw.vlm.raw_output == junk and "unparsable" in raw.error
    doc.close()


def test_truncated_output_keeps_raw_and_notes_it():
    text = (FIX / "deepseek_truncated.txt").read_text(encoding="utf-8")
    doc, page = make_page()
    with FakeChatServer(lambda body, n: ("reply", text, "length")) as srv:
        (raw,) = VlmEngine(settings(srv.base_url)).process([page])
    assert raw.status == "ok" and "truncated" in raw.error and raw.vlm.raw_output == text
    assert [b.type for b in raw.blocks] == [BlockType.title, BlockType.paragraph, BlockType.table]
    doc.close()


def test_generic_structured_mode_sends_schema(tmp_path):
    reply = (FIX / "generic_structured.json").read_text(encoding="utf-8")
    doc, page = make_page()
    with FakeChatServer(lambda body, n: ("reply", reply if n == 0 else '{"kind": "photo"}', "stop")) as srv:
        eng = VlmEngine(settings(srv.base_url, model="gpt-4.1", task="structured", detail="auto"))
        (raw,) = eng.process([page])
    body = srv.requests[0]
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["blocks"]
    assert image_url(body)["detail"] == "high"  # the generic profile's default mode
    assert raw.vlm.mode == "high" and raw.status == "ok"
    assert [b.type for b in raw.blocks][:3] == [BlockType.title, BlockType.paragraph, BlockType.table]
    doc.close()


def test_unknown_mode_is_rejected_early():
    with pytest.raises(ValueError, match="global, tiled"):
        VlmEngine(VlmSettings(mode="ultra"))
    with pytest.raises(ValueError, match="gundam"):  # the engine's own mode is checked too
        VlmEngine(VlmSettings(engine_mode="ultra"))


def test_text_tokens_from_ink_when_there_is_no_text_layer():
    from docpipe.engines.vlm.images import render_page
    from docpipe.engines.vlm.modes import estimate_text_tokens

    doc = pymupdf.open()
    src = doc.new_page(width=612, height=792)
    src.insert_textbox(
        src.rect + (54, 54, -54, -54), "Optical compression of long contexts. " * 80, fontsize=10
    )
    pix = src.get_pixmap(dpi=144)
    scan = doc.new_page(width=612, height=792)
    scan.insert_image(scan.rect, pixmap=pix)  # an image-only page: a scan
    text_pi = PageInput(source_name="t.pdf", index=0, page=doc[0])
    scan_pi = PageInput(source_name="t.pdf", index=1, page=doc[1])
    from_text, how = estimate_text_tokens(text_pi)
    assert how == "textlayer" and 500 < from_text < 900  # what fits of ~3,000 chars, / 4
    from_ink, how = estimate_text_tokens(scan_pi, render_page(scan_pi, 144))
    assert how == "ink" and from_text / 3 < from_ink < from_text * 3
    doc.close()
