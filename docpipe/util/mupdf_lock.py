"""One thread at a time in MuPDF, per process.

MuPDF (through PyMuPDF) must never be entered from two threads at once. A worker that converts
several documents at once (to keep a VLM server busy) runs each on its own thread, so every thread
that touches a PDF holds this lock: a document thread holds it for its whole conversion and gives it
up only while it waits for an engine that needs no MuPDF (`released`, around the VLM's requests),
and the VLM engine's render thread takes it for each page it rasterizes.

The lock is re-entrant per thread, and `released` is a no-op on a thread that does not hold it, so
code that runs both inside and outside a document thread (the Python API) can use both freely.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = threading.local()  # how many `hold`s this thread is inside


def _reset_in_child() -> None:
    # A process forked while some thread held the lock would otherwise start with it held forever.
    global _lock, _depth
    _lock, _depth = threading.Lock(), threading.local()


os.register_at_fork(after_in_child=_reset_in_child)


def _held() -> int:
    return getattr(_depth, "n", 0)


@contextmanager
def hold() -> Iterator[None]:
    """Run the block with MuPDF to this thread alone."""
    n = _held()
    if n == 0:
        _lock.acquire()
    _depth.n = n + 1
    try:
        yield
    finally:
        _depth.n = n
        if n == 0:
            _lock.release()


@contextmanager
def released() -> Iterator[None]:
    """Let other threads into MuPDF while this one waits for something that does not need it.
    Nothing in the block may touch a PDF."""
    n = _held()
    if n:
        _depth.n = 0
        _lock.release()
    try:
        yield
    finally:
        if n:
            _lock.acquire()
            _depth.n = n


def held_here() -> bool:
    """Whether this thread holds the lock (for assertions in tests)."""
    return _held() > 0
