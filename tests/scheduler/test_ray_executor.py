"""`--executor ray` on a real two-node Ray cluster on this machine: a head and a second node, each a
`ray start` of one CPU on its own loopback address (Ray rewrites 127.0.0.1 to the host's network
address, any other 127.x address it keeps), dashboard and usage reports off. The batch's outputs must
equal the local executor's; a rerun converts nothing, also with a fresh manifest (done-markers); a
node killed mid-run loses no document and converts none twice; the VLM actors share one request cap.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

import docpipe
import docpipe.scheduler.batch as batch
from docpipe.bench.ray_cluster import descendants, free_port, group_members, kill_group, start_node
from docpipe.cli.main import main
from docpipe.config import load_config
from docpipe.model import DocumentStatus
from docpipe.outcome import DocOutcome
from docpipe.scheduler.batch import run_batch
from docpipe.scheduler.ray_executor import RayOptions

from .helpers import bench_corpus, normalized_json

ROOT = Path(__file__).resolve().parents[2]
HEAD_IP, NODE_IP = "127.0.0.2", "127.0.0.3"
START_TIMEOUT_S = 180  # two `ray start`s on a busy 2-core machine
SETTINGS = ["--set", "convert.max_pages_in_flight=4"]  # the 16-page PDF goes as 4 windows


def _ray_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)  # a local instance's setting: nodes must join
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def _ray_start(args: list[str], temp_dir: str) -> int:
    """Start a Ray node of one CPU; returns the process group its daemons run in (ours alone to kill)."""
    try:
        return start_node(args, cpus=1, temp_dir=temp_dir, env=_ray_env(), timeout=START_TIMEOUT_S)
    except RuntimeError as exc:
        pytest.fail(str(exc))


def _nodes_alive(ray) -> int:
    return sum(1 for n in ray.nodes() if n["Alive"])


@pytest.fixture(scope="module")
def cluster():
    """(ray module connected as the driver, address, process groups of the second node and the head)."""
    # The cluster's own token (not ~/.ray/auth_token, which a local `ray.init` may have made): the
    # nodes inherit it, this process uses it as the driver.
    env = pytest.MonkeyPatch()
    env.setenv("RAY_AUTH_MODE", "token")
    env.setenv("RAY_AUTH_TOKEN", uuid.uuid4().hex)
    env.setenv("RAY_USAGE_STATS_ENABLED", "0")
    ray = pytest.importorskip("ray")
    temp_dir = tempfile.mkdtemp(prefix="dpray", dir="/tmp")  # short: Ray's socket paths must fit
    port = free_port(HEAD_IP)
    groups: list[int] = []
    try:
        head = ["--head", "--node-ip-address", HEAD_IP, "--port", str(port), "--include-dashboard", "false"]
        groups.append(_ray_start(head, temp_dir))
        address = f"{HEAD_IP}:{port}"
        groups.append(_ray_start(["--address", address, "--node-ip-address", NODE_IP], temp_dir))
        from docpipe.scheduler.ray_runtime import connect

        connect(address, 1)
        deadline = time.monotonic() + START_TIMEOUT_S
        while _nodes_alive(ray) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _nodes_alive(ray) == 2
        yield ray, address, groups[1], groups[0]
    finally:
        if ray.is_initialized():
            ray.shutdown()
        for pgid in groups:
            kill_group(pgid)
        shutil.rmtree(temp_dir, ignore_errors=True)
        env.undo()


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    """Born-digital documents, a scan (sample.pdf's last page) and one 16-page PDF (big: see
    `big_pdfs`)."""
    folder = bench_corpus(tmp_path_factory.mktemp("mixed"), 8, 3, "--big", "16")
    shutil.copy(ROOT / "fixtures" / "sample.pdf", folder / "sample.pdf")
    return folder


@pytest.fixture
def big_pdfs(monkeypatch):
    """Any PDF of more than two windows counts as big, whatever its size (decided on the driver)."""
    monkeypatch.setattr(batch, "BIG_FILE_BYTES", 0)


@pytest.fixture(scope="module")
def reference(mixed, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local")
    mp = pytest.MonkeyPatch()
    mp.setattr(batch, "BIG_FILE_BYTES", 0)
    try:
        assert main(["convert", "-q", "--workers", "2", str(mixed), "-o", str(out), *SETTINGS]) == 0
    finally:
        mp.undo()
    return out


def _normalized(path: Path) -> bytes:
    if path.name.endswith(".json") and not path.name.endswith(".chunks.jsonl"):
        return json.dumps(normalized_json(path), sort_keys=True).encode()
    return path.read_bytes()


def _outputs(out: Path) -> dict[str, bytes]:
    """Every output file (not the state folder), timings left out."""
    return {
        str(p.relative_to(out)): _normalized(p)
        for p in sorted(out.rglob("*"))
        if p.is_file() and ".docpipe" not in p.relative_to(out).parts
    }


def _manifest(out: Path) -> dict[str, str]:
    import sqlite3

    con = sqlite3.connect(out / ".docpipe" / "manifest.sqlite")
    try:
        return dict(con.execute("SELECT name, status FROM documents").fetchall())
    finally:
        con.close()


def test_import_docpipe_does_not_import_ray():
    code = "import sys, docpipe, docpipe.cli.main, docpipe.scheduler.batch; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_without_ray_the_error_names_the_extra(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    for name in ("RAY_USAGE_STATS_ENABLED", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"):
        monkeypatch.delenv(name, raising=False)  # set by the attempt: restored after
    pdf = ROOT / "fixtures" / "sample.pdf"
    assert main(["convert", "-q", str(pdf), "-o", str(tmp_path / "out"), "--executor", "ray"]) == 2
    assert "pip install 'docpipe[ray]'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_mixed_corpus_matches_local_then_resumes(cluster, mixed, reference, big_pdfs, tmp_path, capsys):
    ray, address, *_ = cluster
    out = tmp_path / "ray"
    args = ["convert", "-q", str(mixed), "-o", str(out), "--executor", "ray", "--address", address]
    assert main([*args, "-v", "--workers", "2", *SETTINGS]) == 0
    assert _outputs(out) == _outputs(reference)
    names = {p.stem for p in mixed.glob("*.pdf")}
    assert {p.stem for p in (out / ".docpipe" / "done").glob("*.json")} == names
    assert set(_manifest(out).values()) == {"ok"}
    converted = re.findall(r"^docpipe: (\S+): ok, \d+ pages in ", capsys.readouterr().err, re.M)
    assert sorted(Path(p).stem for p in converted) == sorted(names)  # each recorded once

    # A rerun converts nothing: from the manifest, then (another driver) from the markers alone.
    config = load_config(None, {"convert": {"max_pages_in_flight": 4}})
    again = run_batch([mixed], out, config, workers=2, ray=RayOptions(address))
    assert again.skipped == len(names) and again.pages == 0
    for leftover in (out / ".docpipe").glob("manifest.sqlite*"):
        leftover.unlink()
    fresh = docpipe.convert_to(
        [mixed], out, overrides={"convert": {"max_pages_in_flight": 4}}, executor="ray", address=address
    )
    assert fresh.skipped == len(names) and fresh.pages == 0
    assert set(_manifest(out).values()) == {"ok"}  # the new manifest learnt them from the markers
    assert _outputs(out) == _outputs(reference)


PAGE = "<|ref|>text<|/ref|><|det|>[[100, 100, 900, 200]]<|/det|>\nA line of recognised text.\n"


def _vlm_args(base_url: str, folder: Path, cap: int) -> list[str]:
    args = ["--engine", "vlm", "--backend", "openai", "--base-url", base_url, "--set", "vlm.dpi=72"]
    return args + ["--model", "deepseek-ai/DeepSeek-OCR", "--max-concurrency", str(cap), "-q", str(folder)]


def test_vlm_actors_share_the_request_cap(cluster, tmp_path):
    pytest.importorskip("httpx")
    from tests.engines.vlm.support_server import FakeChatServer

    folder = bench_corpus(tmp_path / "in", docs=6, pages=2)
    lock = threading.Lock()
    state = {"now": 0, "peak": 0, "calls": 0}

    def script(body, n):
        with lock:
            state["now"] += 1
            state["calls"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.3)
        with lock:
            state["now"] -= 1
        return ("reply", PAGE, "stop")

    with FakeChatServer(script) as srv:
        common = _vlm_args(srv.base_url, folder, cap=3)
        _, address, *_ = cluster
        on_ray = [*common, "-o", str(tmp_path / "ray"), "--executor", "ray", "--address", address]
        assert main(["convert", *on_ray, "--workers", "2"]) == 0
        peak_ray = state["peak"]
        assert main(["convert", *common, "-o", str(tmp_path / "local"), "--workers", "1"]) == 0
    assert state["calls"] == 2 * 12
    assert 2 <= peak_ray <= 3, state  # two actors (caps 2 + 1) overlap, never over the cap
    assert _outputs(tmp_path / "ray") == _outputs(tmp_path / "local")


def test_node_killed_mid_run_loses_nothing(cluster, tmp_path, caplog):
    """Each actor holds a document whose VLM request the server keeps open; then the second node is
    killed. Its document must be converted again by the other actor, and recorded once."""
    pytest.importorskip("httpx")
    from tests.engines.vlm.support_server import FakeChatServer

    ray, address, node_group, _ = cluster
    folder = bench_corpus(tmp_path / "in", docs=6, pages=2)
    lock = threading.Lock()
    state = {"now": 0}
    both_busy, release = threading.Event(), threading.Event()

    def script(body, n):
        with lock:
            state["now"] += 1
            if state["now"] >= 2:  # one request per actor (caps 1 + 1): both hold a document
                both_busy.set()
        release.wait(60)
        with lock:
            state["now"] -= 1
        return ("reply", PAGE, "stop")

    def kill_when_both_busy() -> None:
        if both_busy.wait(120):
            kill_group(node_group)
        release.set()

    with FakeChatServer(script) as srv:
        common = _vlm_args(srv.base_url, folder, cap=2)
        killer = threading.Thread(target=kill_when_both_busy)
        killer.start()
        out = tmp_path / "ray"
        on_ray = ["-o", str(out), "--executor", "ray", "--address", address, "-v"]  # -v: logs each document
        assert main(["convert", *common, *on_ray]) == 0
        killer.join()
        # the reference, with the server answering at once (`release` is set)
        assert main(["convert", *common, "-o", str(tmp_path / "local"), "--workers", "1"]) == 0
    assert both_busy.is_set()
    lost = [r.getMessage() for r in caplog.records if "converting it again on another" in r.getMessage()]
    assert lost  # the killed node's document went to the other actor
    recorded = [r.getMessage() for r in caplog.records if re.search(r": ok, \d+ pages in ", r.getMessage())]
    assert sorted(m.split(": ")[1] for m in recorded) == sorted(str(p) for p in folder.glob("*.pdf"))
    assert _outputs(out) == _outputs(tmp_path / "local")
    assert set(_manifest(out).values()) == {"ok"}


def _actor_processes(pgid: int) -> list[int]:
    """Our DocWorker actors below the daemons of one node (process group `pgid`)."""
    found = []
    for pid in descendants(group_members(pgid)):
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"ray::DocWorker"):
                found.append(pid)
    return found


def test_a_document_whose_worker_keeps_dying_fails_after_the_retries(cluster, tmp_path, capsys):
    """Every attempt's actor is killed while it waits on the server: with --max-retries 1 the
    document is recorded failed after two attempts, with the reason; --retry-failed then converts it."""
    pytest.importorskip("httpx")
    from tests.engines.vlm.support_server import FakeChatServer

    _, address, node_group, head_group = cluster
    folder = bench_corpus(tmp_path / "in", docs=1, pages=2)
    state = {"kills": 0, "killing": True}

    def script(body, n):
        if state["killing"]:
            for pid in _actor_processes(head_group) + _actor_processes(node_group):
                state["kills"] += 1
                os.kill(pid, signal.SIGKILL)
        return ("reply", PAGE, "stop")

    with FakeChatServer(script) as srv:
        args = ["convert", *_vlm_args(srv.base_url, folder, cap=1), "-o", str(tmp_path / "out")]
        args += ["--executor", "ray", "--address", address, "--workers", "1", "--max-retries", "1"]
        assert main(args) == 1
        assert "was lost while converting it, 2 times" in capsys.readouterr().err
        assert state["kills"] >= 2
        status = _manifest(tmp_path / "out")
        assert status == {"bench_000": "failed"}
        state["killing"] = False
        assert main([*args, "--retry-failed"]) == 0
    assert _manifest(tmp_path / "out") == {"bench_000": "ok"}


class _FakeRay:
    """Only what `actor_spec` asks of Ray: the cluster's resources."""

    def __init__(self, **resources: float) -> None:
        self.resources = resources

    def cluster_resources(self) -> dict[str, float]:
        return self.resources


