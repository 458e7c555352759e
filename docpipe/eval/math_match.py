"""Does a rendered formula appear inside another rendered formula, with the same layout?

The olmOCR-bench math check renders the expected LaTeX and each formula found in the prediction
with KaTeX, then asks whether every glyph of the expected formula can be found in the candidate
with the same relative placement: what is left of, right of, above or below what. Spelling
differences that render identically (`\\frac12` versus `\\frac{1}{2}`, extra braces, spacing
commands) therefore pass, while a swapped sub- and superscript or a missing term fails. The
candidate may contain more than the expected formula (`3x^2` is found in `\\int 3x^2 dx`).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

from docpipe.eval.katex_render import RenderResult, Symbol

# Inline and display delimiters accepted in Markdown, longest first so `$$` wins over `$`.
_DELIMITED = (
    re.compile(r"\$\$(.+?)\$\$", re.DOTALL),
    re.compile(r"\\\[(.+?)\\\]", re.DOTALL),
    re.compile(r"\\\((.+?)\\\)", re.DOTALL),
    re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$", re.DOTALL),
)
_DOLLAR = (0, 3)
# Relative placements closer than this fraction of the font height count as "level".
_TOLERANCE = 0.2
# Backtracking budget per comparison; beyond it the candidate is treated as not matching.
_MAX_STEPS = 200_000


def extract_formulas(markdown: str, include_dollar: bool = True) -> list[str]:
    """LaTeX between $$..$$, \\[..\\], \\(..\\) and $..$ in document order, stripped."""
    found: list[tuple[int, str]] = []
    text = markdown
    for index, pattern in enumerate(_DELIMITED):
        if index in _DOLLAR and not include_dollar:
            continue
        for m in pattern.finditer(text):
            body = m.group(1).strip()
            if body:
                found.append((m.start(), body))
        # Blank out what matched so `$` does not re-match inside `$$..$$`; offsets stay the same.
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    found.sort(key=lambda item: item[0])
    return [body for _, body in found]


@dataclass(frozen=True)
class _Glyph:
    text: str
    cx: float
    cy: float


def _glyphs(symbols: list[Symbol]) -> list[_Glyph]:
    """One glyph per character: KaTeX groups runs such as `sin` or `iπ` in one span."""
    out = []
    for s in symbols:
        chars = [ch for ch in s.text if not ch.isspace()]
        if not chars:
            continue
        step = s.width / len(chars)
        for k, ch in enumerate(chars):
            out.append(_Glyph(ch, s.x + step * (k + 0.5), s.cy))
    return out


def _tolerance(symbols: list[Symbol]) -> float:
    heights = [s.height for s in symbols if s.height > 0]
    return _TOLERANCE * (statistics.median(heights) if heights else 10.0)


def _sign(delta: float, tolerance: float) -> int:
    if delta > tolerance:
        return 1
    if delta < -tolerance:
        return -1
    return 0


def layout_contains(reference: RenderResult, candidate: RenderResult) -> bool:
    """True when every reference glyph maps to a distinct candidate glyph with the same text such
    that, for every pair, a clear left/right or above/below relation in the reference holds the
    same way in the candidate."""
    if not reference.ok or not candidate.ok:
        return False
    ref, cand = _glyphs(reference.symbols), _glyphs(candidate.symbols)
    if not ref:
        return False
    tol = _tolerance(reference.symbols)
    # The candidate must show each relation clearly too (half the margin, since it may be set in
    # a smaller style); otherwise box jitter between glyph kinds (digits sit 1px higher than
    # letters) would let "12" stand in for a superscript 2.
    cand_tol = 0.5 * _tolerance(candidate.symbols)
    by_text: dict[str, list[int]] = {}
    for j, g in enumerate(cand):
        by_text.setdefault(g.text, []).append(j)
    if any(g.text not in by_text for g in ref):
        return False
    # Fewest choices first keeps the search narrow.
    order = sorted(range(len(ref)), key=lambda i: len(by_text[ref[i].text]))
    assigned: dict[int, int] = {}
    used: set[int] = set()
    steps = 0

    def consistent(i: int, j: int) -> bool:
        for i2, j2 in assigned.items():
            dx = _sign(ref[i2].cx - ref[i].cx, tol)
            dy = _sign(ref[i2].cy - ref[i].cy, tol)
            cdx = cand[j2].cx - cand[j].cx
            cdy = cand[j2].cy - cand[j].cy
            if dx and cdx * dx <= cand_tol:
                return False
            if dy and cdy * dy <= cand_tol:
                return False
        return True

    def search(k: int) -> bool:
        nonlocal steps
        if k == len(order):
            return True
        i = order[k]
        for j in by_text[ref[i].text]:
            steps += 1
            if steps > _MAX_STEPS:
                return False
            if j in used or not consistent(i, j):
                continue
            assigned[i] = j
            used.add(j)
            if search(k + 1):
                return True
            del assigned[i]
            used.discard(j)
        return False

    return search(0)
