"""Document -> RAG chunks that follow the heading structure.

A heading closes the current chunk and updates the heading path. Blocks accumulate until the next
one would push the chunk past `max_tokens`. A block that alone is too big is split: paragraphs at
sentence ends, tables between rows (each piece repeats the header rows), never inside a row.

Token counts use a tokenizer-free estimate (words and punctuation marks), which tracks BPE
tokenizers within about 25% on English prose; it keeps the default install free of model files.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from docpipe.model import FURNITURE, Block, BlockType, Chunk, Document, PageResult, TableData
from docpipe.writers.markdown import block_to_markdown
from docpipe.writers.tables import to_markdown as table_to_markdown

_TOKEN = re.compile(r"\w+|[^\w\s]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[])")


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


@dataclass
class _Piece:
    text: str
    page: int
    block: Block
    tokens: int = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = count_tokens(self.text)


def _split_text(text: str, max_tokens: int) -> list[str]:
    """Sentences packed up to `max_tokens`; a sentence longer than that cut at spaces. Linear in
    the text: each sentence and word is counted once (counts add up, since no token spans a
    space), so a megabyte without a full stop costs what a megabyte of prose does."""
    out: list[str] = []
    cur: list[str] = []  # the sentences of the piece being filled, joined by spaces at the end
    cur_tokens = 0
    for sentence in _SENTENCE.split(text):
        tokens = count_tokens(sentence)
        if cur and cur_tokens + tokens > max_tokens:
            out.append(" ".join(cur))
            cur, cur_tokens = [sentence], tokens
        elif cur:
            if sentence.strip():
                cur.append(sentence.rstrip())
            cur_tokens += tokens
        else:
            cur, cur_tokens = ([sentence.strip()] if sentence.strip() else []), tokens
    if cur:
        out.append(" ".join(cur))
    # a single sentence longer than the budget is cut at word boundaries
    final: list[str] = []
    for piece in out:
        words = piece.split(" ")
        counts = [count_tokens(w) for w in words]
        left = sum(counts)
        i = 0
        while left > max_tokens and len(words) - i > 1:
            start, n = i, 0
            while i < len(words) and n + counts[i] <= max_tokens:
                n += counts[i]
                i += 1
            if i == start:
                n = counts[i]
                i += 1
            final.append(" ".join(words[start:i]))
            left -= n
        if i < len(words):
            final.append(" ".join(words[i:]))
    return final


def _split_table(table: TableData, max_tokens: int) -> list[str]:
    """Row groups that fit the budget; header rows repeated on each. Never splits inside a row;
    rows joined by a row span stay together."""
    head = [c for c in table.cells if c.row < table.header_rows]
    starts = [table.header_rows]
    r = table.header_rows
    while r < table.n_rows:
        end = r + 1
        for c in table.cells:  # keep rows tied by a rowspan together
            if c.row >= r and c.row < end and c.row + c.row_span > end:
                end = c.row + c.row_span
        r = end
        starts.append(r)
    pieces: list[str] = []
    group_start = table.header_rows
    for i in range(1, len(starts)):
        lo, hi = group_start, starts[i]
        candidate = _table_slice(table, head, lo, hi)
        if count_tokens(table_to_markdown(candidate)) > max_tokens and starts[i - 1] > lo:
            pieces.append(table_to_markdown(_table_slice(table, head, lo, starts[i - 1])))
            group_start = starts[i - 1]
    if group_start < table.n_rows or not pieces:
        pieces.append(table_to_markdown(_table_slice(table, head, group_start, table.n_rows)))
    return pieces


def _table_slice(table: TableData, head: list, lo: int, hi: int) -> TableData:
    n_head = table.header_rows
    body = [
        c.model_copy(update={"row": c.row - lo + n_head, "row_span": min(c.row_span, hi - c.row)})
        for c in table.cells
        if lo <= c.row < hi
    ]
    return TableData(n_rows=n_head + hi - lo, n_cols=table.n_cols, cells=head + body, header_rows=n_head)


def _pieces(block: Block, page: int, max_tokens: int) -> list[_Piece]:
    md = block_to_markdown(block)
    if count_tokens(md) <= max_tokens:
        return [_Piece(md, page, block)] if md.strip() else []
    if block.type is BlockType.table and block.table is not None:
        return [_Piece(t, page, block) for t in _split_table(block.table, max_tokens)]
    return [_Piece(t, page, block) for t in _split_text(md, max_tokens)]


class Chunker:
    """Chunks a document page by page (`feed`), so a long document never has to be in memory whole;
    `finish` returns the last chunk."""

    def __init__(self, doc_id: str, max_tokens: int = 512) -> None:
        self.doc_id = doc_id
        self.max_tokens = max_tokens
        self.count = 0
        self.path: list[tuple[int, str]] = []
        self.current: list[_Piece] = []

    def _flush(self) -> list[Chunk]:
        if not self.current:
            return []
        text = "\n\n".join(p.text for p in self.current)
        digest = hashlib.sha1(f"{self.doc_id}:{self.count}".encode()).hexdigest()[:12]
        block_ids: list[str] = []
        bboxes = []
        for p in self.current:
            if p.block.id not in block_ids:
                block_ids.append(p.block.id)
                bboxes.append((p.page, *p.block.bbox))
        chunk = Chunk(
            id=f"{self.doc_id[:12]}-{self.count}-{digest}",
            doc_id=self.doc_id,
            text=text,
            heading_path=[t for _, t in self.path],
            pages=sorted({p.page for p in self.current}),
            bboxes=bboxes,
            block_ids=block_ids,
            token_count=count_tokens(text),
        )
        self.count += 1
        self.current = []
        return [chunk]

    def feed(self, page: PageResult) -> list[Chunk]:
        out: list[Chunk] = []
        for block in page.blocks:
            if block.type in FURNITURE:
                continue
            if block.type in (BlockType.title, BlockType.heading):
                out += self._flush()
                level = block.level or 2
                while self.path and self.path[-1][0] >= level:
                    self.path.pop()
                self.path.append((level, block.text))
                continue
            for piece in _pieces(block, page.index, self.max_tokens):
                if self.current and sum(p.tokens for p in self.current) + piece.tokens > self.max_tokens:
                    out += self._flush()
                self.current.append(piece)
        return out

    def finish(self) -> list[Chunk]:
        return self._flush()


def make_chunks(doc: Document, max_tokens: int = 512) -> list[Chunk]:
    chunker = Chunker(doc.doc_id, max_tokens)
    chunks = [c for page in doc.pages for c in chunker.feed(page)]
    return chunks + chunker.finish()
