"""The baseline's process wrapper: answers pass through; a dead or hung worker costs one file and is
replaced. Stand-in workers (tiny Python programs) play the baseline so no conversion runs here."""

from __future__ import annotations

import sys
from pathlib import Path

from docpipe.eval.baseline_worker import BaselineProcess

# Answers each path with its name reversed; dies on a path containing "crash", hangs on "hang".
_FAKE = """
import json, sys, time
for line in sys.stdin:
    path = json.loads(line)
    if "crash" in path:
        sys.exit(3)
    if "hang" in path:
        time.sleep(60)
    print(json.dumps({"markdown": path[::-1], "seconds": 0.25, "error": ""}), flush=True)
"""


def _fake() -> BaselineProcess:
    return BaselineProcess(timeout_s=2.0, command=[sys.executable, "-c", _FAKE])


def test_answers_carry_the_workers_markdown_and_seconds() -> None:
    with _fake() as baseline:
        first = baseline.convert(Path("abc.pdf"))
        second = baseline.convert(Path("xyz.pdf"))
    assert (first.markdown, first.seconds, first.error) == ("fdp.cba", 0.25, "")
    assert second.markdown == "fdp.zyx"


def test_a_dead_worker_costs_one_file_and_is_restarted() -> None:
    with _fake() as baseline:
        dead = baseline.convert(Path("crash.pdf"))
        after = baseline.convert(Path("ok.pdf"))
    assert dead.markdown == "" and dead.error == "worker died (exit status 3)"
    assert after.markdown == "fdp.ko" and not after.error


def test_a_hung_worker_is_killed_after_the_timeout() -> None:
    with _fake() as baseline:
        hung = baseline.convert(Path("hang.pdf"))
        after = baseline.convert(Path("ok.pdf"))
    assert hung.markdown == "" and hung.error == "no answer in 2 s" and hung.seconds >= 2.0
    assert after.markdown == "fdp.ko"
