"""Formulas typeset into a PDF come back as LaTeX that KaTeX renders, with the expected symbols in
order and the expected layout (scripts raised or lowered, numerators over denominators)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pymupdf
import pytest

from docpipe.engines.textlayer import extract_lines
from docpipe.model.raw import Line, Span
from docpipe.science.math_latex import formula_rules, inline_math, is_math_line, lines_to_latex, math_share
from docpipe.science.math_symbols import FUNCTION_NAMES, GREEK, OPERATORS

CORPUS_FORMULA = (
    Path(__file__).resolve().parents[3] / "shared" / "corpus" / "dev" / "pdf" / "code_and_formula.pdf"
)


@pytest.fixture(scope="module")
def formulas(tmp_path_factory):
    from tests.conftest import load_script

    mod = load_script("make_formula_fixtures")
    pdf, meta = mod.build(tmp_path_factory.mktemp("formulas"))
    data = json.loads(meta.read_text(encoding="utf-8"))
    doc = pymupdf.open(pdf)
    yield doc, data
    doc.close()


def _lines_in(page: pymupdf.Page, bbox) -> list[Line]:
    box = pymupdf.Rect(bbox)
    out = []
    for line in extract_lines(page):
        r = pymupdf.Rect(line.bbox)
        if (r & box).get_area() > 0.5 * r.get_area():
            out.append(line)
    return out


@pytest.fixture(scope="module")
def converted(formulas):
    doc, data = formulas
    out = {}
    for rec in data["formulas"]:
        page = doc[rec["page"]]
        lines = _lines_in(page, rec["bbox"])
        out[rec["name"]] = (rec, lines, lines_to_latex(lines, formula_rules(page, rec["bbox"])))
    return out


_REVERSE = {cmd: ch for table in (GREEK, OPERATORS) for ch, cmd in table.items() if cmd.startswith("\\")}


def _source_symbols(latex: str) -> str:
    """The LaTeX's visible characters in source order: commands mapped back to their glyphs."""

    def command(m: re.Match) -> str:
        name = m.group(0)
        if name in _REVERSE:
            return _REVERSE[name]
        if name[1:] in FUNCTION_NAMES:
            return name[1:]
        return ""

    return re.sub(r"[{}^_\s]", "", re.sub(r"\\[A-Za-z]+", command, latex)).replace("-", "")


def _is_subsequence(needles: list[str], hay: str) -> bool:
    pos = 0
    for n in needles:
        pos = hay.find(n, pos)
        if pos < 0:
            return False
        pos += len(n)
    return True


def test_fixture_formulas_are_math_lines(converted):
    for rec, lines, _ in converted.values():
        assert lines, rec["name"]
        assert math_share(lines) > 0.6, rec["name"]
        assert any(is_math_line(ln) for ln in lines), rec["name"]


def test_latex_has_expected_structure_and_order(converted):
    for rec, _, latex in converted.values():
        for fragment in rec["latex_contains"]:
            assert fragment in latex, (rec["name"], latex)
        assert _is_subsequence(rec["symbols"], _source_symbols(latex)), (rec["name"], latex)


def test_latex_renders_with_katex_in_layout(converted):
    from docpipe.eval.katex_render import render_latex, unavailable_reason

    reason = unavailable_reason()
    if reason:
        pytest.skip(reason + " (scripts/install_katex.sh)")
    names = list(converted)
    results = render_latex([converted[n][2] for n in names], display=True)
    for name, result in zip(names, results, strict=True):
        rec = converted[name][0]
        assert result.ok, (name, result.expr, result.error)
        glyphs = [s.text for s in result.symbols]
        for sym in rec["symbols"]:
            assert any(sym in g for g in glyphs), (name, sym, glyphs)
        for a_text, relation, b_text in rec["relations"]:
            a = next(s for s in result.symbols if a_text in s.text)
            b = min((s for s in result.symbols if b_text in s.text and s is not a), key=lambda s: _dist(a, s))
            if relation == "sup":
                assert b.cy < a.cy - 2 and b.x >= a.x, (name, a, b)
            elif relation == "sub":
                assert b.cy > a.cy + 1 and b.x >= a.x, (name, a, b)
            else:  # "over"
                assert a.cy < b.cy - 5, (name, a, b)


