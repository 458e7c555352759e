"""The typed document model that every stage reads and writes."""

from docpipe.model.document import (
    SCHEMA_VERSION,
    Block,
    BlockType,
    BBox,
    ChartData,
    ChemicalData,
    Chunk,
    Document,
    EngineInfo,
    FigureData,
    PageResult,
    PageStatus,
    SourceInfo,
    TableCell,
    TableData,
    VlmPageInfo,
)

__all__ = [
    "SCHEMA_VERSION",
    "BBox",
    "Block",
    "BlockType",
    "ChartData",
    "ChemicalData",
    "Chunk",
    "Document",
    "EngineInfo",
    "FigureData",
    "PageResult",
    "PageStatus",
    "SourceInfo",
    "TableCell",
    "TableData",
    "VlmPageInfo",
]
