"""Union-find over 0..n-1: the clustering primitive behind table grids, rule networks and formula
fragments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


class DisjointSet:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]  # path halving
            i = parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        self.parent[self.find(i)] = self.find(j)

    def groups(self, items: Sequence[T]) -> list[list[T]]:
        """`items` (indexed like the set) grouped by component, in order of first appearance."""
        out: dict[int, list[T]] = {}
        for i, item in enumerate(items):
            out.setdefault(self.find(i), []).append(item)
        return list(out.values())
