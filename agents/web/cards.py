"""What the page shows for each entity: molecule cards with a drawing, protein cards.

Cards are plain JSON built from the resolve step's records (or an interrupt's candidates);
the page writes every field as text, so nothing from PubChem or UniProt is ever markup.
Links are built here from identifiers (a CID is a number, an accession is quoted), never
taken from the data.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from agents.composition import PUBCHEM_COMPOUND_URL, UNIPROT_ENTRY_URL
from agents.records import ResolvedRecord

log = logging.getLogger(__name__)

DEPICTION_PATH = "/depict.svg"


def depiction_url(smiles: str | None) -> str | None:
    return f"{DEPICTION_PATH}?smiles={quote(smiles, safe='')}" if smiles else None


def pubchem_url(cid: Any) -> str | None:
    try:
        return PUBCHEM_COMPOUND_URL.format(cid=int(cid))
    except (TypeError, ValueError):
        return None


def uniprot_url(accession: str | None) -> str | None:
    if not accession:
        return None
    return UNIPROT_ENTRY_URL.format(accession=quote(accession.split("-")[0], safe=""))


def molecule_card(
    name: str | None,
    cid: Any,
    formula: str | None,
    inchikey: str | None,
    smiles: str | None,
    molecular_weight: float | None = None,
    record_source: str | None = None,
) -> dict[str, Any]:
    return {
        "kind": "molecule",
        "name": name or (f"CID {cid}" if cid else smiles) or "unnamed molecule",
        "cid": cid,
        "formula": formula,
        "inchikey": inchikey,
        "smiles": smiles,
        "molecular_weight": molecular_weight,
        "depiction": depiction_url(smiles),
        "url": pubchem_url(cid) if cid else None,
        "offline_snapshot": record_source == "snapshot",
    }


def protein_card(
    accession: str | None,
    name: str | None,
    entry_name: str | None,
    organism: str | None,
    length: int | None,
    gene_names: list[str] | None = None,
    record_source: str | None = None,
) -> dict[str, Any]:
    return {
        "kind": "protein",
        "name": name or entry_name or accession or "unnamed protein",
        "accession": accession,
        "entry_name": entry_name,
        "organism": organism,
        "length": length,
        "gene_names": list(gene_names or []),
        "url": uniprot_url(accession) if record_source != "sequence" else None,
        "offline_snapshot": record_source == "snapshot",
    }


def card_for_resolved(entry: ResolvedRecord) -> dict[str, Any] | None:
    """The card of one resolve-step entry (state["resolved"][i]); None for a text question."""
    if entry["error"]:
        return {
            "kind": "error",
            "query": entry["query"],
            "tool": entry["tool"],
            "message": entry["error"],
        }
    facts = entry["record"]
    if facts is None:
        return None
    if entry["kind"] == "molecule":
        return molecule_card(
            entry["display"],
            facts["cid"],
            facts["formula"],
            facts["inchikey"] or entry["key"],
            facts["smiles"],
            facts["molecular_weight"],
            facts["record_source"],
        )
    return protein_card(
        facts["accession"],
        entry["display"],
        facts["entry_name"],
        facts["organism"],
        facts["length"],
        facts["gene_names"],
        facts["record_source"],
    )


def cards_for_resolved(resolved: list[ResolvedRecord]) -> list[dict[str, Any]]:
    cards = []
    for index, entry in enumerate(resolved):
        card = card_for_resolved(entry)
        if card is not None:
            cards.append({**card, "call": index})
    return cards


def candidate_cards(payload: dict[str, Any], resolvers) -> list[dict[str, Any]]:
    """One choice per candidate of an interrupt, each with a card; records fetched in one batch.

    A lookup that fails still leaves a button with the candidate's own name: choosing must
    not depend on the drawing.
    """
    candidates = payload.get("candidates") or []
    molecules: dict[int, Any] = {}
    proteins: dict[str, Any] = {}
    try:
        cids = [c["cid"] for c in candidates if c.get("cid") is not None]
        accessions = [c["accession"] for c in candidates if c.get("accession")]
        if cids and resolvers is not None:
            molecules = resolvers.molecules_by_cid(cids)
        if accessions and resolvers is not None:
            proteins = resolvers.proteins_by_accession(accessions)
    except Exception as error:  # a drawing is a nicety; the choice itself must still work
        log.warning("candidate details unavailable: %s", error)
    choices = []
    for number, candidate in enumerate(candidates, start=1):
        if candidate.get("cid") is not None:
            record = molecules.get(candidate["cid"])
            card = molecule_card(
                candidate.get("name") or (record.name if record else None),
                candidate["cid"],
                record.formula if record else None,
                record.inchikey if record else None,
                (record.smiles or record.connectivity_smiles) if record else None,
                record.molecular_weight if record else None,
                record.source if record else None,
            )
        else:
            record = proteins.get(candidate.get("accession"))
            card = protein_card(
                candidate.get("accession"),
                candidate.get("protein_name"),
                candidate.get("entry_name"),
                candidate.get("organism"),
                record.length if record else None,
                candidate.get("gene_names"),
                record.source if record else None,
            )
        choices.append({"number": number, "choice": candidate["choice"], "card": card})
    return choices
