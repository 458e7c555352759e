"""TEDS: tree-edit-distance similarity between two tables (Zhong et al., 2020).

TEDS = 1 - TED(T_pred, T_truth) / max(|T_pred|, |T_truth|), with the tree `table > tr > td`.
Renaming one cell into another costs 1 when their row or column spans differ, otherwise the
normalized Levenshtein distance of their texts (0 in structure-only mode, "TEDS-S"). Insertions and
deletions cost 1 per node. Header flags and thead/tbody are not part of the tree: pipe tables
cannot express them, and a metric that compares pipe tables with HTML ones must not penalize that.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from docpipe.eval.tables import Table, extract_tables
from docpipe.eval.tree_edit import Node, tree_edit_distance


def table_tree(table: Table) -> Node:
    root = Node("table")
    for row in table.rows():
        tr = Node("tr")
        for c in row:
            tr.children.append(Node("td", data={"rowspan": c.rowspan, "colspan": c.colspan, "text": c.text}))
        root.children.append(tr)
    return root


def _rename_cost(structure_only: bool):
    def cost(a: Node, b: Node) -> float:
        if a.label != b.label:
            return 1.0
        if a.label != "td":
            return 0.0
        if a.data["rowspan"] != b.data["rowspan"] or a.data["colspan"] != b.data["colspan"]:
            return 1.0
        if structure_only:
            return 0.0
        return float(Levenshtein.normalized_distance(a.data["text"], b.data["text"]))

    return cost


def teds(pred: Table, truth: Table, structure_only: bool = False) -> float:
    """Similarity in [0, 1] of two tables; 1.0 means same structure and same cell texts."""
    t_pred, t_truth = table_tree(pred), table_tree(truth)
    distance = tree_edit_distance(t_pred, t_truth, _rename_cost(structure_only))
    return 1.0 - distance / max(t_pred.size(), t_truth.size())


@dataclass
class TableScores:
    """Table quality of one document: truth tables matched one-to-one with predicted ones."""

    n_truth: int
    n_pred: int
    n_matched: int
    # Mean over truth tables (unmatched ones score 0); None when the truth has no table.
    teds: float | None
    teds_struct: float | None


def _cell_text(table: Table) -> str:
    return " ".join(c.text for c in table.cells)


def document_table_scores(pred_md: str, truth_md: str, candidates: int = 2) -> TableScores:
    """TEDS of every truth table against its best predicted table, one prediction per truth.

    Full TEDS on every pair is quadratic in tables and each TEDS is quadratic in cells, so each
    truth table is only compared in full with the `candidates` predicted tables whose text is most
    alike; the pairs are then matched greedily from the best TEDS down.
    """
    pred_tables, truth_tables = extract_tables(pred_md), extract_tables(truth_md)
    if not truth_tables:
        return TableScores(0, len(pred_tables), 0, None, None)
    pairs: list[tuple[float, int, int]] = []
    pred_texts = [_cell_text(t) for t in pred_tables]
    for ti, truth in enumerate(truth_tables):
        truth_text = _cell_text(truth)
        ranked = sorted(
            range(len(pred_tables)),
            key=lambda pi: -Levenshtein.normalized_similarity(pred_texts[pi], truth_text),
        )
        for pi in ranked[:candidates]:
            pairs.append((teds(pred_tables[pi], truth), ti, pi))
    pairs.sort(key=lambda p: -p[0])
    used_truth: set[int] = set()
    used_pred: set[int] = set()
    content = [0.0] * len(truth_tables)
    structure = [0.0] * len(truth_tables)
    for score, ti, pi in pairs:
        if ti in used_truth or pi in used_pred:
            continue
        used_truth.add(ti)
        used_pred.add(pi)
        content[ti] = score
        structure[ti] = teds(pred_tables[pi], truth_tables[ti], structure_only=True)
    n = len(truth_tables)
    return TableScores(n, len(pred_tables), len(used_truth), sum(content) / n, sum(structure) / n)
