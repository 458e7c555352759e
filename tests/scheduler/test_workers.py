"""The worker pool: results and exceptions come back by ticket, a worker runs several tasks at once,
a dead worker fails only its own tasks and is replaced, and workers die with their parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from docpipe.scheduler.workers import WorkerDied, WorkerPool


def _double(x: int) -> int:
    return 2 * x


def _fail(message: str) -> None:
    raise ValueError(message)


def _exit_now(code: int) -> None:
    os._exit(code)


def _wait_for(path: str, timeout: float = 60.0) -> str:
    """Return once `path` exists (a task that holds its slot until the test says so)."""
    deadline = time.monotonic() + timeout
    while not Path(path).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(path)
        time.sleep(0.01)
    return "released"


def _meet(folder: str, me: int, parties: int) -> bool:
    """Each task signs in, then waits until every party has: only tasks that run at once meet."""
    Path(folder, f"{me}").touch()
    deadline = time.monotonic() + 60
    while len(os.listdir(folder)) < parties:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_values_and_exceptions_come_back_by_ticket():
    with WorkerPool(2) as pool:
        tickets = {pool.submit(_double, i): i for i in range(6)}
        bad = pool.submit(_fail, "no good")
        results = {}
        while pool.in_flight or len(results) < 7:
            for done in pool.wait():
                results[done.ticket] = done
        assert all(results[t].result() == 2 * i for t, i in tickets.items())
        assert isinstance(results[bad].error, ValueError) and "no good" in str(results[bad].error)
        with pytest.raises(ValueError):
            results[bad].result()


def test_a_worker_runs_its_slots_at_once(tmp_path):
    with WorkerPool(1, slots=3) as pool:
        tickets = [pool.submit(_meet, str(tmp_path), i, 3) for i in range(3)]
        assert [pool.result(t) for t in tickets] == [True, True, True]


def test_a_dead_worker_fails_only_its_own_tasks_and_is_replaced(tmp_path):
    flag = tmp_path / "go"
    with WorkerPool(2) as pool:
        dying = pool.submit(_exit_now, 3)  # least busy: the first worker
        waiting = pool.submit(_wait_for, str(flag))  # the other worker
        before = set(pool.pids())
        with pytest.raises(WorkerDied, match="exit code 3"):
            pool.result(dying)
        assert pool.deaths == 1 and len(pool.pids()) == 2 and set(pool.pids()) != before
        flag.touch()
        assert pool.result(waiting) == "released"  # the other worker's task was not touched
        assert pool.result(pool.submit(_double, 21)) == 42  # the replacement works


def test_every_task_of_a_dead_worker_fails(tmp_path):
    with WorkerPool(1, slots=2) as pool:
        held = pool.submit(_wait_for, str(tmp_path / "never"))
        pool.submit(_exit_now, 9)
        with pytest.raises(WorkerDied):
            pool.result(held)
        assert pool.result(pool.submit(_double, 1)) == 2


def test_a_worker_killed_while_idle_is_replaced_at_the_next_submit():
    with WorkerPool(1) as pool:
        (pid,) = pool.pids()
        os.kill(pid, signal.SIGKILL)
        pool._workers[0].process.join(10)  # dead (and reaped) before the pool hears of it
        assert pool.result(pool.submit(_double, 5)) == 10
        assert pool.pids() != [pid]


_ORPHAN_PARENT = """
import sys, time
from docpipe.scheduler.workers import WorkerPool
from tests.scheduler.test_workers import _wait_for
pool = WorkerPool(2)
for _ in range(2):
    pool.submit(_wait_for, sys.argv[1])  # each worker busy, as in a batch
print(" ".join(map(str, pool.pids())), flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
def test_workers_die_with_their_parent(tmp_path):
    """`kill -9` of the parent leaves no worker behind (they would go on converting and writing)."""
    root = Path(__file__).resolve().parents[2]
    parent = subprocess.Popen(
        [sys.executable, "-c", _ORPHAN_PARENT, str(tmp_path / "never")],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(p) for p in pids)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 20
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [p for p in pids if _alive(p)]
