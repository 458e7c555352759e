"""The generic profile's structured mode: the model returns JSON blocks with boxes, validated here by
pydantic (and, where the server offers it, constrained while decoding by the same JSON Schema)."""

from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from docpipe.engines.vlm.parse.draft import Draft, ParseResult, scale_box
from docpipe.engines.vlm.parse.html_tables import parse_html_tables
from docpipe.engines.vlm.parse.sanitize import sanitize_result
from docpipe.model import BlockType, TableCell, TableData

GRID = 1000.0  # boxes are asked for in 0..1000 of the image, whatever its pixel size

BlockKind = Literal[
    "title",
    "heading",
    "paragraph",
    "list_item",
    "table",
    "figure",
    "chart",
    "formula",
    "code",
    "caption",
    "footnote",
    "page_header",
    "page_footer",
    "page_number",
]


class VlmBlock(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: BlockKind
    bbox: list[float] = Field(min_length=4, max_length=4, description="x0, y0, x1, y1 in 0..1000")
    text: str = ""
    level: int | None = Field(None, ge=1, le=6)
    latex: str | None = None
    table_html: str | None = Field(None, description="tables: the table as one HTML <table>")


class VlmPage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    blocks: list[VlmBlock]


def page_json_schema() -> dict:
    """Strict-mode-friendly schema (every property required, no extras) for response_format."""
    schema = VlmPage.model_json_schema()

    def strict(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                node["required"] = list(node["properties"])
                node["additionalProperties"] = False
            for v in node.values():
                strict(v)
        elif isinstance(node, list):
            for v in node:
                strict(v)

    strict(schema)
    return schema


_FENCE = re.compile(r"```(?:json)?\s*(.*?)\s*```", re.S)


def extract_json(text: str) -> str:
    """The JSON object in a reply that may wrap it in a fence or chat around it."""
    m = _FENCE.search(text)
    if m:
        return m.group(1)
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text


def parse_structured(text: str, page_w: float, page_h: float) -> ParseResult:
    result = ParseResult()
    try:
        page = VlmPage.model_validate(json.loads(extract_json(text)))
    except (json.JSONDecodeError, ValidationError) as exc:
        result.problems.append(f"invalid JSON blocks: {str(exc)[:200]}")
        return result
    sx, sy = page_w / GRID, page_h / GRID
    for b in page.blocks:
        box = scale_box(tuple(b.bbox), sx, sy, page_w, page_h)  # type: ignore[arg-type]
        kind = BlockType(b.type)
        d = Draft(kind, bbox=box, text=b.text, level=b.level)
        if kind in (BlockType.title, BlockType.heading) and d.level is None:
            d.level = 1 if kind == BlockType.title else 2
        if kind == BlockType.formula:
            d.latex = (b.latex or b.text).strip().strip("$").strip()
        if kind == BlockType.table:
            tables = parse_html_tables(b.table_html or b.text)
            d.table = tables[0] if tables else _single_column(b.text)
        result.drafts.append(d)
    return sanitize_result(result)


def _single_column(text: str) -> TableData | None:
    rows = [r for r in text.splitlines() if r.strip()]
    if not rows:
        return None
    return TableData(
        n_rows=len(rows), n_cols=1, cells=[TableCell(row=i, col=0, text=r) for i, r in enumerate(rows)]
    )