@pytest.mark.parametrize(
    ("settings", "workers", "resources", "want"),
    [
        ({}, 0, {"CPU": 6}, (6, 0.0, 1, (None,) * 6)),  # CPU engines: one actor per CPU
        ({"vlm": {"backend": "vllm"}}, 0, {"CPU": 16, "GPU": 4}, (4, 1.0, 32, (None,) * 4)),  # own engines
        ({"vlm": {"backend": "vllm"}}, 2, {"CPU": 16, "GPU": 4}, (2, 1.0, 32, (None,) * 2)),
        ({"vlm": {"max_concurrency": 32}}, 3, {"CPU": 8}, (3, 0.0, 11, (11, 11, 10))),  # cap split
        (
            {"vlm": {"max_concurrency": 3}},
            0,
            {"CPU": 8},
            (3, 0.0, 2, (1, 1, 1)),
        ),  # no more actors than the cap
    ],
)
def test_actor_spec(settings, workers, resources, want):
    from docpipe.scheduler.ray_executor import actor_spec

    overrides = {"convert": {"engine": "vlm"}} | settings if settings else {}
    spec = actor_spec(_FakeRay(**resources), load_config(None, overrides), workers, 0)
    assert (spec.count, spec.num_gpus, spec.slots, spec.vlm_caps) == want
    assert spec.num_cpus == 1.0


