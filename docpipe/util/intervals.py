"""Intervals on a line (x-extents of text), shared by the table readers."""

from __future__ import annotations

from collections.abc import Iterable


def merge_overlapping(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """The union of the spans, as disjoint intervals from left to right (touching spans merge)."""
    merged: list[list[float]] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]
