"""Errors that name the file (and page) they are about, so one line in a summary is enough."""

from __future__ import annotations


class DocpipeError(Exception):
    """Base class: something about one input or the setup that the user can act on."""


class InputError(DocpipeError):
    def __init__(self, path: str, message: str, page: int | None = None) -> None:
        self.path = path
        self.page = page
        where = f"{path}" if page is None else f"{path}, page {page + 1}"
        super().__init__(f"{where}: {message}")
        self.reason = message


class MissingExtra(DocpipeError):
    """An optional dependency is not installed; the message says which extra to install."""


class UsageError(DocpipeError):
    """The command cannot start as given (an output folder that is a file, one in use, ...): exit 2,
    before any document is touched."""


# How running out of space reads, from the OS (ENOSPC, EDQUOT) and from SQLite (SQLITE_FULL). Errors
# cross the process pool as text, hence the match on text.
_DISK_FULL = ("No space left on device", "Disk quota exceeded", "database or disk is full")


def is_disk_full(text: str | None) -> bool:
    return bool(text) and any(mark in text for mark in _DISK_FULL)
