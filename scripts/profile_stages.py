#!/usr/bin/env python3
"""Where docpipe's time goes on the born-digital files of the corpora, by pipeline stage and by file.

    python scripts/profile_stages.py                       # both corpora, default config
    python scripts/profile_stages.py --corpus dev --set convert.figure_text=off
    python scripts/profile_stages.py --top 25 --json /tmp/stages.json

Every file is converted in this process through `convert_file` with one set of engines (as
`scripts/score_corpus.py` does through `docpipe.convert`; one file is converted untimed first for
imports and model loads). Stage times are the pipeline's own timings (`ConversionResult.timings`):
`textlayer`, `ocr`, `vlm` are recognition by engine, then `route`, `assemble`, `figures`,
`figure_text`. The set of files is the one score_corpus.py times (docpipe.eval.born_digital).
This is for finding costs; speed ratios against pymupdf4llm come from score_corpus.py, which runs
both tools side by side.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docpipe.api import _config  # noqa: E402
from docpipe.config import parse_set  # noqa: E402
from docpipe.eval.born_digital import inspect_file  # noqa: E402
from docpipe.pipeline import convert_file  # noqa: E402
from docpipe.recognition import Engines  # noqa: E402

SHARED = ROOT.parent / "shared" / "corpus"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", choices=["dev", "realworld", "all"], default="all")
    ap.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    ap.add_argument("--top", type=int, default=15, help="slowest files listed")
    ap.add_argument("--json", type=Path, help="write per-file timings here")
    ap.add_argument("--cprofile", type=Path, help="write cProfile stats of the timed conversions here")
    args = ap.parse_args()

    names = ["dev", "realworld"] if args.corpus == "all" else [args.corpus]
    files = [
        info
        for name in names
        for info in (inspect_file(p) for p in sorted((SHARED / name / "pdf").glob("*.pdf")))
        if info.born_digital
    ]
    config = _config(None, None, parse_set(args.set))
    engines = Engines(config)
    convert_file(files[0].path, config, engines, with_images=False)  # imports, model loads

    stages: Counter[str] = Counter()
    per_file: dict[str, dict] = {}
    profiler = cProfile.Profile() if args.cprofile else None
    if profiler:
        profiler.enable()
    start = time.perf_counter()
    for info in files:
        t0 = time.perf_counter()
        try:
            timings = convert_file(info.path, config, engines, with_images=False).timings
        except Exception as exc:  # noqa: BLE001 - a file that cannot be opened is skipped
            print(f"{info.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        seconds = time.perf_counter() - t0
        stages.update(timings)
        per_file[info.name] = {"seconds": seconds, "pages": info.pages, "stages": dict(timings)}
    total = time.perf_counter() - start
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.cprofile)
    pages = sum(f["pages"] for f in per_file.values())
    print(f"{len(per_file)} born-digital files, {pages} pages: {total:.1f} s, {pages / total:.2f} pages/s")
    for stage, seconds in stages.most_common():
        print(f"  {stage:12s} {seconds:7.2f} s")
    print(f"slowest {args.top} files:")
    for name, f in sorted(per_file.items(), key=lambda kv: -kv[1]["seconds"])[: args.top]:
        parts = sorted(f["stages"].items(), key=lambda kv: -kv[1])[:4]
        detail = " ".join(f"{k}={v:.2f}" for k, v in parts)
        print(f"  {f['seconds']:6.2f} s {f['pages']:4d} p  {name[:48]:48s} {detail}")
    if args.json:
        args.json.write_text(json.dumps({"total": total, "files": per_file}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
