"""The Python API: `docpipe.convert(path) -> Document`, `docpipe.convert_to(paths, out_dir)`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from docpipe.config import Config, load_config
from docpipe.model import Document


def _config(
    config: Config | str | Path | None, engine: str | None, overrides: dict[str, Any] | None
) -> Config:
    cfg = config if isinstance(config, Config) else load_config(config)
    data = cfg.model_dump()
    if engine is not None:
        data["convert"]["engine"] = engine
    for section, values in (overrides or {}).items():
        data.setdefault(section, {}).update(values)
    return Config.model_validate(data)


def convert(
    path: str | Path,
    engine: str | None = None,
    config: Config | str | Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> Document:
    """Convert one PDF or image into a Document (no files written).

    >>> doc = docpipe.convert("paper.pdf")
    >>> docpipe.to_markdown(doc)

    Raises docpipe.errors.InputError when the file cannot be opened (encrypted without password,
    corrupt, not a PDF); page-level problems are recorded in `doc.pages[i].status` instead.
    """
    from docpipe.pipeline import convert_file

    cfg = _config(config, engine, overrides)
    return convert_file(path, cfg, with_images=False).document


def convert_to(
    inputs: Iterable[str | Path],
    out_dir: str | Path,
    engine: str | None = None,
    config: Config | str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    workers: int = 1,
    progress: bool = False,
):
    """Convert files, folders or globs into OUT (Markdown, JSON, chunks, images); returns the batch
    summary. Finished documents recorded in OUT/.docpipe/manifest.sqlite are skipped."""
    from docpipe.scheduler.batch import run_batch

    cfg = _config(config, engine, overrides)
    return run_batch(list(inputs), Path(out_dir), cfg, workers=workers, progress=progress)
