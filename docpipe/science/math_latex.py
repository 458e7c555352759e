"""Math from a born-digital text layer: find it, and rebuild LaTeX from where the glyphs sit.

A PDF keeps no formula structure, only glyphs with fonts, sizes and positions. The structure comes
back from geometry:
- scripts: a span smaller than the base size whose baseline is raised (superscript) or lowered
  (subscript) relative to the row's baseline; applied recursively, so scripts of scripts nest;
- fractions: atoms centred over a horizontal rule (numerator) and under it (denominator); rules are
  vector drawings, passed in by the caller (`formula_rules` finds them on a page);
- radicals: a rule that starts at a radical sign covers the radicand;
- limits: atoms stacked directly above and below a big operator (sum, product, lim);
- rows: what is left is grouped into rows by vertical overlap; several rows become `gathered`.
Characters are mapped by `math_symbols.char_latex` (Greek, operators, math alphanumerics, Symbol
font codes). The output is plain KaTeX-compatible LaTeX; callers keep the original text beside it.

Baselines: PyMuPDF spans carry an origin but `Span` stores only a bbox, so the baseline is taken
from a `baseline` attribute when a span has one and otherwise estimated as 78% down the bbox (exact
for Base-14 and Computer Modern fonts, about 0.1 em off for fonts with tall boxes such as STIX,
which cancels out when base and scripts share a font).
"""

from __future__ import annotations

import dataclasses
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from docpipe.model.raw import Line, Rect, Span
from docpipe.science.math_symbols import (
    BIG_OPERATORS,
    FUNCTION_NAMES,
    char_latex,
    decode_symbol_font,
    is_math_font,
    is_strong_math_char,
    is_symbol_font,
)

# Words, numbers, whitespace runs, or single other characters.
_TOKEN = re.compile(r"[A-Za-z]+|[0-9]+(?:\.[0-9]+)?|\s+|.", re.S)
_WEAK_OPERATORS = frozenset("=<>+^")
# Between math words these join a run; alone in prose ("click File → Save", "10 × 20") they do not.
_JOINERS = frozenset("=<>+^−-×·÷±→←↔⇒⇐⇔")
_BULLETS = frozenset("•·▪■□●○◦∙\uf0b7\uf0a7")
_FOOTNOTE_MARK = re.compile(r"^(?:[0-9]{1,3}|[a-z]|[*†‡§)(,™®©]|TM|SM)$")
_COMMAND_END = re.compile(r"\\[A-Za-z]+$")
_BASELINE_RATIO = 0.78


@dataclass
class _Atom:
    latex: str
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    baseline: float
    fixed: bool = False  # a built composite (fraction, radical, limits): always on its row's baseline
    big: bool = False  # takes limits above and below
    raised: bool = False  # the PDF's own superscript flag

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    def core(self) -> tuple[float, float]:
        """Vertical extent of the glyph body (x-height to baseline), independent of font box padding."""
        if self.fixed:
            return self.y0, self.y1
        return self.baseline - 0.72 * self.size, self.baseline + 0.05 * self.size


# ---------------------------------------------------------------------------------------- spans


def span_text(span: Span) -> str:
    """A span's text as Unicode (Symbol-font codes decoded)."""
    return decode_symbol_font(span.text) if is_symbol_font(span.font) else span.text


def span_baseline(span: Span) -> float:
    for attr in ("baseline", "origin_y"):
        value = getattr(span, attr, None)
        if isinstance(value, int | float):
            return float(value)
    origin = getattr(span, "origin", None)
    if isinstance(origin, tuple) and len(origin) == 2:
        return float(origin[1])
    return span.bbox[1] + _BASELINE_RATIO * (span.bbox[3] - span.bbox[1])


