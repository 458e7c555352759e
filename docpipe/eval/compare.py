"""Convert the same inputs with several engines or configs; score quality and speed side by side.

An engine spec is `NAME` or `NAME@CONFIG.toml`: NAME is a docpipe engine (auto, textlayer, ocr,
vlm) run through `docpipe.convert`, or `pymupdf4llm`, the baseline that the design notes ask every
speed figure to sit next to. Each run is timed per document with a monotonic clock; pages/s is the
total pages over the total seconds of that engine, so slow model loading on the first document is
part of the figure unless a warm-up conversion is asked for.
"""

from __future__ import annotations

import contextlib
import glob
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docpipe.eval.olmocr_bench import BenchTest
from docpipe.eval.report import EvalReport, evaluate, fmt_number, fmt_rate, render_table

INPUT_SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp"}


@dataclass
class EngineRun:
    spec: str
    markdown: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    pages: int = 0
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def pages_per_second(self) -> float | None:
        return self.pages / self.seconds if self.seconds > 0 else None


def expand_inputs(inputs: list[str]) -> list[Path]:
    """Files, folders (searched recursively for PDFs and images) and quoted globs, de-duplicated."""
    found: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.suffix.lower() in INPUT_SUFFIXES)
        elif path.exists():
            found.append(path)
        else:
            matches = sorted(Path(m) for m in glob.glob(item, recursive=True))
            if not matches:
                raise FileNotFoundError(f"no such file, folder or glob match: {item}")
            found.extend(m for m in matches if m.is_file())
    unique: dict[Path, None] = {}
    for p in found:
        unique.setdefault(p.resolve(), None)
    return list(unique)


def _page_count(path: Path) -> int:
    if path.suffix.lower() != ".pdf":
        return 1
    import pymupdf

    with pymupdf.open(path) as doc:
        return doc.page_count


def _pymupdf4llm(path: Path) -> tuple[str, int]:
    import pymupdf4llm

    return pymupdf4llm.to_markdown(str(path), header=False, footer=False), _page_count(path)


def _docpipe_converter(engine: str, config: str | None) -> Callable[[Path], tuple[str, int]]:
    def convert(path: Path) -> tuple[str, int]:
        # Imported here: evaluation of saved Markdown must not need the conversion stack.
        import docpipe
        from docpipe.writers.markdown import to_markdown

        doc = docpipe.convert(path, engine=engine, config=config)
        pages = doc.source.page_count or len(doc.pages)
        return to_markdown(doc), pages

    return convert


def converter_for(spec: str) -> Callable[[Path], tuple[str, int]]:
    name, _, config = spec.partition("@")
    if not name:
        raise ValueError(f"engine spec {spec!r} has no engine name (expected NAME or NAME@CONFIG)")
    if name == "pymupdf4llm":
        if config:
            raise ValueError("the pymupdf4llm baseline takes no config")
        return _pymupdf4llm
    return _docpipe_converter(name, config or None)


@contextlib.contextmanager
def _chatter_to_stderr() -> Iterator[None]:
    """Converters' chatter (prints, PyMuPDF's message() stream) goes to stderr while they run:
    stdout carries the report, which must stay parseable with --json. PyMuPDF binds its message
    stream when imported, so redirecting sys.stdout alone does not reach it; its previous stream is
    put back afterwards (PyMuPDF has no getter for it, hence the private attribute)."""
    import pymupdf

    previous = getattr(pymupdf, "_g_out_message", None)
    pymupdf.set_messages(stream=sys.stderr)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        if hasattr(pymupdf, "_g_out_message"):
            pymupdf._g_out_message = previous


def run_engine(
    spec: str, inputs: list[Path], warmup: bool = False, save_dir: Path | None = None
) -> EngineRun:
    """Convert every input with one engine spec; a failing document is recorded, not raised."""
    convert = converter_for(spec)
    run = EngineRun(spec)
    if warmup and inputs:
        # A failure here shows up again, recorded, in the timed run below.
        with contextlib.suppress(Exception), _chatter_to_stderr():
            convert(inputs[0])
    for path in inputs:
        start = time.perf_counter()
        try:
            with _chatter_to_stderr():
                markdown, pages = convert(path)
        except Exception as exc:  # noqa: BLE001 - one bad document must not end the comparison
            run.seconds += time.perf_counter() - start
            run.errors[path.stem] = f"{type(exc).__name__}: {exc}"
            continue
        run.seconds += time.perf_counter() - start
        run.pages += pages
        run.markdown[path.stem] = markdown
        if save_dir is not None:
            target = save_dir / spec.replace("/", "_").replace("@", "_at_") / f"{path.stem}.md"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(markdown, encoding="utf-8")
    return run


def compare_engines(
    specs: list[str],
    inputs: list[Path],
    truth: Mapping[str, str] | None,
    tests: list[BenchTest] | None,
    warmup: bool = False,
    save_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[tuple[EngineRun, EvalReport]]:
    results = []
    # Only score truths for the inputs given, so a partial run is not charged for absent files.
    names = {p.stem for p in inputs}
    scoped_truth = {k: v for k, v in (truth or {}).items() if k in names} if truth else None
    scoped_tests = [t for t in tests if t.doc in names] if tests else None
    for spec in specs:
        if progress:
            progress(f"converting {len(inputs)} inputs with {spec}")
        run = run_engine(spec, inputs, warmup=warmup, save_dir=save_dir)
        results.append((run, evaluate(run.markdown, scoped_truth, scoped_tests)))
    return results


def comparison_to_dict(results: list[tuple[EngineRun, EvalReport]]) -> dict[str, Any]:
    return {
        "engines": [
            {
                "engine": run.spec,
                "pages": run.pages,
                "seconds": run.seconds,
                "pages_per_second": run.pages_per_second,
                "errors": run.errors,
                "report": report.to_dict(),
            }
            for run, report in results
        ]
    }


def format_comparison(results: list[tuple[EngineRun, EvalReport]]) -> str:
    header = ["metric", *(run.spec for run, _ in results)]
    means = [report.means() for _, report in results]
    rows = [
        [
            "documents converted",
            *(f"{len(r.markdown)}/{len(r.markdown) + len(r.errors)}" for r, _ in results),
        ],
        ["pages", *(str(r.pages) for r, _ in results)],
        ["seconds", *(f"{r.seconds:.2f}" for r, _ in results)],
        ["pages/s", *(fmt_number(r.pages_per_second, 2) for r, _ in results)],
    ]
    for key, label in (
        ("edit_similarity", "edit similarity"),
        ("cer", "CER"),
        ("wer", "WER"),
        ("teds", "TEDS"),
        ("teds_struct", "TEDS-S"),
    ):
        rows.append([label, *(fmt_number(m[key]) for m in means)])
    types = sorted({t for _, rep in results if rep.tests for t in rep.tests.by_type})
    for kind in types:
        rows.append(
            [
                f"tests: {kind}",
                *(fmt_rate(rep.tests.by_type.get(kind) if rep.tests else None) for _, rep in results),
            ]
        )
    if types:
        rows.append(
            ["tests: all", *(fmt_rate(rep.tests.overall if rep.tests else None) for _, rep in results)]
        )
    out = [render_table(header, rows)]
    for run, _ in results:
        out.extend(f"{run.spec}: {name} failed: {err}" for name, err in sorted(run.errors.items()))
    return "\n\n".join(out)
