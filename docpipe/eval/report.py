"""Score a folder of predicted Markdown against ground truth: text, tables and unit tests.

Predictions and truths are matched by file stem (`NAME.md`). Per document: normalized edit
similarity, CER and WER on the text; TEDS and structure-only TEDS on the tables; pass counts of the
olmOCR-style unit tests that name the document. Then means over documents and pass rates per test
type and per test file (the olmOCR-bench notion of a category).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from docpipe.eval.olmocr_bench import BenchSummary, BenchTest, PassRate, TestResult, run_tests, summarize
from docpipe.eval.teds import TableScores, document_table_scores
from docpipe.eval.text import char_error_rate, normalized_edit_similarity, word_error_rate


@dataclass
class DocScores:
    name: str
    missing: bool  # no prediction for this truth document: scored as an empty prediction
    edit_similarity: float
    cer: float
    wer: float
    tables: TableScores


@dataclass
class EvalReport:
    docs: list[DocScores] = field(default_factory=list)
    test_results: list[TestResult] = field(default_factory=list)
    tests: BenchSummary | None = None

    def means(self) -> dict[str, float | None]:
        def mean(values: list[float | None]) -> float | None:
            present = [v for v in values if v is not None]
            return statistics.fmean(present) if present else None

        return {
            "edit_similarity": mean([d.edit_similarity for d in self.docs]),
            "cer": mean([d.cer for d in self.docs]),
            "wer": mean([d.wer for d in self.docs]),
            "teds": mean([d.tables.teds for d in self.docs]),
            "teds_struct": mean([d.tables.teds_struct for d in self.docs]),
        }

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "documents": [asdict(d) for d in self.docs],
            "mean": self.means(),
        }
        if self.tests is not None:
            out["tests"] = {
                "overall": _rate_dict(self.tests.overall),
                "by_type": {k: _rate_dict(v) for k, v in sorted(self.tests.by_type.items())},
                "by_category": {k: _rate_dict(v) for k, v in sorted(self.tests.by_category.items())},
                "by_document": {k: _rate_dict(v) for k, v in sorted(self.tests.by_doc.items())},
                "failures": [
                    {
                        "id": r.test.id,
                        "type": r.test.type,
                        "doc": r.test.doc,
                        "status": r.status,
                        "message": r.message,
                    }
                    for r in self.test_results
                    if r.status != "pass"
                ],
            }
        return out


def _rate_dict(rate: PassRate) -> dict[str, Any]:
    return {"passed": rate.passed, "failed": rate.failed, "skipped": rate.skipped, "rate": rate.rate}


def read_markdown_folder(folder: str | Path) -> dict[str, str]:
    """NAME -> text for every NAME.md directly inside `folder`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder of .md files")
    return {p.stem: p.read_text(encoding="utf-8", errors="replace") for p in sorted(folder.glob("*.md"))}


def score_document(name: str, pred: str | None, truth: str) -> DocScores:
    text = pred if pred is not None else ""
    return DocScores(
        name=name,
        missing=pred is None,
        edit_similarity=normalized_edit_similarity(text, truth),
        cer=char_error_rate(text, truth),
        wer=word_error_rate(text, truth),
        tables=document_table_scores(text, truth),
    )


def evaluate(
    pred: Mapping[str, str],
    truth: Mapping[str, str] | None = None,
    tests: list[BenchTest] | None = None,
) -> EvalReport:
    """Scores for every truth document (if truths are given) and every unit test (if given)."""
    report = EvalReport()
    for name in sorted(truth or {}):
        report.docs.append(score_document(name, pred.get(name), (truth or {})[name]))
    if tests:
        report.test_results = run_tests(tests, pred)
        report.tests = summarize(report.test_results)
    return report


# ----------------------------------------------------------------------------- text tables


def fmt_number(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def fmt_rate(rate: PassRate | None) -> str:
    if rate is None or (rate.total == 0 and rate.skipped == 0):
        return "-"
    text = f"{rate.passed}/{rate.total}"
    if rate.rate is not None:
        text += f" ({100 * rate.rate:.0f}%)"
    if rate.skipped:
        text += f" +{rate.skipped} skipped"
    return text


def render_table(header: list[str], rows: list[list[str]]) -> str:
    """Plain aligned columns: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        parts = [str(c).ljust(widths[0]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(cells)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def format_report(report: EvalReport) -> str:
    sections = []
    by_doc = report.tests.by_doc if report.tests else {}
    names = sorted({d.name for d in report.docs} | set(by_doc))
    scores = {d.name: d for d in report.docs}
    rows = []
    for name in names:
        d = scores.get(name)
        tables = d.tables if d else None
        rows.append(
            [
                name + (" (missing)" if d and d.missing else ""),
                fmt_number(d.edit_similarity) if d else "-",
                fmt_number(d.cer) if d else "-",
                fmt_number(d.wer) if d else "-",
                f"{tables.n_matched}/{tables.n_truth}" if tables and tables.n_truth else "-",
                fmt_number(tables.teds) if tables else "-",
                fmt_number(tables.teds_struct) if tables else "-",
                fmt_rate(by_doc.get(name)),
            ]
        )
    means = report.means()
    overall = report.tests.overall if report.tests else None
    rows.append(
        [
            "MEAN",
            fmt_number(means["edit_similarity"]),
            fmt_number(means["cer"]),
            fmt_number(means["wer"]),
            "",
            fmt_number(means["teds"]),
            fmt_number(means["teds_struct"]),
            fmt_rate(overall),
        ]
    )
    header = ["document", "edit_sim", "CER", "WER", "tables", "TEDS", "TEDS-S", "tests"]
    sections.append(render_table(header, rows))
    if report.tests:
        cat_rows = [["type: " + k, fmt_rate(v)] for k, v in sorted(report.tests.by_type.items())]
        if len(report.tests.by_category) > 1:
            cat_rows += [["file: " + k, fmt_rate(v)] for k, v in sorted(report.tests.by_category.items())]
        cat_rows.append(["ALL", fmt_rate(report.tests.overall)])
        sections.append(render_table(["category", "tests passed"], cat_rows))
        skipped = {r.message for r in report.test_results if r.status == "skip"}
        sections.extend(f"skipped: {reason}" for reason in sorted(skipped))
    return "\n\n".join(sections)
