"""Faults an archive and an operator throw at a batch: colliding and over-long names, a full disk,
a password given after an encrypted PDF failed, a document whose summary line must name it."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from docpipe.config import load_config
from docpipe.model import DocumentStatus
from docpipe.outcome import DocOutcome
from docpipe.scheduler import batch
from docpipe.scheduler.batch import NAME_MAX_BYTES, _plan, manifest_key, run_batch
from docpipe.scheduler.manifest import Manifest


def _pdf(path: Path, src: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(src, path)
    return path


def test_a_file_named_like_anothers_disambiguated_name_gets_a_name_of_its_own(pdfs, tmp_path):
    src = pdfs["two_column"]
    root = tmp_path / "in"
    b = _pdf(root / "b" / "same.pdf", src)
    tag = hashlib.sha1(manifest_key(b).encode()).hexdigest()[:8]
    # walked first (a folder's files come before its subfolders), it takes b's hashed name
    _pdf(root / f"same-{tag}.pdf", src)
    _pdf(root / "a" / "same.pdf", src)
    manifest = Manifest(tmp_path / "out")
    planned = [item for item in _plan([root], manifest, load_config(), False, False)]
    names = [name for _, name, _ in planned]
    assert len(names) == 3 and len(set(names)) == 3
    assert names[:2] == [f"same-{tag}", "same"]
    assert names[2].startswith(f"same-{tag}-")
    manifest.close()


def test_a_file_name_near_255_bytes_converts_under_a_shortened_name(pdfs, tmp_path):
    long = "é" * 100 + "x" * 46 + ".pdf"  # 250 bytes in UTF-8
    assert len(long.encode()) == 250
    path = _pdf(tmp_path / "in" / long, pdfs["two_column"])
    out = tmp_path / "out"
    summary = run_batch([path], out, load_config())
    assert summary.ok, summary.failures
    (json_path,) = out.glob("*.json")
    name = json_path.name[: -len(".json")]
    assert len(name.encode()) <= NAME_MAX_BYTES
    assert name.startswith("é" * 95)
    assert not list(out.glob(".*.tmp"))


def _outcomes_with_a_full_disk(full_on: str):
    real = batch.convert_one

    def convert_one(path, out_dir, name, config, state, raw_windows=None):
        if Path(path).name == full_on:
            error = f"{path}: OSError: [Errno 28] No space left on device: '{out_dir}/.x.tmp'"
            return DocOutcome(path, name, DocumentStatus.failed, error=error)
        return real(path, out_dir, name, config, state, raw_windows)

    return convert_one


def test_a_full_disk_stops_the_batch_with_a_summary_and_loses_nothing(pdfs, tmp_path, monkeypatch):
    paths = [_pdf(tmp_path / "in" / f"{c}.pdf", pdfs["two_column"]) for c in "abc"]
    out = tmp_path / "out"
    monkeypatch.setattr(batch, "convert_one", _outcomes_with_a_full_disk("b.pdf"))
    summary = run_batch([tmp_path / "in"], out, load_config())
    assert summary.disk_full and "No space left on device" in summary.disk_full
    assert not summary.ok
    assert [Path(o.path).name for o in summary.outcomes] == ["a.pdf"]
    db = sqlite3.connect(out / ".docpipe" / "manifest.sqlite")
    rows = dict(db.execute("SELECT name, status FROM documents").fetchall())
    db.close()
    # b is not recorded as failed (a rerun would skip it); c was never started
    assert rows == {"a": "ok", "b": "running"}
    monkeypatch.undo()
    again = run_batch([tmp_path / "in"], out, load_config())
    assert again.ok and again.disk_full is None
    assert again.skipped == 1 and again.count(DocumentStatus.ok) == 2
    assert all((out / f"{p.stem}.json").exists() for p in paths)


def test_a_manifest_that_cannot_grow_is_a_full_disk_not_a_traceback(pdfs, tmp_path, monkeypatch):
    """The real sqlite3.OperationalError ('database or disk is full'), from SQLite's page cap."""
    letters = "abcdefghijklmnopqrstuvwxy"
    for c in letters:  # long names: the rows outgrow the database's pages within a few documents
        _pdf(tmp_path / "in" / f"{c * 190}.pdf", pdfs["empty_page"])
    out = tmp_path / "out"
    real_init = Manifest.__init__

    def capped(self, out_dir):
        real_init(self, out_dir)
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        self.db.execute(f"PRAGMA max_page_count={pages}")

    monkeypatch.setattr(Manifest, "__init__", capped)
    summary = run_batch([tmp_path / "in"], out, load_config())
    assert summary.disk_full and "database or disk is full" in summary.disk_full
    assert not summary.ok
    monkeypatch.undo()
    again = run_batch([tmp_path / "in"], out, load_config())
    assert again.ok
    assert again.skipped == len(summary.outcomes) > 0
    assert again.skipped + again.count(DocumentStatus.ok) == len(letters)


def test_a_password_given_after_a_failure_retries_and_is_never_stored(pdfs, tmp_path):
    path = _pdf(tmp_path / "in" / "locked.pdf", pdfs["encrypted"])
    out = tmp_path / "out"
    first = run_batch([path], out, load_config())
    assert first.count(DocumentStatus.failed) == 1
    assert run_batch([path], out, load_config()).count(DocumentStatus.failed, previous=True) == 1
    wrong = run_batch([path], out, load_config(overrides={"convert": {"password": "nope-nope"}}))
    assert wrong.count(DocumentStatus.failed) == 1  # retried, not skipped as failed earlier
    again = run_batch([path], out, load_config(overrides={"convert": {"password": "nope-nope"}}))
    assert again.count(DocumentStatus.failed, previous=True) == 1  # same wrong password: not again
    right = run_batch([path], out, load_config(overrides={"convert": {"password": "s3cret"}}))
    assert right.ok and right.count(DocumentStatus.ok) == 1
    for f in out.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert b"s3cret" not in data and b"nope-nope" not in data, f


@pytest.mark.parametrize("what", ["out", "state"])
def test_an_output_folder_that_is_a_file_is_refused_before_any_work(pdfs, tmp_path, what):
    from docpipe.errors import UsageError

    path = _pdf(tmp_path / "in" / "a.pdf", pdfs["two_column"])
    out = tmp_path / "out"
    if what == "out":
        out.write_text("not a folder")
    else:
        out.mkdir()
        (out / ".docpipe").write_text("not a folder")
    with pytest.raises(UsageError, match="is a file, not a folder"):
        run_batch([path], out, load_config())
    assert not list(tmp_path.glob("out/*.json"))
