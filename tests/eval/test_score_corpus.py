"""scripts/score_corpus.py's bookkeeping (no conversion runs here): speed from median run times,
runs added across corpora, and the issue's targets read off a report."""

from __future__ import annotations

from pathlib import Path

import pytest

from docpipe.eval.born_digital import FileInfo
from tests.conftest import load_script


@pytest.fixture(scope="module")
def score():
    return load_script("score_corpus")


def test_speed_uses_the_median_run_and_the_ratio_of_rates(score) -> None:
    sp = score.speed(30, {"docpipe": [1.0, 3.0, 2.0], "pymupdf4llm": [20.0, 10.0, 30.0]})
    assert sp["pages_per_s"] == {"docpipe": 15.0, "pymupdf4llm": 1.5}
    assert sp["ratio"] == pytest.approx(10.0)
    assert sp["runs"] == 3
    none = score.speed(0, {"docpipe": [0.0], "pymupdf4llm": [1.0]})
    assert none["pages_per_s"]["docpipe"] is None and none["ratio"] is None


def test_combined_speed_adds_the_same_run_of_each_corpus(score) -> None:
    def corpus(name: str, pages: int, ours: list[float], theirs: list[float]):
        c = score.Corpus(name, [FileInfo(Path(f"{name}.pdf"), pages, True)], None, [])
        c.runs = {"docpipe": score.ToolRuns(), "pymupdf4llm": score.ToolRuns()}
        c.runs["docpipe"].born_digital_seconds = ours
        c.runs["pymupdf4llm"].born_digital_seconds = theirs
        return c

    a = corpus("a", 10, [1.0, 9.0, 2.0], [5.0, 5.0, 5.0])
    b = corpus("b", 20, [1.0, 1.0, 1.0], [10.0, 20.0, 15.0])
    sp = score.combined_speed([a, b])
    assert sp["seconds"] == {"docpipe": [2.0, 10.0, 3.0], "pymupdf4llm": [15.0, 25.0, 20.0]}
    assert sp["pages"] == 30 and sp["pages_per_s"]["docpipe"] == 10.0


def _rows(ours: dict[str, tuple[int, ...]], theirs: dict[str, tuple[int, ...]]) -> list[dict]:
    from docpipe.eval.class_table import rows_to_dict, side_by_side
    from docpipe.eval.olmocr_bench import PassRate

    rows = side_by_side(
        {k: PassRate(*v) for k, v in ours.items()}, {k: PassRate(*v) for k, v in theirs.items()}
    )
    return rows_to_dict(rows, ("docpipe", "pymupdf4llm"))


def test_targets_read_pass_rates_classes_similarity_and_speed(score) -> None:
    report = {
        "corpora": {
            "realworld": {
                "checks": {
                    "rows": _rows(
                        {"tables": (9, 1), "text": (10, 0), "math": (0, 0, 2)},
                        {"tables": (9, 1), "text": (5, 5), "math": (0, 0, 2)},
                    )
                }
            },
            "dev": {
                "similarity": {"mean_all": {"docpipe": 0.96, "pymupdf4llm": 0.8}},
                "checks": {"rows": _rows({"present": (8, 2)}, {"present": (5, 5)})},
            },
        },
        "speed_all": {"ratio": 4.9},
    }
    got = {t["target"]: (t["met"], t["value"]) for t in score.targets(report)}
    # 19 of 20 scored checks pass, but the 2 skipped ones are not passes either.
    assert got["realworld checks >= 90%"] == (False, 19 / 22)
    assert got["realworld: above pymupdf4llm in every class"] == (False, ["math (not scored)", "tables"])
    assert got["dev similarity >= 0.95 (all files)"] == (True, 0.96)
    assert got["dev checks >= 90%"] == (False, 0.8)
    assert got["born-digital pages/s >= 5x pymupdf4llm"] == (False, 4.9)


def test_checks_naming_files_outside_the_run_are_left_out(score, capsys) -> None:
    from docpipe.eval.olmocr_bench import parse_test

    tests = [
        parse_test({"pdf": f"{doc}.pdf", "id": doc, "type": "present", "text": "x"}, "inline")
        for doc in ("kept", "gone")
    ]
    kept = score.scoped_tests(tests, [FileInfo(Path("kept.pdf"), 1, True)], "realworld")
    assert [t.id for t in kept] == ["kept"]
    assert "gone.pdf" in capsys.readouterr().err
