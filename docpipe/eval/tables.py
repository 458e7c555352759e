"""Tables found in Markdown text, as cell grids with spans.

Both notations that converters emit are read: GitHub pipe tables (no spans; the row above the
`---` separator is the header) and HTML `<table>` elements (parsed with lxml, `rowspan`/`colspan`
kept, `<th>` or `<thead>` cells flagged as headers). Every table becomes a `Table`, which the TEDS
metric turns into a tree and the olmOCR-style table checks walk as a grid.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

from docpipe.writers.tables import html_table

_HTML_TABLE = re.compile(r"<table\b.*?</table\s*>", re.IGNORECASE | re.DOTALL)
_FENCE = re.compile(r"^\s*(```|~~~)")
_SEPARATOR_CELL = re.compile(r"^\s*:?-{1,}:?\s*$")
_SPACE = re.compile(r"\s+")
# Spans beyond this are malformed input, not tables; clamping keeps the grid small.
_MAX_SPAN = 1000


@dataclass
class Cell:
    text: str
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1
    header: bool = False


@dataclass
class Table:
    """Cells in reading order, each placed at its top-left grid slot."""

    cells: list[Cell] = field(default_factory=list)
    # Row index of each source row (`<tr>` or pipe line); cells keep their source row in `row`.
    n_rows: int = 0
    n_cols: int = 0

    def grid(self) -> list[list[int | None]]:
        """n_rows x n_cols slots holding the index of the cell covering each slot (None: empty)."""
        slots: list[list[int | None]] = [[None] * self.n_cols for _ in range(self.n_rows)]
        for i, c in enumerate(self.cells):
            for r in range(c.row, min(c.row + c.rowspan, self.n_rows)):
                for k in range(c.col, min(c.col + c.colspan, self.n_cols)):
                    slots[r][k] = i
        return slots

    def rows(self) -> list[list[Cell]]:
        out: list[list[Cell]] = [[] for _ in range(self.n_rows)]
        for c in self.cells:
            out[c.row].append(c)
        return out

    def to_html(self) -> str:
        return html_table([[(c.text, c.header, c.rowspan, c.colspan) for c in row] for row in self.rows()])


def clean_cell_text(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _span(value: str | None) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return 1
    return min(max(n, 1), _MAX_SPAN)


def _own_rows(table_el: etree._Element) -> list[tuple[etree._Element, bool]]:
    """`<tr>` elements of this table (not of nested ones), with whether they sit in `<thead>`."""
    rows = []
    for tr in table_el.iter("tr"):
        ancestor = tr.getparent()
        in_head = False
        while ancestor is not None and ancestor.tag != "table":
            in_head = in_head or ancestor.tag == "thead"
            ancestor = ancestor.getparent()
        if ancestor is table_el:
            rows.append((tr, in_head))
    return rows


def parse_html_table(table_el: etree._Element) -> Table:
    table = Table()
    occupied: set[tuple[int, int]] = set()
    for r, (tr, in_head) in enumerate(_own_rows(table_el)):
        col = 0
        for cell_el in tr:
            if not isinstance(cell_el.tag, str) or cell_el.tag not in ("td", "th"):
                continue
            while (r, col) in occupied:
                col += 1
            rowspan, colspan = _span(cell_el.get("rowspan")), _span(cell_el.get("colspan"))
            # <br> inside a cell is a line break, i.e. a space once whitespace is collapsed.
            for br in cell_el.iter("br"):
                br.tail = " " + (br.tail or "")
            text = clean_cell_text(cell_el.text_content())
            table.cells.append(Cell(text, r, col, rowspan, colspan, in_head or cell_el.tag == "th"))
            for dr in range(rowspan):
                for dc in range(colspan):
                    occupied.add((r + dr, col + dc))
            col += colspan
        table.n_rows = r + 1
    if occupied:
        table.n_rows = max(table.n_rows, max(r for r, _ in occupied) + 1)
        table.n_cols = max(c for _, c in occupied) + 1
    return table


def parse_html_tables(text: str) -> list[Table]:
    """Every `<table>` in `text` (outermost ones; nested tables count as cell text)."""
    tables = []
    for match in _HTML_TABLE.finditer(text):
        try:
            root = lxml.html.fragment_fromstring(match.group(0), create_parent="div")
        except (etree.ParserError, ValueError):
            continue
        for table_el in root.iter("table"):
            if any(a.tag == "table" for a in table_el.iterancestors()):
                continue
            table = parse_html_table(table_el)
            if table.cells:
                tables.append(table)
    return tables


def _split_pipe_row(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    cells, current, i = [], [], 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line) and line[i + 1] == "|":
            current.append("|")
            i += 2
            continue
        if ch == "|":
            cells.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    cells.append("".join(current))
    return cells


def _is_separator(line: str) -> bool:
    if "-" not in line:
        return False
    cells = _split_pipe_row(line)
    return bool(cells) and all(_SEPARATOR_CELL.match(c) for c in cells)


def _is_pipe_row(line: str) -> bool:
    return "|" in line and bool(line.strip())


def _pipe_table(header: list[str], body: list[list[str]]) -> Table:
    n_cols = len(header)
    table = Table(n_rows=1 + len(body), n_cols=n_cols)
    for c, text in enumerate(header):
        table.cells.append(Cell(clean_cell_text(_strip_inline(text)), 0, c, header=True))
    for r, row in enumerate(body, start=1):
        # GFM: extra cells are dropped, missing cells are empty.
        row = (row + [""] * n_cols)[:n_cols]
        for c, text in enumerate(row):
            table.cells.append(Cell(clean_cell_text(_strip_inline(text)), r, c))
    return table


def _strip_inline(text: str) -> str:
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.IGNORECASE)
    return html.unescape(text)


def _scan_pipe_tables(text: str) -> list[tuple[int, Table]]:
    """(first line index, table) of each GitHub pipe table, skipping fenced code."""
    lines = text.splitlines()
    found: list[tuple[int, Table]] = []
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE.match(line):
            in_fence = not in_fence
            i += 1
            continue
        if (
            not in_fence
            and i + 1 < len(lines)
            and _is_pipe_row(line)
            and _is_separator(lines[i + 1])
            and len(_split_pipe_row(line)) == len(_split_pipe_row(lines[i + 1]))
        ):
            body = []
            j = i + 2
            while j < len(lines) and _is_pipe_row(lines[j]) and not _FENCE.match(lines[j]):
                body.append(_split_pipe_row(lines[j]))
                j += 1
            found.append((i, _pipe_table(_split_pipe_row(line), body)))
            i = j
            continue
        i += 1
    return found


def _mask_html_tables(text: str) -> str:
    # Keep line numbers stable so pipe-table positions still map onto the original text.
    return _HTML_TABLE.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def parse_markdown_tables(text: str) -> list[Table]:
    """GitHub pipe tables in `text`, skipping fenced code and HTML tables."""
    return [t for _, t in _scan_pipe_tables(_mask_html_tables(text))]


def extract_tables(text: str) -> list[Table]:
    """All tables in a Markdown document, in document order (HTML and pipe tables)."""
    found: list[tuple[int, Table]] = []
    for match in _HTML_TABLE.finditer(text):
        for table in parse_html_tables(match.group(0)):
            found.append((match.start(), table))
    masked = _mask_html_tables(text)
    offsets = [0]
    for line in masked.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    for line_index, table in _scan_pipe_tables(masked):
        found.append((offsets[line_index], table))
    found.sort(key=lambda item: item[0])
    return [t for _, t in found]
