"""OSRA reads RDKit-drawn molecules back from rendered PDF page crops."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pymupdf
import pytest

from docpipe.science.osra import (
    OsraMissing,
    osra_available,
    parse_osra_output,
    recognise_structure,
    run_osra,
)
from docpipe.util.chem import chemical_from_smiles

needs_osra = pytest.mark.skipif(not osra_available(), reason="osra is not installed (apt-get install osra)")


@pytest.fixture(scope="module")
def molecules(tmp_path_factory):
    from tests.conftest import load_script

    mod = load_script("make_chem_fixtures")
    pdf, meta = mod.build(tmp_path_factory.mktemp("chem"))
    return pdf, json.loads(meta.read_text(encoding="utf-8"))


def test_fixture_set_is_large_and_valid(molecules):
    _, records = molecules
    assert len(records) >= 20
    assert all(chemical_from_smiles(r["smiles"]).valid for r in records)
    assert len({chemical_from_smiles(r["smiles"]).inchikey for r in records}) == len(records)


@needs_osra
def test_osra_reads_at_least_90_percent_of_molecules(molecules):
    pdf, records = molecules
    with pymupdf.open(pdf) as doc:
        crops = [
            doc[r["page"]].get_pixmap(clip=pymupdf.Rect(r["bbox"]), dpi=200).tobytes("png") for r in records
        ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda png: recognise_structure(png, timeout=30), crops))
    misses = []
    for rec, got in zip(records, results, strict=True):
        expected = chemical_from_smiles(rec["smiles"]).canonical_smiles
        if got is None or got.canonical_smiles != expected:
            misses.append((rec["name"], expected, got.smiles if got else None))
        else:
            assert got.valid and got.source == "osra" and got.inchikey
    assert len(misses) <= len(records) // 10, misses


@needs_osra
def test_blank_image_gives_no_structure():
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 200, 200), False)
    pix.clear_with(255)
    assert recognise_structure(pix.tobytes("png")) is None


@needs_osra
def test_rejects_non_png_and_huge_images():
    with pytest.raises(ValueError):
        run_osra(b"not an image")
    header = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (50000).to_bytes(4, "big") * 2
    with pytest.raises(ValueError, match="too large"):
        run_osra(header + b"\x00" * 16)


def test_missing_binary_message(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCPIPE_OSRA", str(tmp_path / "no-such-osra"))
    assert not osra_available()
    with pytest.raises(OsraMissing, match="apt-get install osra"):
        recognise_structure(b"\x89PNG\r\n\x1a\n")


def test_output_parser_ignores_noise():
    text = "CCO 3.2\npoppler/error: junk here\n\nc1ccccc1\n'; rm -rf / 1.0\nCC(=O)O abc\nCN 1 2\n"
    guesses = parse_osra_output(text)
    assert [g.smiles for g in guesses] == ["CCO", "c1ccccc1", "CN"]
    assert guesses[0].confidence == pytest.approx(3.2)
    assert guesses[1].confidence is None and guesses[2].confidence == 1.0


def test_largest_valid_structure_wins(monkeypatch, tmp_path):
    # A fake osra prints a stray fragment, an invalid guess and the real molecule.
    fake = tmp_path / "osra"
    fake.write_text("#!/bin/sh\nprintf 'C 1.0\\nC1CC 0.5\\nCC(=O)Oc1ccccc1C(=O)O 2.0\\n'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("DOCPIPE_OSRA", str(fake))
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (10).to_bytes(4, "big") * 2
    got = recognise_structure(png)
    assert got is not None and got.valid
    assert got.canonical_smiles == chemical_from_smiles("CC(=O)Oc1ccccc1C(=O)O").canonical_smiles


def test_timeout_kills_osra(monkeypatch, tmp_path):
    fake = tmp_path / "osra"
    fake.write_text("#!/bin/sh\nexec sleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("DOCPIPE_OSRA", str(fake))
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (10).to_bytes(4, "big") * 2
    with pytest.raises(TimeoutError):
        run_osra(png, timeout=0.5)
