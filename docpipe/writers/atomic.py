"""Write-then-rename, so that a killed run never leaves a half-written file under a final name.

The rename is atomic with respect to the process being killed at any instant. We do not fsync each
file: that would cost more than the conversion of a born-digital page, and on power loss the
manifest (which is only updated after the rename) errs on the side of redoing the document.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


@contextmanager
def atomic_text_writer(path: Path) -> Iterator[TextIO]:
    """Stream text into a hidden temporary beside `path`; renamed into place only when the block
    finishes without an exception, removed otherwise (for outputs too big to build in memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            yield fh
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a review page is meant to be opened and shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
