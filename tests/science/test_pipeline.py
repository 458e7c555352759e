"""Science content through `docpipe convert`: structures to SMILES (OSRA + RDKit), formulas to
LaTeX that KaTeX renders, figure kinds recorded in the JSON."""

from __future__ import annotations

import json

import pytest

from docpipe.cli.main import main
from docpipe.science.osra import osra_available
from docpipe.util.chem import chemical_from_smiles
from tests.conftest import load_script


def _formula_blocks(data: dict) -> list[dict]:
    return [b for p in data["pages"] for b in p["blocks"] if b["type"] == "formula"]


@pytest.mark.skipif(not osra_available(), reason="osra is not installed (apt-get install osra)")
def test_structures_become_chemical_blocks_with_canonical_smiles(tmp_path):
    pdf, meta = load_script("make_chem_fixtures").build(tmp_path / "in")
    expected = json.loads(meta.read_text())
    out = tmp_path / "out"
    assert main(["convert", "-q", "--workers", "2", str(pdf), "-o", str(out), "--chem", "auto"]) == 0
    data = json.loads((out / "molecules.json").read_text())
    chem = {p["index"]: b["chemical"] for p in data["pages"] for b in p["blocks"] if b["type"] == "chemical"}
    hits = 0
    for mol in expected:
        want = chemical_from_smiles(mol["smiles"]).canonical_smiles
        got = chem.get(mol["page"])
        hits += bool(got and got["valid"] and got["canonical_smiles"] == want)
    assert len(expected) >= 20 and hits / len(expected) >= 0.9, f"{hits}/{len(expected)}"
    md = (out / "molecules.md").read_text()
    assert md.count("```smiles") == len(chem)
    assert "![chemical structure](molecules_images/" in md


def test_formulas_become_latex_blocks_that_katex_renders(tmp_path):
    from docpipe.eval.katex_render import render_latex, unavailable_reason

    pdf, meta = load_script("make_formula_fixtures").build(tmp_path / "in")
    expected = json.loads(meta.read_text())["formulas"]
    out = tmp_path / "out"
    assert main(["convert", "-q", "--workers", "1", str(pdf), "-o", str(out)]) == 0
    data = json.loads((out / "formulas.json").read_text())
    blocks = _formula_blocks(data)
    assert len(blocks) >= len(expected) - 1, [b["latex"] for b in blocks]
    for want in expected:
        on_page = [b for b in data["pages"][want["page"]]["blocks"] if b["type"] == "formula"]
        inside = [b for b in on_page if b["bbox"][1] <= want["bbox"][3] and b["bbox"][3] >= want["bbox"][1]]
        assert inside, f"no formula block at {want['name']}"
        latex = " ".join(b["latex"] for b in inside)
        pos = [latex.find(frag) for frag in want["latex_contains"]]
        assert all(p >= 0 for p in pos), (want["name"], latex)
    md = (out / "formulas.md").read_text()
    assert md.count("$$") >= 2 * len(blocks)
    # inline math in running text; prose without math untouched
    assert "where $\\alpha$ is the learning rate and the weight $w_{t}$ decays slowly." in md
    assert "All quantities are dimensionless unless a unit is stated explicitly." in md
    if unavailable_reason():
        pytest.skip(unavailable_reason())
    results = render_latex([b["latex"] for b in blocks], display=True)
    assert all(r.ok for r in results), [(r.expr, r.error) for r in results if not r.ok]


def test_figure_kinds_and_captions_recorded(tmp_path):
    import io

    import pymupdf

    images = load_script("make_figure_fixtures").images()
    doc = pymupdf.open()
    expected = []
    for kind, imgs in images.items():
        for n, img in enumerate(imgs[:2]):
            page = doc.new_page(width=595, height=842)
            page.insert_text((56, 80), "Results are shown in the figure below.", fontsize=10)
            buf = io.BytesIO()
            img.save(buf, format="PNG")
            page.insert_image(
                pymupdf.Rect(100, 120, 460, 120 + 360 * img.height / img.width), stream=buf.getvalue()
            )
            caption = f"Figure {len(expected) + 1}: a {kind.replace('_', ' ')} number {n + 1}."
            page.insert_text((100, 120 + 360 * img.height / img.width + 20), caption, fontsize=9)
            expected.append((kind, caption))
    pdf = tmp_path / "figures.pdf"
    doc.save(pdf)
    out = tmp_path / "out"
    assert main(["convert", "-q", "--workers", "1", str(pdf), "-o", str(out), "--chem", "off"]) == 0
    data = json.loads((out / "figures.json").read_text())
    figures = [b for p in data["pages"] for b in p["blocks"] if b["type"] == "figure"]
    assert len(figures) == len(expected)
    right = sum(f["figure"]["kind"] == kind for f, (kind, _) in zip(figures, expected, strict=True))
    assert right >= len(expected) - 1, [
        (f["figure"]["kind"], k) for f, (k, _) in zip(figures, expected, strict=True)
    ]
    assert [f["figure"]["caption"] for f in figures] == [c for _, c in expected]
