"""The dev corpus scored with docpipe's default engine: the mean text similarity and the unit-test
pass rate are printed (run pytest with -s to see them) and held to the level recorded in the README."""

from __future__ import annotations

import json
from pathlib import Path

from docpipe.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def test_dev_corpus_with_default_engine(corpus, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["convert", "-q", "--workers", "2", str(corpus / "pdf"), "-o", str(out)]) == 0
    capsys.readouterr()
    tests = ROOT / "fixtures" / "olmocr_bench" / "dev_corpus.jsonl"
    rc = main(
        ["eval", "--pred", str(out), "--truth", str(corpus / "groundtruth"), "--tests", str(tests), "--json"]
    )
    assert rc == 0
    report = json.loads(capsys.readouterr().out)
    mean = report["mean"]["edit_similarity"]
    overall = report["tests"]["overall"]
    passed, total = overall["passed"], overall["passed"] + overall["failed"] + overall["skipped"]
    with capsys.disabled():
        print(f"\ndev corpus, --engine auto: mean edit similarity {mean:.3f}, unit tests {passed}/{total}")
    assert mean >= 0.95
    assert total >= 40 and passed / total >= 0.9
