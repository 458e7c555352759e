"""Layering rules, checked on the source: the model and the stages after recognition do not reach
back into the engines, the VLM engine does not reach into science, and the pipeline names no engine."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "docpipe"

# package folder -> module prefixes none of its modules may import
FORBIDDEN = {
    "model": (
        "docpipe.engines",
        "docpipe.assemble",
        "docpipe.science",
        "docpipe.pipeline",
        "docpipe.recognition",
    ),
    "assemble": ("docpipe.engines", "docpipe.pipeline", "docpipe.recognition"),
    "science": ("docpipe.engines", "docpipe.assemble", "docpipe.pipeline", "docpipe.recognition"),
    "engines/vlm": ("docpipe.science", "docpipe.assemble", "docpipe.pipeline", "docpipe.recognition"),
    "engines": ("docpipe.assemble", "docpipe.pipeline", "docpipe.recognition", "docpipe.scheduler"),
}


def imports(path: Path) -> list[str]:
    """Every module a file imports, at any depth (lazy imports inside functions too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return found


def violations(folder: str, banned: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(PKG)} imports {name}"
        for path in sorted((PKG / folder).rglob("*.py"))
        for name in imports(path)
        if any(name == b or name.startswith(b + ".") for b in banned)
    ]


def test_the_scanner_sees_lazy_imports():
    assert "docpipe.engines.base" in imports(PKG / "recognition.py")
    assert "docpipe.engines.textlayer" in imports(PKG / "recognition.py")  # inside a function
    assert violations("", ("docpipe.engines",))  # the check can fail


def test_layering():
    problems = [v for folder, banned in FORBIDDEN.items() for v in violations(folder, banned)]
    assert problems == []


def test_the_pipeline_names_no_engine_and_fits_on_a_screen():
    source = (PKG / "pipeline.py").read_text(encoding="utf-8")
    literals = {n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant)}
    assert not literals & {"vlm", "ocr", "textlayer"}
    assert len(source.splitlines()) < 250
