"""Character-level facts about math in PDF text layers: which fonts are math fonts, how the legacy
Symbol font encodes its glyphs, and how each character is written in LaTeX (KaTeX's dialect)."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Substrings of font names (lower case, subset prefix ignored) that only math typesetting uses:
# TeX's Computer Modern and AMS math fonts, Adobe Symbol, STIX, Cambria Math and the OpenType
# "...Math" families (Latin Modern Math, STIX Two Math, XITS Math, Asana Math), MathType's fonts.
MATH_FONT_HINTS = (
    "cmmi",
    "cmsy",
    "cmex",
    "cmbsy",
    "msam",
    "msbm",
    "eufm",
    "rsfs",
    "esint",
    "symbol",
    "stix",
    "cambria math",
    "cambriamath",
    "math",
    "mtsy",
    "mtex",
    "mt extra",
    "euclid",
)

# Adobe Symbol encoding, for Symbol-font text that extracts as the font's raw codes (ASCII letters,
# Latin-1, or U+F0xx private-use points) instead of Unicode. Codes not listed are ASCII-identical.
SYMBOL_ENCODING: dict[int, str] = {
    0x22: "∀", 0x24: "∃", 0x27: "∋", 0x2A: "∗", 0x2D: "−", 0x40: "≅", 0x5C: "∴", 0x5E: "⊥", 0x7E: "∼",
    0xA1: "ϒ", 0xA2: "′", 0xA3: "≤", 0xA4: "⁄", 0xA5: "∞", 0xA6: "ƒ", 0xAB: "↔", 0xAC: "←", 0xAD: "↑",
    0xAE: "→", 0xAF: "↓", 0xB0: "°", 0xB1: "±", 0xB2: "″", 0xB3: "≥", 0xB4: "×", 0xB5: "∝", 0xB6: "∂",
    0xB7: "•", 0xB8: "÷", 0xB9: "≠", 0xBA: "≡", 0xBB: "≈", 0xBC: "…", 0xC0: "ℵ", 0xC1: "ℑ", 0xC2: "ℜ",
    0xC3: "℘", 0xC4: "⊗", 0xC5: "⊕", 0xC6: "∅", 0xC7: "∩", 0xC8: "∪", 0xC9: "⊃", 0xCA: "⊇", 0xCB: "⊄",
    0xCC: "⊂", 0xCD: "⊆", 0xCE: "∈", 0xCF: "∉", 0xD0: "∠", 0xD1: "∇", 0xD5: "∏", 0xD6: "√", 0xD7: "⋅",
    0xD8: "¬", 0xD9: "∧", 0xDA: "∨", 0xDB: "⇔", 0xDC: "⇐", 0xDD: "⇑", 0xDE: "⇒", 0xDF: "⇓", 0xE1: "⟨",
    0xE5: "∑", 0xF1: "⟩", 0xF2: "∫",
}  # fmt: skip
_SYMBOL_LETTERS = "ΑΒΧΔΕΦΓΗΙϑΚΛΜΝΟΠΘΡΣΤΥςΩΞΨΖ"  # codes 0x41..0x5A
_symbol_lower = "αβχδεφγηιϕκλμνοπθρστυϖωξψζ"  # codes 0x61..0x7A
for _i, _ch in enumerate(_SYMBOL_LETTERS):
    SYMBOL_ENCODING[0x41 + _i] = _ch
for _i, _ch in enumerate(_symbol_lower):
    SYMBOL_ENCODING[0x61 + _i] = _ch


@lru_cache(maxsize=1024)  # a document has a few fonts, asked about for every span
def is_math_font(font: str) -> bool:
    name = font.split("+", 1)[-1].lower()
    return any(h in name for h in MATH_FONT_HINTS)


@lru_cache(maxsize=1024)
def is_symbol_font(font: str) -> bool:
    name = font.split("+", 1)[-1].lower().replace(" ", "")
    return name.startswith("symbol") or name.startswith("symbolmt")


def decode_symbol_font(text: str) -> str:
    """Symbol-font text as Unicode. Characters already outside the font's code range (a PDF with a
    proper ToUnicode map) pass through unchanged, and so do Latin-1 math signs ("×", "¬", "±"):
    they already are what the glyph shows, where reading them as raw codes would turn "×" into "⋅"."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xF020 <= code <= 0xF0FF:
            code -= 0xF000
        elif unicodedata.category(ch) == "Sm":
            out.append(ch)
            continue
        out.append(SYMBOL_ENCODING.get(code, ch) if code < 0x100 else ch)
    return "".join(out)


GREEK: dict[str, str] = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon", "ϵ": r"\epsilon",
    "ζ": r"\zeta", "η": r"\eta", "θ": r"\theta", "ϑ": r"\vartheta", "ι": r"\iota", "κ": r"\kappa",
    "λ": r"\lambda", "μ": r"\mu", "µ": r"\mu", "ν": r"\nu", "ξ": r"\xi", "ο": "o", "π": r"\pi",
    "ϖ": r"\varpi", "ρ": r"\rho", "ϱ": r"\varrho", "σ": r"\sigma", "ς": r"\varsigma", "τ": r"\tau",
    "υ": r"\upsilon", "φ": r"\varphi", "ϕ": r"\phi", "χ": r"\chi", "ψ": r"\psi", "ω": r"\omega",
    "Γ": r"\Gamma", "Δ": r"\Delta", "Θ": r"\Theta", "Λ": r"\Lambda", "Ξ": r"\Xi", "Π": r"\Pi",
    "Σ": r"\Sigma", "Υ": r"\Upsilon", "ϒ": r"\Upsilon", "Φ": r"\Phi", "Ψ": r"\Psi", "Ω": r"\Omega",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Χ": "X",
}  # fmt: skip

