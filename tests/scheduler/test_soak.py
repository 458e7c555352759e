"""Soak: 200 documents converted through `kill -9` of the parent and of workers, a second run started
on the same OUT meanwhile, and (where a tmpfs can be mounted) a full disk. The end state must equal a
clean run's outputs, no worker may outlive its parent, and no document may be converted twice."""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from docpipe.cli.main import main

from .helpers import bench_corpus, done_count, normalized_json

ROOT = Path(__file__).resolve().parents[2]
DOCS = 200


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return bench_corpus(tmp_path_factory.mktemp("soak"), docs=DOCS, pages=2)


@pytest.fixture(scope="module")
def reference(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reference")
    assert main(["convert", "-q", "--workers", "2", str(corpus), "-o", str(out)]) == 0
    return out


def _cmd(corpus: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "docpipe.cli.main", "convert", "-q", "-v", "--workers", "2"] + [
        str(corpus),
        "-o",
        str(out),
    ]


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):  # the task ended meanwhile
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _gone(pids: list[int], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not any(_alive(p) for p in pids)


def _converted(stderr: str) -> list[str]:
    """Documents a run recorded as converted by itself (`-v` lines; earlier runs' are marked)."""
    return re.findall(r"^docpipe: (\S+): (?:ok|partial|failed), \d+ pages", stderr, re.M)


def _same_as(reference: Path, out: Path) -> None:
    refs = sorted(reference.glob("*.json"))
    assert len(refs) == DOCS
    for ref in refs:
        stem = ref.name[: -len(".json")]
        assert normalized_json(out / ref.name) == normalized_json(ref), ref.name
        for suffix in (".md", ".chunks.jsonl"):
            assert (out / f"{stem}{suffix}").read_bytes() == (reference / f"{stem}{suffix}").read_bytes()
    assert not list(out.glob(".*.tmp"))


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads /proc")
def test_kills_and_a_second_run_end_as_a_clean_run(corpus, reference, tmp_path):
    rng = random.Random(12)
    out = tmp_path / "out"
    converted: Counter[str] = Counter()
    acted = 0  # disruptions that hit a running batch
    # Each round leaves most of the batch for the next; the second run comes last, because the batch
    # goes on while that run starts (a second or so) and may finish meanwhile.
    actions = ["kill parent", "kill worker", "kill parent", "kill worker", "second run"]
    for action in actions:
        start = done_count(out)
        proc = subprocess.Popen(
            _cmd(corpus, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        # act mid-batch: once this run has recorded a few documents, after a random extra delay
        deadline = time.monotonic() + 120
        while done_count(out) < start + 3 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.2))
        workers = _children(proc.pid)
        acted += proc.poll() is None
        if proc.poll() is None and action == "kill worker" and workers:
            os.kill(rng.choice(workers), signal.SIGKILL)
            # the batch goes on (the worker's documents are redone one by one): a few more documents
            after = done_count(out)
            deadline = time.monotonic() + 30
            while done_count(out) < after + 3 and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
        elif proc.poll() is None and action == "second run":
            second = subprocess.run(_cmd(corpus, out), capture_output=True, text=True)
            if proc.poll() is None:  # still running while the second one tried: it was refused
                assert second.returncode == 2, second.stderr
                assert str(proc.pid) in second.stderr
            converted.update(_converted(second.stderr))
        if proc.poll() is None:  # every round ends with the parent killed, leaving work for the next
            workers = _children(proc.pid)
            proc.send_signal(signal.SIGKILL)
            assert _gone(workers), "worker processes outlived their killed parent"
        _, err = proc.communicate(timeout=300)
        converted.update(_converted(err))
        assert "Traceback" not in err, err
    assert acted >= 3, "the batch kept finishing before it could be disrupted"
    final = subprocess.run(_cmd(corpus, out), capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr
    converted.update(_converted(final.stderr))
    _same_as(reference, out)
    twice = [doc for doc, n in converted.items() if n > 1]
    assert not twice, f"converted more than once: {twice}"
    assert len(converted) <= DOCS


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)]
    res = subprocess.run(mount, capture_output=True)
    return res.returncode == 0


def test_a_full_disk_stops_with_a_summary_and_the_next_run_completes(corpus, reference, tmp_path):
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "24m"):
        pytest.skip("cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN)")
    try:
        out = disk / "out"
        filler = disk / "filler"
        # leave room for a part of the batch only
        free = shutil.disk_usage(disk).free
        filler.write_bytes(b"\0" * max(0, free - 600_000))
        res = subprocess.run(_cmd(corpus, out), capture_output=True, text=True, timeout=600)
        assert res.returncode == 1 and "DISK FULL" in res.stderr, res.stderr[-2000:]
        assert "Traceback" not in res.stderr
        assert 0 < done_count(out) < DOCS or not (out / ".docpipe" / "manifest.sqlite").exists()
        filler.unlink()
        res = subprocess.run(_cmd(corpus, out), capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stderr[-2000:]
        _same_as(reference, out)
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
