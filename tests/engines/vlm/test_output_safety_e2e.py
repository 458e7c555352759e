"""Hostile and invalid model replies end to end: the VLM engine (driven by a canned-reply backend, since
parsing is what is tested) and `docpipe convert`'s writers. NAME.md gets no live script, handler or
javascript: link; a reply with a lone surrogate fails only its page and NAME.json stays valid."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pymupdf
import pytest

from docpipe.cli.main import main
from docpipe.engines.base import PageInput
from docpipe.engines.vlm import VlmEngine, VlmSettings
from docpipe.engines.vlm.backends.base import VlmRequest, VlmResponse
from docpipe.model import BlockType, Document

FIX = Path(__file__).resolve().parents[3] / "fixtures" / "vlm"
HOSTILE = (FIX / "deepseek_hostile.txt").read_text(encoding="utf-8")
PAGE = (FIX / "deepseek_grounded_page.txt").read_text(encoding="utf-8")
SURROGATES = json.loads((FIX / "surrogate_replies.json").read_text(encoding="utf-8"))
LIVE = re.compile(r"<\s*(script|iframe|style|img|svg)\b|\son\w+\s*=|javascript:|vbscript:", re.I)
# the hostile fixture draws a figure at [100,420..] only as a caption; give it a figure to caption
HOSTILE_WITH_FIGURE = HOSTILE.replace(
    "<|ref|>image_caption",
    "<|ref|>image<|/ref|><|det|>[[150, 300, 550, 410]]<|/det|>\n\n<|ref|>image_caption",
)


class CannedBackend:
    """Replies by request kind and page: `pages[i]` for page i, `figure` for every figure crop."""

    name = "canned"

    def __init__(self, pages: list[str], figure: str) -> None:
        self.pages, self.figure = pages, figure
        self.requests: list[VlmRequest] = []

    async def agenerate(self, request: VlmRequest) -> VlmResponse:
        self.requests.append(request)
        tag = request.tag or ""
        if "figure" in tag or "figure" in request.prompt.lower():
            text = self.figure
        else:
            text = self.pages[int(re.search(r"p(\d+)", tag).group(1)) % len(self.pages)]
        return VlmResponse(
            text=text, finish_reason="stop", completion_tokens=len(text) // 4, prompt_tokens=300
        )


def make_pdf(path: Path, n: int) -> Path:
    doc = pymupdf.open()
    for i in range(n):
        page = doc.new_page(width=612, height=792)
        page.insert_text((72, 90), f"Text layer of page {i + 1}, unique words zebra{i + 1}.", fontsize=11)
        page.draw_rect(pymupdf.Rect(100, 240, 330, 330), color=(0, 0, 1), fill=(0.2, 0.4, 0.9))
    doc.save(path)
    return path


def convert(monkeypatch, tmp_path: Path, backend: CannedBackend, n_pages: int) -> tuple[int, Path]:
    monkeypatch.setattr("docpipe.engines.vlm.engine.make_backend", lambda settings: backend)
    pdf = make_pdf(tmp_path / "doc.pdf", n_pages)
    out = tmp_path / "out"
    args = ["convert", "-q", "--workers", "1", str(pdf), "-o", str(out), "--engine", "vlm"]
    # a base URL of its own, so that no engine cached by an earlier conversion (with its backend) is reused
    url = f"http://127.0.0.1:9/{tmp_path.name}"
    args += ["--backend", "openai", "--base-url", url, "--model", "deepseek-ai/DeepSeek-OCR"]
    return main([*args, "--set", "vlm.dpi=72"]), out


def test_hostile_reply_leaves_no_live_markup_in_markdown(monkeypatch, tmp_path):
    figure = "A pump <script>alert(8)</script><a href='javascript:alert(9)'>diagram</a>"
    backend = CannedBackend([HOSTILE_WITH_FIGURE], figure)
    rc, out = convert(monkeypatch, tmp_path, backend, 1)
    assert rc == 0
    assert any("figure" in (r.tag or "") for r in backend.requests)  # the figure pass ran too
    md = (out / "doc.md").read_text(encoding="utf-8")
    assert not LIVE.findall(md), md
    # what is not hostile survives: inline formatting, a comparison, a safe link, the caption
    assert "mc<sup>2</sup> holds when p < 0.05" in md
    assert "[our site](https://example.org/a_(b))" in md
    assert "*Figure 1: Hostile caption*" in md
    data = json.loads((out / "doc.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, Document.model_json_schema())
    (page,) = data["pages"]
    assert page["engine"] == "vlm" and page["status"] == "ok"
    blocks = page["blocks"]
    texts = [b["text"] for b in blocks] + [
        c["text"] for b in blocks if b.get("table") for c in b["table"]["cells"]
    ]  # fmt: skip
    assert not [t for t in texts if LIVE.search(t)], texts
    fig = next(b for b in blocks if b["type"] == "figure")
    assert fig["figure"]["caption"] == "Figure 1: Hostile caption" and fig["text"] == "A pump diagram"
    chunks = (out / "doc.chunks.jsonl").read_text(encoding="utf-8")
    assert not LIVE.findall("".join(json.loads(line)["text"] for line in chunks.splitlines()))


def test_lone_surrogate_fails_only_its_page_and_json_stays_valid(monkeypatch, tmp_path):
    backend = CannedBackend(
        [SURROGATES["page_with_lone_surrogate"], PAGE], SURROGATES["figure_with_lone_surrogate"]
    )
    rc, out = convert(monkeypatch, tmp_path, backend, 2)
    assert rc == 0
    raw = (out / "doc.json").read_bytes()
    data = json.loads(raw.decode("utf-8"))  # strict UTF-8: no surrogate made it into the file
    jsonschema.validate(data, Document.model_json_schema())
    first, second = data["pages"]
    # page 1: the VLM reply is invalid, so the page is read from the text layer instead
    assert first["engine"] == "textlayer" and first["status"] == "fallback"
    assert "surrogate" in first["error"]
    assert "zebra1" in " ".join(b["text"] for b in first["blocks"])
    assert "ten \\ud800 one" in first["vlm"]["raw_output"]  # kept, backslash-escaped
    # page 2: read by the VLM; its figure reading was invalid and is dropped with a note
    assert second["engine"] == "vlm" and second["status"] == "ok"
    assert "surrogate" in second["error"]
    assert any(b["type"] == "table" for b in second["blocks"])
    md = (out / "doc.md").read_text(encoding="utf-8")
    assert "zebra1" in md and "Optical Compression of Long Contexts" in md


def test_engine_fails_the_page_and_keeps_the_raw_reply():
    doc = pymupdf.open()
    doc.new_page(width=612, height=792).insert_text((72, 90), "Some text.", fontsize=11)
    page = PageInput(source_name="t.pdf", index=0, page=doc[0], route_reason="forced")
    settings = VlmSettings(model="deepseek-ai/DeepSeek-OCR", dpi=72, figure_pass=False)
    backend = CannedBackend(["# Title\n\nok \x00 then \ud800"], "")
    (raw,) = VlmEngine(settings, backend=backend).process([page])
    assert raw.status == "failed" and "surrogate" in raw.error and "NUL" in raw.error
    assert raw.vlm.raw_output == "# Title\n\nok \\x00 then \\ud800"
    assert len(backend.requests) == 1  # an invalid reply is not retried: the page falls back at once
    assert not raw.blocks
    doc.close()


@pytest.mark.parametrize("reply", [HOSTILE, "<script>alert(1)</script> unparsable <img src=x onerror=y>"])
def test_engine_blocks_hold_no_live_markup(reply):
    doc = pymupdf.open()
    doc.new_page(width=612, height=792).insert_text((72, 90), "Some text.", fontsize=11)
    page = PageInput(source_name="t.pdf", index=0, page=doc[0], route_reason="forced")
    settings = VlmSettings(model="deepseek-ai/DeepSeek-OCR", dpi=72, figure_pass=False)
    (raw,) = VlmEngine(settings, backend=CannedBackend([reply], "")).process([page])
    assert raw.blocks and all(not LIVE.search(b.text) for b in raw.blocks)
    assert any(b.type in (BlockType.paragraph, BlockType.title) for b in raw.blocks)
    doc.close()
