"""A molecule's 2D structure drawn as SVG with RDKit (no text from PubChem is drawn in it)."""

from __future__ import annotations

DEPICTION_SIZE_PX = 320


def smiles_to_svg(smiles: str, size: int = DEPICTION_SIZE_PX) -> str:
    """The structure of `smiles` as an SVG document; ValueError for a SMILES RDKit cannot parse."""
    from rdkit import Chem
    from rdkit.Chem.Draw import rdMolDraw2D

    molecule = Chem.MolFromSmiles(smiles)
    if molecule is None:
        raise ValueError(f"RDKit cannot parse the SMILES {smiles!r}")
    drawer = rdMolDraw2D.MolDraw2DSVG(size, size)
    rdMolDraw2D.PrepareAndDrawMolecule(drawer, molecule)
    drawer.FinishDrawing()
    return drawer.GetDrawingText()