def _slice(span: Span, start: int, end: int) -> Span:
    """Part of a span, its box estimated by splitting the width evenly among the characters."""
    n = max(len(span.text), 1)
    x0, y0, x1, y1 = span.bbox
    step = (x1 - x0) / n
    bbox = (x0 + step * start, y0, x0 + step * end, y1)
    return dataclasses.replace(span, text=span.text[start:end], bbox=bbox)


def _atoms(spans: Iterable[Span]) -> list[_Atom]:
    atoms = []
    for span in spans:
        text = span_text(span)
        if not text.strip():
            continue
        x0, y0, x1, y1 = span.bbox
        step = (x1 - x0) / max(len(text), 1)
        baseline = span_baseline(span)
        upright_text_font = not span.italic and not is_math_font(span.font)
        pos = 0
        for tok in _TOKEN.findall(text):
            start, pos = pos, pos + len(tok)
            if tok.isspace():
                continue
            if tok.isascii() and tok.isalpha() and len(tok) > 1:
                if tok in FUNCTION_NAMES:
                    latex = "\\" + tok
                elif upright_text_font:
                    latex = rf"\mathrm{{{tok}}}"
                else:
                    latex = tok
            else:
                latex = "".join(char_latex(ch) for ch in tok)
            atoms.append(
                _Atom(
                    latex=latex,
                    text=tok,
                    x0=x0 + step * start,
                    y0=y0,
                    x1=x0 + step * pos,
                    y1=y1,
                    size=span.size,
                    baseline=baseline,
                    big=tok in BIG_OPERATORS or tok == "lim",
                    raised=span.superscript,
                )
            )
    return atoms


# ----------------------------------------------------------------------------------- structure


def _composite(latex: str, members: list[_Atom], baseline: float, size: float) -> _Atom:
    return _Atom(
        latex=latex,
        text="".join(a.text for a in sorted(members, key=lambda a: a.x0)),
        x0=min(a.x0 for a in members),
        y0=min(a.y0 for a in members),
        x1=max(a.x1 for a in members),
        y1=max(a.y1 for a in members),
        size=size,
        baseline=baseline,
        fixed=True,
    )


def _apply_rules(atoms: list[_Atom], rules: Sequence[Rect]) -> list[_Atom]:
    """Fractions and radicals, innermost (shortest rule) first so that nesting composes."""
    for rx0, ry0, rx1, ry1 in sorted(rules, key=lambda r: r[2] - r[0]):
        y = (ry0 + ry1) / 2
        radicals = [
            a
            for a in atoms
            if a.text == "√" and abs(a.x1 - rx0) < 0.6 * a.size and a.y0 - 0.5 * a.size <= y <= a.cy
        ]
        inside = [a for a in atoms if rx0 - 1 <= a.cx <= rx1 + 1 and a not in radicals]
        if not inside:
            continue
        size = statistics.median(a.size for a in inside)
        if radicals:
            under = [a for a in inside if a.cy > y and a.cy - y < 2.0 * size]
            if not under:
                continue
            members = [*under, radicals[0]]
            baseline = statistics.median(a.baseline for a in under)
            built = _composite(rf"\sqrt{{{_layout(under)}}}", members, baseline, size)
        else:
            num = [a for a in inside if a.cy < y and y - a.cy < 2.5 * size]
            den = [a for a in inside if a.cy > y and a.cy - y < 2.5 * size]
            if not num or not den:
                continue
            members = num + den
            # The rule sits on the math axis, about a quarter em above the baseline.
            built = _composite(rf"\frac{{{_layout(num)}}}{{{_layout(den)}}}", members, y + 0.25 * size, size)
        atoms = [a for a in atoms if a not in members] + [built]
    return atoms


