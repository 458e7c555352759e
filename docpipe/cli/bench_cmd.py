"""`docpipe bench INPUT...`: pages/s, per-stage time, latency, memory, next to a baseline."""

from __future__ import annotations

import argparse
import json
import sys

from docpipe.bench.run import BASELINES, format_report, run_bench
from docpipe.cli.convert_cmd import add_config_arguments, config_or_usage_error


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="measure throughput, stage times, latency and memory against a baseline",
        description="Convert the inputs with docpipe and with a baseline on the same files, alternating "
        "run by run, each in a fresh interpreter (so peak memory is its own), and report medians "
        "and the ratio. Outputs go to a temporary folder. Machines are noisy: compare ratios.",
        epilog="example: docpipe bench corpus/ --engine textlayer --workers 2 --repeat 3",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="PDF/image files, folders or quoted globs")
    p.add_argument(
        "--baseline", default="pymupdf4llm", choices=[*BASELINES, "none"], help="what to compare against"
    )
    p.add_argument("--repeat", type=int, default=1, help="runs per tool; medians are reported (default 1)")
    p.add_argument("--workers", type=int, default=0, help="docpipe worker processes (default: core count)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_config_arguments(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from docpipe.scheduler.batch import default_workers

    config = config_or_usage_error(args)
    if config is None:
        return 2
    baseline = None if args.baseline == "none" else args.baseline
    try:
        results = run_bench(
            args.inputs,
            config,
            workers=args.workers or default_workers(),
            baseline=baseline,
            repeat=max(1, args.repeat),
            progress=None if args.json else lambda msg: print(msg, file=sys.stderr),
        )
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"docpipe: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([r.summary() for r in results], indent=2))
    else:
        print(format_report(results))
    return 0
