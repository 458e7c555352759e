"""Text metrics against hand-computed values."""

from __future__ import annotations

import pytest

from docpipe.eval.text import char_error_rate, normalize_markdown, normalized_edit_similarity, word_error_rate


def test_identical_text_is_perfect() -> None:
    text = "## Title\n\nSome **bold** words."
    assert char_error_rate(text, text) == 0.0
    assert word_error_rate(text, text) == 0.0
    assert normalized_edit_similarity(text, text) == 1.0


def test_one_character_edit() -> None:
    # "hello world" has 11 characters and 2 words; one substitution.
    assert char_error_rate("hello worle", "hello world") == pytest.approx(1 / 11)
    assert word_error_rate("hello worle", "hello world") == pytest.approx(1 / 2)
    assert normalized_edit_similarity("hello worle", "hello world") == pytest.approx(10 / 11)


def test_reordered_paragraphs() -> None:
    # "abc def" -> "def abc": substitute a,b,c and d,e,f (6 edits, the space aligns) out of 7 chars;
    # word level: both words substituted, 2 edits out of 2 words.
    pred, truth = "def\n\nabc", "abc\n\ndef"
    assert char_error_rate(pred, truth) == pytest.approx(6 / 7)
    assert word_error_rate(pred, truth) == pytest.approx(1.0)


def test_markdown_punctuation_and_whitespace_ignored() -> None:
    assert char_error_rate("# Heading\n\n* item   one", "Heading item one") == 0.0
    assert word_error_rate("| a | b |\n|---|---|\n| c | d |", "a b c d") == 0.0
    # NFC: e + combining acute equals precomposed é.
    assert char_error_rate("caf\u0065\u0301", "caf\u00e9") == 0.0


def test_missing_and_extra_text() -> None:
    assert char_error_rate("", "abcd") == 1.0
    assert word_error_rate("", "a b c d") == 1.0
    # Extra words count as insertions and can push the rate above 1.
    assert word_error_rate("a b c d e f", "a b") == pytest.approx(2.0)
    assert char_error_rate("", "") == 0.0
    assert char_error_rate("x", "") == 1.0


def test_existing_functions_unchanged() -> None:
    assert normalize_markdown("**Bold** [link](x) `code`") == "Bold link x code"
    assert normalized_edit_similarity("", "") == 1.0
    assert normalized_edit_similarity("abcd", "abce") == pytest.approx(0.75)
