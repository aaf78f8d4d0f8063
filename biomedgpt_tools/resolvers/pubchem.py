"""PubChem PUG REST, as exchanges (see exchange.py): identifiers -> CIDs -> a MoleculeRecord.

Names, SMILES and InChI travel in a form-encoded POST body (`/`, `#`, `+`, `?`, `,` and
brackets break the URL form); CIDs and InChIKeys are URL-safe. Structure comes from the 2025
keys `SMILES` (isomeric) and `ConnectivitySMILES`, never the retired `IsomericSMILES` /
`CanonicalSMILES` (PubChem still accepts those names in requests but answers with the new keys).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from biomedgpt_tools.resolvers.exchange import Exchange
from biomedgpt_tools.resolvers.identifiers import MoleculeQuery
from biomedgpt_tools.resolvers.outcomes import (
    AmbiguousError,
    InvalidQueryError,
    NotFoundError,
    UnavailableError,
)
from biomedgpt_tools.resolvers.records import MoleculeCandidate, MoleculeRecord
from biomedgpt_tools.resolvers.transport import HttpRequest, HttpResponse

RECORD_PROPERTIES = (
    "Title",
    "MolecularFormula",
    "MolecularWeight",
    "SMILES",
    "ConnectivitySMILES",
    "InChI",
    "InChIKey",
    "IUPACName",
)
MAX_SYNONYMS = 10
# PubChem indexes CAS Registry Numbers as synonyms, so a CAS number is a name search
_NAMESPACE_FORM_FIELD = {"name": "name", "cas": "name", "smiles": "smiles", "inchi": "inchi"}


def _fault(response: HttpResponse) -> str:
    body = response.body
    if isinstance(body, dict) and isinstance(body.get("Fault"), dict):
        fault = body["Fault"]
        details = fault.get("Details") or []
        extra = f" ({'; '.join(map(str, details))})" if details else ""
        return f"{fault.get('Code', 'PUGREST')}: {fault.get('Message', '')}{extra}"
    return f"HTTP {response.status}"


def _unexpected(response: HttpResponse, what: str) -> UnavailableError:
    return UnavailableError(f"PubChem answered {what} with {_fault(response)}; try again later")


def cids_request(query: MoleculeQuery) -> HttpRequest:
    """POST for names/SMILES/InChI (value in the body), GET for URL-safe InChIKeys."""
    if query.kind in _NAMESPACE_FORM_FIELD:
        field = _NAMESPACE_FORM_FIELD[query.kind]
        return HttpRequest(
            "pubchem", "POST", f"compound/{field}/cids/JSON", form={field: query.value}
        )
    if query.kind == "inchikey":
        return HttpRequest("pubchem", "GET", f"compound/inchikey/{query.value}/cids/JSON")
    raise ValueError(f"no CID search for a {query.kind} query")


def find_cids(query: MoleculeQuery) -> Exchange[list[int]]:
    """The CIDs PubChem lists for a name/SMILES/InChI/InChIKey, in PubChem's order ([] if none)."""
    response = yield cids_request(query)
    if response.status == 404:
        return []
    if response.status == 400:
        raise InvalidQueryError(
            f"PubChem rejected the {query.described} {query.value!r}: {_fault(response)}",
            query=query.text,
        )
    if response.status != 200:
        raise _unexpected(response, f"the {query.described} search for {query.value!r}")
    try:
        cids = response.body["IdentifierList"]["CID"]
    except (KeyError, TypeError):
        raise _unexpected(response, f"the {query.kind} search (no IdentifierList)") from None
    # PubChem answers CID 0 for a well-formed structure it does not hold
    return [int(cid) for cid in cids if int(cid) > 0]


def properties_request(cids: Sequence[int], properties: Sequence[str]) -> HttpRequest:
    props = ",".join(properties)
    if len(cids) == 1:
        return HttpRequest("pubchem", "GET", f"compound/cid/{cids[0]}/property/{props}/JSON")
    return HttpRequest(
        "pubchem",
        "POST",
        f"compound/cid/property/{props}/JSON",
        form={"cid": ",".join(map(str, cids))},
    )


def fetch_properties(
    cids: Sequence[int], properties: Sequence[str] = RECORD_PROPERTIES
) -> Exchange[tuple[list[dict[str, Any]], str]]:
    """Property rows for the CIDs PubChem knows (one request), and the URL they came from."""
    response = yield properties_request(cids, properties)
    if response.status == 404:
        return [], response.url
    if response.status == 400:
        raise InvalidQueryError(f"PubChem rejected CIDs {list(cids)[:5]}: {_fault(response)}")
    if response.status != 200:
        raise _unexpected(response, "a property request")
    try:
        rows = response.body["PropertyTable"]["Properties"]
    except (KeyError, TypeError):
        raise _unexpected(response, "a property request (no PropertyTable)") from None
    return list(rows), response.url


