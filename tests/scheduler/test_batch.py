"""Batch scheduling: kill -9 mid-batch then resume gives the same outputs with no document done
twice; worker processes; the bench report."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from docpipe.cli.main import main

from .helpers import bench_corpus, done_count, normalized_json

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return bench_corpus(tmp_path_factory.mktemp("bench"), docs=24, pages=6)


def test_sigkill_then_resume_matches_an_uninterrupted_run(corpus, tmp_path):
    reference = tmp_path / "reference"
    assert main(["convert", "-q", "--workers", "1", str(corpus), "-o", str(reference)]) == 0

    out = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "docpipe.cli.main",
        "convert",
        "-q",
        "--workers",
        "1",
        str(corpus),
        "-o",
        str(out),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while done_count(out) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if proc.poll() is not None:
        pytest.skip("the batch finished before it could be killed (machine too fast for this corpus)")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = done_count(out)
    assert 3 <= done_before < 24
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}
    # nothing half-written under a final name: every JSON present parses
    for p in out.glob("*.json"):
        json.loads(p.read_text())

    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert f"{done_before} skipped" in res.stderr
    # documents finished before the kill were not redone
    redone = [n for n, s in stamps.items() if (out / n).stat().st_mtime_ns != s]
    assert len(redone) <= len(stamps) - done_before + 1  # at most the one in flight at the kill
    for ref in reference.glob("*.json"):
        assert normalized_json(out / ref.name) == normalized_json(ref), ref.name
        for suffix in (".md", ".chunks.jsonl"):
            stem = ref.name[: -len(".json")]
            assert (out / f"{stem}{suffix}").read_bytes() == (reference / f"{stem}{suffix}").read_bytes()
    assert not list(out.glob(".*.tmp"))


def test_two_workers_produce_the_same_outputs(corpus, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(["convert", "-q", "--workers", "1", str(corpus), "-o", str(one)]) == 0
    assert main(["convert", "-q", "--workers", "2", str(corpus), "-o", str(two)]) == 0
    for ref in one.glob("*.md"):
        assert (two / ref.name).read_text() == ref.read_text()


def test_bench_reports_stages_latency_memory_and_ratio(corpus, capsys):
    files = sorted(corpus.glob("*.pdf"))[:3]
    args = ["bench", *map(str, files), "--engine", "textlayer", "--workers", "1", "--json", "--baseline"]
    assert main([*args, "none"]) == 0
    (report,) = json.loads(capsys.readouterr().out)
    assert report["tool"] == "docpipe" and report["pages"] == 18
    assert report["pages_per_second"] > 0 and 0 < report["latency_p50_s"] <= report["latency_p95_s"]
    assert 30 < report["peak_rss_mib"] < 4096
    assert {"open", "route", "textlayer", "assemble", "write"} <= set(report["stages_s"])
    assert -0.5 < report["scheduler_overhead_share"] < 1.0


def _crashing_convert_one(path, out_dir, name, config, state):
    """convert_one, except that one document kills its worker outright (module level: it is pickled)."""
    import docpipe.scheduler.batch as batch

    if name == "bench_002":
        os._exit(70)  # the worker dies without a word
    return batch.real_convert_one(path, out_dir, name, config, state)


def test_a_worker_that_dies_fails_only_its_document(corpus, tmp_path, monkeypatch, capsys):
    """A document that kills its worker process (as a crash in native code would) is reported; the
    documents that were in flight with it are converted again and succeed."""
    import docpipe.scheduler.batch as batch

    monkeypatch.setattr(batch, "real_convert_one", batch.convert_one, raising=False)
    # worker processes are forked, so they see the patched function
    monkeypatch.setattr(batch, "convert_one", _crashing_convert_one)
    out = tmp_path / "out"
    assert main(["convert", "-q", "--workers", "2", str(corpus), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "23 converted" in err and "1 failed" in err
    assert "bench_002.pdf: a worker process died while converting it" in err
    assert not (out / "bench_002.json").exists() and (out / "bench_003.json").exists()


def test_a_big_document_is_spread_over_the_workers_with_identical_outputs(corpus, tmp_path, monkeypatch):
    import docpipe.scheduler.batch as batch

    pdf = sorted(corpus.glob("*.pdf"))[0]  # 6 pages: "big" with windows of 2 pages
    one, two = tmp_path / "one", tmp_path / "two"
    args = ["convert", "-q", str(pdf), "--max-pages-in-flight", "2"]
    assert main([*args, "--workers", "1", "-o", str(one)]) == 0
    calls = []
    real = batch._convert_big

    def spy(*a, **k):
        calls.append(a[1])
        return real(*a, **k)

    monkeypatch.setattr(batch, "BIG_FILE_BYTES", 0)
    monkeypatch.setattr(batch, "_convert_big", spy)
    assert main([*args, "--workers", "2", "-o", str(two)]) == 0
    assert calls == [str(pdf)]  # it took the page-parallel path
    name = pdf.stem
    assert (two / f"{name}.md").read_bytes() == (one / f"{name}.md").read_bytes()
    assert (two / f"{name}.chunks.jsonl").read_bytes() == (one / f"{name}.chunks.jsonl").read_bytes()
    assert normalized_json(two / f"{name}.json") == normalized_json(one / f"{name}.json")


def _dying_recognise_window(path, start, stop, config):
    """recognise_window, except that the worker dies outright (module level: it is pickled)."""
    os._exit(70)


def test_a_worker_dying_on_a_big_documents_window_retries_it_whole(corpus, tmp_path, monkeypatch, capsys):
    """A worker dies under a big document's window: that document is converted again as a whole on
    its own (not failed for good, which a rerun would skip), and the documents after it convert."""
    import docpipe.scheduler.batch as batch

    big, *rest = sorted(corpus.glob("*.pdf"))[:3]
    reference = tmp_path / "reference"
    assert main(["convert", "-q", "--workers", "1", str(big), "-o", str(reference)]) == 0
    monkeypatch.setattr(batch, "_is_big", lambda path, config: path == big)
    monkeypatch.setattr(batch, "recognise_window", _dying_recognise_window)
    out = tmp_path / "out"
    args = ["convert", "-q", "--workers", "2", "--max-pages-in-flight", "2", str(big), *map(str, rest)]
    assert main([*args, "-o", str(out)]) == 0
    assert "3 converted" in capsys.readouterr().err
    assert all((out / f"{p.stem}.json").exists() for p in rest)
    assert (out / f"{big.stem}.md").read_bytes() == (reference / f"{big.stem}.md").read_bytes()


def test_worker_state_keeps_engines_for_one_config():
    from docpipe.config import load_config
    from docpipe.scheduler.batch import WorkerState

    state = WorkerState(ocr_threads=3)
    config = load_config()
    engines = state.engines(config)
    assert state.engines(load_config()) is engines and engines.ocr_threads == 3
    other = state.engines(load_config(overrides={"convert": {"tables": False}}))
    assert other is not engines and other.config.convert.tables is False
