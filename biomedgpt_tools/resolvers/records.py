"""Typed, JSON-serialisable records the resolvers return (the model needs a SMILES or a sequence).

Records keep where a fact came from (`source_url`, `fetched_at`, `source`) so an answer can be
cited and a stale cache entry recognised; text fetched from PubChem/UniProt is data, never
instructions, and is stored verbatim.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# "sequence": a protein built from the residues given; "local": a molecule described with RDKit
# from the SMILES given, when PubChem lacks it or cannot be asked (see BioMedGPTToolkit)
RecordSource = Literal["pubchem", "uniprot", "snapshot", "sequence", "local"]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class MoleculeRecord(BaseModel):
    """One PubChem compound: identifiers, structure, a few names and the description."""

    model_config = ConfigDict(frozen=True)

    cid: int | None
    name: str | None = Field(None, description="PubChem Title (or the snapshot's name)")
    smiles: str | None = Field(None, description="isomeric SMILES (PubChem key `SMILES`)")
    connectivity_smiles: str | None = Field(
        None, description="no stereo/isotopes (`ConnectivitySMILES`)"
    )
    inchi: str | None = None
    inchikey: str | None = None
    formula: str | None = None
    molecular_weight: float | None = Field(None, description="g/mol; PubChem sends it as a string")
    iupac_name: str | None = None
    synonyms: list[str] = Field(default_factory=list)
    description: str | None = None
    description_source: str | None = None
    description_url: str | None = None
    note: str | None = Field(None, description="what the resolver decided on the user's behalf")
    source: RecordSource = "pubchem"
    source_url: str | None = None
    fetched_at: datetime = Field(default_factory=utc_now)
    query: str | None = Field(None, description="what the user asked for")


class ProteinRecord(BaseModel):
    """One UniProtKB entry (or a raw sequence that needed no lookup)."""

    model_config = ConfigDict(frozen=True)

    accession: str | None
    entry_name: str | None = None
    reviewed: bool | None = None
    protein_name: str | None = None
    gene_names: list[str] = Field(default_factory=list)
    organism: str | None = None
    taxon_id: int | None = None
    sequence: str
    length: int
    function: str | None = None
    subcellular_locations: list[str] = Field(default_factory=list)
    family: str | None = None
    ec_numbers: list[str] = Field(default_factory=list)
    secondary_accessions: list[str] = Field(default_factory=list)
    isoform: str | None = Field(None, description="isoform accession asked for, e.g. P04637-2")
    requested_accession: str | None = Field(
        None, description="the accession asked for when UniProt redirected a merged (secondary) one"
    )
    note: str | None = Field(None, description="what the resolver decided on the user's behalf")
    source: RecordSource = "uniprot"
    source_url: str | None = None
    fetched_at: datetime = Field(default_factory=utc_now)
    query: str | None = None


class MoleculeCandidate(BaseModel):
    """Enough to choose between PubChem compounds a query matched."""

    model_config = ConfigDict(frozen=True)

    cid: int
    name: str | None = None


class ProteinCandidate(BaseModel):
    """Enough to choose between UniProt entries a query matched."""

    model_config = ConfigDict(frozen=True)

    accession: str
    entry_name: str | None = None
    organism: str | None = None
    taxon_id: int | None = None
    reviewed: bool | None = None
    protein_name: str | None = None
    gene_names: list[str] = Field(default_factory=list)
