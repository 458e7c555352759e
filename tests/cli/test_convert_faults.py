"""`docpipe convert` facing operator and archive faults: usage errors before any work, failed
inputs named in the summary, and OUT never read back as input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pymupdf
from PIL import Image

from docpipe.cli.main import main
from docpipe.scheduler.out_lock import OutLock
from docpipe.sources import discover


def _convert(args: list[str]) -> int:
    return main(["convert", "-q", "--workers", "1", *args])


def test_an_output_folder_that_is_a_file_is_a_usage_error(pdfs, tmp_path, capsys):
    out = tmp_path / "out.txt"
    out.write_text("a file")
    assert _convert([str(pdfs["two_column"]), "-o", str(out)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert out.read_text() == "a file"
    state = tmp_path / "out"
    state.mkdir()
    (state / ".docpipe").write_text("a file")
    assert _convert([str(pdfs["two_column"]), "-o", str(state)]) == 2
    assert ".docpipe: its state folder is a file" in capsys.readouterr().err
    assert not list(state.glob("*.json"))


def test_an_output_folder_in_use_is_a_usage_error_naming_the_owner(pdfs, tmp_path, capsys):
    import os

    out = tmp_path / "out"
    with OutLock(out):
        assert _convert([str(pdfs["two_column"]), "-o", str(out)]) == 2
    assert f"in use by another docpipe run (PID {os.getpid()})" in capsys.readouterr().err
    assert not list(out.glob("*.json"))
    assert _convert([str(pdfs["two_column"]), "-o", str(out)]) == 0  # released


def test_a_missing_input_is_refused_before_any_work(pdfs, tmp_path, capsys):
    out = tmp_path / "out"
    assert _convert([str(pdfs["two_column"]), str(tmp_path / "missing.pdf"), "-o", str(out)]) == 2
    assert "missing.pdf: no such file or folder" in capsys.readouterr().err
    assert not (out / "two_column.json").exists()


def test_every_failure_line_names_its_file(pdfs, tmp_path, capsys):
    d = tmp_path / "in"
    d.mkdir()
    for name in ("truncated", "encrypted", "two_column"):
        shutil.copy(pdfs[name], d)
    assert _convert([str(d), "-o", str(tmp_path / "out")]) == 1
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("  ")]
    assert len(lines) == 2
    assert any("truncated.pdf" in ln for ln in lines) and any("encrypted.pdf" in ln for ln in lines)
    assert all(str(d) in ln for ln in lines)


def test_an_unreadable_subfolder_fails_the_run_and_is_named(pdfs, tmp_path, capsys, monkeypatch):
    d = tmp_path / "in"
    (d / "locked").mkdir(parents=True)
    shutil.copy(pdfs["two_column"], d)
    real_scandir = discover.os.scandir

    def scandir(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(discover.os, "scandir", scandir)
    assert _convert([str(d), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "1 converted" in err and "1 failed" in err
    assert f"{d / 'locked'}: cannot read the folder: Permission denied" in err


def test_an_output_folder_inside_the_input_folder_is_never_converted(tmp_path, capsys):
    d = tmp_path / "in"
    d.mkdir()
    photo = tmp_path / "photo.png"
    Image.new("RGB", (400, 300), (200, 30, 30)).save(photo)
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "A report with a photograph below.", fontsize=12)
    page.insert_image(pymupdf.Rect(72, 100, 472, 400), filename=str(photo))
    doc.save(d / "report.pdf")
    out = d / "out"
    assert _convert([str(d), "-o", str(out)]) == 0
    assert list((out / "report_images").iterdir())  # the figure was extracted into the input tree
    capsys.readouterr()
    assert _convert([str(d), "-o", str(out)]) == 0
    assert "0 converted (0 partial), 1 skipped" in capsys.readouterr().err
    assert sorted(p.name for p in out.glob("*.json")) == ["report.json"]
