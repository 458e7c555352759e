"""Ordered tree edit distance (Zhang and Shasha, 1989) with caller-supplied rename costs.

Zhang-Shasha runs in O(|T1| |T2| min(depth, leaves)^2); table trees are three levels deep, so this
is close to quadratic in the node counts, which is what TEDS on document tables needs. Insert and
delete cost 1 per node; rename costs come from a function so that TEDS can compare cell content.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Node:
    label: str
    children: list[Node] = field(default_factory=list)
    # Free-form payload the rename cost may read (TEDS puts cell spans and text here).
    data: dict = field(default_factory=dict)

    def size(self) -> int:
        return 1 + sum(c.size() for c in self.children)


def _postorder(root: Node) -> tuple[list[Node], list[int]]:
    """Nodes in post-order and, per node, the post-order index of its leftmost leaf."""
    nodes: list[Node] = []
    leftmost: list[int] = []

    def walk(node: Node) -> int:
        first_leaf = -1
        for child in node.children:
            leaf = walk(child)
            if first_leaf < 0:
                first_leaf = leaf
        nodes.append(node)
        index = len(nodes) - 1
        leftmost.append(index if first_leaf < 0 else first_leaf)
        return leftmost[index]

    # Iterative depth would be nicer, but document trees are shallow (table > tr > td).
    walk(root)
    return nodes, leftmost


def _keyroots(leftmost: list[int]) -> list[int]:
    # The highest node for each distinct leftmost leaf: the root plus every node with a left sibling.
    last: dict[int, int] = {}
    for i, leaf in enumerate(leftmost):
        last[leaf] = i
    return sorted(last.values())


def tree_edit_distance(
    t1: Node,
    t2: Node,
    rename_cost: Callable[[Node, Node], float],
    indel_cost: float = 1.0,
) -> float:
    """Minimum total cost of node deletions, insertions and renames turning t1 into t2."""
    n1, l1 = _postorder(t1)
    n2, l2 = _postorder(t2)
    treedist = [[0.0] * len(n2) for _ in range(len(n1))]
    rename_cache: dict[tuple[int, int], float] = {}

    def rename(x: int, y: int) -> float:
        key = (x, y)
        if key not in rename_cache:
            rename_cache[key] = rename_cost(n1[x], n2[y])
        return rename_cache[key]

    for i in _keyroots(l1):
        for j in _keyroots(l2):
            li, lj = l1[i], l2[j]
            rows, cols = i - li + 2, j - lj + 2
            fd = [[0.0] * cols for _ in range(rows)]
            for di in range(1, rows):
                fd[di][0] = fd[di - 1][0] + indel_cost
            for dj in range(1, cols):
                fd[0][dj] = fd[0][dj - 1] + indel_cost
            for x in range(li, i + 1):
                di = x - li + 1
                row, prev = fd[di], fd[di - 1]
                x_is_tree = l1[x] == li
                p = l1[x] - li
                for y in range(lj, j + 1):
                    dj = y - lj + 1
                    delete = prev[dj] + indel_cost
                    insert = row[dj - 1] + indel_cost
                    if x_is_tree and l2[y] == lj:
                        best = min(delete, insert, prev[dj - 1] + rename(x, y))
                        row[dj] = best
                        treedist[x][y] = best
                    else:
                        row[dj] = min(delete, insert, fd[p][l2[y] - lj] + treedist[x][y])
    return treedist[len(n1) - 1][len(n2) - 1]
