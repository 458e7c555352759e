"""Unit-test pass rates per class for two tools, side by side, with the classes where the first tool
does not beat the second marked.

A class is the test's category (its file's stem: tables, order, ...). A test set with a single
category (the dev corpus's one file) is split by test type instead, so the table still says where
the tools differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from docpipe.eval.olmocr_bench import PassRate, TestResult
from docpipe.eval.report import fmt_rate, render_table

TOTAL = "ALL"
NOT_ABOVE = "<= baseline"
NOT_SCORED = "not scored"  # every check of the class skipped on both sides (math without KaTeX)


def class_key(results: Iterable[TestResult]) -> str:
    """ "category" when the tests come from several files, else "type"."""
    return "category" if len({r.test.category for r in results}) > 1 else "type"


def class_rates(results: Iterable[TestResult], key: str) -> dict[str, PassRate]:
    """PassRate per class (key "category" or "type"); skipped tests are counted apart, as skips."""
    rates: dict[str, PassRate] = {}
    for r in results:
        name = r.test.category if key == "category" else r.test.type
        rates.setdefault(name, PassRate()).add(r.status)
    return dict(sorted(rates.items()))


def total_rate(rates: Mapping[str, PassRate]) -> PassRate:
    total = PassRate()
    for rate in rates.values():
        total.passed += rate.passed
        total.failed += rate.failed
        total.skipped += rate.skipped
    return total


def is_above(ours: PassRate | None, theirs: PassRate | None) -> bool:
    """Strictly better pass rate; a class with nothing scored for us is not above anything."""
    if ours is None or ours.rate is None:
        return False
    if theirs is None or theirs.rate is None:
        return True
    return ours.rate > theirs.rate


@dataclass
class ClassRow:
    name: str
    ours: PassRate | None
    theirs: PassRate | None

    @property
    def above(self) -> bool:
        return is_above(self.ours, self.theirs)

    @property
    def scored(self) -> bool:
        return any(r is not None and r.total > 0 for r in (self.ours, self.theirs))

    @property
    def mark(self) -> str:
        if self.above:
            return ""
        return NOT_ABOVE if self.scored else NOT_SCORED

    @property
    def delta_points(self) -> float | None:
        """Difference of pass rates in percentage points (ours - theirs)."""
        if self.ours is None or self.theirs is None or self.ours.rate is None or self.theirs.rate is None:
            return None
        return 100.0 * (self.ours.rate - self.theirs.rate)


def side_by_side(ours: Mapping[str, PassRate], theirs: Mapping[str, PassRate]) -> list[ClassRow]:
    """One row per class either side scored, then the totals row."""
    names = sorted(set(ours) | set(theirs))
    rows = [ClassRow(n, ours.get(n), theirs.get(n)) for n in names]
    rows.append(ClassRow(TOTAL, total_rate(ours), total_rate(theirs)))
    return rows


def format_side_by_side(rows: list[ClassRow], labels: tuple[str, str], title: str = "class") -> str:
    header = [title, *labels, "delta", ""]
    body = []
    for row in rows:
        delta = row.delta_points
        body.append(
            [
                row.name,
                fmt_rate(row.ours),
                fmt_rate(row.theirs),
                "-" if delta is None else f"{delta:+.0f} pt",
                row.mark,
            ]
        )
    return render_table(header, body)


def rate_dict(rate: PassRate | None) -> dict[str, Any] | None:
    if rate is None:
        return None
    return {"passed": rate.passed, "failed": rate.failed, "skipped": rate.skipped, "rate": rate.rate}


def rows_to_dict(rows: list[ClassRow], labels: tuple[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "class": row.name,
            labels[0]: rate_dict(row.ours),
            labels[1]: rate_dict(row.theirs),
            "delta_points": row.delta_points,
            "above": row.above,
            "scored": row.scored,
        }
        for row in rows
    ]
