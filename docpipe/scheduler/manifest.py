"""OUT/.docpipe/manifest.sqlite: one row per input document, the memory of a batch across runs.

A row reaches status 'ok'/'partial' only after every output file of the document has been renamed
into place, so after `kill -9` a document is either recorded done with complete outputs or will be
redone. SQLite in WAL mode keeps each update atomic and cheap.

The password of encrypted PDFs is never stored: a row keeps a salted, slow hash of the password
its document was last tried with (`password_tag`), so that a failed document is retried when a
different password is given, and nothing in OUT reveals the password.
"""

from __future__ import annotations

import hashlib
import os
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
    updated_at REAL NOT NULL,
    password_tag TEXT                -- salted hash of the password tried, NULL when none was given
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_PASSWORD_ROUNDS = 100_000  # once per run, not per document: slow on purpose against guessing


@dataclass
class Entry:
    path: str
    name: str
    content_hash: str | None
    config_hash: str | None
    status: DocumentStatus | None  # None: started and never finished
    pages: int | None
    error: str | None
    password_tag: str | None = None


class Manifest:
    def __init__(self, out_dir: Path) -> None:
        folder = out_dir / ".docpipe"
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "manifest.sqlite"
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(documents)")}
        if "password_tag" not in columns:  # a manifest written before the column existed
            self.db.execute("ALTER TABLE documents ADD COLUMN password_tag TEXT")

    def password_tag(self, password: str) -> str | None:
        """A salted hash of `password` (None for no password), comparable within this OUT only."""
        if not password:
            return None
        row = self.db.execute("SELECT value FROM meta WHERE key='salt'").fetchone()
        if row is None:
            salt = os.urandom(16).hex()
            self.db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES('salt', ?)", (salt,))
            row = self.db.execute("SELECT value FROM meta WHERE key='salt'").fetchone()
        salt = bytes.fromhex(row[0])
        return hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _PASSWORD_ROUNDS).hex()[:32]

    def close(self) -> None:
        self.db.close()

    def get(self, path: str) -> Entry | None:
        row = self.db.execute(
            "SELECT path, name, content_hash, config_hash, status, pages, error, password_tag"
            " FROM documents WHERE path=?",
            (path,),
        ).fetchone()
        if row is None:
            return None
        path, name, content_hash, config_hash, status, pages, error, tag = row
        status = None if status == RUNNING else DocumentStatus(status)
        return Entry(path, name, content_hash, config_hash, status, pages, error, tag)

    def name_taken(self, name: str, path: str) -> bool:
        row = self.db.execute("SELECT path FROM documents WHERE name=?", (name,)).fetchone()
        return row is not None and row[0] != path

    def start(
        self,
        path: str,
        name: str,
        content_hash: str | None,
        config_hash: str,
        password_tag: str | None = None,
    ) -> None:
        self.db.execute(
            "INSERT INTO documents(path, name, content_hash, config_hash, status, updated_at, password_tag)"
            " VALUES(?,?,?,?,?,?,?) ON CONFLICT(path) DO UPDATE SET name=excluded.name,"
            " content_hash=excluded.content_hash, config_hash=excluded.config_hash,"
            " status=excluded.status, error=NULL, updated_at=excluded.updated_at,"
            " password_tag=excluded.password_tag",
            (path, name, content_hash, config_hash, RUNNING, time.time(), password_tag),
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
        """Record the end of a document `start`ed in this run. Only a running row changes: an input
        that could not even be read (a folder gone unreadable) leaves an earlier result as it was."""
        self.db.execute(
            "UPDATE documents SET status=?, pages=?, engine=?, error=?, seconds=?, updated_at=?,"
            " content_hash=COALESCE(?, content_hash) WHERE path=? AND status=?",
            (status, pages, engine, error, seconds, time.time(), content_hash, path, RUNNING),
        )

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM documents GROUP BY status").fetchall())
