"""Walking the inputs: what cannot be read is reported, never skipped or raised as a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from docpipe.sources import discover
from docpipe.sources.discover import InputProblem, check_inputs, iter_inputs

needs_permissions = pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4\n")
    return path


def _split(items) -> tuple[list[Path], list[InputProblem]]:
    items = list(items)
    return [p for p in items if isinstance(p, Path)], [p for p in items if isinstance(p, InputProblem)]


def test_a_symlink_loop_is_one_failed_input_and_the_walk_goes_on(tmp_path):
    _touch(tmp_path / "in" / "a.pdf")
    _touch(tmp_path / "in" / "z.pdf")
    loop = tmp_path / "in" / "loop.pdf"
    loop.symlink_to(loop)
    (tmp_path / "in" / "ring1.pdf").symlink_to(tmp_path / "in" / "ring2.pdf")
    (tmp_path / "in" / "ring2.pdf").symlink_to(tmp_path / "in" / "ring1.pdf")
    (tmp_path / "in" / "sub").mkdir()
    (tmp_path / "in" / "sub" / "up").symlink_to(tmp_path / "in")  # a folder loop: not followed
    paths, problems = _split(iter_inputs([tmp_path / "in"]))
    assert [p.name for p in paths] == ["a.pdf", "z.pdf"]
    assert sorted(p.path.name for p in problems) == ["loop.pdf", "ring1.pdf", "ring2.pdf"]
    assert all("symlink loop" in p.message for p in problems)
    # named directly, a looping link is a failed input too, not a usage error or a traceback
    check_inputs([loop])
    assert "symlink loop" in _split(iter_inputs([loop]))[1][0].message


def test_an_unreadable_subfolder_is_named_not_skipped(tmp_path, monkeypatch):
    _touch(tmp_path / "in" / "a.pdf")
    _touch(tmp_path / "in" / "locked" / "b.pdf")
    _touch(tmp_path / "in" / "z" / "c.pdf")
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(discover.os, "scandir", scandir)
    paths, problems = _split(iter_inputs([tmp_path / "in"]))
    assert [p.name for p in paths] == ["a.pdf", "c.pdf"]
    assert len(problems) == 1
    assert problems[0].path == tmp_path / "in" / "locked"
    assert "cannot read the folder: Permission denied" in problems[0].message


@needs_permissions
def test_paths_and_globs_inside_an_unreadable_folder_are_failed_inputs(tmp_path):
    _touch(tmp_path / "in" / "locked" / "b.pdf")
    _touch(tmp_path / "in" / "a.pdf")
    locked = tmp_path / "in" / "locked"
    locked.chmod(0)
    try:
        inputs = [locked / "b.pdf", f"{locked}/*.pdf", tmp_path / "in"]
        check_inputs(inputs)  # exists, but unreadable: not a usage error
        paths, problems = _split(iter_inputs(inputs))
        assert [p.name for p in paths] == ["a.pdf"]
        assert len(problems) == 3
        assert all("Permission denied" in p.message for p in problems)
    finally:
        locked.chmod(0o755)


def test_docpipe_outputs_inside_an_input_folder_are_never_inputs(tmp_path):
    _touch(tmp_path / "in" / "doc.pdf")
    out = tmp_path / "in" / "out"
    _touch(out / ".docpipe" / "manifest.sqlite")
    _touch(out / "doc_images" / "p1-b2.png")
    _touch(out / "notes_images" / "fig.png")  # a user folder that only looks like ours
    _touch(tmp_path / "in" / "photos_images" / "cat.png")  # not in an output folder: an input
    paths, problems = _split(iter_inputs([tmp_path / "in"]))
    assert not problems
    assert sorted(p.relative_to(tmp_path / "in").as_posix() for p in paths) == [
        "doc.pdf",
        "photos_images/cat.png",
    ]
    globbed, _ = _split(iter_inputs([f"{tmp_path}/in/**/*.png"]))
    assert [p.name for p in globbed] == ["cat.png"]


def test_inputs_that_name_nothing_are_refused_before_any_work(tmp_path):
    _touch(tmp_path / "a.pdf")
    with pytest.raises(FileNotFoundError, match="missing.pdf"):
        check_inputs([tmp_path / "a.pdf", tmp_path / "missing.pdf"])
    with pytest.raises(FileNotFoundError, match="matches no file"):
        check_inputs([f"{tmp_path}/*.tiff"])
    check_inputs([tmp_path / "a.pdf", f"{tmp_path}/*.pdf"])
