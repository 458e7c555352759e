"""Document, Page, Block and Chunk: the pydantic v2 model behind every JSON file docpipe writes.

Coordinates are PDF points with a top-left origin (the convention PyMuPDF uses), so a bbox can be
drawn on the page without flipping. `docpipe schema` prints `Document.model_json_schema()`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.0"

BBox = Annotated[
    tuple[float, float, float, float],
    Field(description="x0, y0, x1, y1 in PDF points, origin at the top-left corner of the page"),
]


class _Model(BaseModel):
    # Unknown keys are an error: a JSON file that validates means what the schema says.
    model_config = ConfigDict(extra="forbid")


class BlockType(StrEnum):
    title = "title"
    heading = "heading"
    paragraph = "paragraph"
    list_item = "list_item"
    table = "table"
    figure = "figure"
    chart = "chart"
    formula = "formula"
    chemical = "chemical"
    code = "code"
    caption = "caption"
    footnote = "footnote"
    page_header = "page_header"
    page_footer = "page_footer"
    page_number = "page_number"


#: Block types that are page furniture: kept in the JSON, left out of the Markdown body and chunks.
FURNITURE = frozenset({BlockType.page_header, BlockType.page_footer, BlockType.page_number})


class TableCell(_Model):
    row: int = Field(ge=0)
    col: int = Field(ge=0)
    row_span: int = Field(1, ge=1)
    col_span: int = Field(1, ge=1)
    text: str = ""
    is_header: bool = False
    bbox: BBox | None = None

    def moved(self, **changes: Any) -> TableCell:
        """A copy with other fields (a new place in a re-cut grid, its share of the text), validated
        as a new cell is."""
        return TableCell.model_validate(self.model_dump() | changes)


class TableData(_Model):
    n_rows: int = Field(ge=0)
    n_cols: int = Field(ge=0)
    cells: list[TableCell] = Field(
        default_factory=list, description="one entry per cell origin; spanned slots are not repeated"
    )
    header_rows: int = Field(0, ge=0, description="how many leading rows are header rows")

    @property
    def has_spans(self) -> bool:
        return any(c.row_span > 1 or c.col_span > 1 for c in self.cells)


class ChemicalData(_Model):
    smiles: str = Field(description="SMILES as read by the recogniser")
    canonical_smiles: str | None = None
    inchikey: str | None = None
    formula: str | None = None
    valid: bool = False
    source: str = Field("", description="what produced the SMILES (osra, vlm model name, ...)")


class ChartData(_Model):
    chart_type: str | None = None
    data: TableData | None = None
    caption: str | None = None


class FigureTextLine(_Model):
    text: str
    bbox: BBox
    confidence: float = Field(ge=0.0, le=1.0, description="recogniser confidence")
    group: int = Field(
        0, ge=0, description="lines with the same number form one paragraph-like group (a label, a box)"
    )


class FigureData(_Model):
    image_path: str | None = Field(None, description="path of the saved image, relative to the JSON")
    caption: str | None = None
    kind: str | None = Field(None, description="chart, photo, diagram, chemical_structure, ...")
    text_lines: list[FigureTextLine] = Field(
        default_factory=list,
        description="words read by OCR inside the figure's raster images (not those of the text layer, "
        "which are in the block's text), one entry per line, in reading order",
    )


class Block(_Model):
    id: str = Field(description="stable within the document: p<page>-b<index>")
    type: BlockType
    bbox: BBox
    text: str = ""
    level: int | None = Field(
        None,
        ge=1,
        le=6,
        description="heading level (1 for a title); for list items, the nesting depth (1 = top)",
    )
    table: TableData | None = None
    latex: str | None = Field(None, description="formula blocks: LaTeX without delimiters")
    chemical: ChemicalData | None = None
    chart: ChartData | None = None
    figure: FigureData | None = None
    confidence: float | None = Field(None, ge=0.0, le=1.0, description="recogniser confidence")


class PageStatus(StrEnum):
    ok = "ok"
    fallback = "fallback"
    partial = "partial"  # read, but some of its content is missing (see the page's error)
    failed = "failed"


class VlmPageInfo(_Model):
    model: str
    mode: str
    visual_tokens: int = Field(
        ge=0,
        description="image tokens of the page request: as the engine counted them where it says "
        "(visual_tokens_source), else as predicted",
    )
    visual_tokens_source: Literal["engine", "predicted"] = "predicted"
    predicted_visual_tokens: int | None = Field(
        None, ge=0, description="what docpipe expected for the image it sent"
    )
    prompt_tokens: int | None = Field(None, ge=0, description="the engine's prompt token count (usage)")
    text_tokens: int | None = Field(None, ge=0)
    compression_ratio: float | None = None
    output_tokens: int | None = Field(None, ge=0, description="tokens the model generated for the page")
    raw_output: str | None = Field(None, description="kept when the output could not be parsed")


class PageResult(_Model):
    index: int = Field(ge=0, description="0-based page index in the source")
    width: float = Field(ge=0, description="points")
    height: float = Field(ge=0, description="points")
    rotation: int = Field(0, description="degrees the page was turned before recognition")
    engine: str = Field(description="engine that produced the blocks: textlayer, ocr, vlm")
    route_reason: str = Field("", description="why the router chose that engine")
    status: PageStatus = PageStatus.ok
    error: str | None = None
    blocks: list[Block] = Field(default_factory=list, description="in reading order")
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per stage")
    vlm: VlmPageInfo | None = None


class SourceInfo(_Model):
    path: str
    name: str
    media_type: str
    size_bytes: int = Field(ge=0)
    page_count: int = Field(ge=0)


class EngineInfo(_Model):
    name: str = Field(description="engine requested: auto, textlayer, ocr, vlm")
    docpipe_version: str
    pymupdf_version: str
    config: dict[str, Any] = Field(default_factory=dict, description="the configuration used")
    config_hash: str = ""


class DocumentStatus(StrEnum):
    ok = "ok"
    partial = "partial"  # some pages failed or are partial; the rest are in the outputs
    failed = "failed"


class Document(_Model):
    schema_version: Literal["1.0"] = SCHEMA_VERSION
    doc_id: str = Field(description="sha256 of the source bytes")
    source: SourceInfo
    metadata: dict[str, str] = Field(default_factory=dict)
    status: DocumentStatus = DocumentStatus.ok
    error: str | None = None
    pages: list[PageResult] = Field(default_factory=list)
    engine: EngineInfo

    def iter_blocks(self):
        for page in self.pages:
            for block in page.blocks:
                yield page, block


class Chunk(_Model):
    id: str
    doc_id: str
    text: str
    heading_path: list[str] = Field(default_factory=list)
    pages: list[int] = Field(default_factory=list, description="0-based page indexes")
    bboxes: list[tuple[int, float, float, float, float]] = Field(
        default_factory=list, description="(page index, x0, y0, x1, y1) of each block used"
    )
    block_ids: list[str] = Field(default_factory=list)
    token_count: int = Field(ge=0)
