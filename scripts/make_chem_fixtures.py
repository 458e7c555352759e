#!/usr/bin/env python3
"""Generate a PDF of drug-like molecules drawn with RDKit, one per page amid ordinary text.

    python scripts/make_chem_fixtures.py OUT_DIR

Writes OUT_DIR/molecules.pdf and OUT_DIR/molecules.json: for every molecule its name, the SMILES it
was drawn from, the page index and the image rectangle in PDF points (top-left origin), so a test
can crop the rendered page there and compare what a recogniser reads with the known structure.
SMILES carry no stereochemistry: a 2D drawing without wedges cannot express it. Generated files
are not committed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pymupdf

W, H = 595, 842  # A4 in points
MARGIN = 56

# (name, SMILES) - common drugs and small reference compounds, from 9 to 35 heavy atoms.
MOLECULES: list[tuple[str, str]] = [
    ("aspirin", "CC(=O)Oc1ccccc1C(=O)O"),
    ("caffeine", "Cn1cnc2c1c(=O)n(C)c(=O)n2C"),
    ("ibuprofen", "CC(C)Cc1ccc(cc1)C(C)C(=O)O"),
    ("paracetamol", "CC(=O)Nc1ccc(O)cc1"),
    ("naproxen", "COc1ccc2cc(ccc2c1)C(C)C(=O)O"),
    ("salicylic acid", "OC(=O)c1ccccc1O"),
    ("benzocaine", "CCOC(=O)c1ccc(N)cc1"),
    ("lidocaine", "CCN(CC)CC(=O)Nc1c(C)cccc1C"),
    ("phenacetin", "CCOc1ccc(NC(C)=O)cc1"),
    ("diclofenac", "OC(=O)Cc1ccccc1Nc1c(Cl)cccc1Cl"),
    ("metformin", "CN(C)C(=N)NC(N)=N"),
    ("theophylline", "Cn1c2nc[nH]c2c(=O)n(C)c1=O"),
    ("procaine", "CCN(CC)CCOC(=O)c1ccc(N)cc1"),
    ("ketoprofen", "CC(C(=O)O)c1cccc(c1)C(=O)c1ccccc1"),
    ("fluoxetine", "CNCCC(Oc1ccc(cc1)C(F)(F)F)c1ccccc1"),
    ("diphenhydramine", "CN(C)CCOC(c1ccccc1)c1ccccc1"),
    ("carbamazepine", "NC(=O)N1c2ccccc2C=Cc2ccccc12"),
    ("sulfamethoxazole", "Cc1cc(NS(=O)(=O)c2ccc(N)cc2)no1"),
    ("phenobarbital", "CCC1(c2ccccc2)C(=O)NC(=O)NC1=O"),
    ("indomethacin", "COc1ccc2n(C(=O)c3ccc(Cl)cc3)c(C)c(CC(=O)O)c2c1"),
    ("atenolol", "CC(C)NCC(O)COc1ccc(CC(N)=O)cc1"),
    ("propranolol", "CC(C)NCC(O)COc1cccc2ccccc12"),
    ("mefenamic acid", "Cc1cccc(Nc2ccccc2C(=O)O)c1C"),
    ("vanillin", "COc1cc(C=O)ccc1O"),
]

PROSE = (
    "The compound shown in the figure below was characterised by NMR and mass spectrometry. "
    "Its structure is reproduced here as a two-dimensional drawing."
)
AFTER = "Yields and melting points are listed in the supplementary tables of this report."


def draw_png(smiles: str, size: int = 500) -> bytes:
    """Draw a molecule the way papers do: black bonds, atom labels, white background."""
    from rdkit import Chem
    from rdkit.Chem.Draw import rdMolDraw2D

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValueError(f"bad fixture SMILES {smiles!r}")
    drawer = rdMolDraw2D.MolDraw2DCairo(size, size)
    opts = drawer.drawOptions()
    opts.useBWAtomPalette()
    opts.bondLineWidth = 2
    drawer.DrawMolecule(mol)
    drawer.FinishDrawing()
    return drawer.GetDrawingText()


def _paragraph(page: pymupdf.Page, rect: pymupdf.Rect, text: str, size: float = 10) -> None:
    page.insert_textbox(rect, text, fontsize=size, fontname="helv")


def build(out: Path) -> tuple[Path, Path]:
    """Write molecules.pdf and molecules.json into `out`; returns both paths."""
    out.mkdir(parents=True, exist_ok=True)
    doc = pymupdf.open()
    records = []
    for index, (name, smiles) in enumerate(MOLECULES):
        page = doc.new_page(width=W, height=H)
        page.insert_text((MARGIN, 80), f"{index + 1}. Synthesis of {name}", fontsize=14, fontname="hebo")
        _paragraph(page, pymupdf.Rect(MARGIN, 95, W - MARGIN, 140), PROSE)
        # Image box sized like a journal figure; the 500 px drawing lands at about 190 dpi.
        box = pymupdf.Rect(MARGIN + 80, 160, MARGIN + 80 + 190, 160 + 190)
        page.insert_image(box, stream=draw_png(smiles))
        page.insert_text(
            (MARGIN, box.y1 + 20), f"Figure {index + 1}. Structure of {name}.", fontsize=9, fontname="helv"
        )
        _paragraph(page, pymupdf.Rect(MARGIN, box.y1 + 35, W - MARGIN, box.y1 + 80), AFTER)
        records.append({"name": name, "smiles": smiles, "page": index, "bbox": list(box)})
    pdf = out / "molecules.pdf"
    doc.save(pdf)
    doc.close()
    meta = out / "molecules.json"
    meta.write_text(json.dumps(records, indent=1), encoding="utf-8")
    return pdf, meta


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for path in build(Path(sys.argv[1])):
        print(path)