def _apply_limits(atoms: list[_Atom]) -> list[_Atom]:
    for op in [a for a in atoms if a.big and not a.fixed]:
        half = (op.x1 - op.x0) / 2 + 0.3 * op.size
        near = [a for a in atoms if a is not op and abs(a.cx - op.cx) <= half]
        # Limits sit clearly above the operator's glyph, or with their top below its baseline.
        above = [a for a in near if 0.6 * op.size < op.baseline - a.baseline < 2.0 * op.size]
        below = [
            a
            for a in near
            if a.baseline - 0.7 * a.size > op.baseline - 0.1 * op.size
            and a.baseline - op.baseline < 1.6 * op.size
        ]
        if not above and not below:
            continue
        latex = op.latex
        if op.text == "lim":
            latex = r"\lim\limits"
        if below:
            latex += f"_{{{_layout(below)}}}"
        if above:
            latex += f"^{{{_layout(above)}}}"
        members = [op, *above, *below]
        built = _composite(latex, members, op.baseline, op.size)
        atoms = [a for a in atoms if a not in members] + [built]
    return atoms


def _rows(atoms: list[_Atom]) -> list[list[_Atom]]:
    """Group atoms whose glyph bodies overlap vertically (a base and its scripts do; lines do not)."""
    rows: list[list[_Atom]] = []
    spans: list[tuple[float, float]] = []
    for atom in sorted(atoms, key=lambda a: a.core()[0]):
        top, bottom = atom.core()
        for i, (rt, rb) in enumerate(spans):
            if min(bottom, rb) - max(top, rt) > 0.05 * atom.size:
                rows[i].append(atom)
                spans[i] = (min(top, rt), max(bottom, rb))
                break
        else:
            rows.append([atom])
            spans.append((top, bottom))
    order = sorted(range(len(rows)), key=lambda i: spans[i][0])
    return [rows[i] for i in order]


def _base_size(atoms: list[_Atom]) -> float:
    plain = sorted((a for a in atoms if not a.fixed and not a.big), key=lambda a: a.x0)
    if not plain:
        return max(a.size for a in atoms)
    weights: dict[float, int] = {}
    for a in plain:
        weights[round(a.size, 1)] = weights.get(round(a.size, 1), 0) + len(a.text)
    total = sum(weights.values())
    common = max(s for s, w in weights.items() if w >= 0.15 * total)
    return max(common, round(plain[0].size, 1))


def _script_kind(atom: _Atom, base_size: float, base_line: float) -> str:
    if atom.fixed or atom.big:
        return "base"
    shift = (base_line - atom.baseline) / base_size  # positive: raised
    if atom.size < 0.9 * base_size:
        if shift > 0.15 or (atom.raised and shift > 0.05):
            return "sup"
        if shift < -0.06:
            return "sub"
        return "base"
    if shift > 0.3:
        return "sup"
    if shift < -0.25:
        return "sub"
    return "base"


def _row_latex(atoms: list[_Atom], depth: int = 0) -> str:
    atoms = sorted(atoms, key=lambda a: a.x0)
    if depth > 4:
        return _join(a.latex for a in atoms)
    size = _base_size(atoms)
    at_size = [a.baseline for a in atoms if not a.fixed and abs(a.size - size) <= 0.1 * size]
    fixed = [a.baseline for a in atoms if a.fixed]
    base_line = statistics.median(at_size or fixed or [a.baseline for a in atoms])
    kinds = [_script_kind(a, size, base_line) for a in atoms]
    out: list[str] = []
    attached: set[str] = set()
    i = 0
    while i < len(atoms):
        j = i
        while j < len(atoms) and kinds[j] == kinds[i]:
            j += 1
        group, kind = atoms[i:j], kinds[i]
        if kind == "base":
            out.extend(_base_latex(group))
            attached = set()
        else:
            if not out or kind in attached:
                out.append("{}")
            mark = "^" if kind == "sup" else "_"
            out.append(f"{mark}{{{_row_latex(group, depth + 1)}}}")
            attached.add(kind)
        i = j
    return _join(out)


def _base_latex(group: list[_Atom]) -> list[str]:
    """Base-level atoms in order; a radical sign without a rule takes the next atom as radicand."""
    out = []
    k = 0
    while k < len(group):
        atom = group[k]
        if atom.text == "√" and k + 1 < len(group):
            out.append(rf"\sqrt{{{group[k + 1].latex}}}")
            k += 2
            continue
        out.append(atom.latex)
        k += 1
    return out


