"""The records the assistant's state holds, one type per idea.

They are TypedDicts rather than classes because the state must stay plain JSON: the SQLite
checkpointer and the LangGraph server store it, and Studio shows it. A key that is always
written is required (read it with `record["key"]`); `NotRequired` marks the few that are
really optional.
"""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import NotRequired, TypedDict

Modality = Literal["molecule", "protein"]


class EntityRecord(TypedDict):
    """A molecule or protein the question names (`Entity.as_dict()`; spans are not kept)."""

    kind: str  # one of entities.MOLECULE_KINDS or entities.PROTEIN_KINDS
    text: str  # the identifier as the question writes it
    modality: Modality
    organism: NotRequired[str]  # for genes: the taxon the question names
    query: NotRequired[str]  # the resolver query verification confirmed it with


class ToolCallRecord(TypedDict):
    """One planned tool call."""

    name: str  # MoleculeQA, ProteinQA or BiomedQA
    args: dict[str, Any]  # the tool's arguments, as its schema takes them


class MoleculeFacts(TypedDict):
    """What the answer's citation and the page's card need of a PubChem record."""

    cid: int | None
    formula: str | None
    molecular_weight: float | None
    smiles: str | None  # the page draws it
    inchikey: str | None
    record_source: str  # "pubchem", "snapshot" or "local" (computed from a SMILES)
    source_url: str | None


class ProteinFacts(TypedDict):
    """What the answer's citation and the page's card need of a UniProt record."""

    accession: str | None  # the isoform's when one was asked for
    entry_name: str | None
    organism: str | None
    length: int
    gene_names: list[str]
    record_source: str  # "uniprot", "snapshot" or "sequence" (used as given)
    source_url: str | None


class ResolvedRecord(TypedDict):
    """One tool call's entity as the resolve step found it, in call order.

    A text question (BiomedQA) has no entity: `arg`, `query`, `kind`... are None. A lookup that
    failed has its `error` (the tool then explains it again in its answer).
    """

    tool: str
    arg: str | None  # the argument naming the entity ("molecule", "protein")
    query: str | None  # its value (after a choice, the chosen CID or accession)
    kind: Modality | None
    key: str | None  # the memory key the tools store answers under (services.entity_names)
    display: str | None  # the entity's display name
    error: str | None
    record: MoleculeFacts | ProteinFacts | None


class MemoryRecord(TypedDict):
    """An earlier stored answer about an entity of this turn (another question)."""

    display: str  # the entity's display name
    key: str
    question: str
    answer: str
    model_id: str
    model_revision: str
    created_at: str  # ISO 8601
    id: str  # the annotation id


class ToolResultRecord(TypedDict):
    """One tool call's outcome, in plan order."""

    name: str
    args: dict[str, Any]
    status: Literal["success", "error"]  # "error": the tool's message is the content
    content: str  # the text the tool gives a calling LLM
    artifact: dict[str, Any] | None  # QAArtifact.model_dump(mode="json"); None on an error


class SourceRecord(TypedDict):
    """A numbered source of the answer; which identifiers it has depends on its type."""

    n: int
    type: Literal["model", "memory", "pubchem", "uniprot"]
    label: str
    url: NotRequired[str]  # pubchem, uniprot
    cid: NotRequired[int]  # pubchem
    accession: NotRequired[str]  # uniprot
    model_id: NotRequired[str | None]  # model, memory
    revision: NotRequired[str]  # model, memory: the checkpoint hash's first 12 digits
    annotation_id: NotRequired[str | None]  # model, memory


class FocusRecord(TypedDict):
    """One entity of the last turn that named any, for follow-up questions."""

    tool: str
    arg: str
    query: str
    display: str | None
    kind: Modality | None
    key: str | None
    entity: EntityRecord | None  # the question's mention of it (None: the LLM router named it)


class TurnLogRecord(TypedDict):
    """One finished turn of the thread."""

    question: str
    answer: str


def resolved_from_saved(entry: dict[str, Any]) -> ResolvedRecord:
    """A resolve-step entry as saved by any version: threads saved before the state was typed
    kept a record's facts beside the entry's own fields, and wrote only the fields they had
    (a text question: just `tool`). Entries of the current shape come back as they are."""
    if "record" in entry:
        return entry  # type: ignore[return-value]
    kind = entry.get("kind")
    facts_type = {"molecule": MoleculeFacts, "protein": ProteinFacts}.get(kind)
    record = None
    if facts_type is not None and not entry.get("error"):
        # the facts TypedDict's own keys, in declaration order, read from the flat entry
        record = {name: entry.get(name) for name in facts_type.__annotations__}
        if kind == "protein":
            record["gene_names"] = list(record["gene_names"] or [])
            record["length"] = record["length"] or 0
    return ResolvedRecord(
        tool=entry.get("tool", ""),
        arg=entry.get("arg"),
        query=entry.get("query"),
        kind=kind,
        key=entry.get("key"),
        display=entry.get("display"),
        error=entry.get("error"),
        record=record,  # type: ignore[typeddict-item]
    )
