"""Second-pass output for a figure crop: a chart read as a table, a chemical structure read as SMILES,
or a description. Heuristic on free text (DeepSeek-OCR), pydantic on JSON (generic/Qwen)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from docpipe.engines.vlm.parse.grounding import strip_eos
from docpipe.engines.vlm.parse.html_tables import parse_html_tables, parse_markdown_table
from docpipe.engines.vlm.parse.sanitize import sanitize_inline
from docpipe.engines.vlm.parse.structured import extract_json
from docpipe.model import TableData

_SMILES_CHARS = re.compile(r"^[A-Za-z0-9@+\-\[\]()=#$/\\%.:*]{2,}$")
_SMILES_TAG = re.compile(r"<smiles>(.*?)</smiles>|SMILES\s*[:=]\s*(\S+)", re.S | re.I)
_ATOM = re.compile(r"Cl|Br|[BCNOPSFI]|[cnops]|\[")


@dataclass
class FigureReading:
    kind: str  # chart, chemical_structure, figure
    table: TableData | None = None
    smiles: str | None = None
    chart_type: str | None = None
    text: str = ""


def looks_like_smiles(s: str) -> bool:
    """Shape check only (RDKit decides validity): one token, SMILES alphabet, atoms, and either
    several atoms or SMILES punctuation, so that plain words ('Figure', 'pH') are not taken."""
    s = s.strip()
    if not _SMILES_CHARS.match(s) or not _ATOM.search(s):
        return False
    if re.fullmatch(r"[A-Z]?[a-z]+", s):  # an ordinary word
        return False
    return bool(re.search(r"[=#()\[\]@/\\]|\d", s)) or len(_ATOM.findall(s)) >= 3


def _sanitized(reading: FigureReading) -> FigureReading:
    """Description and chart type are model text like any other (table cells are sanitized by the
    table parser; SMILES are written fenced and checked by RDKit)."""
    reading.text = sanitize_inline(reading.text) if reading.text else reading.text
    if reading.chart_type:
        reading.chart_type = sanitize_inline(reading.chart_type)
    return reading


def read_figure_text(text: str) -> FigureReading:
    return _sanitized(_read_figure_text(text))


def _read_figure_text(text: str) -> FigureReading:
    text, _ = strip_eos(text)
    text = re.sub(r"<\|/?(?:ref|det)\|>", " ", text).strip()
    tables = parse_html_tables(text)
    if not tables:
        lines = [ln for ln in text.splitlines() if ln.strip().startswith("|")]
        t = parse_markdown_table(lines) if lines else None
        tables = [t] if t else []
    if tables:
        return FigureReading("chart", table=tables[0], text=text)
    m = _SMILES_TAG.search(text)
    if m:
        return FigureReading("chemical_structure", smiles=(m.group(1) or m.group(2)).strip(), text=text)
    body = re.sub(r"^```\w*\s*|\s*```$", "", text).strip()
    if body and "\n" not in body and looks_like_smiles(body):
        return FigureReading("chemical_structure", smiles=body, text=text)
    return FigureReading("figure", text=text)


class FigureJson(BaseModel):
    model_config = ConfigDict(extra="ignore")

    kind: Literal["chart", "chemical_structure", "photo", "diagram", "other"]
    chart_type: str | None = None
    table_html: str | None = None
    smiles: str | None = None
    description: str = ""


def read_figure_json(text: str) -> FigureReading:
    """JSON reply to the generic figure prompt; free text falls back to the heuristic reader."""
    return _sanitized(_read_figure_json(text))


def _read_figure_json(text: str) -> FigureReading:
    try:
        fig = FigureJson.model_validate(json.loads(extract_json(text)))
    except (json.JSONDecodeError, ValidationError):
        return _read_figure_text(text)
    if fig.kind == "chart":
        tables = parse_html_tables(fig.table_html or "")
        return FigureReading(
            "chart", table=tables[0] if tables else None, chart_type=fig.chart_type, text=fig.description
        )
    if fig.kind == "chemical_structure" and fig.smiles:
        return FigureReading("chemical_structure", smiles=fig.smiles.strip(), text=fig.description)
    return FigureReading(fig.kind if fig.kind != "other" else "figure", text=fig.description)


FIGURE_JSON_PROMPT = (
    "Classify this figure and read it. Reply with one JSON object: "
    '{"kind": "chart" | "chemical_structure" | "photo" | "diagram" | "other", '
    '"chart_type": string or null, "table_html": the chart\'s data as one HTML <table> or null, '
    '"smiles": the structure as SMILES or null, "description": one sentence}.'
)
