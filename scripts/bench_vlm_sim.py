#!/usr/bin/env python3
"""Sweep docpipe's VLM concurrency against the simulated vLLM engine and print a table.

    python scripts/bench_vlm_sim.py [CORPUS] [--concurrency 4 8 16 32 64] [--workers 2]
                                    [--max-num-seqs 32] [--docs 20 --pages 10] [--json OUT.json]

CORPUS defaults to a generated one (scripts/make_bench_corpus.py, --docs x --pages). Concurrency is
the total of requests docpipe may have in flight: each of the --workers processes gets
ceil(c / workers). Capacity is the simulator's (docpipe/bench/vlm_simulator.py): the share of the
engine's saturated throughput docpipe achieved while it still had pages to send. The saturation
point is the first concurrency that can fill the engine's max_num_seqs slots.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
import tempfile
from pathlib import Path

from docpipe.bench.run import run_bench
from docpipe.bench.vlm_simulator import add_sim_arguments, sim_config_from_args
from docpipe.config import load_config

ROOT = Path(__file__).resolve().parent.parent


def _corpus(out: Path, docs: int, pages: int) -> Path:
    spec = importlib.util.spec_from_file_location(
        "make_bench_corpus", ROOT / "scripts" / "make_bench_corpus.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.build(out, docs, pages, 0)
    return out


COLUMNS = (
    ("in flight", "{c}"),
    ("per worker", "{per}"),
    ("docs/worker", "{docs}"),
    ("pages/s", "{pages_per_second:.2f}"),
    ("req/s (sim)", "{requests_per_second:.2f}"),
    ("VLM tok/s", "{vlm_tokens_per_second:.0f}"),
    ("out tok/s", "{output_tokens_per_second:.0f}"),
    ("vis tok/page", "{visual_tokens_per_page:.0f}"),
    ("max in flight", "{max_in_flight}"),
    ("occupancy", "{occupancy:.1%}"),
    ("capacity", "{capacity:.1%}"),
    ("capacity (run)", "{capacity_run:.1%}"),
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", type=Path, help="PDF folder (default: a generated corpus)")
    ap.add_argument("--concurrency", type=int, nargs="+", default=[4, 8, 16, 32, 64])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--docs-per-worker",
        type=int,
        nargs="+",
        default=[0],
        help="documents each worker converts at once; several values run side by side (0: docpipe's default)",
    )
    ap.add_argument("--docs", type=int, default=20, help="generated corpus: documents")
    ap.add_argument("--pages", type=int, default=10, help="generated corpus: pages per document")
    ap.add_argument("--max-pages-in-flight", type=int, default=None)
    ap.add_argument("--mode", default=None, help="DeepSeek-OCR mode docpipe asks for (default: config's)")
    ap.add_argument("--json", type=Path, help="also write the rows here")
    add_sim_arguments(ap)
    args = ap.parse_args()
    sim = sim_config_from_args(args)
    with tempfile.TemporaryDirectory(prefix="docpipe-simbench-") as tmp:
        corpus = args.corpus or _corpus(Path(tmp) / "corpus", args.docs, args.pages)
        files = sorted(str(p) for p in corpus.glob("*.pdf"))
        print(
            f"{len(files)} files from {corpus}; {args.workers} workers; simulator max_num_seqs="
            f"{sim.max_num_seqs}, step {sim.step_overhead_s * 1e3:.2f} ms + {sim.decode_s_per_seq * 1e3:.3f} "
            f"ms/seq + {sim.prefill_s_per_token * 1e6:.1f} us/prompt token, {sim.output_tokens} output "
            f"tokens/request (peak {sim.peak_decode_tokens_per_s():.0f} output tokens/s)",
            file=sys.stderr,
        )
        rows = []
        for c in args.concurrency:
            for docs in args.docs_per_worker:  # alternated, so that machine noise hits each alike
                per = max(1, math.ceil(c / args.workers))
                overrides: dict = {"vlm": {"max_concurrency": per}}
                if args.max_pages_in_flight:
                    overrides["convert"] = {"max_pages_in_flight": args.max_pages_in_flight}
                if args.mode:
                    overrides["vlm"]["mode"] = args.mode
                config = load_config(None, overrides)
                (res,) = run_bench(
                    files, config, workers=args.workers, baseline=None, vlm_sim=sim, docs_per_worker=docs
                )
                summary = res.summary()
                row = {"c": c, "per": per, "docs": docs or "auto", **summary["vlm_sim"]}
                row["pages_per_second"] = summary["pages_per_second"]
                rows.append(row)
                print(f"c={c}: {json.dumps(row)}", file=sys.stderr)
    print(" | ".join(f"{name:>14s}" for name, _ in COLUMNS))
    for row in rows:
        print(" | ".join(f"{fmt.format(**row):>14s}" for _, fmt in COLUMNS))
    sat_c = next((r["c"] for r in rows if r["c"] >= sim.max_num_seqs), rows[-1]["c"])
    for sat in (r for r in rows if r["c"] == sat_c):
        print(
            f"saturation point (first concurrency >= max_num_seqs={sim.max_num_seqs}): c={sat_c}, "
            f"{sat['docs']} documents per worker: capacity kept busy {sat['capacity']:.1%} "
            f"(whole run {sat['capacity_run']:.1%})"
        )
    best = max(rows, key=lambda r: r["requests_per_second"] or 0)
    docs, rate = best["docs"], best["pages_per_second"]
    print(f"best throughput: c={best['c']}, {docs} documents per worker, {rate:.2f} pages/s")
    if args.json:
        args.json.write_text(
            json.dumps(
                {"sim": vars(args) | {"corpus": str(args.corpus)}, "rows": rows}, default=str, indent=2
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
