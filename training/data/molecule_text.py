"""Filters for molecule/description pairs shared by PubChemQA and ChEBI-20 preparation."""

from __future__ import annotations

from rdkit import Chem, RDLogger

RDLogger.DisableLog("rdApp.*")  # a dropped SMILES is counted, not printed line by line

MIN_DESCRIPTION_WORDS = 4  # paper: descriptions under 4 words are dropped
MAX_DESCRIPTION_WORDS = 256  # paper: descriptions are cropped at 256 words


def parses(smiles: str) -> bool:
    """RDKit with default sanitization (the paper's filter)."""
    return bool(smiles) and Chem.MolFromSmiles(smiles) is not None


def featurizes(smiles: str) -> bool:
    """The model's own featurization accepts it too (no whitespace, not too many atoms)."""
    from biomedgpt_tools.model.molecule_graph import InvalidMoleculeError, featurize_smiles

    try:
        featurize_smiles(smiles)
    except InvalidMoleculeError:
        return False
    return True


def crop_words(text: str, max_words: int = MAX_DESCRIPTION_WORDS) -> str:
    """At most `max_words` whitespace-separated words, joined by single spaces."""
    return " ".join(text.split()[:max_words])


def word_count(text: str) -> int:
    return len(text.split())
