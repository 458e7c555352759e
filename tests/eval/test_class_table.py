"""Pass rates per class for two tools, side by side: aggregation, totals, marks, formatting."""

from __future__ import annotations

from docpipe.eval.class_table import (
    NOT_ABOVE,
    NOT_SCORED,
    TOTAL,
    class_key,
    class_rates,
    format_side_by_side,
    is_above,
    rows_to_dict,
    side_by_side,
)
from docpipe.eval.olmocr_bench import BenchTest, PassRate, TestResult


def _result(category: str, kind: str, status: str, n: int = 0) -> TestResult:
    test = BenchTest(f"{category}-{kind}-{status}-{n}", kind, "a.pdf", 1, {}, category)
    return TestResult(test, status)


def _results(spec: dict[tuple[str, str], tuple[int, int, int]]) -> list[TestResult]:
    """(category, type) -> (passed, failed, skipped)."""
    out = []
    for (category, kind), counts in spec.items():
        for status, count in zip(("pass", "fail", "skip"), counts, strict=True):
            out += [_result(category, kind, status, i) for i in range(count)]
    return out


def test_rates_per_category_count_passes_fails_and_skips_apart() -> None:
    results = _results(
        {
            ("tables", "table"): (2, 1, 0),
            ("order", "order"): (0, 2, 0),
            ("tables", "present"): (1, 0, 0),
            ("math", "math"): (0, 0, 3),
        }
    )
    rates = class_rates(results, "category")
    assert list(rates) == ["math", "order", "tables"]
    assert (rates["tables"].passed, rates["tables"].failed, rates["tables"].skipped) == (3, 1, 0)
    assert rates["order"].rate == 0.0
    assert rates["math"].rate is None and rates["math"].skipped == 3


def test_single_file_of_checks_is_split_by_type() -> None:
    one_file = _results({("dev_corpus", "present"): (1, 0, 0), ("dev_corpus", "table"): (0, 1, 0)})
    assert class_key(one_file) == "type"
    assert list(class_rates(one_file, "type")) == ["present", "table"]
    two_files = one_file + _results({("order", "order"): (1, 0, 0)})
    assert class_key(two_files) == "category"


def test_side_by_side_rows_cover_both_sides_and_total_them() -> None:
    ours = {"tables": PassRate(3, 1), "text": PassRate(5, 0)}
    theirs = {"tables": PassRate(4, 0), "order": PassRate(1, 1)}
    rows = side_by_side(ours, theirs)
    assert [r.name for r in rows] == ["order", "tables", "text", TOTAL]
    total = rows[-1]
    assert (total.ours.passed, total.ours.failed) == (8, 1)
    assert (total.theirs.passed, total.theirs.failed) == (5, 1)
    by_name = {r.name: r for r in rows}
    assert by_name["order"].ours is None and not by_name["order"].above
    assert not by_name["tables"].above and by_name["tables"].delta_points == -25.0
    assert by_name["text"].above and by_name["text"].delta_points is None


def test_a_tie_is_not_above_and_nothing_scored_is_not_above() -> None:
    assert not is_above(PassRate(2, 2), PassRate(1, 1))
    assert is_above(PassRate(3, 1), PassRate(1, 1))
    assert not is_above(PassRate(0, 0, 2), PassRate(0, 1))
    assert is_above(PassRate(1, 0), PassRate(0, 0, 1))


def test_formatted_table_marks_classes_not_above_the_baseline() -> None:
    rows = side_by_side(
        {"tables": PassRate(1, 1), "text": PassRate(2, 0)}, {"tables": PassRate(2, 0), "text": PassRate(1, 1)}
    )
    lines = format_side_by_side(rows, ("docpipe", "pymupdf4llm"), title="category").splitlines()
    assert lines[0].split() == ["category", "docpipe", "pymupdf4llm", "delta"]
    assert set(lines[1]) <= {"-", " "}
    tables, text, total = lines[2:]
    assert tables.startswith("tables") and "1/2 (50%)" in tables and "2/2 (100%)" in tables
    assert tables.endswith(NOT_ABOVE) and "-50 pt" in tables
    assert text.startswith("text") and not text.endswith(NOT_ABOVE) and "+50 pt" in text
    assert total.startswith(TOTAL) and "3/4 (75%)" in total and total.endswith(NOT_ABOVE)
    # Columns line up: every rate column ends at the same offset.
    assert len({line.index("pt") for line in lines[2:]}) == 1


def test_rows_to_dict_keeps_counts_and_marks() -> None:
    rows = side_by_side({"text": PassRate(1, 1, 1)}, {})
    data = rows_to_dict(rows, ("docpipe", "pymupdf4llm"))
    assert data[0] == {
        "class": "text",
        "docpipe": {"passed": 1, "failed": 1, "skipped": 1, "rate": 0.5},
        "pymupdf4llm": None,
        "delta_points": None,
        "above": True,
        "scored": True,
    }
    assert data[1]["class"] == TOTAL and data[1]["pymupdf4llm"]["rate"] is None


def test_a_class_skipped_on_both_sides_is_marked_not_scored() -> None:
    rows = side_by_side({"math": PassRate(0, 0, 3), "text": PassRate(1, 1)}, {"math": PassRate(0, 0, 3)})
    by_name = {r.name: r for r in rows}
    assert not by_name["math"].scored and by_name["math"].mark == NOT_SCORED
    assert by_name["text"].mark == ""
    lines = format_side_by_side(rows, ("docpipe", "pymupdf4llm")).splitlines()
    assert lines[2].startswith("math") and lines[2].endswith(NOT_SCORED) and "+3 skipped" in lines[2]
