"""Resolving each planned tool call's entity before the tools run, pausing on ambiguity.

The tools resolve too (and would answer an ambiguous name with a message listing the
candidates), but an assistant should ask the person, not guess: an ambiguous name raises a
LangGraph interrupt whose value lists the candidates; `Command(resume=choice)` continues with
the chosen CID or accession. The records found here also give the memory keys (InChIKey,
UniProt accession) the recall step looks up, and the sources the answer cites.
"""

from __future__ import annotations

from typing import Any

from agents.records import MoleculeFacts, ProteinFacts, ResolvedRecord
from agents.routing import MOLECULE_TOOL, PROTEIN_TOOL
from biomedgpt_tools.services.entity_names import display_name, memory_key
from biomedgpt_tools.services.errors import NoStructureKeyError

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


def text_call(tool: str) -> ResolvedRecord:
    """The entry of a call that names no entity (BiomedQA)."""
    return _without_record(tool)


def failed_lookup(tool: str, argument: str, query: str, message: str) -> ResolvedRecord:
    """The entry of a lookup that failed (not found, obsolete, offline): the tool explains it."""
    return _without_record(tool, argument, query, message)


def _without_record(
    tool: str, arg: str | None = None, query: str | None = None, error: str | None = None
) -> ResolvedRecord:
    return ResolvedRecord(
        tool=tool, arg=arg, query=query, kind=None, key=None, display=None, error=error, record=None
    )


def describe_record(tool: str, argument: str, query: str, record) -> ResolvedRecord:
    """What later steps need from a resolved record: the memory key and display name the tools
    use (services.entity_names), and the facts the citation and the page's card show."""

    try:
        key = memory_key(record)
    except NoStructureKeyError:  # nothing to recall by; the tool says why when it runs
        key = None
    facts: MoleculeFacts | ProteinFacts
    if tool == MOLECULE_TOOL:
        facts = MoleculeFacts(
            cid=record.cid,
            formula=record.formula,
            molecular_weight=record.molecular_weight,
            smiles=record.smiles or record.connectivity_smiles,  # the web page draws it
            inchikey=record.inchikey or key,
            record_source=record.source,
            source_url=record.source_url,
        )
    else:
        facts = ProteinFacts(
            accession=record.isoform or record.accession,
            entry_name=record.entry_name,
            organism=record.organism,
            length=record.length,
            gene_names=list(record.gene_names),
            record_source=record.source,
            source_url=record.source_url,
        )
    return ResolvedRecord(
        tool=tool,
        arg=argument,
        query=query,
        kind="molecule" if tool == MOLECULE_TOOL else "protein",
        key=key,
        display=display_name(record) or query,
        error=None,
        record=facts,
    )


def resolve_call(resolvers, tool: str, query: str):
    """The record for one tool call's entity; resolver errors propagate to the caller."""
    if tool == MOLECULE_TOOL:
        return resolvers.molecule(query)
    return resolvers.protein(query)
