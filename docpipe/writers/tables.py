"""Table rendering: HTML keeps row/column spans; Markdown pipe tables flatten them."""

from __future__ import annotations

from html import escape

from docpipe.model import TableData


def to_html(table: TableData) -> str:
    rows: dict[int, list] = {}
    for cell in sorted(table.cells, key=lambda c: (c.row, c.col)):
        rows.setdefault(cell.row, []).append(cell)
    out = ["<table>"]
    for r in range(table.n_rows):
        out.append("<tr>")
        for cell in rows.get(r, []):
            tag = "th" if cell.is_header else "td"
            attrs = ""
            if cell.row_span > 1:
                attrs += f' rowspan="{cell.row_span}"'
            if cell.col_span > 1:
                attrs += f' colspan="{cell.col_span}"'
            out.append(f"<{tag}{attrs}>{escape(cell.text)}</{tag}>")
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def to_grid(table: TableData) -> list[list[str]]:
    """Dense grid; a spanned cell's text sits in its origin slot, the slots it covers stay empty."""
    grid = [["" for _ in range(table.n_cols)] for _ in range(table.n_rows)]
    for cell in table.cells:
        if cell.row < table.n_rows and cell.col < table.n_cols:
            grid[cell.row][cell.col] = cell.text
    return grid


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


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
