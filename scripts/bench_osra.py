#!/usr/bin/env python3
"""Measure OSRA on the generated molecule fixtures: accuracy (same canonical SMILES) and time.

python scripts/bench_osra.py [--dpi 200] [--workers 1]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pymupdf

from docpipe.science.osra import recognise_structure
from docpipe.util.chem import chemical_from_smiles


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    spec = importlib.util.spec_from_file_location(
        "make_chem_fixtures", Path(__file__).with_name("make_chem_fixtures.py")
    )
    fixtures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixtures)
    with tempfile.TemporaryDirectory() as tmp:
        pdf, meta = fixtures.build(Path(tmp))
        records = json.loads(meta.read_text(encoding="utf-8"))
        with pymupdf.open(pdf) as doc:
            crops = [
                doc[r["page"]].get_pixmap(clip=pymupdf.Rect(r["bbox"]), dpi=args.dpi).tobytes("png")
                for r in records
            ]

    def timed(png: bytes):
        start = time.perf_counter()
        found = recognise_structure(png)
        return found, time.perf_counter() - start

    wall = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as pool:
        results = list(pool.map(timed, crops))
    wall = time.perf_counter() - wall
    hits = 0
    for rec, (found, seconds) in zip(records, results, strict=True):
        expected = chemical_from_smiles(rec["smiles"]).canonical_smiles
        ok = found is not None and found.canonical_smiles == expected
        hits += ok
        print(
            f"{'ok  ' if ok else 'MISS'} {seconds:5.2f}s {rec['name']:<18} {found.smiles if found else '-'}"
        )
    times = [s for _, s in results]
    print(
        f"dpi={args.dpi} workers={args.workers}: {hits}/{len(records)} = {hits / len(records):.0%} exact; "
        f"per molecule median {statistics.median(times):.2f}s, max {max(times):.2f}s; wall {wall:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
