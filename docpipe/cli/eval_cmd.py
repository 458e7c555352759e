"""`docpipe eval`: measure conversion quality against ground truth, or compare engines."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DESCRIPTION = """\
Measure how close Markdown is to the truth. Two modes:

  score saved Markdown (docpipe's or any other tool's):
    docpipe eval --pred OUT/ --truth TRUTH/ [--tests TESTS.jsonl]

  convert the same inputs with several engines or configs, then score each side by side,
  with pages/s:
    docpipe eval --engine auto --engine pymupdf4llm --truth TRUTH/ INPUT...
"""

EPILOG = """\
metrics (predictions and truths are matched by file stem: OUT/NAME.md <-> TRUTH/NAME.md):
  edit_sim   1 - Levenshtein distance / longer length, after Unicode NFC, whitespace collapsing and
             dropping Markdown punctuation and HTML tags (1.0 = identical text)
  CER, WER   character / word edits divided by the truth's length in characters / words (0 = perfect)
  TEDS       tree-edit-distance similarity of tables (table > tr > td; spans and cell text count);
             pipe tables and HTML tables are both read; each truth table is matched to one
             predicted table, an unmatched truth table scores 0. TEDS-S ignores cell text.
  tests      olmOCR-bench style unit tests (JSONL: present, absent, order, table, math); the
             `pdf` field's stem names the document. Math tests render LaTeX with KaTeX in headless
             Chromium (scripts/install_katex.sh installs both) and are skipped when they are absent.

engine specs: NAME or NAME@CONFIG.toml, where NAME is auto, textlayer, ocr, vlm, or pymupdf4llm
(the baseline). Example, docpipe against the baseline on the dev corpus:
  docpipe eval --engine auto --engine pymupdf4llm \\
      --truth corpus/dev/groundtruth --tests fixtures/olmocr_bench/dev_corpus.jsonl corpus/dev/pdf

exit status: 0 when scoring ran (whatever the scores), 1 when a document failed to convert,
2 on usage errors (missing folders, malformed test files).
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="score Markdown against ground truth (text, tables, unit tests) or compare engines",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "inputs", nargs="*", metavar="INPUT", help="with --engine: PDFs/images, folders or quoted globs"
    )
    p.add_argument("--pred", type=Path, metavar="DIR", help="folder of predicted NAME.md files to score")
    p.add_argument("--truth", type=Path, metavar="DIR", help="folder of ground-truth NAME.md files")
    p.add_argument(
        "--tests",
        type=Path,
        metavar="PATH",
        help=(
            "olmOCR-bench style unit tests: a .jsonl file, or a folder searched recursively "
            "(category = file stem; same-named files in subfolders merge)"
        ),
    )
    p.add_argument(
        "--engine",
        dest="engines",
        action="append",
        default=[],
        metavar="SPEC",
        help=(
            "convert INPUTs with this engine (repeatable): "
            "auto, textlayer, ocr, vlm, pymupdf4llm, or NAME@CONFIG"
        ),
    )
    p.add_argument(
        "--warmup", action="store_true", help="with --engine: convert the first input once, untimed"
    )
    p.add_argument("--save", type=Path, metavar="DIR", help="with --engine: write DIR/ENGINE/NAME.md")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.add_argument("-v", "--verbose", action="store_true", help="list every failed unit test with its reason")
    p.set_defaults(func=run)


def _fail(message: str) -> int:
    print(f"docpipe eval: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    # Heavy imports stay inside the handler so that `docpipe --help` stays fast.
    from docpipe.eval.compare import compare_engines, comparison_to_dict, expand_inputs, format_comparison
    from docpipe.eval.olmocr_bench import BenchFormatError, load_tests
    from docpipe.eval.report import evaluate, format_report, read_markdown_folder

    if args.engines and args.pred:
        return _fail("give either --pred (score saved Markdown) or --engine (convert, then score), not both")
    if not args.engines and not args.pred:
        return _fail("nothing to score: give --pred DIR, or --engine SPEC with INPUTs")
    if args.pred and args.inputs:
        return _fail("INPUTs are only used with --engine; --pred scores a folder of Markdown")
    if args.engines and not args.inputs:
        return _fail("--engine needs INPUT files or folders to convert")
    if not args.truth and not args.tests:
        return _fail("give --truth DIR and/or --tests PATH to score against")

    try:
        truth = read_markdown_folder(args.truth) if args.truth else None
        tests = load_tests(args.tests) if args.tests else None
    except (FileNotFoundError, BenchFormatError) as exc:
        return _fail(str(exc))

    if args.pred:
        try:
            pred = read_markdown_folder(args.pred)
        except FileNotFoundError as exc:
            return _fail(str(exc))
        report = evaluate(pred, truth, tests)
        if args.json:
            print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        else:
            print(format_report(report))
            if args.verbose:
                _print_failures(report.test_results)
        return 0

    try:
        inputs = expand_inputs(args.inputs)
    except FileNotFoundError as exc:
        return _fail(str(exc))
    progress = None if args.json else (lambda msg: print(msg, file=sys.stderr))
    try:
        results = compare_engines(args.engines, inputs, truth, tests, args.warmup, args.save, progress)
    except ValueError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(comparison_to_dict(results), indent=2, ensure_ascii=False))
    else:
        print(format_comparison(results))
        if args.verbose:
            for run_, report in results:
                print(f"\n{run_.spec}:")
                _print_failures(report.test_results)
    return 1 if any(run_.errors for run_, _ in results) else 0


def _print_failures(results) -> None:
    failed = [r for r in results if r.status != "pass"]
    for r in failed:
        print(f"  {r.status.upper():4}  {r.test.id}: {r.message}")