OPERATORS: dict[str, str] = {
    "∑": r"\sum", "∏": r"\prod", "∐": r"\coprod", "∫": r"\int", "∬": r"\iint", "∭": r"\iiint",
    "∮": r"\oint", "⋃": r"\bigcup", "⋂": r"\bigcap", "√": r"\surd", "∞": r"\infty", "∂": r"\partial",
    "∇": r"\nabla", "±": r"\pm", "∓": r"\mp", "×": r"\times", "÷": r"\div", "·": r"\cdot", "⋅": r"\cdot",
    "∙": r"\cdot", "•": r"\bullet", "∘": r"\circ", "−": "-", "–": "-", "∗": "*", "⁄": "/", "∕": "/",
    "≤": r"\leq", "≥": r"\geq", "≦": r"\leqq", "≧": r"\geqq", "≪": r"\ll", "≫": r"\gg", "≠": r"\neq",
    "≈": r"\approx", "≅": r"\cong", "≡": r"\equiv", "∼": r"\sim", "≃": r"\simeq", "∝": r"\propto",
    "≜": r"\triangleq", "≔": r"\coloneqq", "→": r"\to", "←": r"\leftarrow", "↔": r"\leftrightarrow",
    "↑": r"\uparrow", "↓": r"\downarrow", "⇒": r"\Rightarrow", "⇐": r"\Leftarrow",
    "⇔": r"\Leftrightarrow", "⇑": r"\Uparrow", "⇓": r"\Downarrow", "↦": r"\mapsto",
    "⟶": r"\longrightarrow", "∈": r"\in", "∉": r"\notin", "∋": r"\ni", "⊂": r"\subset", "⊃": r"\supset",
    "⊆": r"\subseteq", "⊇": r"\supseteq", "⊄": r"\not\subset", "∪": r"\cup", "∩": r"\cap",
    "∖": r"\setminus", "∅": r"\emptyset", "∀": r"\forall", "∃": r"\exists", "∄": r"\nexists",
    "¬": r"\neg", "∧": r"\wedge", "∨": r"\vee", "⊕": r"\oplus", "⊗": r"\otimes", "⊥": r"\perp",
    "∥": r"\parallel", "∠": r"\angle", "∴": r"\therefore", "ℵ": r"\aleph", "ℑ": r"\Im", "ℜ": r"\Re",
    "℘": r"\wp", "ℓ": r"\ell", "ℏ": r"\hbar", "ħ": r"\hbar", "′": "'", "″": "''", "‴": "'''",
    "…": r"\ldots", "⋯": r"\cdots", "⋮": r"\vdots", "⋱": r"\ddots", "⟨": r"\langle", "〈": r"\langle",
    "⟩": r"\rangle", "〉": r"\rangle", "‖": r"\|", "⌈": r"\lceil", "⌉": r"\rceil", "⌊": r"\lfloor",
    "⌋": r"\rfloor", "°": r"^{\circ}", "†": r"\dagger", "‡": r"\ddagger", "ƒ": "f", "ℝ": r"\mathbb{R}",
    "ℕ": r"\mathbb{N}", "ℤ": r"\mathbb{Z}", "ℚ": r"\mathbb{Q}", "ℂ": r"\mathbb{C}", "ℙ": r"\mathbb{P}",
    "ℰ": r"\mathcal{E}", "ℒ": r"\mathcal{L}", "ℋ": r"\mathcal{H}", "ℱ": r"\mathcal{F}",
    "{": r"\{", "}": r"\}", "#": r"\#", "$": r"\$", "%": r"\%", "&": r"\&", "_": r"\_", "\\": r"\backslash",
    "^": r"\wedge", "~": r"\sim", "|": "|",
}  # fmt: skip

# Operators that take limits above and below in display math.
BIG_OPERATORS = frozenset("∑∏∐⋃⋂")
FUNCTION_NAMES = frozenset(
    "sin cos tan cot sec csc sinh cosh tanh coth arcsin arccos arctan log ln lg exp lim liminf limsup "
    "max min sup inf det dim ker arg deg gcd hom Pr".split()
)

_ALPHANUM_STYLES = (
    ("DOUBLE-STRUCK", r"\mathbb"),
    ("FRAKTUR", r"\mathfrak"),
    ("SCRIPT", r"\mathcal"),
    ("BOLD", r"\mathbf"),
)


def char_latex(ch: str) -> str:
    """One character as LaTeX: Greek and operators as commands, specials escaped, math alphanumeric
    symbols (U+1D400..) as their letter in the matching style."""
    if ch in GREEK:
        return GREEK[ch]
    if ch in OPERATORS:
        return OPERATORS[ch]
    if ch.isascii():
        return ch
    if 0x1D400 <= ord(ch) <= 0x1D7FF:
        base = unicodedata.normalize("NFKC", ch)
        inner = char_latex(base) if base != ch else base
        name = unicodedata.name(ch, "")
        for marker, command in _ALPHANUM_STYLES:
            if marker in name and base.isascii():
                return f"{command}{{{inner}}}"
        return inner
    folded = unicodedata.normalize("NFKC", ch)
    if folded != ch and folded.isascii():
        return folded
    if ch.isspace():
        return " "
    return rf"\text{{{ch}}}"


def is_strong_math_char(ch: str) -> bool:
    """Characters that prose practically never uses: Greek, non-ASCII math symbols and arrows, math
    alphanumerics."""
    if ch == "µ":  # the micro sign: units in prose ("5 µm")
        return False
    if ch in GREEK or 0x1D400 <= ord(ch) <= 0x1D7FF:
        return True
    if ch.isascii() or ch in "–—•·°′″…†‡⁄":
        return False
    return ch in OPERATORS or unicodedata.category(ch) == "Sm"
