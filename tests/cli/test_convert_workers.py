"""How many worker processes `docpipe convert` starts: the core count, except for an in-process VLM
model, which would be loaded once per process."""

from __future__ import annotations

import pytest

import docpipe.scheduler.batch as batch
from docpipe.cli.main import main
from docpipe.scheduler.batch import BatchSummary


@pytest.mark.parametrize(
    ("extra", "want"),
    [
        ([], 3),
        (["--engine", "vlm", "--backend", "openai"], 3),
        (["--engine", "vlm", "--backend", "vllm"], 1),
        (["--engine", "vlm", "--backend", "transformers"], 1),
        (["--engine", "vlm", "--backend", "vllm", "--workers", "2"], 2),  # asked for: as asked
    ],
)
def test_worker_count(tmp_path, monkeypatch, extra, want):
    seen = {}

    def fake_run_batch(inputs, out, config, workers, **kwargs):
        seen["workers"] = workers
        return BatchSummary()

    monkeypatch.setattr(batch, "default_workers", lambda: 3)
    monkeypatch.setattr(batch, "run_batch", fake_run_batch)
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    assert main(["convert", "-q", str(pdf), "-o", str(tmp_path / "out"), *extra]) == 0
    assert seen["workers"] == want
