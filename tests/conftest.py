"""Shared fixtures: generated PDFs (built once per test session into a temporary folder)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "dev"


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def fixtures_mod():
    return load_script("make_fixtures")


@pytest.fixture(scope="session")
def pdfs(tmp_path_factory, fixtures_mod) -> dict[str, Path]:
    return fixtures_mod.build_all(tmp_path_factory.mktemp("fixtures"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "pdf").is_dir():
        pytest.skip(f"dev corpus not found at {CORPUS}")
    return CORPUS
