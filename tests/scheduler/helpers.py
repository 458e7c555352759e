"""Shared by the batch tests: generated corpora, and outputs and manifests read back."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def bench_corpus(folder: Path, docs: int, pages: int, *extra: str) -> Path:
    """Text-and-table PDFs from scripts/make_bench_corpus.py (`extra`: e.g. "--big", "16")."""
    script = ROOT / "scripts" / "make_bench_corpus.py"
    cmd = [sys.executable, str(script), str(folder), "--docs", str(docs), "--pages", str(pages), *extra]
    subprocess.run(cmd, check=True, capture_output=True)
    return folder


def normalized_json(path: Path) -> dict:
    """A document's JSON without what legitimately differs between runs (timings)."""
    data = json.loads(path.read_text())
    for page in data["pages"]:
        page["timings"] = {}
    return data


def done_count(out: Path) -> int:
    """Documents the manifest records as ok (0 while it cannot be read)."""
    db = out / ".docpipe" / "manifest.sqlite"
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(db, timeout=1)
        return con.execute("SELECT COUNT(*) FROM documents WHERE status='ok'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0
