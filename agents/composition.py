"""Writing the answer from the tool results, with a numbered source for every fact.

Each tool result becomes one section; each section cites where its text came from: the
model that answered now (id and checkpoint revision), an answer recalled from memory (its
annotation id and date), the PubChem compound (CID) or UniProt entry (accession) the
structure came from. Text fetched from databases is data: the tools already quote it.
"""

from __future__ import annotations

from typing import Any

from agents.prompts import NO_MODEL_LINE
from agents.records import MemoryRecord, ResolvedRecord, SourceRecord, ToolResultRecord

PUBCHEM_COMPOUND_URL = "https://pubchem.ncbi.nlm.nih.gov/compound/{cid}"
UNIPROT_ENTRY_URL = "https://www.uniprot.org/uniprotkb/{accession}/entry"


class SourceList:
    """Numbered sources, each listed once however many sections cite it."""

    def __init__(self) -> None:
        self.items: list[SourceRecord] = []
        self._numbers: dict[tuple, int] = {}

    def cite(self, source: dict[str, Any]) -> int:
        """The source's number; `source` is a SourceRecord without its `n`."""
        identity = tuple(sorted((k, str(v)) for k, v in source.items() if k != "label"))
        if identity not in self._numbers:
            self.items.append(SourceRecord(n=len(self.items) + 1, **source))
            self._numbers[identity] = len(self.items)
        return self._numbers[identity]


def record_sources(resolved: ResolvedRecord) -> list[dict[str, Any]]:
    """The database entry a tool's structure came from (none for a structure used as given)."""
    facts = resolved["record"]
    if facts is None:
        return []
    origin = facts["record_source"]
    suffix = " (bundled offline snapshot)" if origin == "snapshot" else ""
    if resolved["kind"] == "molecule" and facts["cid"]:
        cid = facts["cid"]
        return [
            {
                "type": "pubchem",
                "cid": cid,
                "url": PUBCHEM_COMPOUND_URL.format(cid=cid),
                "label": f"PubChem CID {cid}{suffix}",
            }
        ]
    if resolved["kind"] == "protein" and facts["accession"] and origin != "sequence":
        accession = facts["accession"]
        return [
            {
                "type": "uniprot",
                "accession": accession,
                "url": UNIPROT_ENTRY_URL.format(accession=accession.split("-")[0]),
                "label": f"UniProt {accession}{suffix}",
            }
        ]
    return []


def answer_source(artifact: dict[str, Any]) -> dict[str, Any] | None:
    """Who produced a tool's answer text (`artifact`: a QAArtifact's JSON, which has every
    field): the model now, or memory."""
    revision = (artifact["revision"] or "")[:12]
    if artifact["answered_by"] == "model":
        return {
            "type": "model",
            "model_id": artifact["model_id"],
            "revision": revision,
            "annotation_id": artifact["annotation_id"],
            "label": f"BioMedGPT {artifact['model_id']} (revision {revision}), answered now",
        }
    if artifact["answered_by"] == "memory":
        when = str(artifact["answered_at"] or "")[:16].replace("T", " ")
        return {
            "type": "memory",
            "model_id": artifact["model_id"],
            "revision": revision,
            "annotation_id": artifact["annotation_id"],
            "label": f"memory: {artifact['model_id']} (revision {revision}) answered on {when} UTC",
        }
    return None


def _molecular_weight(resolved: ResolvedRecord) -> float | None:
    facts = resolved["record"]
    if resolved["kind"] != "molecule" or facts is None:
        return None
    return facts["molecular_weight"]


def _marks(numbers: list[int]) -> str:
    return "".join(f"[{n}]" for n in dict.fromkeys(numbers))


def compose_answer(
    results: list[ToolResultRecord],
    resolved: list[ResolvedRecord],
    memories: list[MemoryRecord],
) -> tuple[str, list[SourceRecord]]:
    """(answer text, sources) from the tool results of one turn."""
    sources = SourceList()
    sections: list[str] = []
    any_model = False
    for result, entity in zip(results, resolved, strict=True):
        title = result["name"]
        if entity["display"]:
            title = f"{entity['display']} ({result['name']})"
        if result["status"] == "error":
            sections.append(f"{title}: could not answer. {result['content']}")
            continue
        numbers = []
        artifact = result["artifact"]
        produced_by = answer_source(artifact) if artifact is not None else None
        if artifact is not None and produced_by is not None:
            any_model = True
            numbers.append(sources.cite(produced_by))
            body = (artifact["answer"] or "").strip() or "(the model gave an empty answer)"
        else:
            body = result["content"]
            weight = _molecular_weight(entity)
            if weight is not None:
                body += f"\nMolecular weight: {weight:g} g/mol (from the record, not the model)."
        numbers.extend(sources.cite(source) for source in record_sources(entity))
        sections.append(f"{title}: {body} {_marks(numbers)}".rstrip())
    recalled = []
    for memory in memories:
        number = sources.cite(
            {
                "type": "memory",
                "model_id": memory["model_id"],
                "revision": memory["model_revision"][:12],
                "annotation_id": memory["id"],
                "label": f"memory: {memory['model_id']} (revision {memory['model_revision'][:12]}) "
                f"answered on {memory['created_at'][:10]}",
            }
        )
        recalled.append(
            f"- {memory['display']}: asked {memory['question']!r} -> {memory['answer']} [{number}]"
        )
    parts = []
    if results and not any_model and all(r["status"] != "error" for r in results):
        parts.append(NO_MODEL_LINE)
    parts.extend(sections)
    if recalled:
        parts.append("Earlier answers in memory about these entities:\n" + "\n".join(recalled))
    if sources.items:
        parts.append(
            "Sources:\n"
            + "\n".join(
                f"[{s['n']}] {s['label']}" + (f" {s['url']}" if s.get("url") else "")
                for s in sources.items
            )
        )
    return "\n\n".join(parts), sources.items
