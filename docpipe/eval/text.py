"""Text similarity between a prediction and a reference, after Markdown-aware normalization.

Both sides go through the same normalization (entities decoded, Unicode NFC, HTML tags and Markdown
punctuation dropped, whitespace collapsed), so the score measures recognised content and reading order, not
formatting choices such as `##` versus `###` or pipe versus HTML tables.
"""

from __future__ import annotations

import html
import re
import unicodedata

from rapidfuzz.distance import Levenshtein

_TAG = re.compile(r"<[^>]+>")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_PUNCT = re.compile(r"[#*_`|~>\-=+\[\]()!:\\]+")
_SPACE = re.compile(r"\s+")


def normalize_markdown(text: str) -> str:
    # entities first: Markdown shows `&lt;b>` as `<b>`, so both spellings compare alike
    text = unicodedata.normalize("NFC", html.unescape(text))
    text = _IMAGE.sub(" ", text)
    text = _TAG.sub(" ", text)
    text = _MD_PUNCT.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def normalized_edit_similarity(pred: str, truth: str) -> float:
    """1 - (Levenshtein distance / length of the longer string), on normalized text; 1.0 is identical."""
    a, b = normalize_markdown(pred), normalize_markdown(truth)
    if not a and not b:
        return 1.0
    return float(Levenshtein.normalized_similarity(a, b))


def char_error_rate(pred: str, truth: str) -> float:
    """Character error rate: Levenshtein edits on normalized text / normalized truth length.

    Unlike the similarity it is anchored on the truth, so it can exceed 1.0 when the prediction
    carries a lot of extra text; an empty truth scores 0.0 against an empty prediction, else 1.0.
    """
    a, b = normalize_markdown(pred), normalize_markdown(truth)
    if not b:
        return 0.0 if not a else 1.0
    return Levenshtein.distance(a, b) / len(b)


def word_error_rate(pred: str, truth: str) -> float:
    """Word error rate: word-level Levenshtein edits / number of truth words, on normalized text."""
    a, b = normalize_markdown(pred).split(), normalize_markdown(truth).split()
    if not b:
        return 0.0 if not a else 1.0
    return Levenshtein.distance(a, b) / len(b)