def _join(parts: Iterable[str]) -> str:
    out = ""
    for part in parts:
        if not part:
            continue
        if out and _COMMAND_END.search(out) and part[0].isalpha():
            out += " "
        out += part
    return out


def _layout(atoms: list[_Atom]) -> str:
    atoms = _apply_limits(atoms)
    rows = _rows(atoms)
    if len(rows) == 1:
        return _row_latex(rows[0])
    return r"\begin{gathered}" + r" \\ ".join(_row_latex(r) for r in rows) + r"\end{gathered}"


_EQ_NUMBER = re.compile(r"^\((\d{1,3}(?:\.\d{1,3})?[a-z]?)\)$")


def _split_tag(atoms: list[_Atom]) -> tuple[list[_Atom], str | None]:
    """A display equation's number, "(12)" set far to the right, becomes \\tag{12}."""
    ordered = sorted(atoms, key=lambda a: a.x0)
    for n in (3, 4, 5):
        if len(ordered) <= n:
            break
        tail, rest = ordered[-n:], ordered[:-n]
        text = "".join(a.text for a in tail)
        match = _EQ_NUMBER.match(text)
        if match and tail[0].x0 - max(a.x1 for a in rest) > 2.0 * tail[0].size:
            return rest, match.group(1)
    return atoms, None


def lines_to_latex(lines: Sequence[Line], rules: Sequence[Rect] = ()) -> str:
    """LaTeX for a formula made of these lines (any order) and horizontal rules inside it.

    Empty string when the lines hold no text.
    """
    atoms = _atoms(s for ln in lines for s in ln.spans)
    if not atoms:
        return ""
    atoms, tag = _split_tag(atoms)
    atoms = _apply_rules(atoms, rules)
    latex = _layout(atoms)
    return latex + (rf" \tag{{{tag}}}" if tag else "")


# ----------------------------------------------------------------------------------- detection


def _line_geometry(line: Line) -> tuple[float, float]:
    size = line.size or 10.0
    at_size = [span_baseline(s) for s in line.spans if s.text.strip() and abs(s.size - size) <= 0.1 * size]
    baseline = statistics.median(at_size) if at_size else span_baseline(line.spans[0])
    return size, baseline


def _is_script(span: Span, size: float, baseline: float) -> bool:
    if span.size >= 0.9 * size:
        return False
    return span.superscript or abs(baseline - span_baseline(span)) > 0.1 * size


def _token_weight(
    tok: str, span: Span, math_font: bool, script: bool, italic_vars: bool = True, after_math: bool = False
) -> tuple[float, int]:
    """(math evidence, prose characters) for one token; `after_math`: the token before it was math."""
    n = len(tok)
    if all(ch in _BULLETS for ch in tok):
        return 0.0, 0  # list bullets come from Symbol fonts too
    word = tok.isascii() and tok.isalpha() and n >= 3 and tok not in FUNCTION_NAMES
    if word and not (math_font and n == 3) and not script:
        return 0.0, n  # a word
    if math_font:
        return float(n), 0
    if script:
        # Footnote marks ("word^1", "Center^2)", "^TM") are scripts too, but only a math base makes
        # them exponents.
        if not after_math and (_FOOTNOTE_MARK.match(tok) or not any(c.isalnum() for c in tok)):
            return 0.0, 0
        return float(n), 0
    if tok.isascii() and tok.isalpha() and n == 1 and span.italic and italic_vars:
        return 1.0, 0  # an italic variable
    score = sum(1.0 if is_strong_math_char(ch) else 0.5 if ch in _WEAK_OPERATORS else 0.0 for ch in tok)
    return score, 0


