"""`docpipe convert INPUT... -o OUT`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from docpipe.config import Config, load_config, parse_set

EPILOG = """\
outputs, for each input NAME:
  OUT/NAME.md            Markdown (running headers/footers left out)
  OUT/NAME.json          the Document: pages, typed blocks with bboxes, tables, status; see `docpipe schema`
  OUT/NAME.chunks.jsonl  RAG chunks with heading path, pages and bboxes
  OUT/NAME_images/       figures (words OCR read inside them are in the JSON, the chunks and, unless
                         --figure-text json|off, NAME.md as "> ..." lines below the image)
  OUT/.docpipe/manifest.sqlite   what is done; rerunning the same command skips finished documents
  OUT/.docpipe/done/NAME.json    --executor ray: each finished document, for reruns from any machine

exit status: 0 when every document converted (some pages may have fallen back), 1 when any
document or input failed, when every page sent to the VLM fell back to the CPU engines, or
when the disk filled up (the summary says why), 2 on usage errors (an input that names
nothing, an output folder that is a file or is in use by another run).
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "convert",
        help="convert PDFs and images to Markdown, JSON and chunks",
        description="Convert PDF files, page images, folders (recursively) and globs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="PDF/image files, folders or quoted globs")
    p.add_argument("-o", "--out", required=True, type=Path, help="output folder (created if missing)")
    add_config_arguments(p)
    p.add_argument("--no-images", action="store_true", help="do not save figure images")
    p.add_argument(
        "--workers",
        type=int,
        default=0,
        help="worker processes (default: number of cores; 1 with an in-process VLM backend, which loads "
        "its model once per process)",
    )
    p.add_argument(
        "--docs-per-worker",
        type=int,
        default=0,
        metavar="N",
        help="documents each worker converts at once (default: 1, or with --engine vlm enough to keep "
        "--max-concurrency requests in flight across document ends)",
    )
    add_executor_arguments(p)
    p.add_argument(
        "--max-retries",
        type=int,
        default=2,
        metavar="N",
        help="--executor ray: times a document is sent to another worker when its worker or node is "
        "lost, before it is recorded failed (default 2)",
    )
    p.add_argument("--force", action="store_true", help="reconvert documents the manifest says are done")
    p.add_argument("--retry-failed", action="store_true", help="retry documents that failed before")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def add_executor_arguments(p: argparse.ArgumentParser) -> None:
    """Where documents are converted; shared by `convert` and `bench`."""
    p.add_argument(
        "--executor",
        choices=["local", "ray"],
        default="local",
        help="local (default): worker processes on this machine; ray: Ray actors on a cluster "
        "(pip install 'docpipe[ray]'; OUT and the inputs on a filesystem every node sees)",
    )
    p.add_argument(
        "--address",
        help="--executor ray: the cluster to join (auto, HOST:PORT, ray://HOST:PORT); default: start a "
        "local Ray instance on this machine",
    )


def ray_options(args: argparse.Namespace):
    """The Ray executor's options when `--executor ray`, else None (`--address` alone is an error)."""
    from docpipe.errors import UsageError
    from docpipe.scheduler.ray_executor import RayOptions

    if args.executor != "ray":
        if args.address:
            raise UsageError("--address is for --executor ray")
        return None
    return RayOptions(address=args.address, max_retries=max(0, getattr(args, "max_retries", 2)))


def add_config_arguments(p: argparse.ArgumentParser) -> None:
    """Engine and configuration options shared by `convert` and `bench`."""
    p.add_argument(
        "--engine",
        choices=["auto", "textlayer", "ocr", "vlm"],
        help="auto (default): text layer where it is healthy, OCR for scans; or force one engine",
    )
    p.add_argument("--force-ocr", action="store_true", help="OCR every page even if it has a text layer")
    p.add_argument("--password", help="password for encrypted PDFs (not written to any output)")
    p.add_argument(
        "--chem",
        choices=["off", "auto", "on"],
        help="read chemical structure figures into SMILES with OSRA: auto (default) only figures that look "
        "like structure diagrams",
    )
    p.add_argument(
        "--figure-text",
        choices=["markdown", "json", "off"],
        help="words inside raster figures (charts, diagrams, screenshots), read with OCR: markdown "
        "(default: in the JSON, the chunks, and NAME.md below the figure as quoted lines), json "
        "(JSON and chunks only), off (not read; fastest)",
    )
    p.add_argument("--config", type=Path, help="TOML file layered over configs/default.toml")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override any config key, e.g. --set chunks.max_tokens=256 (repeatable)",
    )
    vlm = p.add_argument_group(
        "vision-language model (--engine vlm)",
        "e.g. --engine vlm --backend openai --base-url http://127.0.0.1:8000/v1 "
        "--model deepseek-ai/DeepSeek-OCR",
    )
    vlm.add_argument(
        "--model", help="model id or local path (DeepSeek-OCR, Qwen2.5-VL/Qwen3-VL, any vision model)"
    )
    vlm.add_argument("--backend", choices=["openai", "vllm", "transformers"], help="where the model runs")
    vlm.add_argument("--base-url", help="OpenAI-compatible server root, e.g. http://127.0.0.1:8000/v1")
    vlm.add_argument("--api-key", help="bearer token for --backend openai (default: $OPENAI_API_KEY)")
    vlm.add_argument(
        "--mode",
        help="page size sent to the model: auto (compression-aware), or a profile's mode "
        "(DeepSeek-OCR: global = at most one tile, tiled = global view plus tiles)",
    )
    vlm.add_argument(
        "--engine-mode",
        help="DeepSeek-OCR: the resolution mode the engine runs (vLLM: gundam; gundam2 for DeepSeek-OCR 2)",
    )
    vlm.add_argument("--max-compression", type=float, help="auto mode: largest text/visual token ratio (10)")
    vlm.add_argument("--max-concurrency", type=int, help="requests in flight (32)")
    p.add_argument("--max-chunk-tokens", type=int, help="chunk size bound (default 512)")
    p.add_argument(
        "--max-pages-in-flight",
        type=int,
        help="pages of one document held in memory at once (default 64); memory does not grow beyond it",
    )


