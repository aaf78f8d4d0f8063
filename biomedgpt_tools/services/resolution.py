"""Resolve a molecule or protein through the resolvers, with a local fallback for new structures.

A valid SMILES that PubChem lacks (a new compound), or that PubChem cannot be asked about now,
is still a structure BioMedGPT can read: it is described locally with RDKit instead of failing.
Every other outcome is the resolver's own `ResolverError`, for the caller to present.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from biomedgpt_tools.resolvers.outcomes import NotFoundError, ResolverError, UnavailableError
from biomedgpt_tools.resolvers.records import MoleculeRecord, ProteinRecord
from biomedgpt_tools.services.errors import NoStructureKeyError

if TYPE_CHECKING:
    from biomedgpt_tools.resolvers.resolver import Resolver

# (the record, notes on what was decided on the caller's behalf)
ResolvedMolecule = tuple[MoleculeRecord, list[str]]


def resolve_molecule(resolver: Resolver, query: str) -> ResolvedMolecule:
    """The molecule `query` names; raises ResolverError when neither PubChem nor RDKit can say."""
    try:
        return resolver.molecule(query), []
    except ResolverError as error:
        return molecule_from_smiles(query, error)


async def aresolve_molecule(resolver: Resolver, query: str) -> ResolvedMolecule:
    """`resolve_molecule` through the resolvers' async API."""
    try:
        return await resolver.amolecule(query), []
    except ResolverError as error:
        return molecule_from_smiles(query, error)


def resolve_protein(resolver: Resolver, query: str) -> ProteinRecord:
    """The protein `query` names (accession, entry name, gene, or a sequence used as given)."""
    return resolver.protein(query)


async def aresolve_protein(resolver: Resolver, query: str) -> ProteinRecord:
    return await resolver.aprotein(query)


def molecule_from_smiles(query: str, error: ResolverError) -> ResolvedMolecule:
    """The record RDKit computes for a SMILES PubChem lacks or cannot be asked about; any other
    query or outcome re-raises `error`."""
    from biomedgpt_tools.resolvers.identifiers import detect_molecule_query
    from biomedgpt_tools.resolvers.smiles import local_properties

    if not isinstance(error, NotFoundError | UnavailableError):
        raise error
    try:
        detected = detect_molecule_query(query)
    except ResolverError:
        detected = None
    if detected is None or detected.kind != "smiles":
        raise error
    facts = local_properties(detected.value)
    record = MoleculeRecord(
        cid=None,
        smiles=detected.value,
        inchikey=facts["inchikey"],
        formula=facts["formula"],
        molecular_weight=facts["molecular_weight"],
        source="local",
        query=query,
    )
    why = (
        "PubChem has no compound with this structure"
        if isinstance(error, NotFoundError)
        else f"PubChem could not be asked ({error.message})"
    )
    return record, [f"{why}; BioMedGPT reads the structure as given, without a name or description"]


def inchikey_for(smiles: str) -> str:
    """InChIKey computed locally, for a record PubChem gave none (the molecule's memory key)."""
    from biomedgpt_tools.resolvers.smiles import local_properties

    key = local_properties(smiles)["inchikey"]
    if not key:
        raise NoStructureKeyError(
            f"RDKit cannot compute an InChIKey for {smiles!r}; pass another form"
        )
    return str(key)
