"""KaTeX rendering in headless Chromium, formula layout matching and math unit tests.

These need Chromium and KaTeX (scripts/install_katex.sh installs both); without them they skip and
say so, and the math checks report "skip" instead of failing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from docpipe.eval.katex_render import KatexUnavailable, render_latex, unavailable_reason
from docpipe.eval.math_match import extract_formulas, layout_contains
from docpipe.eval.olmocr_bench import load_tests, parse_test, run_tests

REASON = unavailable_reason()
needs_katex = pytest.mark.skipif(REASON is not None, reason=REASON or "")
ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path("/work/shared/corpus/dev")


def test_extract_formulas_all_delimiters() -> None:
    md = r"Inline $x$, display $$y+1$$, \(z\) and \[w\]; an escaped \$5 is not math."
    assert extract_formulas(md) == ["x", "y+1", "z", "w"]
    assert extract_formulas(md, include_dollar=False) == ["z", "w"]


def test_unavailable_is_reported_not_crashed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCPIPE_CHROMIUM", "/nonexistent/chromium")
    assert "Chromium" in (unavailable_reason() or "")
    with pytest.raises(KatexUnavailable):
        render_latex(["x"])
    test = parse_test({"pdf": "d.pdf", "id": "m", "type": "math", "math": "x^2"}, "inline")
    (result,) = run_tests([test], {"d": "$$x_2$$"})
    assert result.status == "skip" and "Chromium" in result.message


@needs_katex
def test_render_latex_batch() -> None:
    results = render_latex(["x^2", "x_2", r"\frac{a}{b}", r"\notacommand{x}", "</script><b>"])
    assert [r.ok for r in results] == [True, True, True, False, True]
    sup, sub, frac, bad, hostile = results
    (x, two) = sup.symbols
    assert (x.text, two.text) == ("x", "2")
    assert two.cy < x.cy and two.cx > x.cx  # superscript: up and to the right
    assert sub.symbols[1].cy > sub.symbols[0].cy  # subscript: down
    b, a = frac.symbols  # KaTeX emits the denominator first
    assert (a.text, b.text) == ("a", "b") and a.cy < b.cy
    assert "notacommand" in (bad.error or "")
    # The expression is data: it is rendered as text, not interpreted as markup.
    assert "".join(s.text for s in hostile.symbols).startswith("</")


LAYOUT_CASES = [
    ("x^2", "x^{2}", True),
    ("x^2", "x_2", False),
    ("3x^2", r"\int_a^b 3x^2\,dx", True),
    (r"\frac{1}{2}", r"\frac12", True),
    (r"\frac{a}{b}", r"\frac{b}{a}", False),
    ("a+b", "b+a", False),
    ("a^{2}+8=12", "a^2 + 8 = 12", True),
    ("a^{2}+8=12", "a^2 + 8 = 13", False),
    ("a^{2}", "a_2 + 8 = 12", False),
]


@pytest.fixture(scope="module")
def layout_renders() -> dict:
    exprs = sorted({e for ref, cand, _ in LAYOUT_CASES for e in (ref, cand)})
    return dict(zip(exprs, render_latex(exprs), strict=True))


@needs_katex
@pytest.mark.parametrize(("reference", "candidate", "expected"), LAYOUT_CASES)
def test_layout_contains(layout_renders: dict, reference: str, candidate: str, expected: bool) -> None:
    assert layout_contains(layout_renders[reference], layout_renders[candidate]) is expected


@needs_katex
@pytest.mark.skipif(not CORPUS.is_dir(), reason="dev corpus not present at /work/shared/corpus/dev")
def test_corpus_math_tests_on_markdown_with_the_formula() -> None:
    """code_and_formula.pdf shows a^2 + 8 = 12; a conversion writing it as LaTeX passes the math
    tests, the reference Markdown (formula left as a comment) and a wrong formula do not."""
    tests = [t for t in load_tests(ROOT / "fixtures/olmocr_bench/dev_corpus.jsonl") if t.type == "math"]
    truth = (CORPUS / "groundtruth" / "code_and_formula.md").read_text(encoding="utf-8")
    with_formula = truth.replace("<!-- formula-not-decoded -->", "$$a^2 + 8 = 12$$")
    wrong = truth.replace("<!-- formula-not-decoded -->", "$$a_2 + 8 = 12$$")
    assert all(r.status == "pass" for r in run_tests(tests, {"code_and_formula": with_formula}))
    assert all(r.status == "fail" for r in run_tests(tests, {"code_and_formula": truth}))
    statuses = [r.status for r in run_tests(tests, {"code_and_formula": wrong})]
    assert statuses == ["fail", "fail", "fail"]
