"""Turn command-line inputs (files, folders, globs) into a stream of document paths.

A generator, in sorted order per folder: a folder of 50,000 PDFs is walked, never listed whole
into memory with its documents opened.

What cannot be walked or named (a folder it may not read, a symlink loop) comes out as an
`InputProblem` in the stream, so the batch reports it as a failed input and goes on; nothing is
skipped silently. docpipe's own outputs are never inputs: the figure folders (`NAME_images/`) of an
output folder (one holding `.docpipe/manifest.sqlite`) are left out of walks and globs, so an OUT
inside an input folder does not turn last run's figures into new documents.
"""

from __future__ import annotations

import errno
import glob
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

PDF_SUFFIXES = frozenset({".pdf"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"})
SUPPORTED_SUFFIXES = PDF_SUFFIXES | IMAGE_SUFFIXES

#: The marker of a docpipe output folder (see `docpipe.scheduler.manifest`).
MANIFEST_MARKER = Path(".docpipe") / "manifest.sqlite"
IMAGES_SUFFIX = "_images"


@dataclass(frozen=True)
class InputProblem:
    """An input, or a part of one, that cannot be read: reported as failed, never skipped."""

    path: Path
    reason: str

    @property
    def message(self) -> str:
        return f"{self.path}: {self.reason}"


def _why(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symlink loop"
    return exc.strerror or str(exc)


def is_output_folder(folder: Path) -> bool:
    try:
        return (folder / MANIFEST_MARKER).is_file()
    except OSError:
        return False


def is_docpipe_output(path: Path) -> bool:
    """A file inside the figure folder of a docpipe output folder."""
    parent = path.parent
    return parent.name.endswith(IMAGES_SUFFIX) and is_output_folder(parent.parent)


def _supported(name: str) -> bool:
    return not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED_SUFFIXES


def _walk(top: Path) -> Iterator[Path | InputProblem]:
    """Depth first, sorted: a folder's files, then its subfolders in order. Symlinked folders are
    not followed (no loops, no walking out of the tree); hidden entries are skipped."""
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            yield InputProblem(folder, f"cannot read the folder: {_why(exc)}")
            continue
        skip_images = is_output_folder(folder)
        subfolders: list[Path] = []
        for entry in entries:
            if entry.name.startswith("."):  # skips OUT/.docpipe and the like
                continue
            path = Path(folder, entry.name)
            try:
                is_dir = entry.is_dir()  # follows a symlink: a link to a folder is not a file
                is_link = entry.is_symlink()
            except OSError as exc:
                if _supported(entry.name):
                    yield InputProblem(path, f"cannot access: {_why(exc)}")
                continue
            if is_dir:
                if not is_link and not (skip_images and entry.name.endswith(IMAGES_SUFFIX)):
                    subfolders.append(path)
            elif _supported(entry.name):
                yield path
        stack.extend(reversed(subfolders))


def _unreadable_folder(pattern: str) -> tuple[Path, OSError] | None:
    """The folder a pattern that matched nothing could not read, if that is why (glob is silent
    about it): the deepest existing folder before the first wildcard."""
    parts = Path(pattern).parts
    fixed = next((i for i, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    folder = Path(*parts[:fixed]) if fixed else Path(".")
    while not os.path.exists(folder) and folder != folder.parent:
        folder = folder.parent
    try:
        os.scandir(folder).close()
    except PermissionError as exc:
        return folder, exc
    except OSError:
        pass
    return None


def _glob(pattern: str) -> Iterator[Path | InputProblem]:
    matches = sorted(glob.iglob(pattern, recursive=True))
    if not matches:
        unreadable = _unreadable_folder(pattern)
        if unreadable is None:
            raise FileNotFoundError(f"{pattern}: the pattern matches no file")
        folder, exc = unreadable
        yield InputProblem(folder, f"cannot read the folder: {_why(exc)} (pattern {pattern})")
        return
    for m in matches:
        p = Path(m)
        if p.is_dir():
            if not (p.name.endswith(IMAGES_SUFFIX) and is_output_folder(p.parent)):
                yield from _walk(p)
        elif p.suffix.lower() in SUPPORTED_SUFFIXES and not is_docpipe_output(p):
            yield p


def _one_input(raw: str) -> Iterator[Path | InputProblem]:
    p = Path(raw)
    try:
        mode = os.stat(p).st_mode
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR) or glob.has_magic(raw):
            mode = None
        else:  # a path inside a folder it may not search, a symlink loop, ...
            yield InputProblem(p, f"cannot access: {_why(exc)}")
            return
    if mode is not None and stat.S_ISDIR(mode):
        yield from _walk(p)
    elif mode is not None:
        yield p
    elif glob.has_magic(raw):
        yield from _glob(raw)
    else:
        raise FileNotFoundError(f"{raw}: no such file or folder")


def check_inputs(inputs: Iterable[str | Path]) -> None:
    """Raise FileNotFoundError for the first input that names nothing, before any work starts (an
    input that exists but cannot be read is reported by `iter_inputs`, per input)."""
    for raw in inputs:
        raw_s = str(raw)
        try:
            os.lstat(raw_s)
            continue
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
                continue
        if glob.has_magic(raw_s):
            if next(glob.iglob(raw_s, recursive=True), None) is not None or _unreadable_folder(raw_s):
                continue
            raise FileNotFoundError(f"{raw_s}: the pattern matches no file")
        raise FileNotFoundError(f"{raw_s}: no such file or folder")


def iter_inputs(inputs: Iterable[str | Path]) -> Iterator[Path | InputProblem]:
    """Yield each supported file once, and an `InputProblem` for what cannot be read. Unknown paths
    (and globs that match nothing) raise FileNotFoundError naming the input."""
    seen: set[str] = set()
    for raw in inputs:
        for c in _one_input(str(raw)):
            if isinstance(c, InputProblem):
                yield c
                continue
            try:
                key = str(c.resolve(strict=True))
            except RuntimeError:  # Python < 3.13 reports a loop so
                yield InputProblem(c, "cannot access: a symlink loop")
                continue
            except OSError as exc:
                yield InputProblem(c, f"cannot access: {_why(exc)}")
                continue
            if key not in seen:
                seen.add(key)
                yield c


def input_paths(inputs: Iterable[str | Path]) -> Iterator[Path]:
    """The readable files only, for callers with no use for the problems (the bench)."""
    return (p for p in iter_inputs(inputs) if isinstance(p, Path))
