"""HTML tables (as VLMs write them) to TableData grids, spans kept. Parsed with lxml, never by regex."""

from __future__ import annotations

import re

from lxml import etree, html

from docpipe.engines.vlm.parse.sanitize import plain_text
from docpipe.model import TableCell, TableData

_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # lxml refuses the whole string
_MAX_SPAN = 200  # a model that writes rowspan=100000 should not make us allocate a huge grid


def _span(value: str | None) -> int:
    m = re.match(r"\s*(\d+)", value or "")
    return max(1, min(int(m.group(1)), _MAX_SPAN)) if m else 1


def _text(el: etree._Element) -> str:
    # without script/style content; <br> inside a cell is a line break the model saw, kept as a space
    return re.sub(r"\s+", " ", plain_text(el)).strip()


def parse_table_element(table: etree._Element) -> TableData:
    rows = [tr for tr in table.iter("tr") if _closest_table(tr) is table]
    occupied: set[tuple[int, int]] = set()
    cells: list[TableCell] = []
    header_flags: list[bool] = []
    n_cols = 0
    for r, tr in enumerate(rows):
        c = 0
        all_th = True
        any_cell = False
        in_thead = any(p.tag == "thead" for p in tr.iterancestors())
        for cell in tr:
            if not isinstance(cell.tag, str) or cell.tag not in ("td", "th"):
                continue
            any_cell = True
            while (r, c) in occupied:
                c += 1
            rs, cs = _span(cell.get("rowspan")), _span(cell.get("colspan"))
            rs = min(rs, len(rows) - r)  # a rowspan past the last row is clipped to the table
            for dr in range(rs):
                for dc in range(cs):
                    occupied.add((r + dr, c + dc))
            is_th = cell.tag == "th" or in_thead
            all_th &= is_th
            cells.append(TableCell(row=r, col=c, row_span=rs, col_span=cs, text=_text(cell), is_header=is_th))
            c += cs
            n_cols = max(n_cols, c)
        header_flags.append(any_cell and all_th)
    if occupied:
        n_cols = max(n_cols, max(c for _, c in occupied) + 1)
    header_rows = 0
    for flag in header_flags:
        if not flag:
            break
        header_rows += 1
    return TableData(n_rows=len(rows), n_cols=n_cols, cells=cells, header_rows=header_rows)


def _closest_table(el: etree._Element) -> etree._Element | None:
    for anc in el.iterancestors():
        if anc.tag == "table":
            return anc
    return None


def parse_html_tables(fragment: str) -> list[TableData]:
    """Every top-level <table> in an HTML fragment; unclosed tags are repaired by lxml's parser."""
    if "<table" not in fragment.lower():
        return []
    try:
        root = html.fragment_fromstring(_XML_INVALID.sub("", fragment), create_parent="div")
    except (etree.ParserError, ValueError):
        return []
    tables = [t for t in root.iter("table") if _closest_table(t) is None]
    return [parse_table_element(t) for t in tables]


def parse_markdown_table(lines: list[str]) -> TableData | None:
    """A GitHub pipe table (header, delimiter row, body) to a grid; None when it is not one."""
    if len(lines) < 2 or not re.fullmatch(r"\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?", lines[1].strip()):
        return None

    def split(line: str) -> list[str]:
        line = line.strip()
        line = line[1:] if line.startswith("|") else line
        line = line[:-1] if line.endswith("|") else line
        return [c.strip() for c in re.split(r"(?<!\\)\|", line)]

    grid = [split(lines[0])] + [split(ln) for ln in lines[2:]]
    n_cols = max(len(r) for r in grid)
    cells = [
        TableCell(row=r, col=c, text=text, is_header=(r == 0))
        for r, row in enumerate(grid)
        for c, text in enumerate(row)
    ]
    return TableData(n_rows=len(grid), n_cols=n_cols, cells=cells, header_rows=1)
