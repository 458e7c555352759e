"""Writer faults: file modes, link targets, and the chunker's cost on text with no sentence ends."""

from __future__ import annotations

import os
import stat

import pytest

from docpipe.model import Block, BlockType, DocumentStatus, FigureData
from docpipe.writers import atomic, chunks
from docpipe.writers.markdown import block_to_markdown


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_outputs_honour_the_umask(tmp_path, monkeypatch, umask):
    from docpipe.model import Document, EngineInfo, SourceInfo
    from docpipe.writers.outputs import DocumentWriter

    monkeypatch.setattr(atomic, "_UMASK", umask)
    atomic.write_bytes_atomic(tmp_path / "a.bin", b"x")
    with atomic.atomic_text_writer(tmp_path / "b.html") as fh:
        fh.write("x")
    source = SourceInfo(path="x.pdf", name="x.pdf", media_type="application/pdf", size_bytes=1, page_count=0)
    engine = EngineInfo(name="auto", docpipe_version="0", pymupdf_version="0", config={}, config_hash="0")
    doc = Document(doc_id="d" * 64, source=source, engine=engine)
    writer = DocumentWriter(tmp_path / "out", "x", doc)
    writer.finish(DocumentStatus.ok, None)
    files = [tmp_path / "a.bin", tmp_path / "b.html", *(tmp_path / "out").iterdir()]
    assert len(files) == 5
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o666 & ~umask, f


def test_the_process_umask_is_the_one_read():
    mask = os.umask(0o022)
    os.umask(mask)
    assert atomic._read_umask() == mask


def test_image_links_are_encoded_for_spaces_and_parentheses():
    fig = FigureData(image_path="scan (2) [final]_images/p1 b3.png", caption="A (small) figure")
    block = Block(id="b3", type=BlockType.figure, bbox=(0, 0, 10, 10), text="", figure=fig)
    md = block_to_markdown(block)
    assert md == "![A (small) figure](scan%20%282%29%20%5Bfinal%5D_images/p1%20b3.png)"
    plain = FigureData(image_path="doc_images/p1-b3.png")
    assert block_to_markdown(block.model_copy(update={"figure": plain})).endswith("(doc_images/p1-b3.png)")


def test_splitting_text_without_sentence_ends_is_linear(monkeypatch):
    """Characters counted while splitting, for texts of n and 4n characters: linear is about 4x,
    the old quadratic split counted each growing prefix again (16x)."""
    counted = [0]
    real = chunks.count_tokens

    def counting(text: str) -> int:
        counted[0] += len(text)
        return real(text)

    monkeypatch.setattr(chunks, "count_tokens", counting)
    work = []
    for n in (20_000, 80_000):
        counted[0] = 0
        text = " ".join(["word"] * (n // 5))
        pieces = chunks._split_text(text, 64)
        assert " ".join(pieces) == text and all(real(p) <= 64 for p in pieces)
        work.append(counted[0] / len(text))
    assert work[1] < 1.5 * work[0] and work[1] < 4


def test_splitting_keeps_sentences_packed_and_words_whole():
    text = "One two three. Four five six seven. " + "X " * 30 + "end."
    pieces = chunks._split_text(text, 9)
    assert pieces[0] == "One two three. Four five six seven."
    assert all(chunks.count_tokens(p) <= 9 for p in pieces)
    assert " ".join(pieces).split() == text.split()