def test_vllm_actors_need_gpus():
    from docpipe.errors import UsageError
    from docpipe.scheduler.ray_executor import actor_spec

    config = load_config(None, {"convert": {"engine": "vlm"}, "vlm": {"backend": "vllm"}})
    with pytest.raises(UsageError, match="GPUs"):
        actor_spec(_FakeRay(CPU=8), config, 0, 0)


class _Ref:
    def __init__(self, value) -> None:
        self.value = value


class _WaitFirstStarted:
    """A Ray stand-in whose `wait` returns a finished `ready` ref before any finished task (Ray
    promises no order), and counts its calls: a driver that never consumes it would spin."""

    class exceptions:  # noqa: N801 - the shape of ray.exceptions
        class RayError(Exception):
            pass

        class RayTaskError(RayError):
            cause = None

    def __init__(self, started: list) -> None:
        self.started = started
        self.waits = 0

    def wait(self, refs, num_returns=1, timeout=None):
        self.waits += 1
        assert self.waits < 100, "the driver keeps waiting on refs it never consumes"
        ready = [r for r in refs if r in self.started] or list(refs)
        return ready[:num_returns], [r for r in refs if r not in ready[:num_returns]]

    def get(self, ref):
        return ref.value


class _OneActorPool:
    """One actor in service, and one more whose `ready` has come back but that is not yet in service."""

    def __init__(self, ray: _WaitFirstStarted) -> None:
        self.ray = ray
        self.ready_ref = _Ref(0)
        ray.started.append(self.ready_ref)
        self.spec = SimpleNamespace(count=1)

        class Actor:
            class convert:  # noqa: N801 - the shape of an actor method
                @staticmethod
                def remote(path, out, name, config):
                    return _Ref(DocOutcome(path, name, DocumentStatus.ok, pages=1))

        self.actor = Actor
        self.polled = 0

    @property
    def starting(self) -> list:
        return list(self.ray.started)

    def poll(self) -> None:
        self.polled += 1
        self.ray.started.clear()

    def has_room(self) -> bool:
        return True

    def pick(self):
        return self.actor

    def release(self, actor) -> None:
        pass


def test_a_started_actor_does_not_starve_the_drain(tmp_path):
    from docpipe.scheduler.ray_executor import _Driver

    ray = _WaitFirstStarted([])
    pool = _OneActorPool(ray)
    recorded: list[DocOutcome] = []
    plan = iter([(tmp_path / f"d{k}.pdf", f"d{k}", None) for k in range(3)])
    _Driver(ray, pool, tmp_path, load_config(None, {}), recorded.append, 0).run(plan)
    assert [o.name for o in recorded] == ["d0", "d1", "d2"]
    assert pool.polled >= 1
