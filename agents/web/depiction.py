"""2D structure drawings made on the server with RDKit, as SVG.

The page shows them through <img>, so an SVG can never run script in the page; the SVG
itself carries only atom labels RDKit writes, no text from the record.
"""

from __future__ import annotations

import functools

from rdkit import Chem, RDLogger
from rdkit.Chem import rdDepictor
from rdkit.Chem.Draw import rdMolDraw2D

RDLogger.DisableLog("rdApp.*")

MAX_SMILES_LENGTH = 2000  # larger than any drug; a bound on the work one request can ask for


class DepictionError(ValueError):
    """A SMILES that RDKit cannot draw."""


@functools.lru_cache(maxsize=512)
def depict_smiles(smiles: str, width: int = 260, height: int = 200) -> str:
    """An SVG document of the molecule's 2D depiction."""
    smiles = (smiles or "").strip()
    if not smiles:
        raise DepictionError("no SMILES given; pass ?smiles=CC(=O)O for acetic acid")
    if len(smiles) > MAX_SMILES_LENGTH:
        raise DepictionError(
            f"SMILES of {len(smiles)} characters is longer than {MAX_SMILES_LENGTH}"
        )
    molecule = Chem.MolFromSmiles(smiles)
    if molecule is None:
        raise DepictionError(f"RDKit cannot read the SMILES {smiles!r}; check its syntax")
    rdDepictor.SetPreferCoordGen(True)
    rdDepictor.Compute2DCoords(molecule)
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    drawer.drawOptions().clearBackground = False
    rdMolDraw2D.PrepareAndDrawMolecule(drawer, molecule)
    drawer.FinishDrawing()
    return drawer.GetDrawingText()
