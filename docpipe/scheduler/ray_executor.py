"""`--executor ray`: the batch's documents converted by Ray actors on a cluster (or a local Ray
instance), with the same outputs as the local executor.

The driver (this process) does what it does locally: plans from the manifest, records each outcome
once, shows progress. Actors (`ray_actors.DocWorker`) keep their engines loaded and write each
document's outputs into OUT, which every node must see at the same path (a shared filesystem). A
bounded number of documents is in flight. Big PDFs go out as page windows, assembled and written by
the driver in order, as locally. An attempt lost with its actor or node is sent to another actor up
to `max_retries` times, then recorded failed with the reason. Each recorded document also gets a
done-marker beside its outputs (`done_markers`), which a later run skips whatever its manifest says.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docpipe.config import Config
from docpipe.errors import UsageError
from docpipe.model import DocumentStatus
from docpipe.outcome import DocOutcome
from docpipe.scheduler.ray_pool import ActorPool, ActorSpec, NoWorkers
from docpipe.writers.outputs import remove_document_temporaries

log = logging.getLogger(__name__)

LOST = "a Ray worker (its process or node) was lost while converting it"


@dataclass(frozen=True)
class RayOptions:
    address: str | None = None  # None: start a local Ray instance
    max_retries: int = 2  # attempts beyond the first when an actor or node is lost


@dataclass
class _Job:
    path: str
    name: str
    actor: Any = None
    attempts: int = 0


def actor_spec(ray, config: Config, workers: int, docs_per_worker: int) -> ActorSpec:
    """How many actors, and what each asks for. `workers` 0: as many as the cluster has CPUs (GPUs
    for the in-process vLLM backend, one engine per GPU, each with `--max-concurrency`). With an HTTP
    VLM server, that cap is the cluster's, split over the actors (never more actors than the cap)."""
    from docpipe.scheduler.batch import choose_docs_per_worker
    from docpipe.scheduler.ray_runtime import cluster_slots

    vlm = config.convert.engine == "vlm"
    gpu = vlm and config.vlm.backend == "vllm"
    if gpu and not ray.cluster_resources().get("GPU"):
        raise UsageError("--backend vllm on Ray needs GPUs in the cluster (one per worker); it has none")
    count = workers if workers > 0 else cluster_slots(ray, "GPU" if gpu else "CPU")
    caps: list[int | None] = [None] * count
    if vlm and config.vlm.backend == "openai":  # one server (or pool) for all: share its cap
        cap = config.vlm.max_concurrency
        count = min(count, cap)
        caps = [cap // count + (1 if i < cap % count else 0) for i in range(count)]
    slots = docs_per_worker
    if slots <= 0:  # by engine, as locally, from the actor's share of the requests
        share = config.vlm.max_concurrency if caps[0] is None else caps[0]
        vlm_share = config.vlm.model_copy(update={"max_concurrency": share})
        slots = choose_docs_per_worker(config.model_copy(update={"vlm": vlm_share}))
    return ActorSpec(
        num_cpus=1.0,
        num_gpus=1.0 if gpu else 0.0,
        slots=slots,
        ocr_threads=1,  # the actor's one CPU
        vlm_caps=tuple(caps),
    )


def run_ray(
    plan: Iterator,
    out_dir: Path,
    config: Config,
    record: Callable[[DocOutcome], None],
    workers: int,
    docs_per_worker: int,
    options: RayOptions,
) -> None:
    from docpipe.scheduler.batch import default_workers
    from docpipe.scheduler.ray_runtime import connect, import_ray

    ray = import_ray(local=options.address is None)  # before anything: a missing Ray is a usage error
    for item in plan:  # Ray starts only when there is something to convert (a rerun has nothing)
        if not isinstance(item, DocOutcome):
            plan = itertools.chain([item], plan)
            break
        record(item)
    else:
        return
    owned = not ray.is_initialized()
    ray = connect(options.address, workers or default_workers())
    try:
        pool = ActorPool(ray, actor_spec(ray, config, workers, docs_per_worker))
        try:
            _Driver(ray, pool, out_dir, config, record, options.max_retries).run(plan)
        finally:
            pool.close()
    finally:
        if owned:  # a Ray this run started (or joined) is left as it was found
            ray.shutdown()


class _Driver:
    def __init__(self, ray, pool: ActorPool, out_dir: Path, config: Config, record, max_retries: int):
        self.ray = ray
        self.pool = pool
        self.out = str(out_dir)
        self.config = config
        self.record = record
        self.max_retries = max(0, max_retries)
        self.tasks: dict[Any, _Job] = {}  # ref -> job in flight
        # lost with its actor: anything but the task's own exception (convert_one never raises)
        self.lost_errors = (ray.exceptions.RayError,)

    def run(self, plan: Iterator) -> None:
        from docpipe.scheduler.batch import _is_big

        try:
            for item in plan:
                if isinstance(item, DocOutcome):
                    self.record(item)
                    continue
                path, name, _ = item
                if _is_big(path, self.config):
                    self.record(self._convert_big(str(path), name))
                    continue
                while self.tasks and not self.pool.has_room():  # bounded in flight: backpressure
                    self._collect()
                self._submit(_Job(str(path), name))
            while self.tasks:
                self._collect()
        except NoWorkers as exc:  # what was not converted is not recorded: a rerun does it
            raise UsageError(str(exc)) from exc

    def _submit(self, job: _Job) -> None:
        job.actor = self.pool.pick()
        self.tasks[job.actor.convert.remote(job.path, self.out, job.name, self.config)] = job

    def _collect(self) -> None:
        # An actor coming into service ends the wait too (it takes documents at once); it is put
        # in service here, so that its `ready` is not returned again (Ray's wait may return any of
        # the finished refs, never the finished task behind it).
        done, _ = self.ray.wait(list(self.tasks) + self.pool.starting, num_returns=1)
        self.pool.poll()
        for ref in (r for r in done if r in self.tasks):
            job = self.tasks.pop(ref)
            try:
                outcome = self.ray.get(ref)
            except self.ray.exceptions.RayTaskError as exc:  # a bug past convert_one's guard
                self.pool.release(job.actor)
                cause = exc.cause if exc.cause is not None else exc
                error = f"{job.path}: {type(cause).__name__}: {cause}"
                self.record(DocOutcome(job.path, job.name, DocumentStatus.failed, error=error))
                continue
            except self.lost_errors as exc:
                self.pool.lost(job.actor)
                remove_document_temporaries(Path(self.out), job.name)
                if job.attempts < self.max_retries:
                    job.attempts += 1
                    log.info("docpipe: %s: %s; converting it again on another (%s)", job.path, LOST, exc)
                    self._submit(job)
                else:
                    error = f"{job.path}: {LOST}, {job.attempts + 1} times; last: {type(exc).__name__}"
                    self.record(DocOutcome(job.path, job.name, DocumentStatus.failed, error=error))
                continue
            self.pool.release(job.actor)
            self.record(outcome)

    def _window(self, path: str, pages: range) -> tuple[Any, Any]:
        actor = self.pool.pick()
        return actor, actor.window.remote(path, pages.start, pages.stop, self.config)

    def _convert_big(self, path: str, name: str) -> DocOutcome:
        """A big document: actors recognise its windows, a few ahead, while the driver assembles and
        writes them in order (as `batch._convert_big` does with the local pool). A window lost with
        its actor goes to another; past the retries the document fails and nothing of it is written."""
        from docpipe.pipeline import window_ranges
        from docpipe.scheduler.batch import WorkerState, convert_one
        from docpipe.scheduler.workers import WorkerDied

        ahead_max = self.pool.spec.count

        def result(pages: range, actor: Any, ref: Any) -> list:
            for attempt in range(self.max_retries + 1):
                try:
                    raw = self.ray.get(ref)
                except self.ray.exceptions.RayTaskError:
                    self.pool.release(actor)
                    raise
                except self.lost_errors as exc:
                    self.pool.lost(actor)
                    if attempt == self.max_retries:
                        raise WorkerDied(f"{LOST}: {type(exc).__name__}") from exc
                    log.info("docpipe: %s: pages %s-%s: %s; again", path, pages.start, pages.stop, LOST)
                    actor, ref = self._window(path, pages)
                    continue
                self.pool.release(actor)
                return raw
            raise AssertionError("unreachable")

        def windows(src, _engines):
            ahead: deque = deque()
            try:
                for pages in window_ranges(src.doc.page_count, self.config.convert.max_pages_in_flight):
                    ahead.append((pages, *self._window(path, pages)))
                    if len(ahead) > ahead_max:
                        yield result(*ahead.popleft())
                while ahead:
                    yield result(*ahead.popleft())
            finally:  # abandoned (the document failed): its windows no longer count as load
                for _pages, actor, _ref in ahead:
                    self.pool.release(actor)

        # The driver only assembles and writes; its own engines are never used.
        return convert_one(path, self.out, name, self.config, WorkerState(), raw_windows=windows)
