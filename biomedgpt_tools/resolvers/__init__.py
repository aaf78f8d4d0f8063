"""Resolvers: any molecule or protein name/ID to a structure, via PubChem and UniProt.

    from biomedgpt_tools.resolvers import resolve_molecule, resolve_protein
    resolve_molecule("aspirin").smiles        # 'CC(=O)OC1=CC=CC=C1C(=O)O'
    resolve_protein("TP53 human").accession   # 'P04637'

Failures are exceptions with a `kind` (see outcomes.py). Configuration comes from the
environment (settings.py); `Resolver` gives full control (settings, batches, async).
No torch here: the resolvers stay importable in the light core install.
"""

from __future__ import annotations

import threading

from biomedgpt_tools.resolvers.identifiers import (
    MoleculeQuery,
    ProteinQuery,
    detect_molecule_query,
    detect_protein_query,
)
from biomedgpt_tools.resolvers.outcomes import (
    AmbiguousError,
    InvalidQueryError,
    NotFoundError,
    ObsoleteError,
    OfflineError,
    ResolverError,
    UnavailableError,
)
from biomedgpt_tools.resolvers.records import (
    MoleculeCandidate,
    MoleculeRecord,
    ProteinCandidate,
    ProteinRecord,
)
from biomedgpt_tools.resolvers.resolver import Resolver
from biomedgpt_tools.resolvers.settings import ResolverSettings

__all__ = [
    "AmbiguousError",
    "InvalidQueryError",
    "MoleculeCandidate",
    "MoleculeQuery",
    "MoleculeRecord",
    "NotFoundError",
    "ObsoleteError",
    "OfflineError",
    "ProteinCandidate",
    "ProteinQuery",
    "ProteinRecord",
    "Resolver",
    "ResolverError",
    "ResolverSettings",
    "UnavailableError",
    "aresolve_molecule",
    "aresolve_protein",
    "default_resolver",
    "detect_molecule_query",
    "detect_protein_query",
    "resolve_molecule",
    "resolve_protein",
]

_RESOLVERS: dict[ResolverSettings, Resolver] = {}
_RESOLVERS_LOCK = threading.Lock()
_MAX_RESOLVERS = 8


def default_resolver(*, offline: bool | None = None) -> Resolver:
    """A shared Resolver for the current environment (one per distinct settings)."""
    settings = ResolverSettings.from_env(offline=offline)
    with _RESOLVERS_LOCK:
        resolver = _RESOLVERS.pop(settings, None)
        if resolver is None:
            while len(_RESOLVERS) >= _MAX_RESOLVERS:
                # forget the least recently used one; not closed: another thread may still be
                # using it, and its clients and connections go with it when it is collected
                del _RESOLVERS[next(iter(_RESOLVERS))]
            resolver = Resolver(settings)
        _RESOLVERS[settings] = resolver  # (re)inserted last: the dict's order is recency
        return resolver


def resolve_molecule(
    query: str, *, offline: bool | None = None, details: bool = True
) -> MoleculeRecord:
    """A MoleculeRecord for a name, CID, SMILES, InChI or InChIKey (raises ResolverError)."""
    return default_resolver(offline=offline).molecule(query, details=details)


def resolve_protein(query: str, *, offline: bool | None = None) -> ProteinRecord:
    """A ProteinRecord for an accession, entry name, gene (+organism), name or sequence."""
    return default_resolver(offline=offline).protein(query)


async def aresolve_molecule(
    query: str, *, offline: bool | None = None, details: bool = True
) -> MoleculeRecord:
    return await default_resolver(offline=offline).amolecule(query, details=details)


async def aresolve_protein(query: str, *, offline: bool | None = None) -> ProteinRecord:
    return await default_resolver(offline=offline).aprotein(query)
