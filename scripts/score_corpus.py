#!/usr/bin/env python3
"""Score docpipe on the dev and realworld corpora, side by side with pymupdf4llm in the same run.

    python scripts/score_corpus.py                       # dev corpus (as before)
    python scripts/score_corpus.py --corpus realworld    # realworld checks
    python scripts/score_corpus.py --corpus all --repeat 3 --json /tmp/score.json

Both tools convert every PDF of a corpus, alternating file by file so machine noise hits both alike:
docpipe through `docpipe.convert` (default config, `--engine` to change), the baseline as
`pymupdf4llm.to_markdown(path)` with its default settings (the layout model is on when
pymupdf-layout is installed), in a process of its own. A file a tool raises on (encrypted,
malformed) counts as empty output for that tool and the run goes on.

Quality:
- olmOCR-bench checks (present, absent, order, table, math) per class, one table per corpus with a
  totals row; a class where docpipe's pass rate is not above the baseline's is marked (`<= baseline`,
  or `not scored` where all its checks were skipped, as math checks are without KaTeX). A class is the
  check file's stem (tables, order, ...; `part1/tables.jsonl` and `part2/tables.jsonl` merge); a set
  with a single file (the dev corpus) is split by check type. Dev checks:
  fixtures/olmocr_bench/dev_corpus.jsonl (--dev-tests); realworld checks: every *.jsonl below
  fixtures/olmocr_bench/realworld (--tests DIR).
- dev only: normalized edit similarity to the reference Markdown (1 - Levenshtein / longer length,
  after Unicode NFC and collapsing whitespace and Markdown punctuation), mean over the born-digital
  files and over all files.

Speed: pages/s over the born-digital files (no page a scan, judged from the PDF:
docpipe.eval.born_digital), median of --repeat runs, per corpus and over both; run 1 is the
conversion that is scored, runs 2.. re-convert the born-digital files for timing only. Each tool
converts one file untimed first (imports, model loads).

The targets (issue 11) are printed last: realworld checks >= 90% and above the baseline in every
class; dev similarity >= 0.95 and checks >= 90%; born-digital pages/s >= 5x the baseline's. For the
targets a skipped check (math without KaTeX) counts as not passed.
Nothing is cached: every run converts everything again.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docpipe.eval.baseline_worker import BaselineProcess  # noqa: E402
from docpipe.eval.born_digital import FileInfo, inspect_file  # noqa: E402
from docpipe.eval.class_table import (  # noqa: E402
    TOTAL,
    class_key,
    class_rates,
    format_side_by_side,
    rows_to_dict,
    side_by_side,
)
from docpipe.eval.olmocr_bench import BenchTest, load_tests, run_tests  # noqa: E402
from docpipe.eval.report import render_table  # noqa: E402
from docpipe.eval.text import normalized_edit_similarity  # noqa: E402

OURS, BASELINE = "docpipe", "pymupdf4llm"
TOOLS = (OURS, BASELINE)
SHARED = ROOT.parent / "shared" / "corpus"


@dataclass
class ToolRuns:
    markdown: dict[str, str] = field(default_factory=dict)  # from run 1; "" where the tool failed
    errors: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # run 1, per file
    born_digital_seconds: list[float] = field(default_factory=list)  # one total per run


@dataclass
class Corpus:
    name: str
    files: list[FileInfo]
    truth_dir: Path | None
    tests: list[BenchTest]
    runs: dict[str, ToolRuns] = field(default_factory=dict)

    @property
    def born_digital(self) -> list[FileInfo]:
        return [f for f in self.files if f.born_digital]


class Docpipe:
    def __init__(self, engine: str) -> None:
        import docpipe

        self._docpipe = docpipe
        self.engine = engine

    def convert(self, path: Path) -> tuple[str, float, str]:
        t0 = time.perf_counter()
        try:
            markdown, error = self._docpipe.to_markdown(self._docpipe.convert(path, engine=self.engine)), ""
        except Exception as exc:  # noqa: BLE001 - one bad file must not end the run
            markdown, error = "", f"{type(exc).__name__}: {exc}"
        return markdown, time.perf_counter() - t0, error


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def convert_corpus(corpus: Corpus, ours: Docpipe, baseline: BaselineProcess, repeat: int) -> None:
    runs = {tool: ToolRuns() for tool in TOOLS}
    corpus.runs = runs

    def one(tool: str, path: Path) -> tuple[str, float, str]:
        if tool == OURS:
            return ours.convert(path)
        r = baseline.convert(path)
        return r.markdown, r.seconds, r.error

    for run in range(repeat):
        files = corpus.files if run == 0 else corpus.born_digital
        totals = dict.fromkeys(TOOLS, 0.0)
        for i, info in enumerate(files):
            # Swap which tool goes first on every file: neither always meets a cold file cache.
            order = TOOLS if i % 2 == 0 else TOOLS[::-1]
            took = {}
            for tool in order:
                markdown, seconds, error = one(tool, info.path)
                took[tool] = seconds
                if info.born_digital:
                    totals[tool] += seconds
                if run == 0:
                    runs[tool].markdown[info.name] = markdown
                    runs[tool].seconds[info.name] = seconds
                    if error:
                        runs[tool].errors[info.name] = error
            log(
                f"[{corpus.name} run {run + 1}/{repeat} {i + 1}/{len(files)}] {info.name}: "
                + ", ".join(f"{t} {took[t]:.2f} s" for t in TOOLS)
            )
        for tool in TOOLS:
            runs[tool].born_digital_seconds.append(totals[tool])


# ----------------------------------------------------------------------------- scoring


def score_checks(corpus: Corpus) -> dict[str, Any]:
    if not corpus.tests:
        return {"class_key": None, "rows": [], "failures": {}}
    results = {tool: run_tests(corpus.tests, corpus.runs[tool].markdown) for tool in TOOLS}
    key = class_key(results[OURS])
    rows = side_by_side(class_rates(results[OURS], key), class_rates(results[BASELINE], key))
    failures = {
        tool: [
            {
                "id": r.test.id,
                "doc": r.test.doc,
                "category": r.test.category,
                "type": r.test.type,
                "status": r.status,
                "message": r.message,
            }
            for r in res
            if r.status != "pass"
        ]
        for tool, res in results.items()
    }
    return {
        "class_key": key,
        "rows": rows_to_dict(rows, TOOLS),
        "table": format_side_by_side(rows, TOOLS, title=key),
        "failures": failures,
    }


def score_similarity(corpus: Corpus) -> dict[str, Any] | None:
    if corpus.truth_dir is None:
        return None
    docs = []
    for info in corpus.files:
        truth_path = corpus.truth_dir / f"{info.name}.md"
        if not truth_path.is_file():
            continue
        truth = truth_path.read_text(encoding="utf-8")
        scores = {t: normalized_edit_similarity(corpus.runs[t].markdown[info.name], truth) for t in TOOLS}
        docs.append({"name": info.name, "born_digital": info.born_digital, **scores})

    def mean(rows: list[dict[str, Any]], tool: str) -> float | None:
        return statistics.fmean(r[tool] for r in rows) if rows else None

    born = [d for d in docs if d["born_digital"]]
    return {
        "documents": docs,
        "mean_born_digital": {t: mean(born, t) for t in TOOLS},
        "mean_all": {t: mean(docs, t) for t in TOOLS},
    }


def speed(pages: int, seconds: dict[str, list[float]]) -> dict[str, Any]:
    """pages/s per tool from the median run time, and ours / baseline."""
    rates: dict[str, float | None] = {}
    for tool in TOOLS:
        median = statistics.median(seconds[tool]) if seconds[tool] else 0.0
        rates[tool] = pages / median if median > 0 else None
    ours, theirs = rates[OURS], rates[BASELINE]
    ratio = ours / theirs if ours and theirs else None
    return {
        "pages": pages,
        "runs": len(seconds[OURS]),
        "seconds": seconds,
        "pages_per_s": rates,
        "ratio": ratio,
    }


def corpus_speed(corpus: Corpus) -> dict[str, Any]:
    pages = sum(f.pages for f in corpus.born_digital)
    return speed(pages, {t: corpus.runs[t].born_digital_seconds for t in TOOLS})


def combined_speed(corpora: list[Corpus]) -> dict[str, Any]:
    pages = sum(f.pages for c in corpora for f in c.born_digital)
    seconds = {
        t: [sum(run) for run in zip(*(c.runs[t].born_digital_seconds for c in corpora), strict=True)]
        for t in TOOLS
    }
    return speed(pages, seconds)


def _row(rows: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((r for r in rows if r["class"] == name), None)


def _share_passed(rows: list[dict[str, Any]]) -> float:
    """docpipe's passes over all its checks: a skipped check (math without KaTeX) is not a pass."""
    total = _row(rows, TOTAL)[OURS]
    checks = total["passed"] + total["failed"] + total["skipped"]
    return total["passed"] / checks if checks else 0.0


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with whether the run met it."""
    out: list[dict[str, Any]] = []
    corpora = report["corpora"]
    if "realworld" in corpora and corpora["realworld"]["checks"]["rows"]:
        rows = corpora["realworld"]["checks"]["rows"]
        share = _share_passed(rows)
        out.append({"target": "realworld checks >= 90%", "met": share >= 0.9, "value": share})
        behind = [
            r["class"] + ("" if r["scored"] else " (not scored)")
            for r in rows
            if r["class"] != TOTAL and not r["above"]
        ]
        out.append(
            {"target": "realworld: above pymupdf4llm in every class", "met": not behind, "value": behind}
        )
    if "dev" in corpora:
        dev = corpora["dev"]
        if dev["similarity"]:
            sim = dev["similarity"]["mean_all"][OURS]
            out.append({"target": "dev similarity >= 0.95 (all files)", "met": sim >= 0.95, "value": sim})
        if dev["checks"]["rows"]:
            share = _share_passed(dev["checks"]["rows"])
            out.append({"target": "dev checks >= 90%", "met": share >= 0.9, "value": share})
    ratio = report["speed_all"]["ratio"]
    out.append(
        {
            "target": "born-digital pages/s >= 5x pymupdf4llm",
            "met": ratio is not None and ratio >= 5,
            "value": ratio,
        }
    )
    return out


# ----------------------------------------------------------------------------- printing


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def print_corpus(name: str, data: dict[str, Any]) -> None:
    files = data["files"]
    print(f"\n=== {name}: {len(files)} files, {sum(f['pages'] for f in files)} pages")
    for tool in TOOLS:
        failed = {f["name"]: f[tool]["error"] for f in files if f[tool]["error"]}
        for doc, error in sorted(failed.items()):
            print(f"{tool} failed on {doc}: {error}")
    sim = data["similarity"]
    if sim:
        rows = [
            [d["name"] + ("" if d["born_digital"] else " (scan)"), *(f"{d[t]:.3f}" for t in TOOLS)]
            for d in sim["documents"]
        ]
        rows.append(["MEAN born-digital", *(_num(sim["mean_born_digital"][t], ".3f") for t in TOOLS)])
        rows.append(["MEAN all", *(_num(sim["mean_all"][t], ".3f") for t in TOOLS)])
        print("\nsimilarity to the reference Markdown")
        print(render_table(["document", *TOOLS], rows))
    checks = data["checks"]
    if checks["rows"]:
        print(f"\nchecks passed per {checks['class_key']}")
        print(checks["table"])
    else:
        print("\nno checks for this corpus")
    print_speed(data["speed"])


def print_speed(sp: dict[str, Any], label: str = "born-digital") -> None:
    rates = sp["pages_per_s"]
    print(
        f"\n{label} speed ({sp['pages']} pages, median of {sp['runs']} runs): "
        + ", ".join(f"{t} {_num(rates[t], '.2f')} pages/s" for t in TOOLS)
        + f"; docpipe / pymupdf4llm x{_num(sp['ratio'], '.1f')}"
    )


# ----------------------------------------------------------------------------- main


def select_files(pdf_dir: Path, only: list[str]) -> list[FileInfo]:
    paths = sorted(pdf_dir.glob("*.pdf"))
    if only:
        paths = [p for p in paths if any(fnmatch.fnmatch(p.stem, pat) for pat in only)]
    return [inspect_file(p) for p in paths]


def scoped_tests(tests: list[BenchTest], files: list[FileInfo], corpus: str) -> list[BenchTest]:
    names = {f.name for f in files}
    orphans = sorted({t.pdf for t in tests if t.doc not in names})
    if orphans:
        log(f"{corpus}: checks for files not converted in this run left out: {', '.join(orphans)}")
    return [t for t in tests if t.doc in names]


def build_corpora(args: argparse.Namespace) -> list[Corpus]:
    wanted = ["dev", "realworld"] if args.corpus == "all" else [args.corpus]
    corpora = []
    for name in wanted:
        root = args.dev_dir if name == "dev" else args.realworld_dir
        files = select_files(root / "pdf", args.only)
        if not files:
            log(f"{name}: no PDFs under {root / 'pdf'}")
            continue
        tests_path = args.dev_tests if name == "dev" else args.tests
        if tests_path.exists():
            tests = scoped_tests(load_tests(tests_path), files, name)
        else:
            log(f"{name}: no checks at {tests_path}")
            tests = []
        truth = root / "groundtruth" if (root / "groundtruth").is_dir() else None
        corpora.append(Corpus(name, files, truth, tests))
    return corpora


def corpus_report(corpus: Corpus) -> dict[str, Any]:
    files = [
        {
            "name": f.name,
            "pages": f.pages,
            "born_digital": f.born_digital,
            "problem": f.problem,
            **{
                t: {"seconds": corpus.runs[t].seconds[f.name], "error": corpus.runs[t].errors.get(f.name, "")}
                for t in TOOLS
            },
        }
        for f in corpus.files
    ]
    return {
        "files": files,
        "similarity": score_similarity(corpus),
        "checks": score_checks(corpus),
        "speed": corpus_speed(corpus),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", choices=("dev", "realworld", "all"), default="dev")
    ap.add_argument("--dev-dir", type=Path, default=SHARED / "dev", help="holds pdf/ and groundtruth/")
    ap.add_argument("--realworld-dir", type=Path, default=SHARED / "realworld", help="holds pdf/")
    ap.add_argument("--dev-tests", type=Path, default=ROOT / "fixtures" / "olmocr_bench" / "dev_corpus.jsonl")
    ap.add_argument(
        "--tests",
        type=Path,
        default=ROOT / "fixtures" / "olmocr_bench" / "realworld",
        help="realworld checks: a .jsonl file or a folder searched recursively (class = file stem)",
    )
    ap.add_argument("--engine", default="auto", help="docpipe engine (default auto: CPU)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs over the born-digital files")
    ap.add_argument(
        "--only", action="append", default=[], metavar="GLOB", help="only files whose stem matches"
    )
    ap.add_argument("--baseline-timeout", type=float, default=600.0, help="seconds per file for pymupdf4llm")
    ap.add_argument("--json", type=Path, metavar="OUT", help="write the whole report as JSON")
    args = ap.parse_args()
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")

    corpora = build_corpora(args)
    if not corpora:
        return 2
    ours = Docpipe(args.engine)
    with BaselineProcess(args.baseline_timeout) as baseline:
        warm = next((f for c in corpora for f in c.born_digital), corpora[0].files[0])
        ours.convert(warm.path)  # imports and model loads are not per-page costs
        baseline.convert(warm.path)
        for corpus in corpora:
            convert_corpus(corpus, ours, baseline, args.repeat)

    report: dict[str, Any] = {
        "engine": args.engine,
        "repeat": args.repeat,
        "corpora": {c.name: corpus_report(c) for c in corpora},
        "speed_all": combined_speed(corpora),
    }
    report["targets"] = targets(report)
    for name, data in report["corpora"].items():
        print_corpus(name, data)
    if len(corpora) > 1:
        print_speed(report["speed_all"], "born-digital, all corpora,")
    print("\ntargets")
    print(
        render_table(
            ["target", "value", "met"],
            [
                [t["target"], _target_value(t["value"]), "yes" if t["met"] else "NO"]
                for t in report["targets"]
            ],
        )
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0


def _target_value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(value) or "-"
    return _num(value, ".3f")


if __name__ == "__main__":
    sys.exit(main())
