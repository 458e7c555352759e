"""Tree edit distance and TEDS against hand-computed values."""

from __future__ import annotations

import itertools

import pytest

from docpipe.eval.tables import extract_tables, parse_html_tables, parse_markdown_tables
from docpipe.eval.teds import document_table_scores, teds
from docpipe.eval.tree_edit import Node, tree_edit_distance


def _tree(spec) -> Node:
    label, *children = spec if isinstance(spec, tuple) else (spec,)
    return Node(label, [_tree(c) for c in children])


def _label_cost(a: Node, b: Node) -> float:
    return 0.0 if a.label == b.label else 1.0


def test_zhang_shasha_textbook_example() -> None:
    # f(d(a, c(b)), e) -> f(c(d(a, b)), e): delete c above b, insert c above d: distance 2.
    t1 = _tree(("f", ("d", "a", ("c", "b")), "e"))
    t2 = _tree(("f", ("c", ("d", "a", "b")), "e"))
    assert tree_edit_distance(t1, t2, _label_cost) == 2
    assert tree_edit_distance(t2, t1, _label_cost) == 2


def test_tree_edit_distance_basic_operations() -> None:
    a = _tree(("r", "x", "y"))
    assert tree_edit_distance(a, a, _label_cost) == 0
    assert tree_edit_distance(a, _tree(("r", "x", "z")), _label_cost) == 1  # rename
    assert tree_edit_distance(a, _tree(("r", "x")), _label_cost) == 1  # delete
    assert tree_edit_distance(_tree("r"), a, _label_cost) == 2  # insert two leaves
    # Sibling order matters: swapping two different leaves costs two renames.
    assert tree_edit_distance(a, _tree(("r", "y", "x")), _label_cost) == 2


def _brute_force_forest_distance(f1: list, f2: list) -> int:
    """Reference recursion on forests (exponential, fine for tiny trees)."""
    if not f1 and not f2:
        return 0
    if not f1:
        return sum(_size(t) for t in f2)
    if not f2:
        return sum(_size(t) for t in f1)
    (l1, c1), (l2, c2) = f1[-1], f2[-1]
    return min(
        _brute_force_forest_distance(f1[:-1] + c1, f2) + 1,
        _brute_force_forest_distance(f1, f2[:-1] + c2) + 1,
        _brute_force_forest_distance(c1, c2) + _brute_force_forest_distance(f1[:-1], f2[:-1]) + (l1 != l2),
    )


def _size(t) -> int:
    return 1 + sum(_size(c) for c in t[1])


def _as_pairs(node: Node):
    return (node.label, [_as_pairs(c) for c in node.children])


def test_zhang_shasha_matches_brute_force_on_small_trees() -> None:
    shapes = [
        ("a", ("b", "c"), "d"),
        ("a", "b", ("c", "d")),
        ("a", ("b", ("c", "d"))),
        ("b", "a", "c", "d"),
        ("a", ("c", "b")),
    ]
    for s1, s2 in itertools.product(shapes, repeat=2):
        t1, t2 = _tree(s1), _tree(s2)
        expected = _brute_force_forest_distance([_as_pairs(t1)], [_as_pairs(t2)])
        assert tree_edit_distance(t1, t2, _label_cost) == expected, (s1, s2)


def _html(body: str):
    return parse_html_tables(f"<table>{body}</table>")[0]


TABLE = "<tr><th>h1</th><th>h2</th></tr><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr>"


def test_teds_identical() -> None:
    assert teds(_html(TABLE), _html(TABLE)) == 1.0


def test_teds_missing_row() -> None:
    # Truth: table + 3 tr + 6 td = 10 nodes; the prediction lacks one tr and its 2 td: 3 deletions.
    missing = "<tr><th>h1</th><th>h2</th></tr><tr><td>a</td><td>b</td></tr>"
    assert teds(_html(missing), _html(TABLE)) == pytest.approx(1 - 3 / 10)


def test_teds_one_cell_text_edit() -> None:
    # One td renamed with normalized Levenshtein 1/4 ("abcd" -> "abce"); 3 nodes.
    assert teds(_html("<tr><td>abce</td></tr>"), _html("<tr><td>abcd</td></tr>")) == pytest.approx(
        1 - 0.25 / 3
    )
    assert teds(_html("<tr><td>abce</td></tr>"), _html("<tr><td>abcd</td></tr>"), structure_only=True) == 1.0


def test_teds_span_moved() -> None:
    # Truth: [A colspan=2, B] / [C, D, E]; prediction puts the span on B instead.
    # 8 nodes; A and B each differ in colspan: 2 renames of cost 1.
    truth = _html('<tr><td colspan="2">A</td><td>B</td></tr><tr><td>C</td><td>D</td><td>E</td></tr>')
    pred = _html('<tr><td>A</td><td colspan="2">B</td></tr><tr><td>C</td><td>D</td><td>E</td></tr>')
    assert teds(pred, truth) == pytest.approx(1 - 2 / 8)
    assert teds(pred, truth, structure_only=True) == pytest.approx(1 - 2 / 8)


def test_teds_reordered_rows() -> None:
    # Rows [a,b] and [c,d] swapped: 4 cell renames of cost 1 each, out of 7 nodes.
    truth = _html("<tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr>")
    pred = _html("<tr><td>c</td><td>d</td></tr><tr><td>a</td><td>b</td></tr>")
    assert teds(pred, truth) == pytest.approx(1 - 4 / 7)


def test_pipe_table_equals_same_html_table() -> None:
    md = "| h1 | h2 |\n|---|---|\n| a | b |\n| c | d |\n"
    (pipe,) = parse_markdown_tables(md)
    assert teds(pipe, _html(TABLE)) == 1.0


def test_document_table_scores_matching() -> None:
    truth = f"text\n\n<table>{TABLE}</table>\n\n| x | y |\n|---|---|\n| 1 | 2 |\n"
    # Prediction has the second table only, written as HTML, plus an unrelated extra table.
    pred = (
        "<table><tr><td>x</td><td>y</td></tr><tr><td>1</td><td>2</td></tr></table>\n\n| q |\n|---|\n| r |\n"
    )
    scores = document_table_scores(pred, truth)
    assert (scores.n_truth, scores.n_pred, scores.n_matched) == (2, 2, 2)
    # The xy table is perfect; the other truth table gets the leftover 1-column table.
    leftover = teds(extract_tables("| q |\n|---|\n| r |")[0], _html(TABLE))
    assert scores.teds == pytest.approx((1.0 + leftover) / 2)
    assert document_table_scores("no tables", truth).teds == 0.0
    assert document_table_scores(pred, "no tables").teds is None
