"""The output layout of `docpipe convert`: NAME.md, NAME.json, NAME.chunks.jsonl, NAME_images/.

Images are written first and the JSON last, so a NAME.json on disk means every other output of
that document is complete (the manifest records completion separately).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from docpipe.model import Document
from docpipe.writers.atomic import write_bytes_atomic, write_text_atomic
from docpipe.writers.chunks import make_chunks
from docpipe.writers.markdown import to_markdown


@dataclass
class ImageBlob:
    data: bytes
    ext: str  # "png", "jpeg", ...


@dataclass
class Written:
    markdown: Path
    json: Path
    chunks: Path
    images: list[Path] = field(default_factory=list)


def output_paths(out_dir: Path, name: str) -> tuple[Path, Path, Path, Path]:
    return (
        out_dir / f"{name}.md",
        out_dir / f"{name}.json",
        out_dir / f"{name}.chunks.jsonl",
        out_dir / f"{name}_images",
    )


def write_outputs(
    doc: Document, images: dict[str, ImageBlob], out_dir: Path, name: str, max_chunk_tokens: int = 512
) -> Written:
    md_path, json_path, chunks_path, img_dir = output_paths(out_dir, name)
    written_images: list[Path] = []
    for _, block in doc.iter_blocks():
        blob = images.get(block.id)
        if blob is None or block.figure is None:
            continue
        img_path = img_dir / f"{block.id}.{blob.ext}"
        write_bytes_atomic(img_path, blob.data)
        block.figure.image_path = f"{img_dir.name}/{img_path.name}"
        written_images.append(img_path)
    write_text_atomic(md_path, to_markdown(doc))
    chunks = make_chunks(doc, max_tokens=max_chunk_tokens)
    write_text_atomic(
        chunks_path, "".join(json.dumps(c.model_dump(mode="json"), ensure_ascii=False) + "\n" for c in chunks)
    )
    write_text_atomic(json_path, doc.model_dump_json(indent=1))
    return Written(md_path, json_path, chunks_path, written_images)