def _line_scores(line: Line) -> tuple[float, int, int]:
    """(math evidence, prose characters, non-space characters) of a line."""
    if not line.spans:
        return 0.0, 0, 0
    size, baseline = _line_geometry(line)
    italic_vars = not _italic_prose(line)
    math = 0.0
    prose = total = 0
    after_math = False
    for span in line.spans:
        text = span_text(span)
        math_font = is_math_font(span.font)
        script = _is_script(span, size, baseline)
        for tok in _TOKEN.findall(text):
            if tok.isspace():
                continue
            total += len(tok)
            score, words = _token_weight(tok, span, math_font, script, italic_vars, after_math)
            math += score
            prose += words
            after_math = score >= 1.0
    return math, prose, total


def _italic_prose(line: Line) -> bool:
    """Italic words in a text font mean emphasis or an italic caption: its single letters are words."""
    return any(
        span.italic and not is_math_font(span.font) and re.search(r"[A-Za-z]{3,}", span.text)
        for span in line.spans
    )


def is_math_line(line: Line) -> bool:
    """A line that is (display) math rather than prose with a symbol or two in it."""
    math, prose, total = _line_scores(line)
    if not total:
        return False
    return math / total >= 0.4 and prose / total < 0.4 and math >= 1.5


def math_share(lines: Sequence[Line]) -> float:
    """Share of the lines' non-space characters that carry math evidence (0..1)."""
    math = 0.0
    total = 0
    for line in lines:
        m, _, t = _line_scores(line)
        math += m
        total += t
    return min(math / total, 1.0) if total else 0.0


# --------------------------------------------------------------------------------- inline math


@dataclass
class _Word:
    pieces: list[Span]
    text: str
    math: bool
    weak: bool  # an operator only: math when it stands between math words


def _words(line: Line) -> list[_Word | str]:
    """Whitespace-separated words (spanning span boundaries) and the whitespace between them."""
    size, baseline = _line_geometry(line)
    italic_vars = not _italic_prose(line)
    out: list[_Word | str] = []
    current: list[Span] = []
    evidence = False
    after_math = False

    def flush() -> None:
        nonlocal current, evidence
        if current:
            text = "".join(span_text(p) for p in current)
            weak = all(ch in _JOINERS for ch in text)
            out.append(_Word(current, text, not weak and (evidence or _is_strong(text)), weak))
        current, evidence = [], False

    for span in line.spans:
        text = span_text(span)
        math_font = is_math_font(span.font)
        script = _is_script(span, size, baseline)
        pos = 0
        for tok in _TOKEN.findall(text):
            start, pos = pos, pos + len(tok)
            if tok.isspace():
                flush()
                out.append(tok)
                continue
            current.append(_slice(span, start, pos))
            score, _ = _token_weight(tok, span, math_font, script, italic_vars, after_math)
            after_math = score >= 1.0
            if after_math:
                evidence = True
    flush()
    return out


def _is_strong(text: str) -> bool:
    return any(is_strong_math_char(ch) for ch in text)


_NUMBER_WORD = re.compile(r"^\(?[0-9]+(?:[.,][0-9]+)*\)?[.,;:]?$")


def _run_flags(words: list[_Word]) -> list[bool]:
    """Which words belong to a math run: math words, plus operators chained between math words and
    numbers ("a^2 + 8 = 12"); operators and numbers alone stay prose ("10 × 20", "click A → B")."""
    kinds = ["M" if w.math else "J" if w.weak else "N" if _NUMBER_WORD.match(w.text) else "T" for w in words]
    flags = [k == "M" for k in kinds]
    changed = True
    while changed:
        changed = False
        for i, kind in enumerate(kinds):
            if kind != "J" or flags[i] or i == 0 or i == len(kinds) - 1:
                continue
            left, right = i - 1, i + 1
            for run_side, other in ((left, right), (right, left)):
                if flags[run_side] and kinds[other] in ("M", "N"):
                    flags[i] = flags[other] = True
                    changed = True
                    break
    return flags


