"""Batch conversion: many inputs -> OUT, with resume from the manifest and isolated failures.

Documents are converted by `workers` worker processes (`scheduler.workers`), each converting up to
`docs_per_worker` documents at once (one for the CPU engines, which use their share of the cores;
many with the VLM, whose documents mostly wait on the server). A bounded number is in flight, so
memory stays bounded however many inputs there are. Each worker writes its document's outputs itself
(atomically) and reports a small outcome; only the parent touches the manifest.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from docpipe.config import Config
from docpipe.errors import DocpipeError, UsageError, is_disk_full
from docpipe.model import DocumentStatus
from docpipe.outcome import DocOutcome
from docpipe.recognition import Engines
from docpipe.scheduler.manifest import Manifest
from docpipe.scheduler.out_lock import OutLock
from docpipe.scheduler.ray_executor import RayOptions
from docpipe.scheduler.workers import WorkerDied, WorkerPool
from docpipe.sources.discover import InputProblem, check_inputs, iter_inputs
from docpipe.util import mupdf_lock

__all__ = ["BatchSummary", "DocOutcome", "WorkerState", "run_batch"]

log = logging.getLogger(__name__)


class DiskFull(Exception):
    """Raised inside a batch when a write found the disk full: the batch stops where it is."""


@dataclass
class BatchSummary:
    outcomes: list[DocOutcome] = field(default_factory=list)
    seconds: float = 0.0
    # Why the batch stopped early because the disk is full; None when it ran to the end. What is
    # recorded done stays done; the document being written is redone by the next run.
    disk_full: str | None = None

    def count(self, status: DocumentStatus, previous: bool = False) -> int:
        """Documents with this status, converted in this run (or, `previous`, in an earlier one)."""
        return sum(1 for o in self.outcomes if o.status is status and o.previous is previous)

    @property
    def skipped(self) -> int:
        """Documents done in an earlier run and left alone."""
        return self.count(DocumentStatus.ok, True) + self.count(DocumentStatus.partial, True)

    @property
    def pages(self) -> int:
        return sum(o.pages for o in self.outcomes if not o.previous)

    @property
    def failures(self) -> list[DocOutcome]:
        """Failed or partial now, or failed in an earlier run and not retried."""
        return [
            o
            for o in self.outcomes
            if o.status is DocumentStatus.failed or (o.status is DocumentStatus.partial and not o.previous)
        ]

    @property
    def vlm_unusable(self) -> str | None:
        """Why the VLM gave nothing usable, when every page sent to it in this run fell back to the
        CPU engines (a server that refuses every request must not pass for a good run); else None."""
        sent = [o for o in self.outcomes if not o.previous and o.vlm.get("pages")]
        total = sum(o.vlm["pages"] for o in sent)
        if not total or sum(o.vlm.get("fallback_pages", 0) for o in sent) < total:
            return None
        reason = next((o.vlm_fallback_reason for o in sent if o.vlm_fallback_reason), "no reason given")
        return f"all {int(total)} pages sent to the VLM fell back to the CPU engines; first: {reason}"

    @property
    def ok(self) -> bool:
        """No document is left failed, whether it failed now or in an earlier run, and the VLM,
        where pages were sent to it, read at least one of them."""
        failed = any(o.status is DocumentStatus.failed for o in self.outcomes)
        return not failed and self.vlm_unusable is None and self.disk_full is None


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class WorkerState:
    """What a process that converts documents keeps from one document to the next: its engines
    (models load once, not once per document) and its share of the cores for OCR."""

    def __init__(self, ocr_threads: int | None = None) -> None:
        self.ocr_threads = ocr_threads  # None: the engine takes the machine's share itself
        self._engines: Engines | None = None

    def engines(self, config: Config) -> Engines:
        if self._engines is None or self._engines.config != config:
            if self._engines is not None:
                self._engines.close()
            self._engines = Engines(config, ocr_threads=self.ocr_threads)
        return self._engines


# A pool worker's state, built by the pool initializer; the tasks below hand it on explicitly.
_worker_state: WorkerState | None = None


def _init_worker(ocr_threads: int) -> None:
    global _worker_state
    _worker_state = WorkerState(ocr_threads)


def _in_worker() -> WorkerState:
    global _worker_state
    if _worker_state is None:  # a pool made without the initializer
        _worker_state = WorkerState()
    return _worker_state


def _new_pool(workers: int, slots: int = 1) -> WorkerPool:
    # Each worker's OCR runs onnxruntime on its share of the cores: several processes that each use
    # every core would only take turns.
    threads = max(1, default_workers() // workers)
    return WorkerPool(workers, slots, initializer=_init_worker, initargs=(threads,))


def choose_docs_per_worker(config: Config, requested: int = 0) -> int:
    """Documents one worker converts at once. The CPU engines keep a worker's cores busy with one.
    A VLM document mostly waits for the server, and a worker's requests in flight drain at each
    document's end: enough documents (up to the engine's request cap, so that even one-page documents
    fill it) keep the server's batch full. Memory stays bounded by the engine's cap on rendered
    pages, not by this number."""
    if requested > 0:
        return requested
    if config.convert.engine == "vlm":
        return min(32, max(2, config.vlm.max_concurrency))
    return 1


def recognise_window(path: str, start: int, stop: int, config: Config):
    """A pool task: a worker's share of a big document, the raw pages of one window."""
    from docpipe.recognition import recognise_pages

    with mupdf_lock.hold():  # other tasks of this worker may be in MuPDF
        return recognise_pages(path, range(start, stop), config, _in_worker().engines(config))


