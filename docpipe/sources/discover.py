"""Turn command-line inputs (files, folders, globs) into a stream of document paths.

A generator, in sorted order per folder: a folder of 50,000 PDFs is walked, never listed whole
into memory with its documents opened.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

PDF_SUFFIXES = frozenset({".pdf"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"})
SUPPORTED_SUFFIXES = PDF_SUFFIXES | IMAGE_SUFFIXES


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # skips OUT/.docpipe and the like
        for name in sorted(files):
            p = Path(root) / name
            if p.suffix.lower() in SUPPORTED_SUFFIXES and not name.startswith("."):
                yield p


def iter_inputs(inputs: Iterable[str | Path]) -> Iterator[Path]:
    """Yield each supported file once. Unknown paths raise FileNotFoundError naming the input."""
    seen: set[Path] = set()
    for raw in inputs:
        raw_s = str(raw)
        p = Path(raw_s)
        if p.is_dir():
            candidates: Iterable[Path] = _walk(p)
        elif p.is_file():
            candidates = [p]
        elif glob.has_magic(raw_s):
            matches = sorted(glob.iglob(raw_s, recursive=True))
            if not matches:
                raise FileNotFoundError(f"{raw_s}: the pattern matches no file")
            candidates = (
                q
                for m in matches
                for q in (_walk(Path(m)) if Path(m).is_dir() else [Path(m)])
                if q.suffix.lower() in SUPPORTED_SUFFIXES
            )
        else:
            raise FileNotFoundError(f"{raw_s}: no such file or folder")
        for c in candidates:
            key = c.resolve()
            if key not in seen:
                seen.add(key)
                yield c
