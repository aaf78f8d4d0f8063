"""Resolving each planned tool call's entity before the tools run, pausing on ambiguity.

The tools resolve too (and would answer an ambiguous name with a message listing the
candidates), but an assistant should ask the person, not guess: an ambiguous name raises a
LangGraph interrupt whose value lists the candidates; `Command(resume=choice)` continues with
the chosen CID or accession. The records found here also give the memory keys (InChIKey,
UniProt accession) the recall step looks up, and the sources the answer cites.
"""

from __future__ import annotations

from typing import Any

from agents.routing import MOLECULE_TOOL, PROTEIN_TOOL

ENTITY_ARGUMENT = {MOLECULE_TOOL: "molecule", PROTEIN_TOOL: "protein"}


class InvalidChoiceError(ValueError):
    """A resume value that is none of the offered candidates."""


def candidate_payload(error, tool: str, query: str, question: str) -> dict[str, Any]:
    """The interrupt's value: what is ambiguous and the choices, as JSON."""
    choices = []
    for candidate in error.candidates:
        data = candidate.model_dump(mode="json")
        data["choice"] = f"CID {data['cid']}" if "cid" in data else data["accession"]
        choices.append(data)
    return {
        "type": "ambiguous",
        "tool": tool,
        "query": query,
        "question": question,
        "message": error.message,
        "candidates": choices,
        "how_to_resume": "resume with one candidate's `choice` (e.g. 'CID 5950' or 'P04637') or its 1-based number",
    }


def chosen_candidate(payload: dict[str, Any], choice: Any) -> str:
    """The candidate a resume value names: its `choice` text, its CID/accession, or its number."""
    candidates = payload["candidates"]
    if isinstance(choice, dict):
        choice = choice.get("choice") or choice.get("accession") or choice.get("cid")
    text = str(choice).strip()
    if (
        text.isdigit()
        and 1 <= int(text) <= len(candidates)
        and not any(str(c.get("cid")) == text for c in candidates)
    ):
        return candidates[int(text) - 1]["choice"]
    for candidate in candidates:
        names = {
            candidate["choice"].upper(),
            str(candidate.get("cid", "")).upper(),
            str(candidate.get("accession", "")).upper(),
        }
        if text.upper() in names:
            return candidate["choice"]
    offered = ", ".join(c["choice"] for c in candidates)
    raise InvalidChoiceError(
        f"{text!r} is not one of the candidates for {payload['query']!r} ({offered}); "
        "resume with one of them or its number"
    )


def describe_record(tool: str, query: str, record) -> dict[str, Any]:
    """What later steps need from a resolved record: memory key, display name, citation."""
    if tool == MOLECULE_TOOL:
        key = record.inchikey
        if not key and (record.smiles or record.connectivity_smiles):
            from biomedgpt_tools.resolvers.smiles import local_properties

            key = local_properties(record.smiles or record.connectivity_smiles)["inchikey"]
        return {
            "kind": "molecule",
            "key": key,
            "display": record.name or record.iupac_name or query,
            "cid": record.cid,
            "formula": record.formula,
            "molecular_weight": record.molecular_weight,
            "smiles": record.smiles or record.connectivity_smiles,  # the web page draws it
            "inchikey": record.inchikey or key,
            "record_source": record.source,
            "source_url": record.source_url,
        }
    return {
        "kind": "protein",
        "key": record.isoform or record.accession,
        "display": record.protein_name or record.entry_name or query,
        "accession": record.isoform or record.accession,
        "entry_name": record.entry_name,
        "organism": record.organism,
        "length": record.length,
        "gene_names": list(record.gene_names),
        "record_source": record.source,
        "source_url": record.source_url,
    }


def resolve_call(resolvers, tool: str, query: str):
    """The record for one tool call's entity; resolver errors propagate to the caller."""
    if tool == MOLECULE_TOOL:
        return resolvers.molecule(query)
    return resolvers.protein(query)
