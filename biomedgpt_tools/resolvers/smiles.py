"""Local SMILES validation with RDKit, so a typo never costs a request (or a silent wrong hit)."""

from __future__ import annotations

from rdkit import Chem, rdBase
from rdkit.Chem import Descriptors, rdMolDescriptors

from biomedgpt_tools.resolvers.outcomes import InvalidQueryError


def parse_smiles(smiles: str) -> Chem.Mol | None:
    """RDKit molecule, or None when the text is not valid SMILES (RDKit's stderr noise muted)."""
    text = smiles.strip()
    if not text or any(ch.isspace() for ch in text):
        return None
    with rdBase.BlockLogs():
        return Chem.MolFromSmiles(text)


def canonical_smiles(smiles: str) -> str:
    """RDKit canonical isomeric SMILES; raises InvalidQueryError naming the input."""
    mol = parse_smiles(smiles)
    if mol is None:
        raise InvalidQueryError(
            f"{smiles!r} is not a valid SMILES (RDKit could not parse it); check brackets, ring "
            "closures and valences, or look the molecule up by name",
            query=smiles,
        )
    return smiles_of(mol)


def smiles_of(mol: Chem.Mol) -> str:
    """Canonical isomeric SMILES of a molecule already parsed (no second parse)."""
    return Chem.MolToSmiles(mol, isomericSmiles=True)


def local_properties(smiles: str) -> dict[str, object]:
    """Formula, weight and InChIKey computed locally (used to describe a SMILES PubChem lacks)."""
    mol = parse_smiles(smiles)
    if mol is None:
        raise InvalidQueryError(f"{smiles!r} is not a valid SMILES", query=smiles)
    with rdBase.BlockLogs():
        inchikey = Chem.MolToInchiKey(mol) or None
    return {
        "formula": rdMolDescriptors.CalcMolFormula(mol),
        "molecular_weight": round(Descriptors.MolWt(mol), 3),
        "inchikey": inchikey,
    }
