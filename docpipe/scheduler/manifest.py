"""OUT/.docpipe/manifest.sqlite: one row per input document, the memory of a batch across runs.

A row reaches status 'ok'/'partial' only after every output file of the document has been renamed
into place, so after `kill -9` a document is either recorded done with complete outputs or will be
redone. SQLite in WAL mode keeps each update atomic and cheap.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from docpipe.model import DocumentStatus

#: The status of a row whose document is being converted (or whose run was killed meanwhile);
#: a finished row holds the document's `DocumentStatus`.
RUNNING = "running"

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    path TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    content_hash TEXT,
    config_hash TEXT,
    status TEXT NOT NULL,            -- running | ok | partial | failed
    pages INTEGER,
    engine TEXT,
    error TEXT,
    seconds REAL,
    updated_at REAL NOT NULL
);
"""


@dataclass
class Entry:
    path: str
    name: str
    content_hash: str | None
    config_hash: str | None
    status: DocumentStatus | None  # None: started and never finished
    pages: int | None
    error: str | None


class Manifest:
    def __init__(self, out_dir: Path) -> None:
        folder = out_dir / ".docpipe"
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "manifest.sqlite"
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def get(self, path: str) -> Entry | None:
        row = self.db.execute(
            "SELECT path, name, content_hash, config_hash, status, pages, error FROM documents WHERE path=?",
            (path,),
        ).fetchone()
        if row is None:
            return None
        path, name, content_hash, config_hash, status, pages, error = row
        status = None if status == RUNNING else DocumentStatus(status)
        return Entry(path, name, content_hash, config_hash, status, pages, error)

    def name_taken(self, name: str, path: str) -> bool:
        row = self.db.execute("SELECT path FROM documents WHERE name=?", (name,)).fetchone()
        return row is not None and row[0] != path

    def start(self, path: str, name: str, content_hash: str | None, config_hash: str) -> None:
        self.db.execute(
            "INSERT INTO documents(path, name, content_hash, config_hash, status, updated_at)"
            " VALUES(?,?,?,?,?,?) ON CONFLICT(path) DO UPDATE SET name=excluded.name,"
            " content_hash=excluded.content_hash, config_hash=excluded.config_hash,"
            " status=excluded.status, error=NULL, updated_at=excluded.updated_at",
            (path, name, content_hash, config_hash, RUNNING, time.time()),
        )

    def finish(
        self,
        path: str,
        status: DocumentStatus,
        pages: int | None,
        engine: str | None,
        error: str | None,
        seconds: float,
        content_hash: str | None = None,
    ) -> None:
        self.db.execute(
            "UPDATE documents SET status=?, pages=?, engine=?, error=?, seconds=?, updated_at=?,"
            " content_hash=COALESCE(?, content_hash) WHERE path=?",
            (status, pages, engine, error, seconds, time.time(), content_hash, path),
        )

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM documents GROUP BY status").fetchall())
