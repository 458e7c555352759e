"""pymupdf4llm in a process of its own, one file per request, for side-by-side scoring.

    python -m docpipe.eval.baseline_worker   # reads one JSON path per line, answers one JSON line

Why a separate process: importing pymupdf4llm switches PyMuPDF's layout model on for the whole
interpreter (docpipe must not run under it), and a malformed PDF that crashes or hangs the baseline
must cost that file, not the run. The answer carries the seconds spent in `to_markdown` alone, so
the pipe does not count against the baseline's speed.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_TIMEOUT_S = 600.0


@dataclass
class BaselineResult:
    markdown: str
    seconds: float
    error: str = ""


def serve() -> int:
    # Keep the answer channel private: the baseline and MuPDF print to stdout (C code included).
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    import pymupdf4llm  # default settings: the layout model is on when pymupdf-layout is installed

    for line in sys.stdin:
        path = json.loads(line)
        t0 = time.perf_counter()
        try:
            markdown, error = pymupdf4llm.to_markdown(path), ""
        except Exception as exc:  # noqa: BLE001 - a file the baseline raises on is empty output
            markdown, error = "", f"{type(exc).__name__}: {exc}"
        seconds = time.perf_counter() - t0
        answers.write(json.dumps({"markdown": markdown, "seconds": seconds, "error": error}) + "\n")
        answers.flush()
    return 0


class BaselineProcess:
    """Client side: `convert(path)` never raises; a dead or hung worker is replaced."""

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S, command: list[str] | None = None) -> None:
        self.timeout_s = timeout_s
        self.command = command or [sys.executable, "-m", "docpipe.eval.baseline_worker"]
        self._proc: subprocess.Popen[str] | None = None

    def _start(self) -> subprocess.Popen[str]:
        if self._proc is None or self._proc.poll() is not None:
            # The worker imports this very checkout of docpipe, whatever the venv has installed.
            here = str(Path(__file__).resolve().parents[2])
            env = dict(
                os.environ, PYTHONPATH=os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))
            )
            self._proc = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                env=env,
            )
        return self._proc

    def convert(self, path: Path) -> BaselineResult:
        proc = self._start()
        assert proc.stdin is not None and proc.stdout is not None
        t0 = time.perf_counter()
        line, hung = "", False
        try:
            proc.stdin.write(json.dumps(str(path)) + "\n")
            proc.stdin.flush()
            # One request in flight, so the reply is the only line that can arrive; an empty read
            # is end of file: the worker exited.
            ready, _, _ = select.select([proc.stdout], [], [], self.timeout_s)
            if ready:
                line = proc.stdout.readline()
            else:
                hung = True
        except BrokenPipeError:
            pass
        if line:
            reply = json.loads(line)
            return BaselineResult(reply["markdown"], reply["seconds"], reply["error"])
        elapsed = time.perf_counter() - t0
        if hung:
            proc.kill()
            why = f"no answer in {self.timeout_s:.0f} s"
        else:
            why = f"worker died (exit status {proc.wait()})"
        self.close()
        return BaselineResult("", elapsed, why)

    def close(self) -> None:
        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        if proc.stdin:
            # Closing flushes; after a broken pipe the unsent request is still buffered.
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()

    def __enter__(self) -> BaselineProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    sys.exit(serve())
