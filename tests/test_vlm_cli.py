"""`docpipe convert --engine vlm` end to end through real HTTP: outputs validate, a page the VLM
cannot read (endless repetition) falls back to the CPU engines and says so."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

pytest.importorskip("httpx")

from test_vlm_support_server import FakeChatServer, user_text  # noqa: E402

from docpipe.cli.main import main  # noqa: E402
from docpipe.model import Document  # noqa: E402

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "vlm"
PAGE = (FIX / "deepseek_grounded_page.txt").read_text(encoding="utf-8")
LOOP = (FIX / "deepseek_loop.txt").read_text(encoding="utf-8")
CHART = (FIX / "deepseek_figure_chart.txt").read_text(encoding="utf-8")


def _run(pdf: Path, out: Path, url: str) -> int:
    args = ["convert", "-q", "--workers", "1", str(pdf), "-o", str(out), "--engine", "vlm"]
    args += ["--backend", "openai", "--base-url", url, "--model", "deepseek-ai/DeepSeek-OCR"]
    args += ["--set", "vlm.backoff=0.01", "--set", "vlm.max_retries=1", "--set", "vlm.dpi=72"]
    return main(args)


def test_vlm_pages_and_cpu_fallback(pdfs, tmp_path):
    pdf = pdfs["furniture"]  # four pages

    calls = {"pages": 0}

    def script(body, n):
        if user_text(body) == "Parse the figure.":
            return ("reply", CHART, "stop")
        calls["pages"] += 1
        if calls["pages"] in (2, 3, 4):  # the second page and both its retries loop without end
            return ("reply", LOOP, "length")
        return ("reply", PAGE, "stop")

    out = tmp_path / "out"
    with FakeChatServer(script) as srv:
        assert _run(pdf, out, srv.base_url) == 0
    data = json.loads((out / "furniture.json").read_text())
    jsonschema.validate(data, Document.model_json_schema())
    engines = [p["engine"] for p in data["pages"]]
    statuses = [p["status"] for p in data["pages"]]
    assert engines.count("vlm") == 3, engines
    fallback = [p for p in data["pages"] if p["status"] == "fallback"]
    assert len(fallback) == 1 and fallback[0]["engine"] == "textlayer", statuses
    assert "vlm failed" in fallback[0]["error"]
    assert "unique to page" in " ".join(b["text"] for b in fallback[0]["blocks"])
    md = (out / "furniture.md").read_text()
    assert "<table>" in md or "|" in md  # the recorded page carries a table
    assert data["engine"]["config"]["vlm"]["base_url"] == srv.base_url
    assert "api_key" not in data["engine"]["config"]["vlm"]
