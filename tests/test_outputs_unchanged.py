"""Outputs stay byte-identical (timings aside) to fixtures/output_digests.json.

Covers the dev corpus and a fixed sample of the realworld corpus to stay cheap;
`python scripts/output_digests.py --check` checks all of it. After a deliberate output change,
regenerate the fixture with `python scripts/output_digests.py --write`.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT, load_script

REALWORLD_SAMPLE_STEP = 8  # every 8th realworld PDF by name: 12 documents


def test_outputs_match_the_digests():
    digests = load_script("output_digests")
    files = digests.corpus_files()
    if not files:
        pytest.skip(f"corpus not found at {digests.CORPUS}")
    realworld = sorted(label for label in files if label.startswith("realworld/"))
    chosen = [label for label in files if label.startswith("dev/")] + realworld[::REALWORLD_SAMPLE_STEP]
    expected = json.loads((ROOT / "fixtures" / "output_digests.json").read_text(encoding="utf-8"))
    actual = digests.compute({label: files[label] for label in chosen})
    assert digests.compare({label: expected[label] for label in chosen}, actual) == []
