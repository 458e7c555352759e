"""RAG chunks: heading paths, the token bound, big tables split between rows."""

from __future__ import annotations

import docpipe
from docpipe.model import Document
from docpipe.writers.chunks import count_tokens, make_chunks


def test_chunks_follow_headings_and_respect_the_token_bound(pdfs):
    doc = docpipe.convert(pdfs["two_column"], engine="textlayer")
    chunks = make_chunks(doc, max_tokens=40)
    assert all(c.token_count <= 40 for c in chunks)
    assert chunks[0].heading_path == ["Adaptive Layout Analysis for Archival Documents"]
    assert chunks[-1].heading_path[-1].startswith("2 Methods")
    assert all(c.doc_id == doc.doc_id and c.pages == [0] and c.bboxes for c in chunks)


def test_big_table_chunks_split_between_rows_and_repeat_the_header():
    from docpipe.model import (
        Block,
        BlockType,
        DocumentStatus,
        EngineInfo,
        PageResult,
        SourceInfo,
        TableCell,
        TableData,
    )

    cells = [TableCell(row=0, col=c, text=f"H{c}", is_header=True) for c in range(3)]
    cells += [TableCell(row=r, col=c, text=f"value {r} {c}") for r in range(1, 61) for c in range(3)]
    table = TableData(n_rows=61, n_cols=3, cells=cells, header_rows=1)
    doc = Document(
        doc_id="x" * 64,
        source=SourceInfo(
            path="t.pdf", name="t.pdf", media_type="application/pdf", size_bytes=1, page_count=1
        ),
        status=DocumentStatus.ok,
        pages=[
            PageResult(
                index=0,
                width=100,
                height=100,
                engine="textlayer",
                blocks=[Block(id="p0-b0", type=BlockType.table, bbox=(0, 0, 1, 1), table=table)],
            )
        ],
        engine=EngineInfo(name="textlayer", docpipe_version="0", pymupdf_version="0"),
    )
    chunks = make_chunks(doc, max_tokens=200)
    assert len(chunks) > 2
    seen_rows = []
    for c in chunks:
        assert c.token_count <= 200
        lines = c.text.splitlines()
        assert lines[0] == "| H0 | H1 | H2 |"
        for line in lines[2:]:
            assert line.startswith("| value ") and line.endswith(" |") and line.count("|") == 4
            seen_rows.append(line)
    assert len(seen_rows) == 60 and count_tokens(seen_rows[0]) > 0
