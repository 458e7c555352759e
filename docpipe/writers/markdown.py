"""Document -> Markdown. Page furniture (headers, footers, page numbers) is left out of the body."""

from __future__ import annotations

from docpipe.model import FURNITURE, Block, BlockType, Document, PageResult
from docpipe.writers.tables import to_markdown as table_to_markdown


def block_to_markdown(block: Block) -> str:
    t = block.type
    text = block.text
    if t is BlockType.title:
        return f"# {text}"
    if t is BlockType.heading:
        return f"{'#' * max(2, min(6, block.level or 2))} {text}"
    if t is BlockType.list_item:
        first = text.split(maxsplit=1)[0] if text else ""
        enumerated = first[:-1].isalnum() and first[-1:] in ".)" if first else False
        return text if enumerated else f"- {text}"
    if t is BlockType.code:
        return f"```\n{text}\n```"
    if t is BlockType.table and block.table is not None:
        return table_to_markdown(block.table)
    if t is BlockType.formula:
        latex = block.latex or text
        return f"$$\n{latex}\n$$"
    if t is BlockType.chemical and block.chemical is not None:
        parts = []
        if block.figure and block.figure.image_path:
            parts.append(f"![chemical structure]({block.figure.image_path})")
        parts.append(f"```smiles\n{block.chemical.canonical_smiles or block.chemical.smiles}\n```")
        return "\n\n".join(parts)
    if t in (BlockType.figure, BlockType.chart):
        parts = []
        fig = block.figure
        if fig and fig.image_path:
            parts.append(f"![{(fig.caption or 'figure')[:80]}]({fig.image_path})")
        if t is BlockType.chart and block.chart and block.chart.data is not None:
            parts.append(table_to_markdown(block.chart.data))
        # block.text of a figure holds the labels drawn inside it: JSON only, not body text
        return "\n\n".join(parts)
    if t is BlockType.caption:
        return f"*{text}*" if text else ""
    return text


def page_markdown(page: PageResult) -> list[str]:
    """The Markdown pieces of one page's body blocks (to be joined by blank lines)."""
    out = []
    for block in page.blocks:
        if block.type in FURNITURE:
            continue
        md = block_to_markdown(block)
        if md:
            out.append(md)
    return out


def to_markdown(doc: Document) -> str:
    parts = [md for page in doc.pages for md in page_markdown(page)]
    return "\n\n".join(parts) + "\n" if parts else ""