def convert_in_worker(path: str, out_dir: str, name: str, config: Config) -> DocOutcome:
    """A pool task: `convert_one` with the worker's state."""
    return convert_one(path, out_dir, name, config, _in_worker())


def convert_one(
    path: str, out_dir: str, name: str, config: Config, state: WorkerState, raw_windows=None
) -> DocOutcome:
    """Convert and write one document; never raises for a bad input (the outcome says why).
    `raw_windows`: where a big document's pages are recognised (worker processes), else here."""
    from docpipe.pipeline import convert_to_dir

    t0 = time.perf_counter()
    try:
        # The document has this process's MuPDF to itself, except while an engine waits on a model
        # (other documents of the process then take their turn).
        with mupdf_lock.hold():
            done = convert_to_dir(path, config, state.engines(config), Path(out_dir), name, raw_windows)
    except WorkerDied:  # a worker recognising this big document's pages died
        error = f"{path}: {DIED}"
    except DocpipeError as exc:
        error = str(exc)
    except Exception as exc:  # an engine bug must not end the batch: record it with its type
        error = f"{path}: {type(exc).__name__}: {exc}"
    else:
        error = None
    if error is not None:
        try:  # the manifest remembers what failed by content, so that a rerun can skip it
            digest = file_hash(Path(path))
        except OSError:
            digest = None
        seconds = time.perf_counter() - t0
        return DocOutcome(
            path, name, DocumentStatus.failed, error=error, seconds=seconds, content_hash=digest
        )
    done.seconds = time.perf_counter() - t0
    return done


def manifest_key(path: str | Path) -> str:
    """Documents are known to the manifest by absolute path, however the command line named them."""
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):  # a symlink loop: never converted, its key only names it
        return os.path.abspath(path)


# Longest output name, in bytes: the longest file written for it is the hidden temporary
# `.NAME.chunks.jsonl.XXXXXXXX.tmp` (NAME + 27 bytes), and a name is at most 255 bytes on common
# file systems. 200 leaves room for the suffix that tells two documents of one name apart.
NAME_MAX_BYTES = 200


def _short(name: str, key: str) -> str:
    """`name` cut to NAME_MAX_BYTES (whole UTF-8 characters), with a hash of the path when cut."""
    raw = name.encode()
    if len(raw) <= NAME_MAX_BYTES:
        return name
    head = raw[: NAME_MAX_BYTES - 9].decode("utf-8", "ignore")
    return f"{head}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"


def _output_name(manifest: Manifest, path: Path, taken: set[str]) -> str:
    """The stem of a document's outputs: its file name, made unique in OUT (in this run and in the
    manifest) by a hash of its path, then a counter: a file may be named like another's hashed name."""
    key = manifest_key(path)
    existing = manifest.get(key)
    if existing is not None:
        return existing.name
    name = _short(path.stem if path.suffix.lower() == ".pdf" else path.name.replace(".", "_"), key)
    tagged = f"{name}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"
    candidates = [name, tagged]
    n = 2
    while True:
        for candidate in candidates:
            if candidate not in taken and not manifest.name_taken(candidate, key):
                return candidate
        candidates = [f"{tagged}-{n}"]
        n += 1


