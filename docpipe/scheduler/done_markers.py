"""OUT/.docpipe/done/NAME.json: a finished document's record beside its outputs, for resume across
machines.

The SQLite manifest is one machine's fast index; on a cluster the next run may be driven from
another machine (or start with a fresh manifest), which sees only the shared output folder. A marker
is written (temporary + rename) after the document's outputs are in place and its manifest row is
finished, so a marker always means complete outputs. It names the input by content and config hash,
not by path: the same archive may be mounted at another path on another machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from docpipe.config import Config
from docpipe.model import DocumentStatus
from docpipe.outcome import DocOutcome
from docpipe.scheduler.manifest import Manifest
from docpipe.writers.atomic import write_text_atomic

DONE = (DocumentStatus.ok, DocumentStatus.partial)


def marker_path(out_dir: Path, name: str) -> Path:
    return out_dir / ".docpipe" / "done" / f"{name}.json"


def write_marker(out_dir: Path, outcome: DocOutcome, config_hash: str) -> None:
    """Record a document converted in this run; a failed one loses any marker an earlier run left
    (its outputs may no longer match)."""
    path = marker_path(out_dir, outcome.name)
    if outcome.status not in DONE or outcome.content_hash is None:
        path.unlink(missing_ok=True)
        return
    record = {
        "name": outcome.name,
        "path": outcome.path,
        "status": DocumentStatus(outcome.status).value,
        "pages": outcome.pages,
        "engines": dict(sorted(outcome.engines.items())),
        "content_hash": outcome.content_hash,
        "config_hash": config_hash,
        "error": outcome.error,
    }
    write_text_atomic(path, json.dumps(record, sort_keys=True) + "\n")


def read_marker(out_dir: Path, name: str) -> dict | None:
    """The marker of `name`, or None when there is none (or it cannot be read: then redo it)."""
    try:
        data = json.loads(marker_path(out_dir, name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def skip_marked(
    plan: Iterator, out_dir: Path, manifest: Manifest, config: Config, force: bool
) -> Iterator[tuple[Path, str, str | None] | DocOutcome]:
    """`_plan`'s items, with documents another run finished (by its marker: same content, same
    config) turned into earlier-run outcomes. Their manifest rows are finished from the marker, so
    this machine's manifest catches up with the cluster's."""
    from docpipe.scheduler.batch import file_hash, manifest_key

    config_hash = config.hash()
    for item in plan:
        if force or isinstance(item, DocOutcome):
            yield item
            continue
        path, name, digest = item
        marker = read_marker(out_dir, name)
        if marker is None or marker.get("config_hash") != config_hash:
            yield item
            continue
        try:
            digest = digest or file_hash(path)
        except OSError:  # converting it reports the problem properly
            yield item
            continue
        try:
            status = DocumentStatus(marker.get("status"))
        except ValueError:
            status = None
        if marker.get("content_hash") != digest or status not in DONE:
            yield item
            continue
        pages = int(marker.get("pages") or 0)
        engines = marker.get("engines") or {}
        engine, error = ",".join(sorted(engines)) or None, marker.get("error")
        manifest.finish(manifest_key(path), status, pages, engine, error, 0.0, digest)
        yield DocOutcome(str(path), name, status, pages, error, content_hash=digest, previous=True)
