"""The driver's view of its Ray actors: which are placed and alive, how busy each is, and a
replacement for each one lost with its node.

A replacement may never be placed (its node is gone and no other has the resources free): tasks
only go to actors that answered `ready`, so nothing waits on it; it is killed at the end.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)

# How long the driver waits for a first actor to be placed, or for a replacement when every actor
# is gone: placing one starts a Python process on a node and may wait for resources.
READY_TIMEOUT_S = 300.0


class NoWorkers(RuntimeError):
    """No actor could be placed on the cluster in time."""


@dataclass(frozen=True)
class ActorSpec:
    num_cpus: float
    num_gpus: float
    slots: int  # documents an actor converts at once (threaded actor)
    ocr_threads: int | None
    vlm_caps: tuple[int | None, ...]  # per actor: its share of the VLM request cap, or None

    @property
    def count(self) -> int:
        return len(self.vlm_caps)


class ActorPool:
    def __init__(self, ray: ModuleType, spec: ActorSpec) -> None:
        from docpipe.scheduler.ray_actors import DocWorker

        self.ray = ray
        self.spec = spec
        self._cls = ray.remote(DocWorker).options(
            num_cpus=spec.num_cpus, num_gpus=spec.num_gpus, max_concurrency=spec.slots, max_restarts=0
        )
        self.load: dict[Any, int] = {}  # ready actor -> tasks in flight
        self.caps: dict[Any, int | None] = {}  # every actor started -> its VLM cap
        self._starting: dict[Any, Any] = {}  # ready() ref -> actor not yet answered
        self.lost_count = 0
        self.failed_starts = 0
        for cap in spec.vlm_caps:
            self._start(cap)

    def _start(self, cap: int | None) -> None:
        actor = self._cls.remote(self.spec.ocr_threads, cap)
        self.caps[actor] = cap
        self._starting[actor.ready.remote()] = actor

    def _poll_started(self, timeout: float) -> None:
        """Move actors that answered `ready` into service (waiting up to `timeout` for one)."""
        if not self._starting:
            return
        done, _ = self.ray.wait(list(self._starting), num_returns=1, timeout=timeout)
        done += self.ray.wait(list(self._starting), num_returns=len(self._starting), timeout=0)[0]
        for ref in set(done):
            actor = self._starting.pop(ref)
            try:
                self.ray.get(ref)
            except self.ray.exceptions.RayError as exc:  # it died while starting: start another
                self.failed_starts += 1
                if self.failed_starts > 2 * self.spec.count:  # not bad luck: it cannot start
                    raise NoWorkers(f"Ray workers fail to start: {exc}") from exc
                log.info("docpipe: a Ray worker failed to start (%s); starting another", exc)
                self._start(self.caps.pop(actor, None))
                continue
            self.load[actor] = 0

    @property
    def starting(self) -> list[Any]:
        """`ready` refs of actors not yet in service (the driver waits on them with its tasks)."""
        return list(self._starting)

    def poll(self) -> None:
        """Put actors that have started since the last look into service."""
        self._poll_started(0)

    def has_room(self) -> bool:
        """Whether an actor in service takes another document: its slots and one waiting, so that
        none idles between documents, and no actor is handed the work of those still starting."""
        self._poll_started(0)
        return any(load <= self.spec.slots for load in self.load.values())

    def pick(self) -> Any:
        """The least busy actor in service, waiting for one to start when none is."""
        self._poll_started(0)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self.load:
            left = deadline - time.monotonic()
            if left <= 0 or not self._starting:
                raise NoWorkers(
                    f"no Ray worker could be placed in {READY_TIMEOUT_S:.0f}s (each asks for "
                    f"{self.spec.num_cpus:g} CPU, {self.spec.num_gpus:g} GPU)"
                )
            self._poll_started(left)
        actor = min(self.load, key=self.load.__getitem__)
        self.load[actor] += 1
        return actor

    def release(self, actor: Any) -> None:
        if actor in self.load:
            self.load[actor] -= 1

    def lost(self, actor: Any) -> None:
        """An actor whose task failed for want of the actor (its process or node died): take it out
        of service and start a replacement with the same share of the VLM cap."""
        if actor not in self.load:
            return
        del self.load[actor]
        cap = self.caps.pop(actor, None)
        self.lost_count += 1
        self.ray.kill(actor, no_restart=True)
        self._start(cap)

    def close(self) -> None:
        for actor in list(self.caps):
            try:
                self.ray.kill(actor, no_restart=True)
            except Exception as exc:  # already gone with its node
                log.debug("docpipe: killing a Ray worker: %s", exc)
        self.load.clear()
        self.caps.clear()
        self._starting.clear()