def _plan(
    inputs: list[str | Path], manifest: Manifest, config: Config, force: bool, retry_failed: bool
) -> Iterator[tuple[Path, str, str | None] | DocOutcome]:
    """Yield (path, output name, content hash or None) to convert, or the outcome of an earlier run
    (or of an input that cannot be read)."""
    taken: set[str] = set()
    config_hash = config.hash()
    password = manifest.password_tag(config.convert.password)
    for path in iter_inputs(inputs):
        if isinstance(path, InputProblem):
            yield DocOutcome(str(path.path), path.path.name, DocumentStatus.failed, error=path.message)
            continue
        name = _output_name(manifest, path, taken)
        taken.add(name)
        key = manifest_key(path)
        entry = manifest.get(key)
        if entry is None or force:
            # nothing to compare with: the worker hashes the file as it reads it
            manifest.start(key, name, None, config_hash, password)
            yield path, name, None
            continue
        try:
            digest = file_hash(path)
        except OSError as exc:
            error = f"{path}: cannot read: {exc.strerror or exc}"
            yield DocOutcome(str(path), name, DocumentStatus.failed, error=error)
            continue
        if entry.content_hash == digest and entry.config_hash == config_hash:
            done = entry.status in (DocumentStatus.ok, DocumentStatus.partial)
            # a failed document is retried when asked to, or when a (different) password is given:
            # an encrypted PDF that failed without its password must not stay failed
            new_password = password is not None and entry.password_tag != password
            retry = retry_failed or new_password
            if done or (entry.status is DocumentStatus.failed and not retry):
                pages = entry.pages or 0
                yield DocOutcome(str(path), name, entry.status, pages, entry.error, previous=True)
                continue
        manifest.start(key, name, digest, config_hash, password)
        yield path, name, digest


def _check_out_dir(out_dir: Path) -> None:
    """Raise UsageError when OUT cannot be an output folder, before anything is written."""
    for path, what in ((out_dir, "the output folder"), (out_dir / ".docpipe", "its state folder")):
        if path.exists() and not path.is_dir():
            raise UsageError(f"{path}: {what} is a file, not a folder; pass another -o")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{out_dir}: cannot create the output folder: {exc.strerror or exc}") from exc


def _disk_full_note(exc: BaseException) -> str:
    return f"{exc}".strip() or "no space left on device"


def run_batch(
    inputs: list[str | Path],
    out_dir: Path,
    config: Config,
    workers: int = 1,
    progress: bool = False,
    force: bool = False,
    retry_failed: bool = False,
    state: WorkerState | None = None,
    docs_per_worker: int = 0,
    ray: RayOptions | None = None,
) -> BatchSummary:
    """`state`: with `workers <= 1`, the engines of this process; pass the same one to several
    batches to load the models once. `docs_per_worker`: documents each worker (or, with
    `workers <= 1`, this process) converts at once; 0 chooses by engine (`choose_docs_per_worker`).
    `ray`: convert on Ray actors instead (`scheduler.ray_executor`; `workers` 0 sizes to the cluster).
    Raises UsageError (OUT unusable or in use by another run) and FileNotFoundError (an input that
    names nothing) before any work starts."""
    from docpipe.writers.outputs import remove_stale_temporaries

    check_inputs(inputs)
    if ray is not None:  # a missing Ray is a usage error before anything is written
        from docpipe.scheduler.ray_runtime import import_ray

        import_ray(local=ray.address is None)
    _check_out_dir(out_dir)
    summary = BatchSummary()
    t0 = time.perf_counter()
    lock = OutLock(out_dir)
    try:
        lock.acquire()  # before the cleanup: another run's temporaries are not stale
    except OSError as exc:
        if not is_disk_full(str(exc)):
            raise UsageError(f"{out_dir}: cannot lock the output folder: {exc.strerror or exc}") from exc
        summary.disk_full = _disk_full_note(exc)
        return summary
    try:
        remove_stale_temporaries(out_dir)  # once per batch: a run killed mid-write left them
        try:
            manifest = Manifest(out_dir)
        except sqlite3.OperationalError as exc:
            if not is_disk_full(str(exc)):
                raise
            summary.disk_full = _disk_full_note(exc)
            return summary
        try:
            _run(
                inputs,
                out_dir,
                config,
                workers,
                progress,
                force,
                retry_failed,
                state,
                manifest,
                summary,
                docs_per_worker,
                ray,
            )
        except DiskFull as exc:
            summary.disk_full = _disk_full_note(exc)
        except (sqlite3.OperationalError, OSError) as exc:  # the manifest, or the plan, found no space
            if not is_disk_full(str(exc)):
                raise
            summary.disk_full = _disk_full_note(exc)
        finally:
            with contextlib.suppress(sqlite3.Error):  # closing checkpoints the WAL, which may not fit
                manifest.close()
    finally:
        lock.release()
    summary.seconds = time.perf_counter() - t0
    return summary


