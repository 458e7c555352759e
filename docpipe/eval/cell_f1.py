"""Table scores against truth cell grids: cell-content F1 and adjacency-relation F1.

Cell F1 compares the multisets of normalized non-empty cell texts, so it rewards text landing in
separate cells whatever the grid looks like. Adjacency F1 (the ICDAR 2013 table-competition
measure) compares the multisets of (cell, right or lower neighbour) pairs, where the neighbour is
the next non-empty cell in that direction; it drops when columns merge, rows split, or a table is
cut into pieces. Truth grids come from tabula-java's test files: CSV (one table; rows of text)
or JSON (one table object, or a list of them, each with `data`: rows of `{"text": ...}` cells).
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from docpipe.eval.tables import Table

Grid = list[list[str]]

_SPACE = re.compile(r"\s+")
# Markdown emphasis around a whole cell is styling, not content.
_EMPHASIS = re.compile(r"^(\*\*|__|\*|_)(.+)\1$", re.DOTALL)


def normalize_cell(text: str) -> str:
    """Compatibility-normalized, case-folded, without whitespace: line breaks inside a cell and
    spaces around them differ between tools and say nothing about structure."""
    text = unicodedata.normalize("NFKC", text).replace("\u00ad", "").strip()
    m = _EMPHASIS.match(text)
    if m:
        text = m.group(2)
    return _SPACE.sub("", text).casefold()


def table_grid(table: Table) -> Grid:
    """A parsed Markdown table as a grid; a spanning cell's text sits in its top-left slot only, as
    in tabula's truth, where the other slots of a span are empty placeholders."""
    grid = [[""] * table.n_cols for _ in range(table.n_rows)]
    for cell in table.cells:
        if cell.row < table.n_rows and cell.col < table.n_cols:
            grid[cell.row][cell.col] = cell.text
    return grid


def cell_texts(grid: Grid) -> Counter[str]:
    return Counter(t for row in grid for t in (normalize_cell(x) for x in row) if t)


def adjacency(grid: Grid) -> Counter[tuple[str, str, str]]:
    """(text, neighbour text, 'h' or 'v') for each non-empty cell and the next non-empty cell to its
    right and below, looking past empty slots."""
    norm = [[normalize_cell(x) for x in row] for row in grid]
    n_cols = max((len(r) for r in norm), default=0)
    norm = [r + [""] * (n_cols - len(r)) for r in norm]
    pairs: Counter[tuple[str, str, str]] = Counter()
    for r, row in enumerate(norm):
        for c, text in enumerate(row):
            if not text:
                continue
            right = next((x for x in row[c + 1 :] if x), None)
            if right is not None:
                pairs[(text, right, "h")] += 1
            below = next((norm[k][c] for k in range(r + 1, len(norm)) if norm[k][c]), None)
            if below is not None:
                pairs[(text, below, "v")] += 1
    return pairs


def f1(pred: Counter, truth: Counter) -> float:
    if not pred and not truth:
        return 1.0
    hit = sum((pred & truth).values())
    if not hit:
        return 0.0
    precision, recall = hit / sum(pred.values()), hit / sum(truth.values())
    return 2 * precision * recall / (precision + recall)


@dataclass
class Score:
    cell_f1: float
    adjacency_f1: float
    index: int | None  # which predicted table matched best (None: no tables)


def best_match(truth: Grid, predicted: list[Grid]) -> Score:
    """The predicted table that best matches the truth, by cell F1 then adjacency F1."""
    best = Score(0.0, 0.0, None)
    t_cells, t_adj = cell_texts(truth), adjacency(truth)
    for i, grid in enumerate(predicted):
        score = Score(f1(cell_texts(grid), t_cells), f1(adjacency(grid), t_adj), i)
        if (score.cell_f1, score.adjacency_f1) > (best.cell_f1, best.adjacency_f1):
            best = score
    return best


def load_truth(path: Path) -> list[Grid]:
    """Tables of a tabula truth file (CSV: one table; JSON: one table or a list of them)."""
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            return [[list(row) for row in csv.reader(fh)]]
    data = json.loads(path.read_text(encoding="utf-8"))
    tables = data if isinstance(data, list) else [data]
    return [[[str(cell.get("text", "")) for cell in row] for row in t.get("data", [])] for t in tables]
