"""One process owns OUT: a second run is refused naming the owner; a killed owner's lock is free."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from docpipe.config import load_config
from docpipe.errors import UsageError
from docpipe.scheduler.batch import run_batch
from docpipe.scheduler.out_lock import OutFolderBusy, OutLock

HOLDER = """
import sys, time
from pathlib import Path
from docpipe.scheduler.out_lock import OutLock
lock = OutLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
time.sleep(120)
"""


def _hold(out: Path) -> subprocess.Popen:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(out)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_owner_is_refused_with_the_owners_pid_and_a_killed_owner_frees_it(tmp_path):
    out = tmp_path / "out"
    holder = _hold(out)
    try:
        with pytest.raises(OutFolderBusy, match=f"PID {holder.pid}"):
            OutLock(out).acquire()
        pdf = tmp_path / "a.pdf"
        pdf.write_bytes(b"%PDF-1.4\n")
        with pytest.raises(UsageError, match=f"in use by another docpipe run \\(PID {holder.pid}\\)"):
            run_batch([pdf], out, load_config())
        assert not (out / "a.json").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # SIGKILL left the lock file (and the dead PID in it) behind; the kernel released the flock
    assert (out / ".docpipe" / "lock").exists()
    with OutLock(out) as lock:
        assert (out / ".docpipe" / "lock").read_text().strip() == str(os.getpid())
        with pytest.raises(OutFolderBusy, match=f"PID {os.getpid()}"):
            OutLock(out).acquire()  # one owner even within a process: a flock per open file
    assert lock._fd is None
    OutLock(out).acquire()  # released on exit


def test_the_second_run_does_not_delete_the_first_runs_temporaries(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    holder = _hold(out)
    try:
        tmp = out / ".doc.md.abcd1234.tmp"  # the owner is writing it
        tmp.write_text("half")
        pdf = tmp_path / "a.pdf"
        pdf.write_bytes(b"%PDF-1.4\n")
        start = time.perf_counter()
        with pytest.raises(UsageError):
            run_batch([pdf], out, load_config())
        assert tmp.exists()
        assert time.perf_counter() - start < 5  # refused at once, not after waiting
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
