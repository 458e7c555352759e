"""One measured run in a fresh interpreter, so that its peak memory is its own.

    python -m docpipe.bench.child REQUEST.json   -> prints one JSON result line on stdout

The request names the tool ("docpipe" or "pymupdf4llm"), the input files and, for docpipe, the
config, the worker count, an output folder and the executor ("local", or "ray" with an address).
Peak memory is the largest resident set of this process and of any worker process it waited for
(getrusage of self and children; Ray's actors are not among them).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path


def _peak_rss_mib() -> float:
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(self_kb, child_kb) / 1024.0


def run_docpipe(req: dict) -> dict:
    from docpipe.config import Config
    from docpipe.scheduler.batch import run_batch

    config = Config.model_validate(req["config"])
    ray = None
    if req.get("executor") == "ray":
        from docpipe.scheduler.ray_executor import RayOptions

        ray = RayOptions(address=req.get("address"))
    t0 = time.perf_counter()  # a Ray instance this run starts is part of its time
    summary = run_batch(
        req["inputs"],
        Path(req["out"]),
        config,
        workers=req["workers"],
        force=True,
        docs_per_worker=req.get("docs_per_worker", 0),
        ray=ray,
    )
    wall = time.perf_counter() - t0
    stages: dict[str, float] = {}
    vlm: dict[str, float] = {}
    page_seconds: list[float] = []
    busy = 0.0
    for o in summary.outcomes:
        busy += o.seconds
        for k, v in o.timings.items():
            stages[k] = stages.get(k, 0.0) + v
        for k, v in o.vlm.items():
            vlm[k] = vlm.get(k, 0.0) + v
        page_seconds += o.page_seconds
    return {
        "tool": "docpipe",
        "wall_seconds": wall,
        "pages": summary.pages,
        "documents": len(summary.outcomes),
        "failed": [o.error for o in summary.outcomes if o.status == "failed"],
        "stages": stages,
        "busy_seconds": busy,
        "page_seconds": page_seconds,
        "vlm": vlm,
        "peak_rss_mib": _peak_rss_mib(),
    }


def run_pymupdf4llm(req: dict) -> dict:
    import pymupdf
    import pymupdf4llm

    pages, page_seconds, failed = 0, [], []
    t0 = time.perf_counter()
    for path in req["inputs"]:
        t = time.perf_counter()
        try:
            with pymupdf.open(path) as doc:
                n = doc.page_count
            pymupdf4llm.to_markdown(path, header=False, footer=False, show_progress=False)
        except Exception as exc:  # a file the baseline cannot read is reported, not fatal
            failed.append(f"{path}: {type(exc).__name__}: {exc}")
            continue
        pages += n
        page_seconds += [(time.perf_counter() - t) / max(n, 1)] * n
    return {
        "tool": "pymupdf4llm",
        "wall_seconds": time.perf_counter() - t0,
        "pages": pages,
        "documents": len(req["inputs"]),
        "failed": failed,
        "stages": {},
        "busy_seconds": time.perf_counter() - t0,
        "page_seconds": page_seconds,
        "vlm": {},
        "peak_rss_mib": _peak_rss_mib(),
    }


def main() -> int:
    req = json.loads(Path(sys.argv[1]).read_text())
    runner = {"docpipe": run_docpipe, "pymupdf4llm": run_pymupdf4llm}[req["tool"]]
    if req.get("nice"):  # workers inherit it
        os.nice(req["nice"])
    # the baselines print their own messages; keep stdout for the one JSON line
    real_stdout = sys.stdout
    sys.stdout = sys.stderr
    try:
        result = runner(req)
    finally:
        sys.stdout = real_stdout
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
