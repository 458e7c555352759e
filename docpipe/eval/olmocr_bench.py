"""Unit tests in the olmOCR-bench JSONL format, scored on any Markdown.

One JSON object per line; blank lines are allowed. Fields (as the olmOCR-bench format defines):

- every test: `id`, `type` (present, absent, order, table, math), `pdf` (file name; its stem names
  the Markdown file `STEM.md`), `page` (1-based, informational here: docpipe scores whole
  documents), optional `max_diffs` (edits tolerated, default 0), optional `checked`, `url`.
- present / absent: `text`, optional `case_sensitive` (default true), `first_n` / `last_n` (only
  look at the first / last N characters of the normalized Markdown).
- order: `before`, `after` (some match of `before` must start before some match of `after`).
- table: `cell` and any of `up`, `down`, `left`, `right` (the adjacent cell), `top_heading`,
  `left_heading` (a header cell above it / the first cell of its row); optional
  `ignore_markdown_tables`.
- math: `math` (LaTeX), optional `ignore_dollar_delimited`.

Matching, as the format defines it: texts are compared after normalization (Unicode NFC, Markdown
emphasis removed, typographic quotes and dashes folded to ASCII, whitespace collapsed). present and
absent use the best partial alignment with threshold 1 - max_diffs / len(text); order uses
approximate substring search with at most max_diffs edits; table cells use the similarity ratio with
threshold max(0.5, 1 - max_diffs / len(text)); math renders both sides with KaTeX and compares
glyph layouts (skipped, with the reason, when Chromium or KaTeX is missing).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from docpipe.eval.fuzzy_find import match_starts
from docpipe.eval.katex_render import RenderResult, render_latex, unavailable_reason
from docpipe.eval.math_match import extract_formulas, layout_contains
from docpipe.eval.tables import Table, parse_html_tables, parse_markdown_tables

TEST_TYPES = ("present", "absent", "order", "table", "math")
_RELATIONS = ("up", "down", "left", "right", "top_heading", "left_heading")
_FIELDS: dict[str, tuple[str, ...]] = {
    "present": ("text",),
    "absent": ("text",),
    "order": ("before", "after"),
    "table": ("cell",),
    "math": ("math",),
}

_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00ad": "",
        "\u00a0": " ",
    }
)
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_EMPHASIS_TAGS = re.compile(r"</?(?:b|i|strong|em|u)\s*>", re.IGNORECASE)
_STRONG = re.compile(r"\*\*|__")
# A single * or _ that opens or closes emphasis: not between two word characters (snake_case stays).
_EMPH = re.compile(r"(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>])")
_SPACE = re.compile(r"\s+")
_PROTECT = {"*": "\ue000", "_": "\ue001"}
_UNPROTECT = str.maketrans({v: k for k, v in _PROTECT.items()})
# Scores are ratios of small integers; a hair of slack keeps "exactly at threshold" a pass.
_EPS = 1e-9


def normalize_bench_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = _BR.sub(" ", text)
    text = _EMPHASIS_TAGS.sub("", text)
    # Escaped \* and \_ are literal characters: hide them from the emphasis removal.
    text = _ESCAPE.sub(lambda m: _PROTECT.get(m.group(1), m.group(1)), text)
    text = _STRONG.sub("", text)
    text = _EMPH.sub("", text)
    text = text.translate(_UNPROTECT).translate(_FOLD)
    return _SPACE.sub(" ", text).strip()


class BenchFormatError(ValueError):
    """A test file line that is not a valid test; the message names the file and line."""


@dataclass
class BenchTest:
    id: str
    type: str
    pdf: str
    page: int
    fields: dict[str, Any]
    # Which file the test came from (its stem), the olmOCR-bench notion of a category.
    category: str = ""
    max_diffs: int = 0

    @property
    def doc(self) -> str:
        """Name of the Markdown file the test applies to (without .md)."""
        return Path(self.pdf).stem

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)


@dataclass
class TestResult:
    test: BenchTest
    status: str  # "pass", "fail" or "skip"
    message: str = ""

    __test__ = False  # not a pytest class


def parse_test(obj: Any, where: str, category: str = "") -> BenchTest:
    if not isinstance(obj, dict):
        raise BenchFormatError(f"{where}: expected a JSON object")
    for key in ("id", "type", "pdf"):
        if not isinstance(obj.get(key), str) or not obj[key]:
            raise BenchFormatError(f"{where}: field {key!r} must be a non-empty string")
    kind = obj["type"]
    if kind not in TEST_TYPES:
        raise BenchFormatError(f"{where}: type {kind!r} is not one of {', '.join(TEST_TYPES)}")
    for key in _FIELDS[kind]:
        if not isinstance(obj.get(key), str) or not obj[key].strip():
            raise BenchFormatError(f"{where}: a {kind} test needs a non-empty string {key!r}")
    max_diffs = obj.get("max_diffs", 0)
    if not isinstance(max_diffs, int) or isinstance(max_diffs, bool) or max_diffs < 0:
        raise BenchFormatError(f"{where}: max_diffs must be an integer >= 0")
    page = obj.get("page", 1)
    if not isinstance(page, int) or isinstance(page, bool) or page < 1:
        raise BenchFormatError(f"{where}: page must be an integer >= 1")
    for key in ("first_n", "last_n"):
        value = obj.get(key)
        if value is not None and (not isinstance(value, int) or value < 1):
            raise BenchFormatError(f"{where}: {key} must be a positive integer")
    if kind == "order":
        for key in ("before", "after"):
            if max_diffs > len(normalize_bench_text(obj[key])) // 2:
                raise BenchFormatError(f"{where}: max_diffs exceeds half of {key!r}")
    return BenchTest(obj["id"], kind, obj["pdf"], page, dict(obj), category, max_diffs)


def bench_files(path: str | Path) -> list[Path]:
    """The JSONL file itself, or every *.jsonl anywhere below a folder, in path order. Checks may be
    written in parts (part1/tables.jsonl, part2/tables.jsonl): the file stem stays the category."""
    path = Path(path)
    if not path.is_dir():
        return [path]
    return sorted(p for p in path.rglob("*.jsonl") if p.is_file())


def load_tests(path: str | Path) -> list[BenchTest]:
    """Tests from one JSONL file or every *.jsonl below a folder; ids must be unique across files."""
    path = Path(path)
    files = bench_files(path)
    if not files:
        raise BenchFormatError(f"{path}: no .jsonl test files")
    tests: list[BenchTest] = []
    seen: set[str] = set()
    for file in files:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{file}:{number}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BenchFormatError(f"{where}: invalid JSON ({exc.msg})") from exc
            test = parse_test(obj, where, file.stem)
            if test.id in seen:
                raise BenchFormatError(f"{where}: duplicate test id {test.id!r}")
            seen.add(test.id)
            tests.append(test)
    return tests


# ----------------------------------------------------------------------------- text checks


def _threshold(max_diffs: int, text: str) -> float:
    return 1.0 - max_diffs / max(len(text), 1)


def check_text(test: BenchTest, markdown: str) -> TestResult:
    """present / absent."""
    query = normalize_bench_text(test.get("text"))
    content = normalize_bench_text(markdown)
    if not test.get("case_sensitive", True):
        query, content = query.lower(), content.lower()
    first_n, last_n = test.get("first_n"), test.get("last_n")
    if first_n and last_n:
        content = content[:first_n] + content[-last_n:]
    elif first_n:
        content = content[:first_n]
    elif last_n:
        content = content[-last_n:]
    present = test.type == "present"
    # partial_ratio aligns the shorter string inside the longer one: a content shorter than the
    # query would be "found" inside the query, so such a content cannot contain it.
    if len(content) < len(query) - test.max_diffs:
        found, score = False, 0.0
    else:
        score = fuzz.partial_ratio(query, content) / 100.0
        found = score + _EPS >= _threshold(test.max_diffs, query)
    if found == present:
        return TestResult(test, "pass")
    what = "not found" if present else "found"
    return TestResult(test, "fail", f"{query[:60]!r} {what} (best alignment {score:.3f})")


def check_order(test: BenchTest, markdown: str) -> TestResult:
    content = normalize_bench_text(markdown)
    before, after = normalize_bench_text(test.get("before")), normalize_bench_text(test.get("after"))
    starts_before = match_starts(before, content, test.max_diffs)
    if not starts_before:
        return TestResult(test, "fail", f"'before' text {before[:60]!r} not found")
    starts_after = match_starts(after, content, test.max_diffs)
    if not starts_after:
        return TestResult(test, "fail", f"'after' text {after[:60]!r} not found")
    if starts_before[0] < starts_after[-1]:
        return TestResult(test, "pass")
    return TestResult(test, "fail", f"{before[:40]!r} does not appear before {after[:40]!r}")


# ----------------------------------------------------------------------------- table checks


def _neighbours(table: Table, grid: list[list[int | None]], index: int, relation: str) -> set[int]:
    """Indices of the cells in `relation` to cell `index` (spans respected, self excluded)."""
    cell = table.cells[index]
    rows = range(cell.row, min(cell.row + cell.rowspan, table.n_rows))
    cols = range(cell.col, min(cell.col + cell.colspan, table.n_cols))
    slots: list[tuple[int, int]] = []
    if relation == "up":
        slots = [(cell.row - 1, c) for c in cols]
    elif relation == "down":
        slots = [(cell.row + cell.rowspan, c) for c in cols]
    elif relation == "left":
        slots = [(r, cell.col - 1) for r in rows]
    elif relation == "right":
        slots = [(r, cell.col + cell.colspan) for r in rows]
    elif relation == "left_heading":
        slots = [(r, 0) for r in rows]
    elif relation == "top_heading":
        above = [(r, c) for c in cols for r in range(cell.row)]
        headers = [s for s in above if grid[s[0]][s[1]] is not None and table.cells[grid[s[0]][s[1]]].header]
        # Without header markup the first row is the heading row.
        slots = headers or [(0, c) for c in cols]
    found = set()
    for r, c in slots:
        if 0 <= r < table.n_rows and 0 <= c < table.n_cols:
            other = grid[r][c]
            if other is not None and other != index:
                found.add(other)
    return found


def _similar(expected: str, actual: str, max_diffs: int) -> bool:
    threshold = max(0.5, _threshold(max_diffs, expected))
    return fuzz.ratio(expected, normalize_bench_text(actual)) / 100.0 + _EPS >= threshold


def check_table(test: BenchTest, markdown: str) -> TestResult:
    tables = [] if test.get("ignore_markdown_tables") else parse_markdown_tables(markdown)
    tables += parse_html_tables(markdown)
    if not tables:
        return TestResult(test, "fail", "no table in the document")
    target = normalize_bench_text(test.get("cell"))
    wanted = {rel: normalize_bench_text(test.get(rel)) for rel in _RELATIONS if test.get(rel)}
    target_seen = False
    last_problem = ""
    for table in tables:
        grid = table.grid()
        for index, cell in enumerate(table.cells):
            if not _similar(target, cell.text, test.max_diffs):
                continue
            target_seen = True
            problems = []
            for rel, expected in wanted.items():
                near = _neighbours(table, grid, index, rel)
                if not any(_similar(expected, table.cells[k].text, test.max_diffs) for k in near):
                    got = ", ".join(repr(table.cells[k].text[:30]) for k in sorted(near)) or "nothing"
                    problems.append(f"{rel} is {got}, expected {expected[:30]!r}")
            if not problems:
                return TestResult(test, "pass")
            last_problem = "; ".join(problems)
    if not target_seen:
        return TestResult(test, "fail", f"no table cell matches {target[:60]!r}")
    return TestResult(test, "fail", f"cell {target[:40]!r} found but {last_problem}")


# ----------------------------------------------------------------------------- math checks


def _check_math_batch(items: list[tuple[BenchTest, str]]) -> list[TestResult]:
    reason = unavailable_reason()
    if reason:
        return [TestResult(t, "skip", reason) for t, _ in items]
    pending: list[tuple[BenchTest, list[str]]] = []
    results: dict[str, TestResult] = {}
    for test, markdown in items:
        expected = test.get("math").strip()
        formulas = extract_formulas(markdown, include_dollar=not test.get("ignore_dollar_delimited"))
        if expected in formulas:
            results[test.id] = TestResult(test, "pass")
        elif not formulas:
            results[test.id] = TestResult(test, "fail", "no formula in the document")
        else:
            pending.append((test, formulas))
    if pending:
        # One browser launch for every expression of every pending test.
        exprs = sorted({t.get("math").strip() for t, _ in pending} | {f for _, fs in pending for f in fs})
        rendered: dict[str, RenderResult] = dict(zip(exprs, render_latex(exprs), strict=True))
        for test, formulas in pending:
            reference = rendered[test.get("math").strip()]
            if not reference.ok:
                results[test.id] = TestResult(
                    test, "fail", f"expected formula does not render: {reference.error}"
                )
                continue
            ranked = sorted(formulas, key=lambda f: -fuzz.ratio(f, reference.expr))
            if any(layout_contains(reference, rendered[f]) for f in ranked):
                results[test.id] = TestResult(test, "pass")
            else:
                results[test.id] = TestResult(
                    test, "fail", f"no formula renders like {reference.expr[:60]!r}"
                )
    return [results[t.id] for t, _ in items]


# ----------------------------------------------------------------------------- running


_CHECKS = {"present": check_text, "absent": check_text, "order": check_order, "table": check_table}


def run_tests(tests: list[BenchTest], markdown_by_doc: Mapping[str, str | None]) -> list[TestResult]:
    """Score tests against Markdown keyed by document stem; a missing document fails its tests."""
    results: dict[str, TestResult] = {}
    math_items: list[tuple[BenchTest, str]] = []
    for test in tests:
        markdown = markdown_by_doc.get(test.doc)
        if markdown is None:
            results[test.id] = TestResult(test, "fail", f"no prediction for {test.doc}")
        elif test.type == "math":
            math_items.append((test, markdown))
        else:
            results[test.id] = _CHECKS[test.type](test, markdown)
    for result in _check_math_batch(math_items):
        results[result.test.id] = result
    return [results[t.id] for t in tests]


@dataclass
class PassRate:
    passed: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.failed

    @property
    def rate(self) -> float | None:
        return self.passed / self.total if self.total else None

    def add(self, status: str) -> None:
        if status == "pass":
            self.passed += 1
        elif status == "fail":
            self.failed += 1
        else:
            self.skipped += 1


@dataclass
class BenchSummary:
    overall: PassRate = field(default_factory=PassRate)
    by_type: dict[str, PassRate] = field(default_factory=dict)
    by_category: dict[str, PassRate] = field(default_factory=dict)
    by_doc: dict[str, PassRate] = field(default_factory=dict)


def summarize(results: list[TestResult]) -> BenchSummary:
    """Pass rates overall, per test type, per test file and per document (skips not counted)."""
    summary = BenchSummary()
    for r in results:
        summary.overall.add(r.status)
        summary.by_type.setdefault(r.test.type, PassRate()).add(r.status)
        summary.by_category.setdefault(r.test.category, PassRate()).add(r.status)
        summary.by_doc.setdefault(r.test.doc, PassRate()).add(r.status)
    return summary
