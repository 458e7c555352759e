"""The CLI end to end: outputs, JSON Schema validity, chunks, bad inputs, resume, config."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from docpipe.cli.main import main
from docpipe.model import Chunk, Document

SCHEMA = Document.model_json_schema()
CHUNK_SCHEMA = Chunk.model_json_schema()


def _convert(args: list[str]) -> int:
    return main(["convert", "-q", "--workers", "1", *args])


@pytest.fixture()
def good_dir(pdfs, tmp_path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    for name in ("two_column", "hyphenated", "table_spans", "furniture", "empty_page", "zero_pages"):
        shutil.copy(pdfs[name], d / pdfs[name].name)
    return d


def test_convert_folder_writes_valid_outputs(good_dir, tmp_path):
    out = tmp_path / "out"
    assert _convert([str(good_dir), "-o", str(out)]) == 0
    for pdf in good_dir.glob("*.pdf"):
        data = json.loads((out / f"{pdf.stem}.json").read_text())
        jsonschema.validate(data, SCHEMA)
        assert (out / f"{pdf.stem}.md").exists()
        for line in (out / f"{pdf.stem}.chunks.jsonl").read_text().splitlines():
            jsonschema.validate(json.loads(line), CHUNK_SCHEMA)
    empty = json.loads((out / "empty_page.json").read_text())
    assert empty["status"] == "ok" and len(empty["pages"]) == 1 and empty["pages"][0]["blocks"] == []
    zero = json.loads((out / "zero_pages.json").read_text())
    assert zero["source"]["page_count"] == 0 and zero["pages"] == []
    assert not list(out.glob(".*.tmp")), "temporary files left behind"
    rows = (
        sqlite3.connect(out / ".docpipe" / "manifest.sqlite")
        .execute("SELECT status FROM documents")
        .fetchall()
    )
    assert sorted(r[0] for r in rows) == ["ok"] * 6


def test_bad_inputs_are_reported_and_the_batch_goes_on(pdfs, tmp_path, capsys):
    d = tmp_path / "mixed"
    d.mkdir()
    for name in ("two_column", "encrypted", "truncated", "not_a_pdf"):
        shutil.copy(pdfs[name], d / pdfs[name].name)
    out = tmp_path / "out"
    assert _convert([str(d), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "encrypted.pdf: the PDF is encrypted; pass its password with --password" in err
    assert "not_a_pdf.pdf: not a PDF file" in err
    assert (out / "two_column.md").read_text().startswith("# Adaptive Layout Analysis")
    assert not (out / "encrypted.json").exists()
    # the truncated file is either repaired (valid JSON) or reported, never a half-written output
    trunc = out / "truncated.json"
    if trunc.exists():
        jsonschema.validate(json.loads(trunc.read_text()), SCHEMA)
    else:
        assert "truncated.pdf" in err


def test_password_opens_encrypted_pdf_and_is_not_recorded(pdfs, tmp_path):
    out = tmp_path / "out"
    assert _convert([str(pdfs["encrypted"]), "-o", str(out), "--password", "s3cret"]) == 0
    text = (out / "encrypted.json").read_text()
    assert "protected by a password" in (out / "encrypted.md").read_text()
    assert "s3cret" not in text
    wrong = tmp_path / "wrong"
    assert _convert([str(pdfs["encrypted"]), "-o", str(wrong), "--password", "nope"]) == 1


def test_rerun_skips_done_documents_and_config_change_reconverts(good_dir, tmp_path, capsys):
    out = tmp_path / "out"
    assert _convert([str(good_dir), "-o", str(out)]) == 0
    first = (out / "two_column.json").stat().st_mtime_ns
    capsys.readouterr()
    assert _convert([str(good_dir), "-o", str(out)]) == 0
    assert "6 skipped" in capsys.readouterr().err
    assert (out / "two_column.json").stat().st_mtime_ns == first
    assert _convert([str(good_dir), "-o", str(out), "--set", "chunks.max_tokens=64"]) == 0
    assert "0 skipped" in capsys.readouterr().err
    data = json.loads((out / "two_column.json").read_text())
    assert data["engine"]["config"]["chunks"]["max_tokens"] == 64


def test_bad_config_override_is_a_usage_error(pdfs, tmp_path, capsys):
    assert _convert([str(pdfs["two_column"]), "-o", str(tmp_path), "--set", "chunks.max_tokens=nope"]) == 2
    assert "max_tokens" in capsys.readouterr().err


def test_schema_command_prints_the_document_schema():
    proc = subprocess.run(
        [sys.executable, "-m", "docpipe.cli.main", "schema"], capture_output=True, text=True, check=True
    )
    schema = json.loads(proc.stdout)
    assert schema["title"] == "Document" and "pages" in schema["properties"]
    jsonschema.Draft202012Validator.check_schema(schema)
    # words read inside figures: a list of lines with text, box, confidence and group
    lines = schema["$defs"]["FigureData"]["properties"]["text_lines"]
    assert lines["items"] == {"$ref": "#/$defs/FigureTextLine"}
    assert set(schema["$defs"]["FigureTextLine"]["required"]) == {"text", "bbox", "confidence"}


def test_rerun_reports_earlier_failures_and_retry_failed_retries(pdfs, tmp_path, capsys):
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(pdfs["two_column"], d)
    shutil.copy(pdfs["encrypted"], d)
    out = tmp_path / "out"
    assert _convert([str(d), "-o", str(out)]) == 1
    capsys.readouterr()
    assert _convert([str(d), "-o", str(out)]) == 1  # still failed: the exit status says so
    err = capsys.readouterr().err
    assert "1 skipped" in err and "1 failed in an earlier run (--retry-failed retries them)" in err
    assert "encrypted.pdf: the PDF is encrypted" in err
    # the password is not part of the recorded config: the good file stays done, the failed one is retried
    assert _convert([str(d), "-o", str(out), "--retry-failed", "--password", "s3cret"]) == 0
    assert "1 converted (0 partial), 1 skipped" in capsys.readouterr().err
    assert (out / "encrypted.md").exists()


def test_the_manifest_knows_a_document_however_it_is_named(good_dir, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert _convert([str(good_dir), "-o", str(out)]) == 0
    monkeypatch.chdir(good_dir.parent)
    capsys.readouterr()
    assert _convert([good_dir.name, "-o", str(out)]) == 0  # relative this time
    assert "6 skipped" in capsys.readouterr().err
    assert not list(out.glob("*-????????.md"))  # no second, renamed copy


def test_globs_and_missing_inputs(good_dir, tmp_path, capsys):
    out = tmp_path / "out"
    assert _convert([str(good_dir / "t*.pdf"), "-o", str(out)]) == 0  # two_column, table_spans
    assert sorted(p.name for p in out.glob("*.json")) == ["table_spans.json", "two_column.json"]
    assert _convert([str(good_dir / "nothing*.pdf"), "-o", str(out)]) == 2
    assert "the pattern matches no file" in capsys.readouterr().err
    assert _convert([str(tmp_path / "absent.pdf"), "-o", str(out)]) == 2
    assert "absent.pdf: no such file or folder" in capsys.readouterr().err


def test_a_changed_file_is_converted_again(good_dir, pdfs, tmp_path, capsys):
    out = tmp_path / "out"
    assert _convert([str(good_dir), "-o", str(out)]) == 0
    shutil.copy(pdfs["furniture"], good_dir / "two_column.pdf")  # same name, new content
    capsys.readouterr()
    assert _convert([str(good_dir), "-o", str(out)]) == 0
    assert "1 converted (0 partial), 5 skipped" in capsys.readouterr().err
    assert "Section 1 body text" in (out / "two_column.md").read_text()
    digest = (
        sqlite3.connect(out / ".docpipe" / "manifest.sqlite")
        .execute("SELECT content_hash FROM documents WHERE name='two_column'")
        .fetchone()[0]
    )
    assert digest == json.loads((out / "two_column.json").read_text())["doc_id"]
