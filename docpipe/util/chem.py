"""Every SMILES docpipe emits, from OSRA or from a VLM, goes through RDKit here.

Invalid SMILES are kept and flagged (`valid=False`), never dropped: the user sees what the
recogniser read and can judge it.
"""

from __future__ import annotations

from docpipe.model import ChemicalData


class RDKitMissing(RuntimeError):
    pass


def _rdkit():
    try:
        from rdkit import Chem, RDLogger
        from rdkit.Chem.rdMolDescriptors import CalcMolFormula
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RDKitMissing("RDKit is not installed: pip install 'docpipe[chem]'") from exc
    RDLogger.DisableLog("rdApp.*")  # RDKit's parse errors go to stderr; we report them ourselves
    return Chem, CalcMolFormula


def chemical_from_smiles(smiles: str, source: str = "") -> ChemicalData:
    """Validate and canonicalise a SMILES string read by a recogniser (untrusted text)."""
    smiles = smiles.strip()
    Chem, CalcMolFormula = _rdkit()
    mol = Chem.MolFromSmiles(smiles) if smiles and len(smiles) < 5000 else None
    if mol is None:
        return ChemicalData(smiles=smiles, valid=False, source=source)
    return ChemicalData(
        smiles=smiles,
        canonical_smiles=Chem.MolToSmiles(mol),
        inchikey=Chem.MolToInchiKey(mol) or None,
        formula=CalcMolFormula(mol),
        valid=True,
        source=source,
    )
