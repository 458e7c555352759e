"""Display formulas: math regions and their fragments merged into formula blocks with LaTeX."""

from __future__ import annotations

from docpipe.assemble.formulas import mark_formulas
from docpipe.assemble.regions import Region
from docpipe.model import BlockType
from docpipe.model.raw import Line, Span


def region(text: str, x: float, y: float, size: float = 10.0, font: str = "CMMI10") -> Region:
    bbox = (x, y, x + 5.0 * len(text), y + size)
    return Region(
        bbox=bbox,
        lines=[Line(spans=[Span(text=text, bbox=bbox, size=size, font=font)], bbox=bbox)],
        text=text,
    )


def test_a_math_region_and_its_equation_number_become_one_formula():
    prose = region("The energy of a body at rest is given below.", 72, 100, font="Times")
    eq = region("E = mc\u00b2", 250, 130)
    tag = region("(3)", 500, 130, font="Times")
    out = mark_formulas([prose, eq, tag], rules=[])
    formulas = [r for r in out if r.type is BlockType.formula]
    assert len(formulas) == 1
    (formula,) = formulas
    assert formula.latex and "E" in formula.latex and "mc" in formula.latex
    assert formula.bbox[0] == 250 and formula.bbox[2] >= 500  # the number is part of it
    assert prose in out and eq not in out and tag not in out


def test_a_fraction_bar_inside_the_formula_widens_its_box():
    num, den = region("a + b", 260, 120), region("c + d", 260, 134)
    bar = (250.0, 131.5, 300.0, 132.0)
    (formula,) = mark_formulas([num, den], rules=[bar])
    assert formula.type is BlockType.formula and formula.bbox[0] == 250.0 and formula.bbox[2] == 300.0
    assert "frac" in formula.latex


def test_no_math_leaves_the_regions_as_they_are():
    regs = [region("Plain words only here.", 72, 100, font="Times"), region("2024", 72, 120, font="Times")]
    assert mark_formulas(regs, rules=[]) is regs
    code = Region(
        bbox=(72, 140, 200, 150),
        lines=[Line(spans=[Span("x = a + b", (72, 140, 200, 150), 10, mono=True)], bbox=(72, 140, 200, 150))],
        text="x = a + b",
    )
    assert mark_formulas([code], rules=[])[0].type is None  # code is full of operators, not math
