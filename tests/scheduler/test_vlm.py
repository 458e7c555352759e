"""The scheduler with the VLM engine: a window of pages goes out concurrently, never more than
--max-concurrency requests in flight; a slow server slows the batch instead of piling requests up."""

from __future__ import annotations

import threading
import time

import pymupdf
import pytest

pytest.importorskip("httpx")

from docpipe.cli.main import main  # noqa: E402
from tests.engines.vlm.support_server import FakeChatServer, user_text  # noqa: E402

PAGE = "<|ref|>text<|/ref|><|det|>[[100, 100, 900, 200]]<|/det|>\nA line of recognised text.\n"


def test_concurrency_cap_and_backpressure(tmp_path):
    doc = pymupdf.open()
    for i in range(8):
        doc.new_page(width=300, height=400).insert_text((40, 60), f"page {i}", fontsize=11)
    pdf = tmp_path / "eight.pdf"
    doc.save(pdf)
    lock = threading.Lock()
    state = {"now": 0, "peak": 0, "calls": 0}

    def script(body, n):
        assert user_text(body) != "Parse the figure."
        with lock:
            state["now"] += 1
            state["calls"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.25)  # a slow server
        with lock:
            state["now"] -= 1
        return ("reply", PAGE, "stop")

    out = tmp_path / "out"
    with FakeChatServer(script) as srv:
        t0 = time.perf_counter()
        args = ["convert", "-q", "--workers", "1", str(pdf), "-o", str(out), "--engine", "vlm"]
        args += ["--backend", "openai", "--base-url", srv.base_url, "--model", "deepseek-ai/DeepSeek-OCR"]
        args += ["--max-concurrency", "3", "--set", "vlm.dpi=72"]
        assert main(args) == 0
        elapsed = time.perf_counter() - t0
    assert state["calls"] == 8
    assert 2 <= state["peak"] <= 3, state  # concurrent, and never over the cap
    assert elapsed >= 3 * 0.25 - 0.05  # ceil(8 / 3) rounds of a 0.25 s server
    assert "A line of recognised text." in (out / "eight.md").read_text()

