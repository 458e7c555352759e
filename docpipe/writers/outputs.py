"""The output layout of `docpipe convert`: NAME.md, NAME.json, NAME.chunks.jsonl, NAME_images/.

`DocumentWriter` streams a document page by page into temporary files and renames them into place
in `finish`: memory stays bounded by the pages being written, and a killed run leaves only hidden
temporary files. Images come first and the JSON last, so a NAME.json on disk means every other
output of that document is complete (the manifest records completion separately).
"""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass
from pathlib import Path

from docpipe.model import Document, DocumentStatus, PageResult
from docpipe.writers.atomic import make_temporary, write_bytes_atomic
from docpipe.writers.chunks import Chunker
from docpipe.writers.markdown import figure_text_wanted, page_markdown


@dataclass
class ImageBlob:
    data: bytes
    ext: str  # "png", "jpeg", ...


def output_paths(out_dir: Path, name: str) -> tuple[Path, Path, Path, Path]:
    return (
        out_dir / f"{name}.md",
        out_dir / f"{name}.json",
        out_dir / f"{name}.chunks.jsonl",
        out_dir / f"{name}_images",
    )


class DocumentWriter:
    def __init__(self, out_dir: Path, name: str, header: Document, max_chunk_tokens: int = 512) -> None:
        """Whether figure words go into NAME.md follows the configuration recorded in `header`."""
        out_dir.mkdir(parents=True, exist_ok=True)
        self.md_path, self.json_path, self.chunks_path, self.img_dir = output_paths(out_dir, name)
        self._tmp: dict[Path, Path] = {}
        self._md = self._open(self.md_path)
        self._json = self._open(self.json_path)
        self._chunks = self._open(self.chunks_path)
        self._chunker = Chunker(header.doc_id, max_chunk_tokens)
        self._first_md = True
        self._figure_text = figure_text_wanted(header.engine.config)
        self._first_page = True
        # Every field but pages/status/error is known up front; those three close the object.
        head = header.model_dump(mode="json", exclude={"pages", "status", "error"})
        self._json.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "pages": [\n')

    def _open(self, final: Path):
        fd, tmp = make_temporary(final)
        self._tmp[final] = Path(tmp)
        return os.fdopen(fd, "w", encoding="utf-8")

    def add(self, pages: list[PageResult], images: dict[str, ImageBlob]) -> None:
        for page in pages:
            for block in page.blocks:
                blob = images.get(block.id)
                if blob is None or block.figure is None:
                    continue
                img_path = self.img_dir / f"{block.id}.{blob.ext}"
                write_bytes_atomic(img_path, blob.data)
                block.figure.image_path = f"{self.img_dir.name}/{img_path.name}"
            for md in page_markdown(page, self._figure_text):
                self._md.write(md if self._first_md else "\n\n" + md)
                self._first_md = False
            for chunk in self._chunker.feed(page):
                self._chunks.write(json.dumps(chunk.model_dump(mode="json"), ensure_ascii=False) + "\n")
            self._json.write(("" if self._first_page else ",\n") + page.model_dump_json())
            self._first_page = False

    def finish(self, status: DocumentStatus, error: str | None) -> None:
        for chunk in self._chunker.finish():
            self._chunks.write(json.dumps(chunk.model_dump(mode="json"), ensure_ascii=False) + "\n")
        if not self._first_md:
            self._md.write("\n")
        tail = {"status": status.value, "error": error}
        self._json.write("\n], " + json.dumps(tail, ensure_ascii=False)[1:] + "\n")
        for fh in (self._md, self._chunks, self._json):
            fh.close()
        for final in (self.md_path, self.chunks_path, self.json_path):  # the JSON last
            os.replace(self._tmp.pop(final), final)

    def abort(self) -> None:
        for fh in (self._md, self._chunks, self._json):
            fh.close()
        for tmp in self._tmp.values():
            tmp.unlink(missing_ok=True)
        self._tmp.clear()


def remove_stale_temporaries(out_dir: Path) -> int:
    """Delete the hidden temporary files a killed run left in OUT (and its image folders)."""
    removed = 0
    for pattern in (".*.tmp", "*_images/.*.tmp"):
        for stale in out_dir.glob(pattern):
            stale.unlink(missing_ok=True)
            removed += 1
    return removed


def remove_document_temporaries(out_dir: Path, name: str) -> None:
    """Delete the temporaries an attempt at document `name` left in OUT when its process was lost
    mid-write (its outputs are only ever renamed into place whole, so nothing of it stays)."""
    md, js, chunks, images = output_paths(out_dir, name)
    for final in (md, js, chunks):
        for stale in out_dir.glob(f".{glob.escape(final.name)}.*.tmp"):
            stale.unlink(missing_ok=True)
    for stale in images.glob(".*.tmp"):
        stale.unlink(missing_ok=True)
