"""Table rendering: HTML keeps row/column spans; Markdown pipe tables flatten them."""

from __future__ import annotations

from html import escape

from docpipe.model import TableData
from docpipe.util.safe_markup import escape_tag_like


def html_table(rows: list[list[tuple[str, bool, int, int]]]) -> str:
    """`rows` of (text, is_header, rowspan, colspan) cells, each row listing the cells that start in it."""
    out = ["<table>"]
    for row in rows:
        out.append("<tr>")
        for text, header, rowspan, colspan in row:
            tag = "th" if header else "td"
            attrs = f' rowspan="{rowspan}"' if rowspan > 1 else ""
            attrs += f' colspan="{colspan}"' if colspan > 1 else ""
            out.append(f"<{tag}{attrs}>{escape(text)}</{tag}>")
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def to_html(table: TableData) -> str:
    rows: list[list[tuple[str, bool, int, int]]] = [[] for _ in range(table.n_rows)]
    for cell in sorted(table.cells, key=lambda c: (c.row, c.col)):
        if cell.row < table.n_rows:
            rows[cell.row].append((cell.text, cell.is_header, cell.row_span, cell.col_span))
    return html_table(rows)


def to_grid(table: TableData) -> list[list[str]]:
    """Dense grid; a spanned cell's text sits in its origin slot, the slots it covers stay empty."""
    grid = [["" for _ in range(table.n_cols)] for _ in range(table.n_rows)]
    for cell in table.cells:
        if cell.row < table.n_rows and cell.col < table.n_cols:
            grid[cell.row][cell.col] = cell.text
    return grid


def _md_cell(text: str) -> str:
    # cell text is plain text: a tag-like '<' in it must not become live HTML in the Markdown
    return escape_tag_like(text).replace("|", "\\|").replace("\n", " ").strip()


def to_markdown_pipe(table: TableData) -> str:
    grid = to_grid(table)
    if not grid or not table.n_cols:
        return ""
    header = grid[0]
    lines = ["| " + " | ".join(_md_cell(c) for c in header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    for row in grid[1:]:
        lines.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
    return "\n".join(lines)


def to_markdown(table: TableData) -> str:
    """HTML when spans exist (a pipe table cannot express them), a pipe table otherwise."""
    return to_html(table) if table.has_spans else to_markdown_pipe(table)
