"""Digests of what `docpipe convert` writes for the dev and realworld corpora: a regression lock.

For each PDF it converts with the default configuration and hashes every output file:
NAME.md, NAME.chunks.jsonl, NAME.json (with the run-dependent fields removed first: per-page
`timings`, and `source.path`, which depends on where the corpus lies) and the NAME_images/ folder
(file names and bytes). A refactor must leave every digest unchanged.

    python scripts/output_digests.py --check         # all 108 documents vs the fixture; exit 1 if any differ
    python scripts/output_digests.py --write         # regenerate fixtures/output_digests.json
    python scripts/output_digests.py a.pdf b.pdf     # print the digests of some files

Regenerate with `--write` only when an output change is deliberate (a better parser, a new JSON
field), and commit the new fixture together with the change that explains it. `--corpus DIR`
points at another corpus root (default: ../shared/corpus next to the repository).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "output_digests.json"
CORPUS = ROOT.parent / "shared" / "corpus"
CORPORA = ("dev", "realworld")


def corpus_files(corpus: Path = CORPUS, names: tuple[str, ...] = CORPORA) -> dict[str, Path]:
    """Label ("dev/NAME.pdf") -> path, for every PDF of the named corpora."""
    return {
        f"{name}/{pdf.name}": pdf for name in names for pdf in sorted((corpus / name / "pdf").glob("*.pdf"))
    }


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json_digest(path: Path, label: str) -> str:
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["source"]["path"] = label  # where the corpus lies is not an output property
    for page in doc.get("pages", []):
        page.pop("timings", None)  # seconds per stage differ from run to run
    return _sha(json.dumps(doc, ensure_ascii=False, sort_keys=True).encode())


def _images_digest(folder: Path) -> str | None:
    if not folder.is_dir():
        return None
    h = hashlib.sha256()
    for f in sorted(folder.iterdir()):
        h.update(f.name.encode() + b"\0" + _sha(f.read_bytes()).encode() + b"\n")
    return h.hexdigest()


def digest_outputs(out_dir: Path, name: str, label: str) -> dict[str, str | None]:
    def file_digest(suffix: str) -> str | None:
        p = out_dir / f"{name}{suffix}"
        return _sha(p.read_bytes()) if p.exists() else None

    json_path = out_dir / f"{name}.json"
    return {
        "md": file_digest(".md"),
        "chunks": file_digest(".chunks.jsonl"),
        "json": _json_digest(json_path, label) if json_path.exists() else None,
        "images": _images_digest(out_dir / f"{name}_images"),
    }


def compute(files: dict[str, Path], workers: int = 1) -> dict[str, dict[str, str | None]]:
    """Convert `files` (label -> path) and digest each document's outputs. Files are converted in one
    batch per corpus folder so that output names (PDF stems) are the same wherever they run."""
    from docpipe.config import load_config
    from docpipe.scheduler.batch import run_batch

    config = load_config()
    groups: dict[str, dict[Path, str]] = {}
    for label, path in files.items():
        groups.setdefault(label.split("/")[0], {})[path.resolve()] = label
    result: dict[str, dict[str, str | None]] = {}
    with tempfile.TemporaryDirectory(prefix="docpipe-digests-") as tmp:
        for group, labels in groups.items():
            out = Path(tmp) / group
            summary = run_batch(list(labels), out, config, workers=workers)
            for outcome in summary.outcomes:
                label = labels[Path(outcome.path).resolve()]
                entry = digest_outputs(out, outcome.name, label)
                entry["status"] = str(outcome.status)
                # the error names the file by its absolute path: keep it location-independent
                entry["error"] = outcome.error and outcome.error.replace(outcome.path, label)
                result[label] = entry
    return dict(sorted(result.items()))


def compare(expected: dict[str, dict], actual: dict[str, dict]) -> list[str]:
    """One line per document whose digests differ (or that is missing on either side)."""
    problems = []
    for label in sorted(set(expected) | set(actual)):
        if label not in actual:
            problems.append(f"{label}: not converted")
        elif label not in expected:
            problems.append(f"{label}: not in the fixture")
        else:
            changed = [k for k in expected[label] if expected[label][k] != actual[label].get(k)]
            if changed:
                problems.append(f"{label}: {', '.join(changed)} changed")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pdfs", nargs="*", type=Path, help="print digests of these files instead")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="compare the corpora with the fixture")
    mode.add_argument("--write", action="store_true", help="regenerate the fixture")
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="folder holding dev/pdf and realworld/pdf")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (outputs do not depend on it)")
    args = ap.parse_args(argv)

    if args.pdfs:
        files = {f"{p.parent.name}/{p.name}": p for p in args.pdfs}
        print(json.dumps(compute(files, args.workers), indent=1))
        return 0
    files = corpus_files(args.corpus)
    if not files:
        print(f"no PDFs under {args.corpus}/{{{','.join(CORPORA)}}}/pdf", file=sys.stderr)
        return 2
    actual = compute(files, args.workers)
    if args.write:
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        FIXTURE.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {len(actual)} documents to {FIXTURE.relative_to(ROOT)}")
        return 0
    if args.check:
        expected = json.loads(FIXTURE.read_text(encoding="utf-8"))
        problems = compare(expected, actual)
        for line in problems:
            print(line)
        same = sum(1 for k, v in expected.items() if actual.get(k) == v)
        print(f"{same}/{len(expected)} documents identical")
        return 1 if problems else 0
    print(json.dumps(actual, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
