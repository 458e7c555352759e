"""One process owns an output folder at a time: `OUT/.docpipe/lock`, held with `flock`.

Two batches writing the same OUT would convert pages twice, and the second one's start-up cleanup
would delete the first one's temporary files. The lock is an exclusive `flock` on a file that holds
the owner's PID (for the error message only). The kernel releases a `flock` when every descriptor
of it is closed, so a run killed with SIGKILL leaves no stale lock: the next run takes it at once.
Worker processes forked by the owner share its descriptor, so the lock lasts as long as any of
them still writes.
"""

from __future__ import annotations

import os
from pathlib import Path

from docpipe.errors import UsageError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locking
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = "lock"


class OutFolderBusy(UsageError):
    """Another process owns the output folder (exit 2: nothing was done)."""


class OutLock:
    """`with OutLock(out_dir):` holds OUT for this process, or raises OutFolderBusy naming the owner."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / ".docpipe" / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = _read_pid(fd)
                os.close(fd)
                who = _describe(owner)
                raise OutFolderBusy(
                    f"{self.path.parent.parent}: the output folder is in use by another docpipe run "
                    f"({who}); wait for it to finish, or write to another folder"
                ) from None
            except BaseException:
                os.close(fd)
                raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)  # no PID left behind that names a process which has let go
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    def __enter__(self) -> OutLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _describe(pid: int | None) -> str:
    if pid is None:
        return "a process that has not written its PID yet"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:  # forked workers share the lock: they outlive a killed parent
        return f"PID {pid}, which has exited; worker processes it started still hold the lock"
    except OSError:  # alive, owned by another user
        pass
    return f"PID {pid}"


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None
