"""Shared by the table tests: convert a generated PDF and read its tables back as text grids."""

from __future__ import annotations

from pathlib import Path

import pymupdf

import docpipe
from docpipe.model import BlockType, TableData


def convert_tables(doc: pymupdf.Document, tmp_path: Path, name: str) -> list[TableData]:
    path = tmp_path / f"{name}.pdf"
    doc.save(path)
    result = docpipe.convert(path)
    return [b.table for p in result.pages for b in p.blocks if b.type is BlockType.table and b.table]


def text_grid(table: TableData) -> list[list[str]]:
    grid = [[""] * table.n_cols for _ in range(table.n_rows)]
    for c in table.cells:
        grid[c.row][c.col] = c.text
    return grid
