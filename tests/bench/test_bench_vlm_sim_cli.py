"""`docpipe bench --engine vlm --vlm-sim`: a short run whose JSON carries the simulator's figures."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from docpipe.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def _corpus(out: Path) -> Path:
    spec = importlib.util.spec_from_file_location(
        "make_bench_corpus", ROOT / "scripts" / "make_bench_corpus.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.build(out, docs=2, pages=3, big=0)
    return out


def test_bench_vlm_sim_reports_capacity(tmp_path, capsys):
    corpus = _corpus(tmp_path / "corpus")
    rc = main(
        [
            "bench", str(corpus), "--engine", "vlm", "--vlm-sim", "--json", "--workers", "1",
            "--max-concurrency", "4", "--sim-max-num-seqs", "4", "--sim-step-overhead", "0.001",
            "--sim-decode-per-seq", "0.0001", "--sim-output-tokens", "30",
        ]
    )  # fmt: skip
    assert rc == 0
    (summary,) = json.loads(capsys.readouterr().out)  # no baseline with --vlm-sim
    assert summary["tool"] == "docpipe" and summary["pages"] == 6 and not summary["failed"]
    sim = summary["vlm_sim"]
    assert sim["requests"] == 6 and sim["rejected"] == 0
    assert 0 < sim["capacity"] <= 1.0001 and 0 < sim["capacity_run"] <= 1.0001
    assert 0 < sim["occupancy"] <= 1.0001
    assert 1 <= sim["max_in_flight"] <= 4  # --max-concurrency bounds the requests of the one worker
    assert sim["visual_tokens_per_page"] >= 273 and sim["vlm_tokens_per_second"] > 0
