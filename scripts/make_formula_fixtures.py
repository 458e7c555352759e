#!/usr/bin/env python3
"""Generate a PDF of typeset formulas with real glyphs and known structure.

    python scripts/make_formula_fixtures.py OUT_DIR

Formulas are set glyph by glyph the way TeX places them: math italic variables and upright
operators from the STIX fonts that matplotlib bundles (or Adobe Symbol codes in the Base-14 Symbol
font), superscripts and subscripts at 0.7 size raised or lowered from the baseline, fractions as a
numerator and a denominator centred over and under a rule drawn on the math axis, radicals as a
radical sign followed by an overbar, and limits stacked over and under a large summation sign.
Between formulas the page holds ordinary prose, including one line with inline math.

Writes OUT_DIR/formulas.pdf and OUT_DIR/formulas.json: per formula its page, bbox (PDF points,
top-left origin), the symbols a reader must find in order (as Unicode), and geometric relations
that its rendering must keep ("sup": the second glyph is raised after the first; "sub": lowered;
"over": the first glyph is above the second). Requires matplotlib (for its bundled fonts).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pymupdf

W, H = 595, 842
MARGIN = 56
SIZE = 14.0
SCRIPT = 0.7
SUP_SHIFT = 0.42  # em, baseline raise of a superscript
SUB_SHIFT = 0.22  # em, baseline drop of a subscript
AXIS = 0.25  # em, height of the math axis (fraction rules) above the baseline


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


FONTS = {
    "it": ("STIXGeneral-Italic", "STIXGeneralItalic.ttf"),
    "rm": ("STIXGeneral-Regular", "STIXGeneral.ttf"),
    "big": ("STIXSizeOneSym", "STIXSizOneSymReg.ttf"),
    "text": ("helv", None),
    "symb": ("symb", None),
}


@dataclass
class Pen:
    """Places glyph runs left to right on one baseline, recording the box it has inked."""

    page: pymupdf.Page
    x: float
    baseline: float
    size: float = SIZE
    box: pymupdf.Rect = field(default_factory=lambda: pymupdf.Rect())
    _fonts: dict = field(default_factory=dict)

    def _font(self, style: str) -> tuple[str, str | None, pymupdf.Font]:
        name, file = FONTS[style]
        if style not in self._fonts:
            path = str(_font_dir() / file) if file else None
            self._fonts[style] = pymupdf.Font(fontfile=path) if path else pymupdf.Font(name)
        return name, (str(_font_dir() / file) if file else None), self._fonts[style]

    def put(self, text: str, style: str = "it", size: float | None = None, dy: float = 0.0) -> float:
        """Set `text` at the pen (raised by -dy points); returns its advance width."""
        size = size or self.size
        name, file, font = self._font(style)
        y = self.baseline + dy
        kwargs = {"fontname": name, "fontsize": size}
        if file:
            kwargs["fontfile"] = file
        self.page.insert_text((self.x, y), text, **kwargs)
        width = font.text_length(text, fontsize=size)
        self.box |= pymupdf.Rect(self.x, y - 0.8 * size, self.x + width, y + 0.25 * size)
        self.x += width
        return width

    def gap(self, em: float = 0.22) -> None:
        self.x += em * self.size

    def sup(self, text: str, style: str = "rm") -> None:
        self.put(text, style, self.size * SCRIPT, -SUP_SHIFT * self.size)

    def sub(self, text: str, style: str = "rm") -> None:
        self.put(text, style, self.size * SCRIPT, SUB_SHIFT * self.size)

    def rule(self, x0: float, x1: float, y: float, width: float = 0.6) -> None:
        self.page.draw_line((x0, y), (x1, y), width=width, color=(0, 0, 0))
        self.box |= pymupdf.Rect(x0, y - 1, x1, y + 1)

    def frac(self, num: list[tuple[str, str]], den: list[tuple[str, str]]) -> None:
        """Numerator and denominator runs [(text, style)] centred over and under a rule."""
        wn = sum(self._font(s)[2].text_length(t, fontsize=self.size) for t, s in num)
        wd = sum(self._font(s)[2].text_length(t, fontsize=self.size) for t, s in den)
        width = max(wn, wd) + 0.3 * self.size
        left, axis = self.x, self.baseline - AXIS * self.size
        self.x = left + (width - wn) / 2
        for t, s in num:
            self.put(t, s, dy=-0.95 * self.size)
        self.x = left + (width - wd) / 2
        for t, s in den:
            self.put(t, s, dy=0.95 * self.size)
        self.rule(left, left + width, axis)
        self.x = left + width

    def sqrt(self, runs: list[tuple[str, str]]) -> None:
        self.put("√", "rm")
        top = self.baseline - 0.88 * self.size
        start = self.x
        for t, s in runs:
            if s == "sup":
                self.sup(t)
            else:
                self.put(t, s)
        self.rule(start, self.x, top)


def _prose(page: pymupdf.Page, y: float, text: str) -> None:
    page.insert_text((MARGIN, y), text, fontsize=10, fontname="helv")


def _einstein(p: Pen) -> None:
    p.put("E")
    p.gap()
    p.put("=", "rm")
    p.gap()
    p.put("mc")
    p.sup("2")


def _scripts(p: Pen) -> None:
    p.put("x")
    p.sub("i", "it")
    p.sup("2")
    p.gap()
    p.put("+", "rm")
    p.gap()
    p.put("y")
    p.sub("j", "it")
    p.gap()
    p.put("=", "rm")
    p.gap()
    p.put("z")


def _euler(p: Pen) -> None:
    p.put("e")
    p.sup("iπ", "it")
    p.gap()
    p.put("+", "rm")
    p.gap()
    p.put("1", "rm")
    p.gap()
    p.put("=", "rm")
    p.gap()
    p.put("0", "rm")


def _quadratic(p: Pen) -> None:
    p.put("x")
    p.gap()
    p.put("=", "rm")
    p.gap()
    left, axis = p.x, p.baseline - AXIS * p.size
    # numerator: −b ± √(b² − 4ac), set on a raised baseline
    saved = p.baseline
    p.baseline = saved - 0.95 * p.size
    p.put("−b", "it")
    p.gap()
    p.put("±", "rm")
    p.gap()
    p.sqrt([("b", "it"), ("2", "sup"), ("−4ac", "it")])
    right = p.x
    p.baseline = saved + 1.05 * p.size
    den_w = p._font("rm")[2].text_length("2", fontsize=p.size)
    den_w += p._font("it")[2].text_length("a", fontsize=p.size)
    p.x = left + (right - left - den_w) / 2
    p.put("2", "rm")
    p.put("a")
    p.baseline = saved
    p.rule(left - 2, right + 2, axis)
    p.x = right + 2


def _gauss_sum(p: Pen) -> None:
    big = 1.6 * p.size
    x0 = p.x
    width = p.put("∑", "rm", size=big)
    small = p.size * SCRIPT
    font = p._font("rm")[2]
    top = "n"
    bottom = "i=1"
    wt = p._font("it")[2].text_length(top, fontsize=small)
    wb = font.text_length(bottom, fontsize=small)
    p.x = x0 + (width - wt) / 2
    p.put(top, "it", small, -1.25 * p.size)
    p.x = x0 + (width - wb) / 2
    p.put(bottom, "it", small, 0.95 * p.size)
    p.x = x0 + max(width, wb)
    p.gap()
    p.put("i")
    p.gap()
    p.put("=", "rm")
    p.gap()
    p.frac([("n", "it"), ("(", "rm"), ("n", "it"), ("+1)", "rm")], [("2", "rm")])


def _symbol_font(p: Pen) -> None:
    # Adobe Symbol codes: a=α, b=β, £=≤ (0xA3), g=γ, as legacy Word documents store them.
    p.put("a", "symb")
    p.gap()
    p.put("+", "symb")
    p.gap()
    p.put("b", "symb")
    p.gap()
    p.put("\u00a3", "symb")
    p.gap()
    p.put("g", "symb")


def _gaussian_integral(p: Pen) -> None:
    p.put("∫", "rm", size=1.3 * p.size)
    p.sub("0")
    p.sup("∞")
    p.gap()
    p.put("e")
    p.put("−x", "it", p.size * SCRIPT, -SUP_SHIFT * p.size)
    p.put("2", "rm", p.size * SCRIPT * SCRIPT, -0.75 * p.size)
    p.gap()
    p.put("dx", "it")
    p.gap()
    p.put("=", "rm")
    p.gap()
    p.frac([("√", "rm"), ("π", "it")], [("2", "rm")])


def _trig(p: Pen) -> None:
    p.put("sin", "rm")
    p.sup("2")
    p.put("θ", "it")
    p.gap()
    p.put("+", "rm")
    p.gap()
    p.put("cos", "rm")
    p.sup("2")
    p.put("θ", "it")
    p.gap()
    p.put("=", "rm")
    p.gap()
    p.put("1", "rm")


def _pythagoras_tagged(p: Pen) -> None:
    p.put("a")
    p.sup("2")
    p.gap()
    p.put("+", "rm")
    p.gap()
    p.put("b")
    p.sup("2")
    p.gap()
    p.put("=", "rm")
    p.gap()
    p.put("c")
    p.sup("2")
    p.x = W - MARGIN - 30
    p.put("(3)", "rm")


# name, setter, symbols in reading order, relations between glyphs, LaTeX fragments it must contain
FORMULAS = [
    ("einstein", _einstein, ["E", "=", "m", "c", "2"], [("c", "sup", "2")], ["c^{2}"]),
    ("scripts", _scripts, ["x", "i", "2", "+", "y", "j", "=", "z"],
     [("x", "sub", "i"), ("x", "sup", "2")], []),
    ("euler", _euler, ["e", "i", "π", "+", "1", "=", "0"], [("e", "sup", "π")], [r"\pi"]),
    ("quadratic", _quadratic, ["x", "=", "b", "±", "b", "2", "4", "a", "c", "2", "a"],
     [("±", "over", "a")], [r"\frac{", r"\sqrt{", r"\pm"]),
    ("gauss_sum", _gauss_sum, ["∑", "i", "=", "1", "n", "i", "="],
     [("n", "over", "∑")], [r"\sum_{", r"\frac{"]),
    ("symbol_font", _symbol_font, ["α", "+", "β", "≤", "γ"], [], [r"\alpha", r"\leq", r"\gamma"]),
    ("gaussian_integral", _gaussian_integral, ["∫", "0", "∞", "e", "x", "2", "d", "x", "=", "π", "2"],
     [("e", "sup", "x"), ("π", "over", "2")], [r"\int", r"\infty", r"\frac{"]),
    ("trig", _trig, ["s", "i", "n", "2", "θ", "+", "c", "o", "s", "2", "θ", "=", "1"], [],
     [r"\sin^{2}", r"\cos^{2}", r"\theta"]),
    ("pythagoras_tagged", _pythagoras_tagged, ["a", "2", "+", "b", "2", "=", "c", "2"],
     [("a", "sup", "2")], [r"\tag{3}"]),
]  # fmt: skip

PROSE_BEFORE = "The following relations are used throughout this section of the report."
INLINE_PARTS = ("where ", "α", " is the learning rate and the weight ", "w", "t", " decays slowly.")
PROSE_AFTER = "All quantities are dimensionless unless a unit is stated explicitly."


def _inline_line(page: pymupdf.Page, y: float) -> tuple[float, float]:
    """A prose line with inline math: Greek alpha from STIX and w with an italic subscript t."""
    pen = Pen(page, MARGIN, y, size=10)
    pen.put(INLINE_PARTS[0], "text")
    pen.put(INLINE_PARTS[1], "it")
    pen.put(INLINE_PARTS[2], "text")
    pen.put(INLINE_PARTS[3], "it")
    pen.sub(INLINE_PARTS[4], "it")
    pen.put(INLINE_PARTS[5], "text")
    return pen.box.y0, pen.box.y1


def build(out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    doc = pymupdf.open()
    records = []
    page = None
    y = 0.0
    for name, setter, symbols, relations, fragments in FORMULAS:
        if page is None or y > H - 160:
            page = doc.new_page(width=W, height=H)
            _prose(page, 70, PROSE_BEFORE)
            y = 120.0
        pen = Pen(page, MARGIN + 60, y)
        setter(pen)
        box = pen.box + (-2, -2, 2, 2)
        records.append(
            {
                "name": name,
                "page": doc.page_count - 1,
                "bbox": list(box),
                "symbols": symbols,
                "relations": relations,
                "latex_contains": fragments,
            }
        )
        y = box.y1 + 24
        _prose(page, y, PROSE_AFTER)
        y += 50
    # The inline-math line and plain prose, on a page of their own.
    page = doc.new_page(width=W, height=H)
    _prose(page, 70, PROSE_BEFORE)
    top, bottom = _inline_line(page, 100)
    _prose(page, 130, PROSE_AFTER)
    inline_page = doc.page_count - 1
    pdf = out / "formulas.pdf"
    doc.save(pdf)
    doc.close()
    meta = out / "formulas.json"
    payload = {
        "formulas": records,
        "inline": {"page": inline_page, "y": [top, bottom]},
        "prose": [PROSE_BEFORE, PROSE_AFTER],
    }
    meta.write_text(json.dumps(payload, indent=1, ensure_ascii=False), encoding="utf-8")
    return pdf, meta


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for path in build(Path(sys.argv[1])):
        print(path)
