"""`docpipe eval` end to end: scoring saved Markdown, comparing engines, usage errors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from docpipe.cli import eval_cmd


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="docpipe")
    eval_cmd.add_parser(parser.add_subparsers())
    args = parser.parse_args(["eval", *argv])
    return args.func(args)


@pytest.fixture()
def folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    truth, pred = tmp_path / "truth", tmp_path / "pred"
    truth.mkdir()
    pred.mkdir()
    (truth / "a.md").write_text("# Alpha\n\nhello world\n\n| k | v |\n|---|---|\n| x | 1 |\n")
    (truth / "b.md").write_text("second document")
    (pred / "a.md").write_text("## Alpha\n\nhello worle\n\n<table><tr><td>k</td><td>v</td></tr></table>\n")
    tests = tmp_path / "tests.jsonl"
    tests.write_text(
        '{"pdf": "a.pdf", "page": 1, "id": "a1", "type": "present", "text": "hello world"}\n'
        '{"pdf": "a.pdf", "page": 1, "id": "a2", "type": "order", "before": "Alpha", "after": "hello"}\n'
        '{"pdf": "a.pdf", "page": 1, "id": "a3", "type": "table", "cell": "k", "right": "v"}\n'
        '{"pdf": "b.pdf", "page": 1, "id": "b1", "type": "absent", "text": "nothing"}\n'
    )
    return pred, truth, tests


def test_pred_truth_tests_json(folders, capsys: pytest.CaptureFixture[str]) -> None:
    pred, truth, tests = folders
    assert _main(["--pred", str(pred), "--truth", str(truth), "--tests", str(tests), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    docs = {d["name"]: d for d in out["documents"]}
    # "Alpha hello world k v x 1" vs "Alpha hello worle k v": 1 substitution + " x 1" (4) deleted.
    assert docs["a"]["cer"] == pytest.approx(5 / len("Alpha hello world k v x 1"))
    # The truth table has 2 rows; the prediction only the first: 3 of 7 nodes missing.
    assert docs["a"]["tables"]["teds"] == pytest.approx(1 - 3 / 7)
    assert docs["b"]["missing"] is True and docs["b"]["cer"] == 1.0
    # a1 fails ("worle"), b has no prediction so its absent test fails like any test of a missing doc.
    assert out["tests"]["overall"] == {"passed": 2, "failed": 2, "skipped": 0, "rate": 0.5}
    assert [f["id"] for f in out["tests"]["failures"]] == ["a1", "b1"]


def test_pred_truth_text_tables(folders, capsys: pytest.CaptureFixture[str]) -> None:
    pred, truth, tests = folders
    assert _main(["--pred", str(pred), "--truth", str(truth), "--tests", str(tests), "-v"]) == 0
    out = capsys.readouterr().out
    assert "b (missing)" in out
    assert "type: order" in out and "2/4 (50%)" in out
    assert "FAIL  b1" in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--pred", "x"],
        ["--pred", "nowhere", "--truth", "nowhere"],
        ["--engine", "pymupdf4llm", "--truth", "."],
        ["--engine", "auto", "--pred", ".", "--truth", "."],
    ],
)
def test_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(argv) == 2
    assert "docpipe eval: error:" in capsys.readouterr().err


def test_bad_test_file_is_a_usage_error(folders, tmp_path: Path, capsys) -> None:
    pred, truth, _ = folders
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"pdf": "a.pdf", "id": "1", "type": "presence", "text": "x"}\n')
    assert _main(["--pred", str(pred), "--tests", str(bad)]) == 2
    assert "bad.jsonl:1" in capsys.readouterr().err


def test_engine_comparison_with_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pymupdf = pytest.importorskip("pymupdf")
    pytest.importorskip("pymupdf4llm")
    pdf = tmp_path / "inputs" / "note.pdf"
    pdf.parent.mkdir()
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Quarterly report", fontsize=18)
    page.insert_text((72, 110), "Revenue grew in every region this year.", fontsize=11)
    doc.save(pdf)
    truth = tmp_path / "truth"
    truth.mkdir()
    (truth / "note.md").write_text("# Quarterly report\n\nRevenue grew in every region this year.\n")
    tests = tmp_path / "t.jsonl"
    tests.write_text(
        '{"pdf": "note.pdf", "page": 1, "id": "n1", "type": "order", '
        '"before": "Quarterly report", "after": "Revenue grew"}\n'
    )
    save = tmp_path / "saved"
    argv = ["--engine", "pymupdf4llm", "--engine", "textlayer", "--truth", str(truth), "--tests", str(tests)]
    rc = _main([*argv, "--save", str(save), "--json", str(pdf.parent)])
    captured = capsys.readouterr()
    assert captured.out.startswith("{"), captured
    out = json.loads(captured.out)
    assert rc == 0, out
    engines = {e["engine"]: e for e in out["engines"]}
    assert set(engines) == {"pymupdf4llm", "textlayer"}
    for result in engines.values():
        assert result["errors"] == {}
        assert result["pages"] == 1 and result["pages_per_second"] > 0
        assert result["report"]["mean"]["edit_similarity"] > 0.9
        assert result["report"]["tests"]["overall"]["passed"] == 1
    assert "Revenue grew" in (save / "pymupdf4llm" / "note.md").read_text()


def test_engine_failure_is_recorded_and_exit_status_1(tmp_path: Path, capsys) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not really a pdf")
    tests = tmp_path / "t.jsonl"
    tests.write_text('{"pdf": "broken.pdf", "id": "x", "type": "present", "text": "anything"}\n')
    assert _main(["--engine", "pymupdf4llm", "--tests", str(tests), str(broken)]) == 1
    out = capsys.readouterr().out
    assert "broken failed:" in out and "0/1" in out
