"""How a resolved molecule or protein is named: its memory key and its display name.

One place for both, so that the tools (which store answers under the key) and the apps on top
of them (the assistant recalls by the key before any tool runs) always agree.
"""

from __future__ import annotations

from biomedgpt_tools.resolvers.records import MoleculeRecord, ProteinRecord
from biomedgpt_tools.services.errors import NoStructureKeyError
from biomedgpt_tools.services.resolution import inchikey_for
from biomedgpt_tools.store.ids import sequence_key


def memory_key(record: MoleculeRecord | ProteinRecord) -> str:
    """The annotation store's key: a molecule's InChIKey (computed with RDKit when PubChem gave
    none); a protein's isoform or UniProt accession, else the key of its sequence.

    Raises NoStructureKeyError when the record has nothing to key on.
    """
    if isinstance(record, MoleculeRecord):
        if record.inchikey:
            return record.inchikey
        smiles = record.smiles or record.connectivity_smiles
        if not smiles:
            raise NoStructureKeyError(
                f"PubChem gives no structure for CID {record.cid}, so it has no memory key; "
                "pass a SMILES string instead"
            )
        return inchikey_for(smiles)
    if record.isoform or record.accession:
        return record.isoform or record.accession
    if not record.sequence:
        raise NoStructureKeyError(
            "the protein has neither an accession nor a sequence, so it has no memory key"
        )
    return sequence_key(record.sequence)


def display_name(record: MoleculeRecord | ProteinRecord) -> str | None:
    """The name people know the entity by (a molecule's PubChem title or IUPAC name; a
    protein's recommended name or UniProt entry name), as fetched: quote it before showing it
    to a model. None when the record has no name."""
    if isinstance(record, MoleculeRecord):
        return record.name or record.iupac_name or None
    return record.protein_name or record.entry_name or None
