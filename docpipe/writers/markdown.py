"""Document -> Markdown. Page furniture (headers, footers, page numbers) is left out of the body.

Block text is untrusted (a PDF's text layer, OCR, a model's reply): text that looks like an HTML tag is
escaped so that it shows as text and never runs in a viewer; only bare inline formatting tags
(<sup>, <b>, <br> ...) stay markup. Code is fenced with a fence longer than any inside it."""

from __future__ import annotations

import re
from urllib.parse import quote

from docpipe.model import FURNITURE, Block, BlockType, Document, FigureTextLine, PageResult
from docpipe.util.safe_markup import TAG_LIKE, escape_tag_like, neutralise_markdown_links
from docpipe.writers.tables import to_markdown as table_to_markdown

_BACKTICKS = re.compile(r"`{3,}")


# inline math, $...$ or \(...\): a '<' in it is written as LaTeX's \lt, which a math renderer shows as '<'
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)[^$\n]+?(?<!\\)\$|\\\(.+?\\\)")


def safe_text(text: str) -> str:
    """Text for a Markdown body: no live tags, no links with unsafe URLs."""
    if "<" in text:
        parts, pos = [], 0
        for m in _INLINE_MATH.finditer(text):
            parts += [escape_tag_like(text[pos : m.start()]), _safe_latex(m.group(0))]
            pos = m.end()
        text = "".join([*parts, escape_tag_like(text[pos:])])
    return neutralise_markdown_links(text)


def fenced(body: str, info: str = "") -> str:
    fence = "`" * max([3, *(len(run) + 1 for run in _BACKTICKS.findall(body))])
    return f"{fence}{info}\n{body}\n{fence}"


def _safe_latex(latex: str) -> str:
    # '\lt' is LaTeX's own '<': the formula renders the same, and no '<' in it can open a tag
    return TAG_LIKE.sub(r"\\lt ", latex)


def _alt(text: str) -> str:
    """Image alt text: one line, no brackets that would end it early."""
    return escape_tag_like(re.sub(r"[\[\]\s]+", " ", text), keep_bare_inline=False).strip()


def _link(path: str) -> str:
    """A relative file path as a Markdown link target: spaces, parentheses and the like
    percent-encoded (a name like `scan (2).pdf` would end the link early or break it)."""
    return quote(path, safe="/")


def figure_text_markdown(lines: list[FigureTextLine]) -> list[str]:
    """The words OCR read inside a figure: one blockquote paragraph per group of lines, in reading
    order; a line ending in a hyphen joins the next without a space when that one goes on in lower
    case (a word broken across lines)."""
    groups: dict[int, str] = {}
    for line in lines:
        text = line.text.strip()
        prev = groups.get(line.group)
        if prev is None:
            groups[line.group] = text
        elif prev.endswith("-") and text[:1].islower():
            groups[line.group] = prev[:-1] + text
        else:
            groups[line.group] = f"{prev} {text}"
    return [f"> {safe_text(g)}" for g in groups.values() if g]


def block_to_markdown(block: Block, figure_text: bool = True) -> str:
    """`figure_text`: write the words OCR read inside figures below their image link."""
    t = block.type
    if t is BlockType.code:
        return fenced(block.text)
    text = safe_text(block.text)
    if t is BlockType.title:
        return f"# {text}"
    if t is BlockType.heading:
        return f"{'#' * max(2, min(6, block.level or 2))} {text}"
    if t is BlockType.list_item:
        first = text.split(maxsplit=1)[0] if text else ""
        enumerated = first[:-1].isalnum() and first[-1:] in ".)" if first else False
        return text if enumerated else f"- {text}"
    if t is BlockType.table and block.table is not None:
        return table_to_markdown(block.table)
    if t is BlockType.formula:
        latex = _safe_latex(block.latex or block.text)
        return f"$$\n{latex}\n$$"
    if t is BlockType.chemical and block.chemical is not None:
        parts = []
        if block.figure and block.figure.image_path:
            parts.append(f"![chemical structure]({_link(block.figure.image_path)})")
        parts.append(fenced(block.chemical.canonical_smiles or block.chemical.smiles, "smiles"))
        return "\n\n".join(parts)
    if t in (BlockType.figure, BlockType.chart):
        parts = []
        fig = block.figure
        if fig and fig.image_path:
            parts.append(f"![{_alt((fig.caption or 'figure')[:80])}]({_link(fig.image_path)})")
        if t is BlockType.chart and block.chart and block.chart.data is not None:
            parts.append(table_to_markdown(block.chart.data))
        if fig and figure_text:
            parts += figure_text_markdown(fig.text_lines)
        # block.text of a figure holds the text-layer labels drawn inside it: JSON only, not body text
        return "\n\n".join(parts)
    if t is BlockType.caption:
        return f"*{text}*" if text else ""
    return text


def page_markdown(page: PageResult, figure_text: bool = True) -> list[str]:
    """The Markdown pieces of one page's body blocks (to be joined by blank lines)."""
    out = []
    for block in page.blocks:
        if block.type in FURNITURE:
            continue
        md = block_to_markdown(block, figure_text)
        if md:
            out.append(md)
    return out


def figure_text_wanted(config: dict) -> bool:
    """Whether a document's recorded configuration puts figure words into its Markdown."""
    return config.get("convert", {}).get("figure_text", "markdown") == "markdown"


def to_markdown(doc: Document, figure_text: bool | None = None) -> str:
    """`figure_text`: words read inside figures below their image links; None: as the document's
    recorded configuration says (`convert.figure_text`)."""
    if figure_text is None:
        figure_text = figure_text_wanted(doc.engine.config)
    parts = [md for page in doc.pages for md in page_markdown(page, figure_text)]
    return "\n\n".join(parts) + "\n" if parts else ""
