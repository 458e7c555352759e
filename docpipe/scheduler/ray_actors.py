"""What runs inside a Ray actor: one process that keeps its engines loaded from one document to the
next, as a local pool worker does, and converts `slots` documents at once on threads.

The class is plain Python (no Ray import): the executor wraps it with `ray.remote` and its resource
request when it starts the actors.
"""

from __future__ import annotations

import os

from docpipe.config import Config
from docpipe.outcome import DocOutcome
from docpipe.recognition import Engines
from docpipe.scheduler.batch import WorkerState, convert_one
from docpipe.util import mupdf_lock


class ActorState(WorkerState):
    """A worker's state whose VLM engine takes `vlm_cap` requests in flight: the cluster-wide cap
    (`--max-concurrency`) split over the actors. The cap is given to the engine only; the config
    the outputs record (and hash) stays the one asked for, so outputs match the local executor's."""

    def __init__(self, ocr_threads: int | None, vlm_cap: int | None) -> None:
        super().__init__(ocr_threads)
        self.vlm_cap = vlm_cap

    def engines(self, config: Config) -> Engines:
        if self.vlm_cap is not None and config.vlm.max_concurrency != self.vlm_cap:
            vlm = config.vlm.model_copy(update={"max_concurrency": self.vlm_cap})
            config = config.model_copy(update={"vlm": vlm})
        return super().engines(config)


class DocWorker:
    """A Ray actor's body. Its methods run on the actor's threads (`max_concurrency` = slots)."""

    def __init__(self, ocr_threads: int | None, vlm_cap: int | None) -> None:
        self.state = ActorState(ocr_threads, vlm_cap)

    def ready(self) -> int:
        """Answers once the actor is placed and started (its process id, for tests and logs)."""
        return os.getpid()

    def convert(self, path: str, out_dir: str, name: str, config: Config) -> DocOutcome:
        """Convert and write one document; never raises for a bad input (the outcome says why)."""
        return convert_one(path, out_dir, name, config, self.state)

    def window(self, path: str, start: int, stop: int, config: Config) -> list:
        """The raw pages of one window of a big document, for the driver to assemble."""
        from docpipe.recognition import recognise_pages

        with mupdf_lock.hold():  # other documents of this actor may be in MuPDF
            return recognise_pages(path, range(start, stop), config, self.state.engines(config))
