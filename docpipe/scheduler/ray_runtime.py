"""Connecting to Ray: the optional import, `ray.init` for a cluster or a local instance, and what
the cluster offers. Nothing here is imported unless `--executor ray` is asked for."""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
from types import ModuleType

from docpipe.errors import UsageError

INSTALL_HINT = "pip install 'docpipe[ray]'"


def import_ray(local: bool) -> ModuleType:
    """Ray, or UsageError naming the extra that installs it. `local`: a local instance is about to
    be started, which binds to loopback only."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage report leaves the machine
    if local and "ray" not in sys.modules:
        # Ray's single-machine mode binds its servers to 127.0.0.1 instead of the host's address.
        # Read when Ray is imported: a process that imported Ray before keeps what it had.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError as exc:
        raise UsageError(f"--executor ray needs Ray, which is not installed: {INSTALL_HINT}") from exc
    return ray


def _loopback_host(address: str) -> str | None:
    """The host of a `HOST:PORT` address when it is a loopback IP (a cluster on this machine only)."""
    host = address.rpartition(":")[0] or address
    try:
        return host if ipaddress.ip_address(host).is_loopback else None
    except ValueError:
        return None


def connect(address: str | None, num_cpus: int) -> ModuleType:
    """Join the cluster at `address` ("auto", "HOST:PORT", "ray://HOST:PORT"), or with None start
    a local instance of `num_cpus` CPUs (no dashboard). Returns the ray module, initialised."""
    ray = import_ray(local=address is None)
    if ray.is_initialized():  # the caller (a test, a notebook) connected already
        return ray
    options: dict = {"log_to_driver": False, "ignore_reinit_error": True, "logging_level": logging.WARNING}
    if address is None:
        options |= {"num_cpus": max(1, num_cpus), "include_dashboard": False}
    else:
        options["address"] = address
        host = _loopback_host(address)
        if host is not None:  # a loopback cluster: this process is on its node, at that address
            options["_node_ip_address"] = host
    try:
        ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise UsageError(f"cannot connect to the Ray cluster at {address}: {exc}") from exc
    return ray


def cluster_slots(ray: ModuleType, resource: str) -> int:
    """How many units of `resource` ("CPU", "GPU") the cluster has in all (at least 1)."""
    return max(1, int(ray.cluster_resources().get(resource, 0)))