def _may_hold_math(line: Line) -> bool:
    """Cheap pre-check: every kind of math evidence needs a math font, a smaller (script) span, an
    italic span or a strong math character. Most prose lines have none and skip the full analysis."""
    sizes = [s.size for s in line.spans if s.text.strip()]
    if not sizes:
        return False
    top = max(sizes)
    for span in line.spans:
        if span.italic or span.superscript or span.size < 0.9 * top or is_math_font(span.font):
            return True
    text = line.text
    return not text.isascii() and any(is_strong_math_char(ch) for ch in text)


def inline_math(line: Line) -> str:
    """The line's text with its math runs written as `$LaTeX$`; a line without math comes back as is.

    A run is a sequence of words that carry math evidence (math font, Greek or operator symbols,
    scripts on a math base, single italic variables outside italic prose), joined through operators
    to neighbouring math words and numbers; trailing sentence punctuation stays outside the dollars.
    Runs that would need several `\\text{}` characters (glyph soup, scripts in non-Latin prose) stay
    plain text.
    """
    if not _may_hold_math(line):
        return line.text
    items = _words(line)
    words = [it for it in items if isinstance(it, _Word)]
    in_run = dict(zip(map(id, words), _run_flags(words), strict=True))
    out: list[tuple[bool, str]] = []  # (is math, text)
    run: list[Span] = []
    pending_space = ""

    def close() -> None:
        nonlocal run
        if not run:
            return
        text = "".join(span_text(p) for p in run)
        trail = len(text) - len(text.rstrip(",.;:"))
        body = run
        if trail:
            last = run[-1]
            keep = len(last.text) - trail
            body = run[:-1] + ([_slice(last, 0, keep)] if keep > 0 else [])
        latex = lines_to_latex([Line(spans=body, bbox=line.bbox)]) if body else ""
        if latex and latex.count("\\text{") < 2:
            out.append((True, f"${latex}$"))
            out.append((False, text[len(text) - trail :]))
        else:
            out.append((False, text))
        run = []

    for item in items:
        if isinstance(item, str):
            if run:
                pending_space += item
            else:
                out.append((False, item))
            continue
        if in_run[id(item)]:
            run.extend(item.pieces)
            pending_space = ""
            continue
        close()
        out.append((False, pending_space + item.text))
        pending_space = ""
    close()
    out.append((False, pending_space))
    if not any(is_math for is_math, _ in out):
        return line.text
    # Once the line holds $...$ delimiters, a literal dollar sign ("$9.4 million") must be escaped.
    return "".join(t if is_math else t.replace("$", r"\$") for is_math, t in out)


# --------------------------------------------------------------------------------------- rules


def formula_rules(page, bbox: Rect, max_thickness: float = 2.0) -> list[Rect]:
    """Horizontal rules (fraction bars, radical overbars) drawn inside `bbox` on a PyMuPDF page."""
    import pymupdf

    clip = pymupdf.Rect(bbox)
    rules: list[Rect] = []
    for path in page.get_drawings():
        for item in path.get("items", ()):
            if item[0] == "l":
                p, q = item[1], item[2]
                if abs(p.y - q.y) <= 0.5 and abs(p.x - q.x) > 2:
                    width = path.get("width") or 0.5
                    r = pymupdf.Rect(min(p.x, q.x), p.y - width / 2, max(p.x, q.x), p.y + width / 2)
                else:
                    continue
            elif item[0] == "re":
                r = pymupdf.Rect(item[1])
                if not (r.height <= max_thickness and r.width > 2 and r.width > 3 * r.height):
                    continue
            else:
                continue
            mid = (r.y0 + r.y1) / 2
            overlap = min(r.x1, clip.x1) - max(r.x0, clip.x0)
            if clip.y0 <= mid <= clip.y1 and overlap >= 0.9 * r.width:
                rules.append((r.x0, r.y0, r.x1, r.y1))
    return rules
