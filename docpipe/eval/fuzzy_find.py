"""Approximate substring search: where can a pattern start in a text within k edits?

Sellers' algorithm: the Levenshtein table with a free start anywhere in the text. Each pattern row
is computed for the whole text at once with numpy (the in-row insertion chain is a running minimum),
so a search costs len(pattern) vectorized passes over the text instead of a Python double loop.
"""

from __future__ import annotations

import numpy as np


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def _match_ends(pattern: str, text: str, max_edits: int) -> np.ndarray:
    """Exclusive end offsets e such that some text[s:e] is within max_edits of pattern."""
    p, t = _codes(pattern), _codes(text)
    n = len(t)
    positions = np.arange(n + 1, dtype=np.int64)
    row = np.zeros(n + 1, dtype=np.int64)  # row 0: an empty pattern matches everywhere for free
    for i, ch in enumerate(p, start=1):
        best = np.empty(n + 1, dtype=np.int64)
        best[0] = i
        # Substitution/match from the diagonal, or deleting the pattern char (from above).
        best[1:] = np.minimum(row[:-1] + (t != ch), row[1:] + 1)
        # Insertions of text chars: D[j] = min over l <= j of best[l] + (j - l).
        row = np.minimum.accumulate(best - positions) + positions
    return np.nonzero(row <= max_edits)[0]


def match_starts(pattern: str, text: str, max_edits: int = 0) -> list[int]:
    """Sorted start offsets of the substrings of text within max_edits edits of pattern."""
    if not pattern:
        return []
    if max_edits <= 0:
        starts, at = [], text.find(pattern)
        while at >= 0:
            starts.append(at)
            at = text.find(pattern, at + 1)
        return starts
    # Ends in the reversed text are starts in the original text.
    ends = _match_ends(pattern[::-1], text[::-1], max_edits)
    return sorted(int(len(text) - e) for e in ends if e > 0)
