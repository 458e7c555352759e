#!/usr/bin/env python3
"""List the realworld checks docpipe fails, class by class: the quick loop behind score_corpus.py.

    python scripts/check_failures.py --class spacing                  # convert, check, list failures
    python scripts/check_failures.py --class tables --only 'tabula__*'
    python scripts/check_failures.py --baseline-cache /tmp/p4l        # also say whether pymupdf4llm passes
    python scripts/check_failures.py --class text --save /tmp/md      # keep docpipe's Markdown to read

Only the documents that carry checks of the chosen classes are converted, so one class takes
seconds to minutes instead of the full corpus run. pymupdf4llm's Markdown is slow to make; with
--baseline-cache DIR it is made once per document into DIR (NAME.md) and read from there after,
and each failure is marked with whether the baseline passes it. No timing is taken here: speed
figures come from score_corpus.py, which converts both tools side by side.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docpipe.eval.baseline_worker import BaselineProcess  # noqa: E402
from docpipe.eval.olmocr_bench import BenchTest, TestResult, load_tests, run_tests  # noqa: E402

SHARED = ROOT.parent / "shared" / "corpus" / "realworld"


def _describe(test: BenchTest) -> str:
    keys = ("text", "before", "after", "cell", "up", "down", "left", "right", "top_heading", "math")
    parts = [f"{k}={test.get(k)!r}" for k in keys if test.get(k) not in (None, "")]
    return ", ".join(parts)[:300]


def _docpipe_markdown(paths: list[Path], engine: str, save: Path | None) -> dict[str, str]:
    import docpipe

    out: dict[str, str] = {}
    for i, path in enumerate(paths, 1):
        print(f"[{i}/{len(paths)}] docpipe {path.name}", file=sys.stderr, flush=True)
        try:
            out[path.stem] = docpipe.to_markdown(docpipe.convert(path, engine=engine))
        except Exception as exc:  # noqa: BLE001 - one bad file must not end the run
            print(f"  failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            out[path.stem] = ""
        if save is not None:
            save.mkdir(parents=True, exist_ok=True)
            (save / f"{path.stem}.md").write_text(out[path.stem], encoding="utf-8")
    return out


def _baseline_markdown(paths: list[Path], cache: Path) -> dict[str, str]:
    cache.mkdir(parents=True, exist_ok=True)
    out: dict[str, str] = {}
    missing = [p for p in paths if not (cache / f"{p.stem}.md").exists()]
    if missing:
        with BaselineProcess() as baseline:
            for i, path in enumerate(missing, 1):
                print(f"[{i}/{len(missing)}] pymupdf4llm {path.name}", file=sys.stderr, flush=True)
                (cache / f"{path.stem}.md").write_text(baseline.convert(path).markdown, encoding="utf-8")
    for path in paths:
        out[path.stem] = (cache / f"{path.stem}.md").read_text(encoding="utf-8")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--class", dest="classes", action="append", default=[], help="check class (file stem)")
    ap.add_argument("--only", action="append", default=[], metavar="GLOB", help="only documents matching")
    ap.add_argument("--tests", type=Path, default=ROOT / "fixtures" / "olmocr_bench" / "realworld")
    ap.add_argument("--pdf-dir", type=Path, default=SHARED / "pdf")
    ap.add_argument("--engine", default="auto")
    ap.add_argument("--baseline-cache", type=Path, help="folder of pymupdf4llm Markdown, made on first use")
    ap.add_argument("--save", type=Path, help="write docpipe's Markdown here")
    ap.add_argument("--passes", action="store_true", help="also list the checks that pass")
    args = ap.parse_args()

    tests = load_tests(args.tests)
    if args.classes:
        tests = [t for t in tests if t.category in args.classes]
    if args.only:
        tests = [t for t in tests if any(fnmatch.fnmatch(t.doc, g) for g in args.only)]
    docs = sorted({t.doc for t in tests})
    paths = [args.pdf_dir / f"{d}.pdf" for d in docs]
    if not paths:
        print("no checks match", file=sys.stderr)
        return 2

    ours = run_tests(tests, _docpipe_markdown(paths, args.engine, args.save))
    theirs: list[TestResult] | None = None
    if args.baseline_cache:
        theirs = run_tests(tests, _baseline_markdown(paths, args.baseline_cache))

    tally: Counter[tuple[str, str, str]] = Counter()
    for i, result in enumerate(ours):
        base = theirs[i].status if theirs else "-"
        tally[(result.test.category, "docpipe", result.status)] += 1
        if theirs:
            tally[(result.test.category, "pymupdf4llm", base)] += 1
        if result.status != "pass" or args.passes:
            t = result.test
            head = f"{result.status.upper():4} [{t.category}/{t.type}] {t.doc} p{t.page}"
            print(f"{head} id={t.id} baseline={base}")
            print(f"     {_describe(t)}")
            if result.message:
                print(f"     -> {result.message[:300]}")
    print()
    for category in sorted({t.category for t in tests}):
        row = [category]
        for tool in ("docpipe", "pymupdf4llm") if theirs else ("docpipe",):
            passed = tally[(category, tool, "pass")]
            total = sum(tally[(category, tool, s)] for s in ("pass", "fail", "skip"))
            row.append(f"{tool} {passed}/{total}")
        print("  ".join(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
