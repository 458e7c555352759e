"""QwenVL HTML (Qwen2.5-VL / Qwen3-VL document parsing): HTML elements carrying
`data-bbox="x1 y1 x2 y2"`. Qwen2.5-VL writes absolute pixels of the image it saw; Qwen3-VL writes
0..1000 relative coordinates. Parsed with lxml's HTML parser, which also repairs truncated output."""

from __future__ import annotations

import re

from lxml import etree, html

from docpipe.engines.vlm.parse.draft import Draft, ParseResult, scale_box
from docpipe.engines.vlm.parse.html_tables import parse_table_element
from docpipe.engines.vlm.parse.sanitize import DROP_WITH_CONTENT, plain_text, sanitize_result
from docpipe.model import BlockType

_NUM = re.compile(r"-?\d+(?:\.\d+)?")
_CLASS_TYPES = [
    ("formula", BlockType.formula),
    ("equation", BlockType.formula),
    ("chart", BlockType.chart),
    ("image", BlockType.figure),
    ("figure", BlockType.figure),
    ("caption", BlockType.caption),
    ("footnote", BlockType.footnote),
    ("page_number", BlockType.page_number),
    ("number", BlockType.page_number),
    ("header", BlockType.page_header),
    ("footer", BlockType.page_footer),
    ("code", BlockType.code),
]
_FENCE = re.compile(r"^\s*```(?:html)?\s*|\s*```\s*$")


def _bbox(el: etree._Element, sx: float, sy: float, w: float, h: float, problems: list[str]):
    raw = el.get("data-bbox")
    if raw is None:
        return None
    nums = [float(n) for n in _NUM.findall(raw)]
    if len(nums) != 4:
        problems.append(f"malformed data-bbox {raw[:40]!r}")
        return None
    return scale_box((nums[0], nums[1], nums[2], nums[3]), sx, sy, w, h)


def _text(el: etree._Element) -> str:
    return re.sub(r"\s+", " ", plain_text(el)).strip()


def parse_qwen_html(text: str, page_w: float, page_h: float, coord_w: float, coord_h: float) -> ParseResult:
    """`coord_w`/`coord_h`: the extent of the model's coordinates (image pixels, or 1000 x 1000)."""
    result = ParseResult()
    text = _FENCE.sub("", text.strip())
    if not text:
        return result
    try:
        root = html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        result.problems.append(f"unparsable HTML: {exc}")
        return result
    body = root.find("body")
    if body is None:
        body = root
    sx, sy = page_w / coord_w, page_h / coord_h
    _walk(body, result, sx, sy, page_w, page_h, None)
    return sanitize_result(result)


def _walk(parent, result: ParseResult, sx, sy, w, h, inherited) -> None:
    for el in parent:
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        if tag in DROP_WITH_CONTENT:
            result.problems.append(f"removed unsafe markup: <{tag}>")
            continue
        box = _bbox(el, sx, sy, w, h, result.problems) or inherited
        classes = (el.get("class") or "").lower()
        kind = next((t for key, t in _CLASS_TYPES if key in classes), None)
        if tag == "table":
            result.drafts.append(Draft(BlockType.table, bbox=box, table=parse_table_element(el)))
        elif tag in ("ul", "ol"):
            _list(el, result, sx, sy, w, h, box, 1)
        elif re.fullmatch(r"h[1-6]", tag):
            level = int(tag[1])
            typ = BlockType.title if level == 1 else BlockType.heading
            result.drafts.append(Draft(typ, bbox=box, text=_text(el), level=level))
        elif tag == "img" or kind in (BlockType.figure, BlockType.chart):
            result.drafts.append(Draft(kind or BlockType.figure, bbox=box, text=_text(el), label=classes))
        elif kind == BlockType.formula:
            latex = _text(el).strip("$").strip()
            result.drafts.append(Draft(BlockType.formula, bbox=box, latex=latex, text=latex))
        elif tag in ("header", "footer") and kind is None:
            typ = BlockType.page_header if tag == "header" else BlockType.page_footer
            result.drafts.append(Draft(typ, bbox=box, text=_text(el)))
        elif tag in ("div", "section", "body", "main", "article") and len(el):
            _walk(el, result, sx, sy, w, h, box)
        elif tag == "pre" or tag == "code":
            result.drafts.append(Draft(BlockType.code, bbox=box, text=plain_text(el)))
        else:
            t = _text(el)
            if t:
                result.drafts.append(Draft(kind or BlockType.paragraph, bbox=box, text=t, label=classes))


def _list(el, result: ParseResult, sx, sy, w, h, box, depth: int) -> None:
    ordered = el.tag.lower() == "ol"
    n = 0
    for li in el:
        if not isinstance(li.tag, str) or li.tag.lower() != "li":
            continue
        n += 1
        li_box = _bbox(li, sx, sy, w, h, result.problems) or box
        nested = [c for c in li if isinstance(c.tag, str) and c.tag.lower() in ("ul", "ol")]
        for c in nested:
            li.remove(c)  # text of this item only; nested items follow as their own blocks
        t = _text(li)
        result.drafts.append(
            Draft(BlockType.list_item, bbox=li_box, text=f"{n}. {t}" if ordered else t, level=min(6, depth))
        )
        for c in nested:
            _list(c, result, sx, sy, w, h, li_box, depth + 1)
