"""olmOCR-bench style unit tests: format, each checker, and the dev corpus test file."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
from rapidfuzz.distance import Levenshtein

from docpipe.eval.fuzzy_find import match_starts
from docpipe.eval.olmocr_bench import (
    BenchFormatError,
    load_tests,
    normalize_bench_text,
    parse_test,
    run_tests,
    summarize,
)

ROOT = Path(__file__).resolve().parents[2]
DEV_TESTS = ROOT / "fixtures" / "olmocr_bench" / "dev_corpus.jsonl"
CORPUS = Path("/work/shared/corpus/dev")


def _run(md: str, **fields) -> tuple[str, str]:
    test = parse_test({"pdf": "doc.pdf", "page": 1, "id": "t", **fields}, "inline")
    (result,) = run_tests([test], {"doc": md})
    return result.status, result.message


def test_normalization_folds_typography_and_emphasis() -> None:
    assert (
        normalize_bench_text("**Bold**  “quoted” — it’s _it_ snake_case\n\\*")
        == 'Bold "quoted" - it\'s it snake_case *'
    )


def test_present_and_absent() -> None:
    md = "# Title\n\nThe quick brown fox jumps over the lazy dog.\n\nPage 7"
    assert _run(md, type="present", text="quick brown fox")[0] == "pass"
    assert _run(md, type="present", text="quick brown cat")[0] == "fail"
    # One edit allowed: "cat" -> "fox" is 3 edits, "fex" is 1.
    assert _run(md, type="present", text="quick brown fex", max_diffs=1)[0] == "pass"
    assert _run(md, type="present", text="QUICK BROWN FOX")[0] == "fail"
    assert _run(md, type="present", text="QUICK BROWN FOX", case_sensitive=False)[0] == "pass"
    assert _run(md, type="absent", text="Page 7")[0] == "fail"
    assert _run(md, type="absent", text="Page 7", first_n=20)[0] == "pass"
    assert _run(md, type="present", text="Page 7", last_n=10)[0] == "pass"
    assert _run(md, type="absent", text="Footer text")[0] == "pass"
    # An empty document contains nothing, whatever partial alignment would say.
    assert _run("\n", type="present", text="a b")[0] == "fail"


def test_order() -> None:
    md = "Alpha heading\n\nbeta text\n\nGamma end"
    assert _run(md, type="order", before="Alpha heading", after="Gamma end")[0] == "pass"
    assert _run(md, type="order", before="Gamma end", after="Alpha heading")[0] == "fail"
    assert _run(md, type="order", before="Alpha headin9", after="Gamma end")[0] == "fail"
    assert _run(md, type="order", before="Alpha headin9", after="Gamma end", max_diffs=1)[0] == "pass"
    status, message = _run(md, type="order", before="Delta", after="Gamma end")
    assert status == "fail" and "not found" in message


TABLE_MD = (
    "| Name | Type | Size |\n|---|---|---|\n| alpha | int | 4 |\n| beta | char | 1 |\n\n"
    '<table><tr><th rowspan="2">Group</th><th colspan="2">Score</th></tr>'
    "<tr><th>min</th><th>max</th></tr><tr><td>g1</td><td>0.1</td><td>0.9</td></tr></table>"
)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"cell": "int", "left": "alpha", "right": "4", "up": "Type", "down": "char"}, "pass"),
        ({"cell": "int", "top_heading": "Type", "left_heading": "alpha"}, "pass"),
        ({"cell": "int", "right": "alpha"}, "fail"),
        ({"cell": "char", "up": "Type"}, "fail"),
        # HTML spans: "Score" spans both columns, so it heads 0.1 and 0.9; "Group" spans two rows.
        ({"cell": "0.9", "top_heading": "Score"}, "pass"),
        ({"cell": "0.9", "top_heading": "max", "left": "0.1"}, "pass"),
        ({"cell": "min", "up": "Score", "left": "Group"}, "pass"),
        ({"cell": "g1", "up": "Group"}, "pass"),
        ({"cell": "g1", "up": "min"}, "fail"),
        ({"cell": "missing"}, "fail"),
    ],
)
def test_table(fields: dict, expected: str) -> None:
    status, message = _run(TABLE_MD, type="table", **fields)
    assert status == expected, message


def test_table_ignores_markdown_tables_on_request() -> None:
    assert _run(TABLE_MD, type="table", cell="alpha", ignore_markdown_tables=True)[0] == "fail"
    assert _run("no table", type="table", cell="x")[1] == "no table in the document"


def test_missing_document_fails_and_summary_counts() -> None:
    tests = [
        parse_test({"pdf": "a.pdf", "id": "1", "type": "present", "text": "x"}, "i"),
        parse_test({"pdf": "b.pdf", "id": "2", "type": "present", "text": "x"}, "i"),
    ]
    results = run_tests(tests, {"a": "x"})
    assert [r.status for r in results] == ["pass", "fail"]
    summary = summarize(results)
    assert (summary.overall.passed, summary.overall.total, summary.overall.rate) == (1, 2, 0.5)
    assert summary.by_doc["b"].failed == 1


@pytest.mark.parametrize(
    "line",
    [
        '{"pdf": "a.pdf", "id": "1", "type": "nonsense", "text": "x"}',
        '{"pdf": "a.pdf", "id": "1", "type": "present"}',
        '{"pdf": "a.pdf", "type": "present", "text": "x"}',
        '{"pdf": "a.pdf", "id": "1", "type": "present", "text": "x", "max_diffs": -1}',
        '{"pdf": "a.pdf", "id": "1", "type": "order", "before": "ab", "after": "cd", "max_diffs": 2}',
        "not json",
    ],
)
def test_malformed_lines_are_rejected_with_location(tmp_path: Path, line: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"pdf": "a.pdf", "id": "0", "type": "present", "text": "ok"}\n\n' + line + "\n")
    with pytest.raises(BenchFormatError, match="bad.jsonl:3"):
        load_tests(path)


def test_folder_of_files_gives_categories(tmp_path: Path) -> None:
    (tmp_path / "headers.jsonl").write_text('{"pdf": "a.pdf", "id": "h1", "type": "absent", "text": "x"}\n')
    (tmp_path / "tables.jsonl").write_text('{"pdf": "a.pdf", "id": "t1", "type": "table", "cell": "x"}\n')
    tests = load_tests(tmp_path)
    assert [t.category for t in tests] == ["headers", "tables"]


def test_match_starts_agrees_with_brute_force() -> None:
    rng = random.Random(7)
    for _ in range(60):
        text = "".join(rng.choice("abc ") for _ in range(rng.randint(0, 30)))
        pattern = "".join(rng.choice("abc") for _ in range(rng.randint(1, 5)))
        k = rng.randint(0, 2)
        expected = sorted(
            {
                s
                for s in range(len(text) + 1)
                for e in range(s, len(text) + 1)
                if Levenshtein.distance(pattern, text[s:e]) <= k and (e > s or k >= len(pattern))
            }
        )
        got = match_starts(pattern, text, k)
        # A match may be empty only when k covers the whole pattern; starts at len(text) are
        # empty matches, which the search (working on reversed ends > 0) does not report.
        assert got == [s for s in expected if s < len(text)], (pattern, text, k)


def test_dev_corpus_test_file_shape() -> None:
    tests = load_tests(DEV_TESTS)
    assert len(tests) >= 40
    assert set(Counter(t.type for t in tests)) == {"present", "absent", "order", "table", "math"}
    lines = [json.loads(x) for x in DEV_TESTS.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert all({"pdf", "page", "id", "type"} <= set(obj) for obj in lines)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="dev corpus not present at /work/shared/corpus/dev")
def test_dev_corpus_tests_hold_on_ground_truth() -> None:
    """The reference Markdown satisfies every non-math fact (it writes the formula as a comment)."""
    tests = load_tests(DEV_TESTS)
    assert all((CORPUS / "pdf" / t.pdf).is_file() for t in tests)
    truth = {p.stem: p.read_text(encoding="utf-8") for p in (CORPUS / "groundtruth").glob("*.md")}
    non_math = [t for t in tests if t.type != "math"]
    failures = [(r.test.id, r.message) for r in run_tests(non_math, truth) if r.status != "pass"]
    assert failures == []
    # And the facts are not vacuous: an empty or shuffled prediction fails most of them.
    empty = run_tests(non_math, {k: "" for k in truth})
    assert sum(r.status == "pass" for r in empty) == sum(t.type == "absent" for t in non_math)


def test_folders_are_searched_recursively_and_parts_merge_by_stem(tmp_path: Path) -> None:
    (tmp_path / "part1").mkdir()
    (tmp_path / "part2" / "deeper").mkdir(parents=True)
    (tmp_path / "part1" / "tables.jsonl").write_text(
        '{"pdf": "a.pdf", "id": "t1", "type": "table", "cell": "x"}\n'
    )
    (tmp_path / "part2" / "tables.jsonl").write_text(
        '{"pdf": "b.pdf", "id": "t2", "type": "table", "cell": "y"}\n'
    )
    (tmp_path / "part2" / "deeper" / "order.jsonl").write_text(
        '{"pdf": "b.pdf", "id": "o1", "type": "order", "before": "a", "after": "b"}\n'
    )
    (tmp_path / "part2" / "notes.txt").write_text("not a test file\n")
    tests = load_tests(tmp_path)
    assert [(t.id, t.category) for t in tests] == [("t1", "tables"), ("o1", "order"), ("t2", "tables")]
    assert summarize(run_tests(tests, {})).by_category.keys() == {"tables", "order"}


def test_duplicate_ids_across_parts_are_rejected(tmp_path: Path) -> None:
    for part in ("part1", "part2"):
        (tmp_path / part).mkdir()
        (tmp_path / part / "text.jsonl").write_text(
            '{"pdf": "a.pdf", "id": "same", "type": "present", "text": "x"}\n'
        )
    with pytest.raises(BenchFormatError, match="part2/text.jsonl:1: duplicate test id 'same'"):
        load_tests(tmp_path)


def test_a_folder_without_test_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(BenchFormatError, match="no .jsonl test files"):
        load_tests(tmp_path)