def _run(
    inputs,
    out_dir,
    config,
    workers,
    progress,
    force,
    retry_failed,
    state,
    manifest,
    summary,
    docs_per_worker,
    ray=None,
) -> None:
    state = state or WorkerState()  # workers <= 1: this process converts
    t0 = time.perf_counter()
    bar = None
    if progress:
        from tqdm import tqdm

        # Counting the inputs walks the folders once more (paths only, nothing is opened) and gives
        # the bar a total, hence an ETA.
        total = sum(1 for _ in iter_inputs(inputs))
        bar = tqdm(total=total, unit="doc", dynamic_ncols=True, desc="converting", disable=None)

    def record(outcome: DocOutcome) -> None:
        if not outcome.previous and is_disk_full(outcome.error):
            # Not recorded as failed: its row stays 'running', so the next run converts it again.
            raise DiskFull(outcome.error)
        if not outcome.previous:
            try:
                manifest.finish(
                    manifest_key(outcome.path),
                    outcome.status,
                    outcome.pages,
                    ",".join(sorted(outcome.engines)) or None,
                    outcome.error,
                    outcome.seconds,
                    outcome.content_hash,
                )
            except sqlite3.OperationalError as exc:
                if is_disk_full(str(exc)):  # written, but not recorded done: the next run redoes it
                    raise DiskFull(f"{outcome.path}: the manifest could not record it: {exc}") from exc
                raise
        # said once recorded: a document logged as converted is never converted again
        when = " (earlier run)" if outcome.previous else f", {outcome.pages} pages in {outcome.seconds:.1f}s"
        log.info("docpipe: %s: %s%s", outcome.path, outcome.status, when)
        summary.outcomes.append(outcome)
        if bar is not None:
            elapsed = max(time.perf_counter() - t0, 1e-9)
            rate = f"{summary.pages / elapsed:.1f}"
            bar.set_postfix(pages=summary.pages, pages_s=rate, failed=len(summary.failures), refresh=False)
            bar.update(1)

    try:
        plan = _plan(inputs, manifest, config, force, retry_failed)
        slots = choose_docs_per_worker(config, docs_per_worker)
        if ray is not None:
            _run_on_ray(plan, out_dir, config, manifest, record, workers, docs_per_worker, force, ray)
        elif workers <= 1:
            _run_local(plan, slots, out_dir, config, state, record)
        else:
            _run_pool(plan, workers, slots, out_dir, config, record)
    finally:
        if bar is not None:
            bar.close()


def _run_on_ray(plan, out_dir, config, manifest, record, workers, docs_per_worker, force, options) -> None:
    """The Ray executor, planned and recorded as locally; documents another machine's run finished
    (their done-markers) are skipped, and each document recorded gets its marker."""
    from docpipe.scheduler.done_markers import skip_marked, write_marker
    from docpipe.scheduler.ray_executor import run_ray

    config_hash = config.hash()

    def record_marked(outcome: DocOutcome) -> None:
        record(outcome)
        if not outcome.previous:  # after the manifest: a marker means outputs and record are done
            write_marker(out_dir, outcome, config_hash)

    marked = skip_marked(plan, out_dir, manifest, config, force)
    run_ray(marked, out_dir, config, record_marked, workers, docs_per_worker, options)


DIED = "a worker process died while converting it (a crash in native code, or out of memory)"


def _run_local(plan, slots: int, out_dir: Path, config: Config, state: WorkerState, record) -> None:
    """Documents in this process, `slots` at a time on threads (one: in order, on this thread)."""
    if slots <= 1:
        for item in plan:
            if isinstance(item, DocOutcome):
                record(item)
            else:
                record(convert_one(str(item[0]), str(out_dir), item[1], config, state))
        return
    with ThreadPoolExecutor(max_workers=slots, thread_name_prefix="docpipe-doc") as threads:
        running: set = set()
        for item in plan:
            if isinstance(item, DocOutcome):
                record(item)
                continue
            running.add(threads.submit(convert_one, str(item[0]), str(out_dir), item[1], config, state))
            if len(running) > slots:  # bounded in flight: backpressure on discovery
                done, running = _first_done(running)
                for fut in done:
                    record(fut.result())
        for fut in running:
            record(fut.result())


