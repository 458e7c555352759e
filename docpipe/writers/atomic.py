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


def _read_umask() -> int:
    # os.umask can only be read by setting it: set it back at once (this runs at import, before
    # any thread of ours creates files).
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


def publish_mode(fd: int) -> None:
    """Give a temporary from mkstemp (always 0600) the mode any file the user writes gets: 0666
    less the umask. Outputs are meant to be read by others as the user's umask allows."""
    os.fchmod(fd, 0o666 & ~_UMASK)


def make_temporary(final: Path) -> tuple[int, str]:
    """A hidden temporary beside `final`, with the user's file mode."""
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    try:
        publish_mode(fd)
    except BaseException:
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise
    return fd, tmp


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = make_temporary(path)
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
    fd, tmp = make_temporary(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
