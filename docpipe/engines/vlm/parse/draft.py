"""The parsers' output: typed drafts of blocks, before ids and page bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass, field

from docpipe.model import BlockType, TableData

Rect = tuple[float, float, float, float]


@dataclass
class Draft:
    type: BlockType
    bbox: Rect | None = None  # page points; None when the model gave no position
    text: str = ""
    level: int | None = None  # heading level; for list items, the nesting depth (1 = top)
    table: TableData | None = None
    latex: str | None = None
    label: str = ""  # the model's own label, for debugging and figure kinds


@dataclass
class ParseResult:
    drafts: list[Draft] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # malformed pieces that were skipped or patched
    truncated: bool = False  # the output stopped mid-block (token limit, dropped EOS)

    @property
    def ok(self) -> bool:
        return bool(self.drafts) and not self.problems


def scale_box(
    box: tuple[float, float, float, float], sx: float, sy: float, page_w: float, page_h: float
) -> Rect | None:
    """Map a model box to page points, ordering corners and clamping to the page; None if degenerate."""
    x0, y0, x1, y1 = box
    x0, x1 = sorted((x0 * sx, x1 * sx))
    y0, y1 = sorted((y0 * sy, y1 * sy))
    x0, x1 = max(0.0, min(x0, page_w)), max(0.0, min(x1, page_w))
    y0, y1 = max(0.0, min(y0, page_h)), max(0.0, min(y1, page_h))
    if x1 - x0 < 0.5 or y1 - y0 < 0.5:
        return None
    return (round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2))
