"""Read chemical structure drawings into SMILES on the CPU with OSRA (Optical Structure Recognition).

OSRA is a separate program (Debian package `osra`); docpipe runs the binary on a temporary PNG with
a time limit and reads its standard output, one structure per line: `SMILES CONFIDENCE`. That text
is untrusted: each token is checked against the SMILES alphabet and then parsed by RDKit through
`chemical_from_smiles`, never evaluated. Where the binary is missing, `OsraMissing` says how to
install it and callers leave the figure a plain figure.

Binary lookup: $DOCPIPE_OSRA, then `osra` on PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from docpipe.errors import MissingExtra
from docpipe.model import ChemicalData
from docpipe.util.chem import chemical_from_smiles

INSTALL_HINT = "install it with `apt-get install osra` (Debian/Ubuntu) or set DOCPIPE_OSRA to its path"
# Bigger images only slow OSRA down (it works on bond lengths of tens of pixels) and could be a
# decompression bomb from an untrusted PDF.
MAX_PIXELS = 4000 * 4000
# Letters of the SMILES alphabet, brackets, bonds, ring closures, charges and stereo marks.
_SMILES_TOKEN = re.compile(r"^[A-Za-z0-9@+\-\[\]()=#$:/\\.%*]{1,2000}$")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class OsraMissing(MissingExtra):
    """The osra binary is not installed; the message says how to install it."""

    def __init__(self) -> None:
        super().__init__(f"chemical structure recognition needs OSRA: {INSTALL_HINT}")


@dataclass(frozen=True)
class OsraGuess:
    """One structure as OSRA printed it."""

    smiles: str
    confidence: float | None


def osra_binary() -> str | None:
    override = os.environ.get("DOCPIPE_OSRA")
    if override:
        return override if Path(override).is_file() else None
    return shutil.which("osra")


def osra_available() -> bool:
    return osra_binary() is not None


def parse_osra_output(text: str) -> list[OsraGuess]:
    """Parse `osra -p` output: one `SMILES [CONFIDENCE]` per line; other lines are skipped."""
    guesses = []
    for line in text.splitlines():
        parts = line.split()
        if not parts or not _SMILES_TOKEN.match(parts[0]):
            continue
        try:
            numbers = [float(p) for p in parts[1:]]
        except ValueError:
            continue  # not OSRA's format: a message that slipped into stdout
        guesses.append(OsraGuess(parts[0], numbers[0] if numbers else None))
    return guesses


def run_osra(image_png: bytes, timeout: float = 30.0) -> list[OsraGuess]:
    """Run OSRA on one PNG image; every structure it finds, in its order.

    Raises OsraMissing without the binary, ValueError for input that is not a PNG of sane size,
    TimeoutError when OSRA runs past `timeout` seconds (the process is killed).
    """
    binary = osra_binary()
    if binary is None:
        raise OsraMissing()
    _check_png(image_png)
    with tempfile.TemporaryDirectory(prefix="docpipe-osra-") as tmp:
        path = Path(tmp) / "figure.png"
        path.write_bytes(image_png)
        try:
            proc = subprocess.run(
                [binary, "-p", str(path)],
                capture_output=True,
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
                cwd=tmp,
            )
        except subprocess.TimeoutExpired as exc:  # subprocess.run has killed the child already
            raise TimeoutError(f"osra did not finish within {timeout:g}s") from exc
    # OSRA exits non-zero when it cannot read an image; that means "no structure" here.
    return parse_osra_output(proc.stdout.decode("utf-8", errors="replace"))


def recognise_structures(image_png: bytes, timeout: float = 30.0) -> list[ChemicalData]:
    """Every structure OSRA reads in the image, validated by RDKit (invalid ones kept, flagged)."""
    return [chemical_from_smiles(g.smiles, source="osra") for g in run_osra(image_png, timeout)]


def recognise_structure(image_png: bytes, timeout: float = 30.0) -> ChemicalData | None:
    """The main structure in a figure image, or None when OSRA finds none.

    OSRA also turns stray letters and arrows into tiny "molecules"; the figure's structure is the
    valid one with the most heavy atoms. When nothing is valid, the first guess comes back flagged
    `valid=False` so the user sees what was read.
    """
    found = recognise_structures(image_png, timeout)
    if not found:
        return None
    valid = [c for c in found if c.valid]
    if not valid:
        return found[0]
    return max(valid, key=heavy_atoms)


def heavy_atoms(chem: ChemicalData) -> int:
    """Heavy-atom count of a structure (0 when RDKit cannot parse it)."""
    from rdkit import Chem

    mol = Chem.MolFromSmiles(chem.canonical_smiles or chem.smiles)
    return mol.GetNumHeavyAtoms() if mol is not None else 0


def _check_png(data: bytes) -> None:
    if not data.startswith(_PNG_MAGIC) or len(data) < 24:
        raise ValueError("OSRA input must be PNG bytes")
    # IHDR is the first chunk: width and height are big-endian at bytes 16..24.
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    if width * height > MAX_PIXELS:
        raise ValueError(f"image of {width}x{height} px is too large for structure recognition")
