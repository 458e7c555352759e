#!/usr/bin/env python3
"""The Ray executor's overhead against the local worker pool, on the same corpus and machine.

    python scripts/bench_ray.py CORPUS... [--workers 1,2] [--repeat 3] [--cold] [--set KEY=VALUE ...]

Starts a one-node Ray cluster on a loopback address of this machine (`ray start --head`, dashboard
and usage reports off, its own temporary folder and token, stopped at the end), then converts the
corpus with `--executor local` and `--executor ray --address ...` alternately, each run in a fresh
interpreter (`docpipe.bench.child`), for each worker count. Reports median wall seconds and pages/s
of each, Ray's overhead, and pages/s per added worker. `--cold` adds runs that start their own local
Ray instance (what `docpipe convert --executor ray` without `--address` costs).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docpipe.bench.ray_cluster import free_port, kill_group, start_node  # noqa: E402
from docpipe.bench.run import _child  # noqa: E402
from docpipe.config import load_config, parse_set  # noqa: E402
from docpipe.sources.discover import input_paths  # noqa: E402

HEAD_IP = "127.0.0.2"  # loopback, and kept by Ray (it rewrites 127.0.0.1 to the host's address)


@contextlib.contextmanager
def ray_head(cpus: int):
    """A Ray head of `cpus` CPUs on loopback; yields its address. Everything it started is killed
    at the end: its process group (`ray start` runs in a session of its own), and the workers below."""
    temp_dir = tempfile.mkdtemp(prefix="dpbench", dir="/tmp")
    port = free_port(HEAD_IP)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    head = ["--head", "--node-ip-address", HEAD_IP, "--port", str(port), "--include-dashboard", "false"]
    pgid = None
    try:
        pgid = start_node(head, cpus=cpus, temp_dir=temp_dir, env=env)
        yield f"{HEAD_IP}:{port}"
    finally:
        if pgid is not None:
            kill_group(pgid)
        shutil.rmtree(temp_dir, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--workers", default="1,2", help="worker counts to compare (default 1,2)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cold", action="store_true", help="also runs that start their own Ray instance")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE")
    args = ap.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    files = [str(p) for p in input_paths(args.inputs)]
    config = load_config(None, parse_set(args.overrides)).model_dump(mode="json")
    # The cluster's own token, for its nodes and for the drivers the runs start.
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=uuid.uuid4().hex, RAY_USAGE_STATS_ENABLED="0")
    kinds = ["local", "ray"] + (["ray-cold"] if args.cold else [])
    runs: dict[tuple[str, int], list[dict]] = {(k, n): [] for k in kinds for n in counts}
    with ray_head(max(counts)) as address, tempfile.TemporaryDirectory(prefix="dpbench-out") as tmp:
        for i in range(args.repeat):
            for n in counts:
                for kind in kinds:  # alternate, so that machine noise hits both alike
                    req = {"tool": "docpipe", "inputs": files, "config": config, "workers": n}
                    req["out"] = f"{tmp}/{kind}-{n}-{i}"
                    if kind == "ray":
                        req |= {"executor": "ray", "address": address}
                    elif kind == "ray-cold":
                        req |= {"executor": "ray", "address": None}
                    run = _child(req)
                    if run["failed"]:
                        print(f"{kind} x{n}: failed: {run['failed'][:3]}", file=sys.stderr)
                    runs[(kind, n)].append(run)
                    print(
                        f"run {i + 1}/{args.repeat} {kind:8s} x{n}: {run['wall_seconds']:.2f}s",
                        file=sys.stderr,
                    )
    pages = runs[(kinds[0], counts[0])][0]["pages"]
    print(f"{len(files)} documents, {pages} pages, {args.repeat} runs each (medians), {os.cpu_count()} cores")
    print(f"{'executor':10s}{'workers':>8s}{'wall s':>10s}{'pages/s':>10s}{'vs local':>10s}")
    for n in counts:
        local = statistics.median(r["wall_seconds"] for r in runs[("local", n)])
        for kind in kinds:
            wall = statistics.median(r["wall_seconds"] for r in runs[(kind, n)])
            print(f"{kind:10s}{n:>8d}{wall:>10.2f}{pages / wall:>10.2f}{(wall / local - 1) * 100:>+9.1f}%")
    if len(counts) > 1:
        for kind in kinds:
            rates = [pages / statistics.median(r["wall_seconds"] for r in runs[(kind, n)]) for n in counts]
            steps = ", ".join(f"x{n}: {r:.2f}" for n, r in zip(counts, rates, strict=True))
            gain = rates[-1] / rates[0]
            print(f"{kind}: pages/s by workers {steps} (x{counts[-1]}/x{counts[0]} = {gain:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
