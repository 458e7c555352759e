"""Cell and adjacency F1 of predicted tables against truth grids."""

from __future__ import annotations

import json
from pathlib import Path

from docpipe.eval.cell_f1 import adjacency, best_match, f1, load_truth, normalize_cell, table_grid
from docpipe.eval.tables import parse_html_tables

TRUTH = [["Name", "Age"], ["Ann", "30"], ["Bob", "41"]]


def test_identical_tables_score_one() -> None:
    score = best_match(TRUTH, [[["x", "y"]], [r[:] for r in TRUTH]])
    assert (score.cell_f1, score.adjacency_f1, score.index) == (1.0, 1.0, 1)


def test_merged_columns_keep_no_cells_and_lose_adjacency() -> None:
    merged = [["Name Age"], ["Ann 30"], ["Bob 41"]]
    score = best_match(TRUTH, [merged])
    assert score.cell_f1 == 0.0 and score.adjacency_f1 == 0.0


def test_split_table_keeps_cells_of_one_part_only() -> None:
    top, bottom = TRUTH[:2], TRUTH[2:]
    score = best_match(TRUTH, [top, bottom])
    assert score.index == 0
    assert 0.5 < score.cell_f1 < 1.0
    # Ann-Bob and 30-41 are lost; so are Bob-41's cells
    assert score.adjacency_f1 < score.cell_f1


def test_adjacency_skips_empty_slots() -> None:
    pairs = adjacency([["a", "", "b"], ["", "", ""], ["c", "", "d"]])
    assert pairs == {("a", "b", "h"): 1, ("c", "d", "h"): 1, ("a", "c", "v"): 1, ("b", "d", "v"): 1}


def test_normalization_ignores_space_case_and_emphasis() -> None:
    assert normalize_cell("**Annual\nincome**") == normalize_cell("annual income") == "annualincome"
    assert normalize_cell("ﬁ 1") == "fi1"


def test_html_spans_put_text_in_the_top_left_slot() -> None:
    (table,) = parse_html_tables(
        '<table><tr><td colspan="2">A</td></tr><tr><td>b</td><td>c</td></tr></table>'
    )
    assert table_grid(table) == [["A", ""], ["b", "c"]]


def test_f1_of_empty_sets() -> None:
    assert f1(adjacency([]), adjacency([])) == 1.0
    assert f1(adjacency([["a", "b"]]), adjacency([])) == 0.0


def test_load_truth_csv_and_json(tmp_path: Path) -> None:
    csv_path = tmp_path / "t.csv"
    csv_path.write_text('a,"b\nc"\n1,2\n', encoding="utf-8")
    assert load_truth(csv_path) == [[["a", "b\nc"], ["1", "2"]]]
    json_path = tmp_path / "t.json"
    tables = [{"data": [[{"text": "x"}, {"text": ""}]]}, {"data": [[{"text": "y"}]]}]
    json_path.write_text(json.dumps(tables), encoding="utf-8")
    assert load_truth(json_path) == [[["x", ""]], [["y"]]]
    json_path.write_text(json.dumps(tables[0]), encoding="utf-8")
    assert load_truth(json_path) == [[["x", ""]]]