def _dist(a, b) -> float:
    return ((a.cx - b.cx) ** 2 + (a.cy - b.cy) ** 2) ** 0.5


def test_prose_is_not_math(formulas):
    doc, data = formulas
    prose = [ln for page in doc for ln in extract_lines(page) if ln.text.strip() in data["prose"]]
    assert len(prose) >= 2
    for line in prose:
        assert not is_math_line(line)
        assert inline_math(line) == line.text


def test_inline_math_in_prose(formulas):
    doc, data = formulas
    top, bottom = data["inline"]["y"]
    page = doc[data["inline"]["page"]]
    line = next(ln for ln in extract_lines(page) if top - 2 <= (ln.bbox[1] + ln.bbox[3]) / 2 <= bottom + 2)
    assert not is_math_line(line)
    assert inline_math(line) == "where $\\alpha$ is the learning rate and the weight $w_{t}$ decays slowly."


def _span(text, x0, size=10.0, base=100.0, font="Helvetica", italic=False, superscript=False) -> Span:
    width = 0.5 * size * len(text)
    bbox = (x0, base - 0.78 * size, x0 + width, base + 0.22 * size)
    return Span(text, bbox, size, font=font, italic=italic, superscript=superscript)


def test_inline_math_leaves_footnotes_prices_and_arrows_alone():
    footnote = Line(
        [_span("the Ponemon Institute", 0), _span("2", 105, 6, 96, superscript=True)], (0, 90, 110, 102)
    )
    assert inline_math(footnote) == footnote.text
    arrows = Line([_span("click Schemas → HR_SCHEMA", 0)], (0, 90, 130, 102))
    assert inline_math(arrows) == arrows.text
    mixed = Line(
        [
            _span("costs $5 when ", 0),
            _span("x", 70, italic=True),
            _span(" + 1 = 3", 75),
            _span(" holds", 120),
        ],
        (0, 90, 150, 102),
    )
    assert inline_math(mixed) == r"costs \$5 when $x+1=3$ holds"


def test_symbol_font_and_bullets():
    # Symbol-encoded "a £ b" is α ≤ β; a lone Symbol bullet is a list marker, not math.
    line = Line([_span("a \u00a3 b", 0, font="SymbolMT")], (0, 90, 30, 102))
    assert is_math_line(line)
    assert lines_to_latex([line]) == r"\alpha\leq\beta"
    bullet = Line([_span("\u2022 ", 0, font="SymbolMT")], (0, 90, 10, 102))
    assert not is_math_line(bullet)


def test_nested_scripts_and_stacked_rows():
    # e^{x^{2}}: the inner exponent is smaller and raised again.
    line = Line([_span("e", 0), _span("x", 5, 7, 96), _span("2", 9, 5, 93)], (0, 88, 12, 102))
    assert lines_to_latex([line]) == "e^{x^{2}}"
    # Two separate rows without a rule stay two rows.
    rows = [Line([_span("a=1", 0)], (0, 90, 15, 102)), Line([_span("b=2", 0, base=116)], (0, 106, 15, 118))]
    assert lines_to_latex(rows) == r"\begin{gathered}a=1 \\ b=2\end{gathered}"


@pytest.mark.skipif(not CORPUS_FORMULA.is_file(), reason="dev corpus not available")
def test_real_tex_formula_in_corpus():
    doc = pymupdf.open(CORPUS_FORMULA)
    found = [(ln, lines_to_latex([ln])) for page in doc for ln in extract_lines(page) if is_math_line(ln)]
    assert [latex for _, latex in found] == ["a^{2}+8=12"]
