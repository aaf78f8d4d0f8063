"""The structured results of the MCP tools (their `outputSchema`), built from our records.

Clients that read `structuredContent` get typed fields; every free text fetched from PubChem or
UniProt (names, descriptions, function texts) passes through `quoting` first, exactly as in the
LangChain tools' text, so nothing fetched can read as an instruction to the client's model.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from biomedgpt_tools.resolvers.records import (
    MoleculeCandidate,
    MoleculeRecord,
    ProteinCandidate,
    ProteinRecord,
)
from biomedgpt_tools.tools.artifacts import AnsweredBy, QAArtifact, StepTimings
from biomedgpt_tools.tools.quoting import quote_external_text, quote_inline

SOURCE_LABELS = {
    "pubchem": "PubChem",
    "uniprot": "UniProt",
    "snapshot": "the bundled PubChem/UniProt snapshot",
    "local": "RDKit, from the SMILES given",
    "sequence": "the sequence given",
}


def annotation_uri(annotation_id: str) -> str:
    return f"memory://annotations/{annotation_id}"


def depiction_uri(molecule: str) -> str:
    from urllib.parse import quote

    return f"molecule://depiction/{quote(molecule, safe='')}"


class MoleculeIdentity(BaseModel):
    """Who the molecule is: PubChem identifiers and structure."""

    kind: Literal["molecule"] = "molecule"
    cid: int | None = Field(None, description="PubChem CID; None for a structure PubChem lacks")
    name: str | None = Field(None, description="PubChem title (quoted data)")
    smiles: str | None = None
    inchikey: str | None = None
    formula: str | None = None
    molecular_weight: float | None = Field(None, description="g/mol")
    iupac_name: str | None = None
    source: str = Field(description="pubchem, snapshot or local (RDKit from the SMILES given)")
    source_url: str | None = None
    depiction_uri: str | None = Field(
        None, description="MCP resource with the structure drawn as SVG"
    )


class ProteinIdentity(BaseModel):
    """Who the protein is: UniProt identifiers and, for resolve_protein, the sequence."""

    kind: Literal["protein"] = "protein"
    accession: str | None = Field(None, description="UniProt accession; None for a raw sequence")
    requested_accession: str | None = Field(
        None, description="the accession asked for when UniProt merged it into `accession`"
    )
    entry_name: str | None = None
    reviewed: bool | None = Field(None, description="Swiss-Prot (True) or TrEMBL (False)")
    protein_name: str | None = Field(None, description="quoted data")
    gene_names: list[str] = Field(default_factory=list)
    organism: str | None = None
    taxon_id: int | None = None
    length: int
    sequence: str | None = Field(None, description="one-letter amino-acid sequence")
    source: str = Field(description="uniprot, snapshot or sequence (used as given)")
    source_url: str | None = None


class SourceRef(BaseModel):
    """Where a fact or an answer came from."""

    kind: Literal["database", "model", "memory"]
    name: str = Field(description="e.g. PubChem, UniProt, or the model's id")
    url: str | None = Field(None, description="a web page or an MCP resource URI")
    retrieved_at: datetime | None = None


class QAResult(BaseModel):
    """An answer of molecule_qa, protein_qa or biomed_qa."""

    tool: str
    question: str
    answer: str | None = Field(
        description="the model's answer (now or from memory); None when no model answered"
    )
    answered_by: AnsweredBy = Field(
        description="model: computed now; memory: a stored earlier answer; record: no model "
        "answered, the text content shows the database record instead"
    )
    from_memory: bool
    model_id: str | None = None
    revision: str | None = Field(None, description="checkpoint hash of the model that answered")
    backend: str = Field(description="in-process, none, or another model backend")
    annotation_id: str | None = None
    annotation_uri: str | None = Field(None, description="the stored answer as an MCP resource")
    answered_at: datetime | None = None
    entity: MoleculeIdentity | ProteinIdentity | None = Field(
        None, description="the resolved molecule or protein (None for biomed_qa)"
    )
    options: list[str] | None = None
    sources: list[SourceRef] = Field(default_factory=list)
    notes: list[str] = Field(
        default_factory=list, description="what the tool decided on the caller's behalf"
    )
    timings: StepTimings


class MoleculeResolution(BaseModel):
    """resolve_molecule: the compound, or the candidates when the name matched several."""

    status: Literal["resolved", "ambiguous"]
    query: str
    molecule: MoleculeIdentity | None = None
    synonyms: list[str] = Field(default_factory=list, description="first synonyms (quoted data)")
    description: str | None = Field(
        None, description="PubChem's description as a delimited quoted-data block"
    )
    candidates: list[MoleculeCandidate] = Field(
        default_factory=list, description="best first, when status is ambiguous"
    )
    notes: list[str] = Field(default_factory=list)


class ProteinResolution(BaseModel):
    """resolve_protein: the UniProt entry, or the candidates when the query matched several."""

    status: Literal["resolved", "ambiguous"]
    query: str
    protein: ProteinIdentity | None = None
    function: str | None = Field(
        None, description="UniProt's function text as a delimited quoted-data block"
    )
    subcellular_locations: list[str] = Field(default_factory=list)
    family: str | None = None
    ec_numbers: list[str] = Field(default_factory=list)
    secondary_accessions: list[str] = Field(default_factory=list)
    candidates: list[ProteinCandidate] = Field(default_factory=list)
    notes: list[str] = Field(
        default_factory=list, description="e.g. a merged (secondary) accession redirected"
    )


class MemoryHit(BaseModel):
    """One stored answer."""

    annotation_id: str
    uri: str = Field(description="memory://annotations/{id}")
    kind: str = Field(description="molecule, protein or text")
    key: str = Field(description="InChIKey, UniProt accession, sequence key or text key")
    display_name: str
    question: str
    answer: str
    source: str = Field(description="model, or the database/person an imported answer came from")
    model_id: str
    revision: str
    created_at: datetime
    distance: float | None = Field(
        None,
        description="cosine distance to the search text (0 = same meaning); None for a listing",
    )


class MemorySearchResult(BaseModel):
    """search_memory: past answers about an entity, or closest in meaning to a text."""

    query: str | None
    entity_key: str | None = None
    hits: list[MemoryHit]
    notes: list[str] = Field(default_factory=list)


# -- builders -------------------------------------------------------------------------------------
def molecule_identity(record: MoleculeRecord) -> MoleculeIdentity:
    smiles = record.smiles or record.connectivity_smiles
    return MoleculeIdentity(
        cid=record.cid,
        name=quote_inline(record.name, 120) or None,
        smiles=smiles,
        inchikey=record.inchikey,
        formula=record.formula,
        molecular_weight=record.molecular_weight,
        iupac_name=quote_inline(record.iupac_name, 200) or None,
        source=record.source,
        source_url=record.source_url,
        depiction_uri=depiction_uri(str(record.cid) if record.cid is not None else smiles)
        if (record.cid is not None or smiles)
        else None,
    )


def protein_identity(record: ProteinRecord, with_sequence: bool) -> ProteinIdentity:
    return ProteinIdentity(
        accession=record.accession,
        requested_accession=record.requested_accession,
        entry_name=quote_inline(record.entry_name, 40) or None,
        reviewed=record.reviewed,
        protein_name=quote_inline(record.protein_name, 200) or None,
        gene_names=[quote_inline(name, 40) for name in record.gene_names],
        organism=quote_inline(record.organism, 120) or None,
        taxon_id=record.taxon_id,
        length=record.length,
        sequence=record.sequence if with_sequence else None,
        source=record.source,
        source_url=record.source_url,
    )


def record_sources(record: MoleculeRecord | ProteinRecord | None) -> list[SourceRef]:
    if record is None or record.source in ("local", "sequence"):
        return []
    sources = [
        SourceRef(
            kind="database",
            name=SOURCE_LABELS.get(record.source, record.source),
            url=record.source_url,
            retrieved_at=record.fetched_at,
        )
    ]
    if isinstance(record, MoleculeRecord) and record.description_url:
        sources.append(
            SourceRef(
                kind="database",
                name=quote_inline(record.description_source, 80) or "PubChem description",
                url=record.description_url,
            )
        )
    return sources


def qa_result(tool_name: str, artifact: QAArtifact) -> QAResult:
    record = artifact.record
    entity: MoleculeIdentity | ProteinIdentity | None = None
    if isinstance(record, MoleculeRecord):
        entity = molecule_identity(record)
    elif isinstance(record, ProteinRecord):
        entity = protein_identity(record, with_sequence=False)
    sources = record_sources(record)
    uri = annotation_uri(artifact.annotation_id) if artifact.annotation_id else None
    if artifact.answered_by == "model" and artifact.model_id:
        sources.append(SourceRef(kind="model", name=artifact.model_id, url=uri))
    elif artifact.answered_by == "memory" and artifact.model_id:
        sources.append(
            SourceRef(
                kind="memory", name=artifact.model_id, url=uri, retrieved_at=artifact.answered_at
            )
        )
    return QAResult(
        tool=tool_name,
        question=artifact.question,
        answer=artifact.answer,
        answered_by=artifact.answered_by,
        from_memory=artifact.from_memory,
        model_id=artifact.model_id,
        revision=artifact.revision,
        backend=artifact.backend,
        annotation_id=artifact.annotation_id,
        annotation_uri=uri,
        answered_at=artifact.answered_at,
        entity=entity,
        options=artifact.options,
        sources=sources,
        notes=list(artifact.notes),
        timings=artifact.timings,
    )


def molecule_resolution(query: str, record: MoleculeRecord, notes: list[str]) -> MoleculeResolution:
    notes = [*notes, *([record.note] if record.note else [])]
    description = (
        quote_external_text(record.description, source="PubChem") if record.description else None
    )
    return MoleculeResolution(
        status="resolved",
        query=query,
        molecule=molecule_identity(record),
        synonyms=[quote_inline(name, 80) for name in record.synonyms[:10]],
        description=description,
        notes=notes,
    )


def protein_resolution(query: str, record: ProteinRecord) -> ProteinResolution:
    notes = [record.note] if record.note else []  # e.g. a merged accession followed
    function = quote_external_text(record.function, source="UniProt") if record.function else None
    return ProteinResolution(
        status="resolved",
        query=query,
        protein=protein_identity(record, with_sequence=True),
        function=function,
        subcellular_locations=[quote_inline(place, 80) for place in record.subcellular_locations],
        family=quote_inline(record.family, 200) or None,
        ec_numbers=list(record.ec_numbers),
        secondary_accessions=list(record.secondary_accessions),
        notes=notes,
    )


def quoted_candidates(candidates: list) -> list:
    """Candidates with their fetched names defused (they are shown to the client's model)."""
    quoted = []
    for candidate in candidates:
        if isinstance(candidate, MoleculeCandidate):
            quoted.append(
                candidate.model_copy(update={"name": quote_inline(candidate.name, 80) or None})
            )
        else:
            quoted.append(
                candidate.model_copy(
                    update={
                        "entry_name": quote_inline(candidate.entry_name, 40) or None,
                        "protein_name": quote_inline(candidate.protein_name, 120) or None,
                        "organism": quote_inline(candidate.organism, 80) or None,
                        "gene_names": [quote_inline(g, 40) for g in candidate.gene_names],
                    }
                )
            )
    return quoted


def stored_answer_text(record: Any) -> str:
    """A model's answer as stored; an imported database/person text as quoted data."""
    if record.source == "model":
        return record.answer
    return quote_external_text(record.answer, source=record.source)


def memory_hit(record: Any, distance: float | None) -> MemoryHit:
    return MemoryHit(
        annotation_id=record.id,
        uri=annotation_uri(record.id),
        kind=record.kind,
        key=record.key,
        display_name=quote_inline(record.display_name, 120),
        question=record.question,
        answer=stored_answer_text(record),
        source=record.source,
        model_id=record.model_id,
        revision=record.model_revision,
        created_at=record.created_at,
        distance=distance,
    )
