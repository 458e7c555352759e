"""Ray nodes started on this machine with `ray start`, for `scripts/bench_ray.py` and the Ray tests,
and the processes they leave behind (Linux: read from /proc).

`ray start` returns once its daemons run, in a session (process group) of their own, and Ray's
workers run in groups of their own below them: stopping a node means killing the group and every
process below it. Only what this process started is killed, never `ray stop` (it stops every Ray
on the machine).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def group_members(pgid: int) -> set[int]:
    """Processes in process group `pgid`."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):  # it ended meanwhile
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                found.add(int(stat.parent.name))
    return found


def descendants(pids: set[int]) -> set[int]:
    """`pids` and every process below them."""
    found, todo = set(), list(pids)
    while todo:
        pid = todo.pop()
        found.add(pid)
        for task in Path(f"/proc/{pid}/task").glob("*"):
            with contextlib.suppress(OSError, ValueError):  # it ended meanwhile
                todo += [int(c) for c in (task / "children").read_text().split() if int(c) not in found]
    return found


def kill_group(pgid: int) -> None:
    """Kill a node: the daemons `ray start` left in its process group, and their workers."""
    for pid in descendants(group_members(pgid)):
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.kill(pid, signal.SIGKILL)


def start_node(
    args: list[str], *, cpus: int, temp_dir: str, env: dict[str, str], timeout: float | None = None
) -> int:
    """`ray start ARGS` with `cpus` CPUs, usage reports off; returns the process group its daemons
    run in. Raises RuntimeError with the tail of its output when it fails (what it started is
    killed first)."""
    cmd = [sys.executable, "-m", "ray.scripts.scripts", "start", *args, "--num-cpus", str(cpus)]
    cmd += ["--temp-dir", temp_dir, "--disable-usage-stats"]
    proc = subprocess.Popen(
        cmd, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    out, _ = proc.communicate(timeout=timeout)
    if proc.returncode != 0:
        kill_group(proc.pid)
        raise RuntimeError(f"ray start failed:\n{out.decode(errors='replace')[-3000:]}")
    return proc.pid
