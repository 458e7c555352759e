"""Detect the repetition loops VLM decoders fall into (the same phrase until the token limit)."""

from __future__ import annotations


def periodic_tail(text: str, max_period: int = 400, window: int = 6000) -> tuple[int, int]:
    """(period, covered chars) of the longest exactly-repeating suffix, (0, 0) when there is none.

    A suffix counts when the same `period` characters repeat back to back at least 3 times."""
    tail = text[-window:]
    n = len(tail)
    best = (0, 0)
    for p in range(1, min(max_period, n // 3) + 1):
        k = n - p
        while k > 0 and tail[k - 1] == tail[k - 1 + p]:
            k -= 1
        covered = n - k
        if covered >= 3 * p and covered > best[1]:
            best = (p, covered)
    return best


def is_repetition_loop(text: str, finished: bool, min_chars: int = 200, hard_chars: int = 3000) -> bool:
    """A loop: the output did not end with EOS and its tail repeats for at least `min_chars`; or it
    repeats for `hard_chars` even with EOS (an n-gram blocker may have broken the loop too late)."""
    if len(text) < min_chars:
        return False
    _, covered = periodic_tail(text.rstrip())
    return covered >= hard_chars or (not finished and covered >= min_chars)
