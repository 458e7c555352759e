"""Worker processes that each run several tasks at once, and die with their parent.

Why not `concurrent.futures.ProcessPoolExecutor`: its workers run one task at a time, so a worker
whose document waits on a VLM server idles, and the requests in flight drain at every document's
end. Here each worker runs up to `slots` tasks on threads (the documents share the worker's engines
and take turns in MuPDF, `docpipe.util.mupdf_lock`). Also, a worker that dies fails only its own
tasks (`WorkerDied`) and is replaced, where a broken executor loses everything in flight; and
workers cannot outlive the parent (Linux: a parent-death signal; elsewhere a watchdog thread).

The pool is driven from one thread: `submit` hands out a ticket, `wait` returns finished tasks,
`result` waits for one ticket. Each worker has two pipes (tasks in, results out); the parent waits
on the result pipes and on the process sentinels together, so a death is seen at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_any
from multiprocessing.util import Finalize
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["Done", "WorkerDied", "WorkerPool"]


class WorkerDied(Exception):
    """The worker process running a task ended before the task did (a crash in native code, the
    OOM killer, a kill)."""


@dataclass
class Done:
    ticket: int
    value: Any = None
    error: BaseException | None = None  # the task's exception, or WorkerDied

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    tasks: Connection  # parent -> worker
    results: Connection  # worker -> parent
    tickets: set[int] = field(default_factory=set)


def _die_with_parent(parent: int) -> None:
    """A worker must not go on (or write) once the process that started it is gone."""
    try:  # Linux: the kernel kills us when the parent dies (from the thread that forked us)
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, signal.SIGKILL, 0, 0, 0) != 0:  # PR_SET_PDEATHSIG
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError):

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, name="docpipe-parent-watch", daemon=True).start()
    if os.getppid() != parent:  # it died before the signal was armed
        os._exit(1)


def _worker_main(
    tasks: Connection,
    results: Connection,
    slots: int,
    parent: int,
    initializer: Callable[..., None] | None,
    initargs: tuple,
) -> None:
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if initializer is not None:
        initializer(*initargs)
    send = threading.Lock()

    def run(ticket: int, fn: Callable[..., Any], args: tuple) -> None:
        try:
            reply: tuple = (ticket, fn(*args), None)
        except BaseException as exc:  # the parent re-raises it where the result is asked for
            reply = (ticket, None, exc)
        with send:
            try:
                results.send(reply)
            except Exception as exc:  # a result or exception that cannot be pickled
                results.send((ticket, None, RuntimeError(f"{type(exc).__name__}: {exc}")))

    with ThreadPoolExecutor(max_workers=slots, thread_name_prefix="docpipe-task") as threads:
        while True:
            try:
                message = tasks.recv()
            except (EOFError, OSError):  # the parent closed the pipe
                break
            if message is None:
                break
            threads.submit(run, *message)
    results.close()


class WorkerPool:
    """`workers` processes, each running up to `slots` tasks at once on threads. The callable and
    its arguments are pickled (functions by their module-level name)."""

    def __init__(
        self,
        workers: int,
        slots: int = 1,
        initializer: Callable[..., None] | None = None,
        initargs: tuple = (),
    ) -> None:
        # fork: workers start in milliseconds and see the parent's imports (and test patches)
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        self._ctx = multiprocessing.get_context(method)
        self.slots = max(1, slots)
        self._init = (initializer, initargs)
        self._workers: list[_Worker] = [self._start() for _ in range(max(1, workers))]
        self._owner: dict[int, _Worker] = {}
        self._done: dict[int, Done] = {}  # finished, not yet handed out
        self._next = 0
        self.deaths = 0
        # at interpreter exit, before multiprocessing joins its children: a pool left open (an
        # exception past its owner) must not keep the parent waiting on idle workers
        self._finalizer = Finalize(self, WorkerPool._kill, args=(self._workers,), exitpriority=10)

    @staticmethod
    def _kill(workers: list[_Worker]) -> None:
        for worker in workers:
            if worker.process.is_alive():
                worker.process.kill()

    def _start(self) -> _Worker:
        task_r, task_w = self._ctx.Pipe(duplex=False)
        result_r, result_w = self._ctx.Pipe(duplex=False)
        initializer, initargs = self._init
        process = self._ctx.Process(
            target=_worker_main,
            args=(task_r, result_w, self.slots, os.getpid(), initializer, initargs),
            name="docpipe-worker",
            daemon=False,  # a worker may start processes of its own (vLLM's engine core)
        )
        process.start()
        task_r.close()  # the worker's ends: closed here, so a dead worker reads as EOF
        result_w.close()
        return _Worker(process, task_w, result_r)

    # -- submitting ------------------------------------------------------------------------------
    @property
    def in_flight(self) -> int:
        return len(self._owner)

    @property
    def capacity(self) -> int:
        """Tasks that run at once when every worker is full."""
        return len(self._workers) * self.slots

    def submit(self, fn: Callable[..., Any], *args: Any) -> int:
        """Hand a task to the least busy worker; returns its ticket."""
        ticket, self._next = self._next, self._next + 1
        while True:
            worker = min(self._workers, key=lambda w: len(w.tickets))
            try:
                worker.tasks.send((ticket, fn, args))
            except (BrokenPipeError, ConnectionError, OSError):  # it died since the last wait
                self._bury(worker)
                continue
            worker.tickets.add(ticket)
            self._owner[ticket] = worker
            return ticket

    # -- collecting ------------------------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> list[Done]:
        """Tasks that have finished (at least one unless `timeout` passes or nothing is in flight)."""
        if not self._done and self._owner:
            self._pump(timeout)
        done, self._done = list(self._done.values()), {}
        return done

    def result(self, ticket: int) -> Any:
        """Wait for one task and return its value (or raise its exception, or WorkerDied). Other
        tasks that finish meanwhile are kept for `wait`."""
        while ticket not in self._done:
            if ticket not in self._owner:
                raise KeyError(f"unknown ticket {ticket}")
            self._pump(None)
        return self._done.pop(ticket).result()

    def _pump(self, timeout: float | None) -> None:
        busy = [w for w in self._workers if w.tickets]
        ready = wait_any([w.results for w in busy] + [w.process.sentinel for w in busy], timeout)
        for worker in busy:
            if worker.results in ready or worker.process.sentinel in ready:
                self._drain(worker)

    def _drain(self, worker: _Worker) -> None:
        """Read every reply waiting on a worker's pipe; a worker found dead is buried."""
        try:
            while worker.results.poll():
                ticket, value, error = worker.results.recv()
                self._finish(worker, Done(ticket, value, error))
        except (EOFError, OSError):
            self._bury(worker)
            return
        if not worker.process.is_alive():
            self._bury(worker)

    def _finish(self, worker: _Worker, done: Done) -> None:
        worker.tickets.discard(done.ticket)
        self._owner.pop(done.ticket, None)
        self._done[done.ticket] = done

    def _bury(self, worker: _Worker) -> None:
        """A dead worker fails the tasks it held and is replaced."""
        if worker not in self._workers:
            return
        worker.process.join(timeout=5)
        code = worker.process.exitcode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        for ticket in sorted(worker.tickets):
            self._finish(worker, Done(ticket, error=WorkerDied(f"worker process ended ({how})")))
        self.deaths += 1
        log.debug("docpipe: worker %s ended (%s); starting another", worker.process.pid, how)
        worker.tasks.close()
        worker.results.close()
        self._workers[self._workers.index(worker)] = self._start()

    # -- ending ----------------------------------------------------------------------------------
    def close(self, wait: bool = True, grace: float = 10.0) -> None:
        """Stop the workers: with `wait`, after the tasks they hold (abandoned results are
        dropped); otherwise at once."""
        for worker in self._workers:
            with contextlib.suppress(OSError):  # already gone
                worker.tasks.send(None)
        deadline = time.monotonic() + (grace if wait else 0.0)
        for worker in self._workers:
            if wait:
                while worker.process.is_alive() and time.monotonic() < deadline:
                    try:  # keep its pipe empty, so that it is never stuck sending a reply
                        if worker.results.poll(0.05):
                            worker.results.recv()
                    except (EOFError, OSError):
                        worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
            worker.process.join(timeout=5)
            worker.tasks.close()
            worker.results.close()
        self._workers.clear()  # the same list the finalizer holds
        self._owner.clear()

    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(wait=exc[0] is None)
