"""How the PP-OCR models run: onnxruntime, or OpenVINO where the CPU computes in bfloat16.

Recognition is most of the OCR engine's time (a figure full of typed text: ~90% of it). On CPUs with
bfloat16 arithmetic (AVX512-BF16 or AMX: recent Xeon and EPYC servers), OpenVINO runs the models in
bfloat16 at about twice onnxruntime's float32 speed, reading the same characters at over 99% of the
decoder's time steps. Elsewhere OpenVINO would compute in float32 at onnxruntime's speed, so `auto`
keeps onnxruntime there. Both read the ONNX files shipped in the rapidocr wheel: nothing is converted
or downloaded.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

Runtime = Literal["auto", "onnxruntime", "openvino"]
RUNTIMES: tuple[str, ...] = ("auto", "onnxruntime", "openvino")
SHAPE_CACHE = 500  # kernels kept for this many input shapes (OpenVINO's default: 5000)
OPENVINO_HINT = "the openvino OCR runtime needs OpenVINO: pip install openvino"


class OcrModel(Protocol):
    """One loaded model: a float32 NCHW batch in, the first output out."""

    #: callers pad their inputs' height and width to a multiple of this (1: any shape is as cheap)
    shape_step: int
    #: the most crops to recognise in one call
    max_batch: int

    def run(self, batch: np.ndarray) -> np.ndarray: ...

    def run_all(self, batches: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """`run` over each batch, outputs in order; batches are drawn as the model needs them."""
        ...

    def metadata(self, key: str) -> str | None: ...


def padded(size: int, *steps: int) -> int:
    """`size` rounded up to a multiple of the largest step."""
    step = max(steps)
    return -(-size // step) * step


class OnnxRuntimeModel:
    shape_step = 1  # onnxruntime's kernels take any shape at no extra cost
    max_batch = 1_000_000  # the caller's batches

    def __init__(self, path: Path, threads: int) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise ImportError("the OCR engine needs onnxruntime: pip install 'docpipe[ocr]'") from exc

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # The arena keeps the largest intermediate tensors ever seen (wide recognition batches) for
        # the life of the process: over 1 GB on table-heavy scans. Without it memory follows the page.
        opts.enable_cpu_mem_arena = False
        self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        self._input = self.session.get_inputs()[0].name

    def run(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self._input: batch})[0]

    def run_all(self, batches: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        return (self.run(b) for b in batches)

    def metadata(self, key: str) -> str | None:
        return self.session.get_modelmeta().custom_metadata_map.get(key)


class OpenVinoModel:
    """A compiled model; an infer request per thread (requests are not thread-safe, and the batch
    scheduler converts several documents at once in threads of one process).

    OpenVINO prepares its kernels for each new input shape (~45 ms for a recognition batch that runs
    in ~90 ms; ~60 ms for a 1 Mpx detection that runs in ~100 ms), and no two crops or images are
    alike. So callers round shapes up to `shape_step` and recognise one crop per call: shapes repeat
    across pages and documents and their kernels come from the cache, for a few % more pixels read
    (federal-register's 189 figure lines: 5.3 s with the cache warm, 6.7 s in batches of 12 whose
    shapes rarely repeat, 10.7 s on onnxruntime)."""

    max_batch = 1

    def __init__(self, path: Path, threads: int, shape_step: int = 1, streams: int = 1) -> None:
        try:
            import openvino as ov
        except ImportError as exc:
            raise ImportError(OPENVINO_HINT) from exc
        self.shape_step = shape_step
        core = ov.Core()
        self.model = core.read_model(str(path))
        cache = compiled_cache()
        self.compiled = core.compile_model(
            self.model,
            "CPU",
            {
                # a process that finds the compiled model there loads it in a third of the time
                **({"CACHE_DIR": str(cache)} if cache else {}),
                "INFERENCE_NUM_THREADS": threads,
                # other work shares these cores (text-layer pages, other documents): no pinning
                "ENABLE_CPU_PINNING": False,
                "CPU_RUNTIME_CACHE_CAPACITY": SHAPE_CACHE,
                # streams > 1: that many inputs at once, each on threads / streams threads
                **({"NUM_STREAMS": streams} if streams > 1 else {"PERFORMANCE_HINT": "LATENCY"}),
            },
        )
        self.streams = max(1, streams)
        self._local = threading.local()

    def _requests(self) -> list:
        requests = getattr(self._local, "requests", None)
        if requests is None:
            requests = self._local.requests = [
                self.compiled.create_infer_request() for _ in range(self.streams)
            ]
        return requests

    def run(self, batch: np.ndarray) -> np.ndarray:
        return self._requests()[0].infer({0: np.ascontiguousarray(batch)})[0]

    def run_all(self, batches: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Up to `streams` batches in flight (many small recognitions: two 1-thread streams read
        federal-register's figure lines ~1.25x faster than one 2-thread request), in order."""
        idle = list(self._requests())
        busy: deque = deque()
        for batch in batches:
            if not idle:
                yield self._finish(busy, idle)
            request = idle.pop()
            request.start_async({0: np.ascontiguousarray(batch)})  # inputs are copied
            busy.append(request)
        while busy:
            yield self._finish(busy, idle)

    @staticmethod
    def _finish(busy: deque, idle: list) -> np.ndarray:
        request = busy.popleft()
        request.wait()
        out = request.get_output_tensor(0).data.copy()  # the request's buffer is reused
        idle.append(request)
        return out

    def metadata(self, key: str) -> str | None:
        try:
            return str(self.model.get_rt_info(["framework", key]).astype(str))
        except (RuntimeError, KeyError, IndexError):
            return None


def compiled_cache() -> Path | None:
    """Where OpenVINO keeps compiled models for the next process: $DOCPIPE_CACHE_DIR/openvino, by
    default under $XDG_CACHE_HOME or ~/.cache; None (compile every time) when DOCPIPE_CACHE_DIR is
    "off" or the folder cannot be made."""
    base = os.environ.get("DOCPIPE_CACHE_DIR", "")
    if base == "off":
        return None
    root = (
        Path(base) if base else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "docpipe"
    )
    folder = root / "openvino"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


@lru_cache(maxsize=1)
def cpu_computes_bf16() -> bool:
    """Whether OpenVINO is installed and would compute in bfloat16 on this CPU by default."""
    try:
        import openvino as ov

        hint = ov.Core().get_property("CPU", "INFERENCE_PRECISION_HINT")
    except Exception:  # noqa: BLE001 - not installed, or no CPU plugin: onnxruntime it is
        return False
    return "bf16" in str(hint).lower() or "bfloat16" in str(hint).lower()


def resolve(runtime: str) -> str:
    """The runtime `auto` stands for on this machine; others as given."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown OCR runtime {runtime!r}: choose {', '.join(RUNTIMES)}")
    if runtime == "auto":
        return "openvino" if cpu_computes_bf16() else "onnxruntime"
    return runtime


def load(path: Path, threads: int, runtime: str, shape_step: int = 1, streams: int = 1) -> OcrModel:
    """The model at `path` on `runtime` (`auto` resolved first); `shape_step` where shapes cost;
    `streams`: inputs run at once by `run_all` where the runtime can."""
    if resolve(runtime) == "openvino":
        return OpenVinoModel(path, threads, shape_step, streams)
    return OnnxRuntimeModel(path, threads)
