"""Text drawn twice at the same place: fake bold, shadows, and producers that lay a second, partial
copy of the text over the first. A reader sees it once; extracted as is, every cell of a table reads
"Kruger Kruger" and every heading comes out twice.

A line is such a copy when another line on the same baseline covers most of its width and holds
all of its characters in the same order ("O t 3" under "Oct 3", "140 000" under "140,000"). Text
side by side never overlaps like that, so nothing a reader sees twice is lost.
"""

from __future__ import annotations

from docpipe.model.raw import Line

COVER = 0.8  # share of the copy's width the other line must cover
SAME_BASELINE = 0.3  # centres closer than this share of the line height


def _compact(text: str) -> str:
    return "".join(text.split())


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def _covers(keep: Line, other: Line) -> bool:
    """Whether `other` is a copy of (part of) `keep`."""
    kx0, ky0, kx1, ky1 = keep.bbox
    ox0, oy0, ox1, oy1 = other.bbox
    height = max(ky1 - ky0, oy1 - oy0, 1.0)
    if abs((ky0 + ky1) - (oy0 + oy1)) / 2 > SAME_BASELINE * height:
        return False
    if min(kx1, ox1) - max(kx0, ox0) < COVER * max(ox1 - ox0, 0.1):
        return False
    short, long = _compact(other.text), _compact(keep.text)
    return 0 < len(short) <= len(long) and _subsequence(short, long)


def drop_overprints(lines: list[Line]) -> list[Line]:
    """`lines` without the copies of text drawn again over itself; order kept."""
    if len(lines) < 2:
        return lines
    order = sorted(range(len(lines)), key=lambda k: (lines[k].bbox[1] + lines[k].bbox[3]) / 2)
    dropped: set[int] = set()
    for pos, k in enumerate(order):
        ln = lines[k]
        cy = (ln.bbox[1] + ln.bbox[3]) / 2
        reach = ln.bbox[3] - ln.bbox[1]
        for j in order[pos + 1 :]:
            other = lines[j]
            if (other.bbox[1] + other.bbox[3]) / 2 - cy > reach:
                break
            if j in dropped or k in dropped or ln.vertical or other.vertical:
                continue
            # the longer line stays; of two equal ones, the first drawn
            first, second = (k, j) if k < j else (j, k)
            a, b = lines[first], lines[second]
            if len(_compact(a.text)) >= len(_compact(b.text)):
                if _covers(a, b):
                    dropped.add(second)
            elif _covers(b, a):
                dropped.add(first)
    if not dropped:
        return lines
    return [ln for k, ln in enumerate(lines) if k not in dropped]