def fetch_synonyms(cid: int) -> Exchange[list[str]]:
    """A few synonyms (best known first); [] when PubChem has none or cannot answer now."""
    try:
        response = yield HttpRequest("pubchem", "GET", f"compound/cid/{cid}/synonyms/JSON")
    except UnavailableError:
        return []
    if response.status != 200:
        return []
    try:
        info = response.body["InformationList"]["Information"]
        return [str(s) for s in info[0].get("Synonym", [])[:MAX_SYNONYMS]]
    except (KeyError, TypeError, IndexError):
        return []


def fetch_description(cid: int) -> Exchange[tuple[str, str, str] | None]:
    """(description, source name, source URL) of the first described item, or None."""
    try:
        response = yield HttpRequest("pubchem", "GET", f"compound/cid/{cid}/description/JSON")
    except UnavailableError:
        return None
    if response.status != 200:
        return None
    try:
        items = response.body["InformationList"]["Information"]
    except (KeyError, TypeError):
        return None
    for item in items:
        if isinstance(item, dict) and item.get("Description"):
            return (
                str(item["Description"]),
                str(item.get("DescriptionSourceName") or ""),
                str(item.get("DescriptionURL") or ""),
            )
    return None


def _weight(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def record_from_properties(row: dict[str, Any], *, url: str, query: str | None) -> MoleculeRecord:
    """A record from one PropertyTable row; refuses a row without the 2025 `SMILES` key."""
    if "SMILES" not in row:
        raise UnavailableError(
            f"PubChem's answer for CID {row.get('CID')} has no `SMILES` key (keys: "
            f"{sorted(row)}); the response format may have changed, so nothing was guessed"
        )
    return MoleculeRecord(
        cid=int(row["CID"]),
        name=row.get("Title"),
        smiles=row.get("SMILES"),
        connectivity_smiles=row.get("ConnectivitySMILES"),
        inchi=row.get("InChI"),
        inchikey=row.get("InChIKey"),
        formula=row.get("MolecularFormula"),
        molecular_weight=_weight(row.get("MolecularWeight")),
        iupac_name=row.get("IUPACName"),
        source="pubchem",
        source_url=url,
        query=query,
    )


def candidates_for(cids: Sequence[int], max_candidates: int) -> Exchange[list[MoleculeCandidate]]:
    """CID + title for the first `max_candidates` CIDs, in PubChem's order (one request)."""
    shown = list(cids)[:max_candidates]
    rows, _ = yield from fetch_properties(shown, ("Title",))
    titles = {int(row["CID"]): row.get("Title") for row in rows if "CID" in row}
    return [MoleculeCandidate(cid=cid, name=titles.get(cid)) for cid in shown]


def resolve_molecule_exchange(
    query: MoleculeQuery, *, details: bool = True, max_candidates: int = 10
) -> Exchange[MoleculeRecord]:
    """One query to one record: NotFound / Ambiguous (CIDs with titles) raised, never guessed."""
    if query.kind == "cid":
        cid = int(query.value)
    else:
        cids = yield from find_cids(query)
        if not cids:
            if query.kind == "name":
                way_out = "check the spelling, or give a SMILES, CID or InChIKey"
            elif query.kind == "cas":
                way_out = (
                    "the number is well formed, but no compound lists it as a synonym; give a "
                    "name, SMILES or CID"
                )
            else:
                way_out = "the structure itself is valid and can be used as given"
            raise NotFoundError(
                f"PubChem has no compound for the {query.described} {query.value!r}; {way_out}",
                query=query.text,
            )
        if len(cids) > 1:
            candidates = yield from candidates_for(cids, max_candidates)
            raise AmbiguousError(
                f"the {query.described} {query.value!r} matches {len(cids)} PubChem compounds; pick "
                "one by CID (candidates listed in PubChem's order)",
                candidates,
                query=query.text,
            )
        cid = cids[0]
    rows, url = yield from fetch_properties([cid])
    if not rows:
        raise NotFoundError(
            f"PubChem has no compound with CID {cid}; check the number", query=query.text
        )
    record = record_from_properties(rows[0], url=url, query=query.text)
    if not details:
        return record
    synonyms = yield from fetch_synonyms(cid)
    description = yield from fetch_description(cid)
    update: dict[str, Any] = {"synonyms": synonyms}
    if description is not None:
        text, source_name, source_url = description
        update |= {
            "description": text,
            "description_source": source_name or None,
            "description_url": source_url or None,
        }
    return record.model_copy(update=update)


def batch_properties_exchange(
    cids: Sequence[int], batch_size: int
) -> Exchange[tuple[dict[int, MoleculeRecord], str]]:
    """Records for many CIDs with one POST per `batch_size` CIDs; unknown CIDs are absent."""
    found: dict[int, MoleculeRecord] = {}
    last_url = ""
    for start in range(0, len(cids), batch_size):
        chunk = list(cids[start : start + batch_size])
        rows, last_url = yield from fetch_properties(chunk)
        for row in rows:
            record = record_from_properties(row, url=last_url, query=f"CID {row.get('CID')}")
            if record.cid is not None:
                found[record.cid] = record
    return found, last_url
