"""The legacy Symbol font's codes: raw codes decode to the glyphs they draw, while text that a
ToUnicode map already turned into Unicode math signs keeps them."""

from __future__ import annotations

from docpipe.science.math_symbols import decode_symbol_font


def test_raw_symbol_codes_decode():
    assert decode_symbol_font("\uf0b4") == "×"  # private-use code of an embedded symbolic font
    assert decode_symbol_font("a") == "α"
    assert decode_symbol_font("\u00b4") == "×"  # the raw code, read as Latin-1


def test_unicode_math_signs_pass_through():
    assert decode_symbol_font("90 × 85") == "90 × 85"  # not the Symbol code 0xD7 (a dot operator)
    assert decode_symbol_font("¬ ± 1") == "¬ ± 1"
    assert decode_symbol_font("→ ≤") == "→ ≤"
