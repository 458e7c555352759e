"""The scheduler with the VLM engine: a window of pages goes out concurrently, never more than
--max-concurrency requests in flight; a slow server slows the batch instead of piling requests up."""

from __future__ import annotations

import hashlib
import threading
import time

import pymupdf
import pytest

pytest.importorskip("httpx")

from docpipe.cli.main import main  # noqa: E402
from tests.engines.vlm.support_server import FakeChatServer, image_url, user_text  # noqa: E402

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


def _two_page_pdfs(folder, n: int) -> list:
    folder.mkdir()
    paths = []
    for k in range(n):
        doc = pymupdf.open()
        for i in range(2):
            doc.new_page(width=300, height=400).insert_text((40, 60), f"doc {k} page {i}", fontsize=11)
        doc.save(folder / f"d{k}.pdf")
        paths.append(folder / f"d{k}.pdf")
    return paths


def test_documents_overlap_in_a_worker_to_keep_requests_in_flight(tmp_path):
    """One worker, two-page documents, a cap of 4 requests: a worker converting one document at a
    time could never have more than 2 in flight (and drains to 0 at each document's end). Converting
    several documents at once fills the cap, and the outputs are those of one at a time."""
    _two_page_pdfs(tmp_path / "in", 6)
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def script(body, n):
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.5)
        with lock:
            state["now"] -= 1
        # the reply names the image it read, so that a mix-up between documents would show
        digest = hashlib.sha1(image_url(body)["url"].encode()).hexdigest()[:12]
        return ("reply", f"Read image {digest}.", "stop")

    peaks = {}
    with FakeChatServer(script) as srv:
        for per_worker in ("1", "0"):  # one at a time, then the default for the VLM
            state["peak"] = 0
            args = ["convert", "-q", "--workers", "1", str(tmp_path / "in"), "-o", str(tmp_path / per_worker)]
            args += ["--engine", "vlm", "--backend", "openai", "--base-url", srv.base_url]
            args += ["--model", "deepseek-ai/DeepSeek-OCR", "--max-concurrency", "4", "--set", "vlm.dpi=72"]
            assert main([*args, "--docs-per-worker", per_worker]) == 0
            peaks[per_worker] = state["peak"]
    assert peaks["1"] <= 2 < peaks["0"] <= 4, peaks
    for k in range(6):
        one, many = (tmp_path / p / f"d{k}.md" for p in ("1", "0"))
        assert one.read_bytes() == many.read_bytes()
