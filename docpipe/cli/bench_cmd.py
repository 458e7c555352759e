"""`docpipe bench INPUT...`: pages/s, per-stage time, latency, memory, next to a baseline."""

from __future__ import annotations

import argparse
import json
import sys

from docpipe.bench.run import BASELINES, format_report, run_bench
from docpipe.bench.vlm_simulator import add_sim_arguments, sim_config_from_args
from docpipe.cli.convert_cmd import (
    add_config_arguments,
    add_executor_arguments,
    config_or_usage_error,
    ray_options,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="measure throughput, stage times, latency and memory against a baseline",
        description="Convert the inputs with docpipe and with a baseline on the same files, alternating "
        "run by run, each in a fresh interpreter (so peak memory is its own), and report medians "
        "and the ratio. Outputs go to a temporary folder. Machines are noisy: compare ratios.",
        epilog="examples: docpipe bench corpus/ --engine textlayer --workers 2 --repeat 3\n"
        "          docpipe bench corpus/ --executor ray --address 127.0.0.1:6379 --workers 2\n"
        "          docpipe bench corpus/ --engine vlm --vlm-sim --max-concurrency 16 --sim-max-num-seqs 32",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="PDF/image files, folders or quoted globs")
    p.add_argument(
        "--baseline",
        choices=[*BASELINES, "none"],
        help="what to compare against (default pymupdf4llm; none with --vlm-sim)",
    )
    p.add_argument("--repeat", type=int, default=1, help="runs per tool; medians are reported (default 1)")
    p.add_argument("--workers", type=int, default=0, help="docpipe worker processes (default: core count)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_executor_arguments(p)
    add_config_arguments(p)
    sim = p.add_argument_group(
        "simulated vLLM (--vlm-sim)",
        "Serve a simulated vLLM DeepSeek-OCR engine on 127.0.0.1 from this process and run every page "
        "through docpipe's VLM engine against it (--max-concurrency requests in flight per worker). "
        "Reports the share of the engine's capacity docpipe keeps busy; see "
        "docpipe/bench/vlm_simulator.py for the cost model.",
    )
    sim.add_argument("--vlm-sim", action="store_true", help="bench the VLM engine against the simulator")
    add_sim_arguments(sim, prefix="sim-")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from docpipe.errors import UsageError
    from docpipe.scheduler.batch import default_workers

    config = config_or_usage_error(args)
    if config is None:
        return 2
    vlm_sim = sim_config_from_args(args, prefix="sim-") if args.vlm_sim else None
    baseline = args.baseline or ("none" if vlm_sim else "pymupdf4llm")
    baseline = None if baseline == "none" else baseline
    try:
        ray = ray_options(args)
        executor = {"executor": "ray", "address": ray.address} if ray is not None else None
        results = run_bench(
            args.inputs,
            config,
            workers=args.workers or default_workers(),
            executor=executor,
            baseline=baseline,
            repeat=max(1, args.repeat),
            progress=None if args.json else lambda msg: print(msg, file=sys.stderr),
            vlm_sim=vlm_sim,
        )
    except (FileNotFoundError, RuntimeError, UsageError) as exc:
        print(f"docpipe: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([r.summary() for r in results], indent=2))
    else:
        print(format_report(results))
    return 0