def _first_done(futures: set) -> tuple[set, set]:
    from concurrent.futures import FIRST_COMPLETED, wait

    done, rest = wait(futures, return_when=FIRST_COMPLETED)
    return set(done), set(rest)


def _run_pool(plan, workers: int, slots: int, out_dir: Path, config: Config, record) -> None:
    """Documents over worker processes, `slots` at a time in each, a bounded number in flight. A
    worker that dies (a crash in native code, the OOM killer, a kill) does not say which of its
    documents killed it: each is converted again on its own in a fresh worker, so only the culprit
    fails, and the batch goes on (the pool has already replaced the worker)."""
    out = str(out_dir)
    jobs: dict[int, tuple[str, str]] = {}  # ticket -> (path, output name)

    def isolate(suspects: list[tuple[str, str]]) -> None:
        with _new_pool(1) as alone:
            for path, name in suspects:
                log.info("docpipe: %s: converting again on its own (a worker died under it)", path)
                try:
                    record(alone.result(alone.submit(convert_in_worker, path, out, name, config)))
                except WorkerDied:
                    record(DocOutcome(path, name, DocumentStatus.failed, error=f"{path}: {DIED}"))

    def collect(timeout: float | None = None) -> None:
        suspects: list[tuple[str, str]] = []
        for done in pool.wait(timeout):
            job = jobs.pop(done.ticket, None)
            if job is None:  # a window of a big document that failed earlier
                continue
            if isinstance(done.error, WorkerDied):
                suspects.append(job)
            elif done.error is not None:  # convert_one never raises; a pickling problem might
                path, name = job
                error = f"{path}: {type(done.error).__name__}: {done.error}"
                record(DocOutcome(path, name, DocumentStatus.failed, error=error))
            else:
                record(done.value)
        if suspects:
            isolate(suspects)

    with _new_pool(workers, slots) as pool:
        limit = pool.capacity + workers  # one waiting per worker: none idles between documents
        for item in plan:
            if isinstance(item, DocOutcome):
                record(item)
                continue
            path, name, _ = item
            if _is_big(path, config):
                outcome = _convert_big(pool, str(path), out_dir, name, config, workers)
                if outcome is None:  # a worker died under one of its windows: retry it whole
                    isolate([(str(path), name)])
                else:
                    record(outcome)
                continue
            jobs[pool.submit(convert_in_worker, str(path), out, name, config)] = (str(path), name)
            while len(jobs) >= limit:
                collect()
        while jobs:
            collect()


BIG_FILE_BYTES = 1 << 20  # only files this large are opened up front to count their pages


def _is_big(path: Path, config: Config) -> bool:
    """A PDF of several windows of pages: its windows are spread over the workers, so that a lone
    big document does not leave the other workers idle."""
    if path.suffix.lower() != ".pdf":
        return False
    try:
        if path.stat().st_size < BIG_FILE_BYTES:
            return False
        import pymupdf

        with pymupdf.open(path) as doc:
            return doc.page_count > 2 * config.convert.max_pages_in_flight
    except Exception:  # unreadable here: the normal path reports it properly
        return False


def _convert_big(
    pool: WorkerPool, path: str, out_dir: Path, name: str, config: Config, workers: int
) -> DocOutcome | None:
    """One big document: workers recognise its windows, a few ahead, while this process assembles
    and writes them in order (assembly needs the windows in sequence). None when a worker died
    under one of its windows (nothing of it is written then)."""
    from docpipe.pipeline import window_ranges

    died = False

    def windows(src, _engines):
        nonlocal died
        ranges = iter(window_ranges(src.doc.page_count, config.convert.max_pages_in_flight))
        ahead: list[int] = []
        try:
            for pages in ranges:
                ahead.append(pool.submit(recognise_window, path, pages.start, pages.stop, config))
                if len(ahead) > workers:
                    yield pool.result(ahead.pop(0))
            while ahead:
                yield pool.result(ahead.pop(0))
        except WorkerDied:
            died = True
            raise

    # This process only assembles and writes; its own engines are never used.
    outcome = convert_one(path, str(out_dir), name, config, WorkerState(), raw_windows=windows)
    return None if died else outcome


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