def config_from_args(args: argparse.Namespace) -> Config:
    overrides = parse_set(args.overrides)
    conv = overrides.setdefault("convert", {})
    if args.engine:
        conv["engine"] = args.engine
    if args.force_ocr:
        conv["force_ocr"] = True
    if args.password:
        conv["password"] = args.password
    if getattr(args, "chem", None):
        conv["chem"] = args.chem
    if getattr(args, "figure_text", None):
        conv["figure_text"] = args.figure_text
    if getattr(args, "no_images", False):
        conv["extract_images"] = False
    vlm = {
        key: getattr(args, key)
        for key in (
            "model",
            "backend",
            "base_url",
            "api_key",
            "mode",
            "engine_mode",
            "max_compression",
            "max_concurrency",
        )
        if getattr(args, key, None) is not None
    }
    if vlm:
        overrides.setdefault("vlm", {}).update(vlm)
    if getattr(args, "max_pages_in_flight", None):
        conv["max_pages_in_flight"] = args.max_pages_in_flight
    if getattr(args, "max_chunk_tokens", None):
        overrides.setdefault("chunks", {})["max_tokens"] = args.max_chunk_tokens
    return load_config(args.config, overrides)


def config_or_usage_error(args: argparse.Namespace) -> Config | None:
    """The configuration the arguments ask for, or None after printing why it is invalid."""
    try:
        return config_from_args(args)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        print(f"docpipe: {exc}", file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    from docpipe.errors import UsageError
    from docpipe.scheduler.batch import default_workers, run_batch

    config = config_or_usage_error(args)
    if config is None:
        return 2
    workers = args.workers or default_workers()
    if config.convert.engine == "vlm" and config.vlm.backend != "openai" and not args.workers:
        # An in-process model (vLLM offline, transformers) loads once per worker process: one
        # process, whose documents overlap on threads (--docs-per-worker), keeps it busy.
        workers = 1
    try:
        ray = ray_options(args)
        if ray is not None:  # 0: as many workers as the cluster has CPUs (GPUs for --backend vllm)
            workers = args.workers
        summary = run_batch(
            args.inputs,
            args.out,
            config,
            workers=workers,
            progress=not args.quiet,
            force=args.force,
            retry_failed=args.retry_failed,
            docs_per_worker=args.docs_per_worker,
            ray=ray,
        )
    except (FileNotFoundError, UsageError) as exc:
        print(f"docpipe: {exc}", file=sys.stderr)
        return 2
    print_summary(summary, sys.stderr)
    return 0 if summary.ok else 1


def print_summary(summary, stream) -> None:
    from docpipe.model import DocumentStatus

    S = DocumentStatus
    ok, partial, failed = summary.count(S.ok), summary.count(S.partial), summary.count(S.failed)
    rate = summary.pages / summary.seconds if summary.seconds > 0 else 0.0
    before = summary.count(S.failed, previous=True)
    print(
        f"docpipe: {ok + partial} converted ({partial} partial), {summary.skipped} skipped "
        f"(already done), {failed} failed"
        + (f", {before} failed in an earlier run (--retry-failed retries them)" if before else "")
        + f"; {summary.pages} pages in {summary.seconds:.1f}s ({rate:.1f} pages/s)",
        file=stream,
    )
    for o in summary.failures:
        print(f"  {o.status.upper():8s} {_named(o.path, o.error)}", file=stream)
    if summary.vlm_unusable:
        print(f"docpipe: VLM UNUSABLE: {summary.vlm_unusable}", file=stream)
    if summary.disk_full:
        print(
            f"docpipe: DISK FULL, stopped: {summary.disk_full}. The documents counted above are done "
            "and recorded; free some space and run the same command again to convert the rest.",
            file=stream,
        )


def _named(path: str, error: str | None) -> str:
    """A summary line always names its file: some errors (a page's, a worker's) do not."""
    if not error:
        return path
    return error if error.startswith(path) else f"{path}: {error}"
