"""The Python API: `docpipe.convert(path) -> Document`, `docpipe.convert_to(paths, out_dir)`,
`docpipe.view(json_path) -> Path` (an HTML review page)."""

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
    docs_per_worker: int = 0,
    executor: str = "local",
    address: str | None = None,
    max_retries: int = 2,
):
    """Convert files, folders or globs into OUT (Markdown, JSON, chunks, images); returns the batch
    summary. Finished documents recorded in OUT/.docpipe/manifest.sqlite are skipped.
    `docs_per_worker`: documents each worker converts at once (0: by engine, see `docpipe convert -h`).
    `executor="ray"`: Ray actors convert (`address` of the cluster, None for a local Ray instance;
    `workers` 0 for one per CPU of the cluster; `max_retries` when a worker or node is lost)."""
    from docpipe.scheduler.batch import run_batch
    from docpipe.scheduler.ray_executor import RayOptions

    if executor not in ("local", "ray"):
        raise ValueError(f"executor must be 'local' or 'ray', not {executor!r}")
    ray = RayOptions(address, max_retries) if executor == "ray" else None
    cfg = _config(config, engine, overrides)
    return run_batch(
        list(inputs),
        Path(out_dir),
        cfg,
        workers=workers,
        progress=progress,
        docs_per_worker=docs_per_worker,
        ray=ray,
    )


def _source_path(doc: Document, json_path: Path, source: str | Path | None) -> Path:
    """The file the JSON was converted from: --source, else source.path as recorded (relative to the
    working directory then to the JSON's folder), else the same name beside the JSON."""
    from docpipe.errors import InputError

    if source is not None:
        path = Path(source)
        if not path.is_file():
            raise InputError(str(path), "source file not found")
        return path
    recorded = Path(doc.source.path)
    candidates = [recorded]
    if not recorded.is_absolute():
        candidates.append(json_path.parent / recorded)
    candidates.append(json_path.parent / doc.source.name)
    for path in candidates:
        if path.is_file():
            return path
    raise InputError(
        str(recorded),
        f"the source of {json_path.name} is not there any more (moved or deleted); "
        "point at it with --source PATH (Python: source=PATH)",
    )


def view(
    json_path: str | Path,
    out_path: str | Path | None = None,
    dpi: float = 72,
    pages: set[int] | None = None,
    source: str | Path | None = None,
    password: str = "",
) -> Path:
    """Write a self-contained HTML review page for a NAME.json docpipe wrote: each page image with its
    blocks drawn as numbered, coloured boxes, the engine and route of each page, tables as parsed.
    Returns the path written (default: NAME.view.html beside the JSON). `pages`: 0-based indexes.

    >>> docpipe.view("out/paper.json")   # -> Path('out/paper.view.html')

    Raises docpipe.errors.InputError when the JSON is not a docpipe Document or the source PDF or
    image cannot be found or opened.
    """
    import hashlib

    import pydantic

    from docpipe.errors import InputError
    from docpipe.sources.pdf import open_document
    from docpipe.writers.atomic import atomic_text_writer
    from docpipe.writers.review_html import write_review

    json_path = Path(json_path)
    try:
        doc = Document.model_validate_json(json_path.read_bytes())
    except OSError as exc:
        raise InputError(str(json_path), f"cannot read file: {exc.strerror or exc}") from exc
    except pydantic.ValidationError as exc:
        raise InputError(str(json_path), f"not a docpipe Document JSON: {exc.errors()[0]['msg']}") from exc
    src = _source_path(doc, json_path, source)
    data = src.read_bytes()
    notes = []
    if hashlib.sha256(data).hexdigest() != doc.doc_id:
        notes.append(
            f"{src} is not the file that was converted (its content hash differs); boxes may not match"
        )
    source_doc = open_document(src, data, password=password)
    del data
    out = Path(out_path) if out_path is not None else json_path.with_name(json_path.stem + ".view.html")
    try:
        with atomic_text_writer(out) as fh:
            write_review(doc, source_doc, fh, dpi=dpi, pages=pages, notes=notes)
    finally:
        source_doc.close()
    return out
