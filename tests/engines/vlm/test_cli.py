"""`docpipe convert --engine vlm` end to end through real HTTP: outputs validate, a page the VLM
cannot read (endless repetition) falls back to the CPU engines and says so."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import jsonschema
import pymupdf
import pytest
from PIL import Image

pytest.importorskip("httpx")

from docpipe.cli.main import main  # noqa: E402
from docpipe.model import Document  # noqa: E402
from tests.engines.vlm.support_server import FakeChatServer, image_url, user_text  # noqa: E402

FIX = Path(__file__).resolve().parents[3] / "fixtures" / "vlm"
PAGE = (FIX / "deepseek_grounded_page.txt").read_text(encoding="utf-8")
LOOP = (FIX / "deepseek_loop.txt").read_text(encoding="utf-8")
CHART = (FIX / "deepseek_figure_chart.txt").read_text(encoding="utf-8")


def _run(pdf: Path, out: Path, url: str, *extra: str) -> int:
    args = ["convert", "-q", "--workers", "1", str(pdf), "-o", str(out), "--engine", "vlm"]
    args += ["--backend", "openai", "--base-url", url, "--model", "deepseek-ai/DeepSeek-OCR"]
    args += ["--set", "vlm.backoff=0.01", "--set", "vlm.max_retries=1", "--set", "vlm.dpi=72"]
    return main([*args, *extra])


def _blank(body: dict) -> bool:
    """Is the page image in this request blank (all white)?"""
    url = image_url(body)["url"]
    img = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("L")
    return img.getextrema()[0] > 250


def test_vlm_pages_and_cpu_fallback(tmp_path):
    # Four pages; the second one's text is white: invisible to the model (its image is blank, and the
    # scripted server loops on blank images), but there in the text layer for the CPU fallback.
    doc = pymupdf.open()
    for i in range(4):
        page = doc.new_page(width=595, height=842)
        color = (1, 1, 1) if i == 1 else (0, 0, 0)
        page.insert_text(
            (72, 100), f"Section {i + 1} body text unique to page {i + 1}.", fontsize=11, color=color
        )
    pdf = tmp_path / "four.pdf"
    doc.save(pdf)

    def script(body, n):
        if user_text(body) == "Parse the figure.":
            return ("reply", CHART, "stop")
        return ("reply", LOOP, "length") if _blank(body) else ("reply", PAGE, "stop")

    out = tmp_path / "out"
    with FakeChatServer(script) as srv:
        assert _run(pdf, out, srv.base_url) == 0
    data = json.loads((out / "four.json").read_text())
    jsonschema.validate(data, Document.model_json_schema())
    engines = [p["engine"] for p in data["pages"]]
    statuses = [p["status"] for p in data["pages"]]
    assert engines == ["vlm", "textlayer", "vlm", "vlm"], engines
    assert statuses == ["ok", "fallback", "ok", "ok"], statuses
    fallback = data["pages"][1]
    assert "vlm failed" in fallback["error"] and "repetition loop" in fallback["error"]
    assert fallback["vlm"]["mode"]  # what was tried is kept
    assert "unique to page 2" in " ".join(b["text"] for b in fallback["blocks"])
    md = (out / "four.md").read_text()
    assert "<table>" in md or "|" in md  # the recorded page carries a table
    assert data["engine"]["config"]["vlm"]["base_url"] == srv.base_url
    assert "api_key" not in data["engine"]["config"]["vlm"]


def test_python_api_works_inside_a_running_event_loop(tmp_path):
    """docpipe.convert(..., engine="vlm") from a notebook, where an event loop is already running."""
    import asyncio

    import docpipe

    doc = pymupdf.open()
    doc.new_page(width=300, height=400).insert_text((40, 60), "A notebook page.", fontsize=11)
    pdf = tmp_path / "nb.pdf"
    doc.save(pdf)

    def script(body, n):
        return ("reply", PAGE, "stop")

    with FakeChatServer(script) as srv:
        overrides = {"vlm": {"backend": "openai", "base_url": srv.base_url, "dpi": 72, "figure_pass": False}}

        async def in_notebook():
            return docpipe.convert(pdf, engine="vlm", overrides=overrides)

        result = asyncio.run(in_notebook())
    assert result.pages[0].engine == "vlm" and result.pages[0].status.value == "ok"


def test_a_server_that_refuses_every_request_fails_the_run(tmp_path, capsys):
    """Every page falls back to the text layer (the documents themselves convert), but a run whose
    VLM read nothing must not exit 0 in silence: the user asked for the model."""
    doc = pymupdf.open()
    for i in range(2):
        doc.new_page(width=300, height=400).insert_text((40, 60), f"Page {i} text.", fontsize=11)
    pdf = tmp_path / "two.pdf"
    doc.save(pdf)
    refusal = "Per-request mm_processor_kwargs are disabled by default"
    with FakeChatServer(lambda body, n: ("status", 400, {}, refusal)) as srv:
        code = _run(pdf, tmp_path / "out", srv.base_url)
    err = capsys.readouterr().err
    assert code == 1
    assert "VLM UNUSABLE" in err and "all 2 pages sent to the VLM fell back" in err and refusal in err
    data = json.loads((tmp_path / "out" / "two.json").read_text())
    assert [p["status"] for p in data["pages"]] == ["fallback", "fallback"]  # the text is still there
    assert "Page 1 text." in (tmp_path / "out" / "two.md").read_text()
