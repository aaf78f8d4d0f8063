"""UniProt REST, as exchanges (see exchange.py): accessions, entry names and searches -> records.

Redirects are never followed blindly: a merged (secondary) accession answers 303 to the new
entry, which we fetch and report (`requested_accession`, `note`). Inactive entries (deleted,
demerged) raise ObsoleteError with the reason and the replacement accessions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urljoin, urlsplit

from biomedgpt_tools.resolvers.exchange import Exchange
from biomedgpt_tools.resolvers.identifiers import ProteinQuery
from biomedgpt_tools.resolvers.outcomes import (
    AmbiguousError,
    InvalidQueryError,
    NotFoundError,
    ObsoleteError,
    UnavailableError,
)
from biomedgpt_tools.resolvers.records import ProteinCandidate, ProteinRecord
from biomedgpt_tools.resolvers.transport import HttpRequest, HttpResponse

HUMAN_TAXON = 9606
_NEXT_LINK_RE = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


def _messages(response: HttpResponse) -> str:
    body = response.body
    if isinstance(body, dict) and isinstance(body.get("messages"), list):
        return "; ".join(str(m) for m in body["messages"])
    return f"HTTP {response.status}"


def _unexpected(response: HttpResponse, what: str) -> UnavailableError:
    return UnavailableError(f"UniProt answered {what} with {_messages(response)}; try again later")


# --- entry JSON -> record ---------------------------------------------------------------------
def _is_reviewed(entry: dict[str, Any]) -> bool | None:
    entry_type = str(entry.get("entryType", "")).lower()
    if "unreviewed" in entry_type or "trembl" in entry_type:
        return False
    if "reviewed" in entry_type or "swiss-prot" in entry_type:
        return True
    return None


def _protein_name(entry: dict[str, Any]) -> str | None:
    description = entry.get("proteinDescription") or {}
    recommended = description.get("recommendedName") or {}
    if recommended.get("fullName", {}).get("value"):
        return recommended["fullName"]["value"]
    for submitted in description.get("submissionNames") or []:
        if submitted.get("fullName", {}).get("value"):
            return submitted["fullName"]["value"]
    return None


def _ec_numbers(entry: dict[str, Any]) -> list[str]:
    description = entry.get("proteinDescription") or {}
    names = [description.get("recommendedName") or {}, *(description.get("submissionNames") or [])]
    return [ec["value"] for name in names for ec in name.get("ecNumbers") or [] if ec.get("value")]


def _gene_names(entry: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for gene in entry.get("genes") or []:
        if gene.get("geneName", {}).get("value"):
            names.append(gene["geneName"]["value"])
    for gene in entry.get("genes") or []:
        names.extend(s["value"] for s in gene.get("synonyms") or [] if s.get("value"))
    return list(dict.fromkeys(names))


def _comments(entry: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [c for c in entry.get("comments") or [] if c.get("commentType") == kind]


def _family(entry: dict[str, Any]) -> str | None:
    for comment in _comments(entry, "SIMILARITY"):
        for text in comment.get("texts") or []:
            value = str(text.get("value", "")).strip()
            if value:
                value = re.sub(r"^Belongs to the\s+", "", value)
                return value.rstrip(".")
    return None


def record_from_entry(
    entry: dict[str, Any], *, url: str, query: str | None, isoform: str | None = None
) -> ProteinRecord:
    """A record from an active entry's JSON (inactive ones raise ObsoleteError first)."""
    raise_if_inactive(entry, query=query)
    sequence = entry.get("sequence") or {}
    residues = str(sequence.get("value") or "")
    if not residues:
        raise UnavailableError(
            f"UniProt's entry {entry.get('primaryAccession')} came without a sequence; try again later"
        )
    organism = entry.get("organism") or {}
    function = " ".join(
        str(text.get("value", "")).strip()
        for comment in _comments(entry, "FUNCTION")
        for text in comment.get("texts") or []
    ).strip()
    locations = [
        str(loc["location"]["value"])
        for comment in _comments(entry, "SUBCELLULAR LOCATION")
        for loc in comment.get("subcellularLocations") or []
        if loc.get("location", {}).get("value")
    ]
    return ProteinRecord(
        accession=entry.get("primaryAccession"),
        entry_name=entry.get("uniProtkbId"),
        reviewed=_is_reviewed(entry),
        protein_name=_protein_name(entry),
        gene_names=_gene_names(entry),
        organism=organism.get("scientificName"),
        taxon_id=organism.get("taxonId"),
        sequence=residues,
        length=int(sequence.get("length") or len(residues)),
        function=function or None,
        subcellular_locations=list(dict.fromkeys(locations)),
        family=_family(entry),
        ec_numbers=_ec_numbers(entry),
        secondary_accessions=list(entry.get("secondaryAccessions") or []),
        isoform=isoform,
        source="uniprot",
        source_url=url,
        query=query,
    )


def raise_if_inactive(entry: dict[str, Any], *, query: str | None) -> None:
    if str(entry.get("entryType", "")).lower() != "inactive":
        return
    accession = entry.get("primaryAccession", query)
    reason = entry.get("inactiveReason") or {}
    reason_type = str(reason.get("inactiveReasonType") or "UNKNOWN").upper()
    replacements = [str(a) for a in reason.get("mergeDemergeTo") or []]
    if reason_type == "DEMERGED":
        way_out = (
            f"it was split into {', '.join(replacements)}; choose one of them"
            if replacements
            else "it was split into several entries"
        )
        message = f"UniProt accession {accession} is obsolete (demerged): {way_out}"
    elif reason_type == "DELETED":
        why = reason.get("deletedReason") or "no reason given"
        message = (
            f"UniProt accession {accession} is obsolete (deleted: {why}); search by gene or "
            "protein name for a current entry"
        )
    elif reason_type == "MERGED" and replacements:
        message = (
            f"UniProt accession {accession} was merged into {', '.join(replacements)}; use that"
        )
    else:
        message = f"UniProt accession {accession} is inactive ({reason_type})"
    raise ObsoleteError(message, reason=reason_type.lower(), replacements=replacements, query=query)


def candidate_from_entry(entry: dict[str, Any]) -> ProteinCandidate:
    organism = entry.get("organism") or {}
    return ProteinCandidate(
        accession=str(entry.get("primaryAccession")),
        entry_name=entry.get("uniProtkbId"),
        organism=organism.get("scientificName"),
        taxon_id=organism.get("taxonId"),
        reviewed=_is_reviewed(entry),
        protein_name=_protein_name(entry),
        gene_names=_gene_names(entry),
    )


# --- entries ----------------------------------------------------------------------------------
def _accession_from_location(location: str) -> str:
    path = urlsplit(location).path.rstrip("/")
    return path.rsplit("/", 1)[-1].split(".")[0]


def fetch_entry(identifier: str, query: ProteinQuery) -> Exchange[ProteinRecord]:
    """GET /uniprotkb/{accession|entry name}; a 303 (merged accession) is followed and reported."""
    response = yield HttpRequest(
        "uniprot", "GET", f"uniprotkb/{identifier}", params={"format": "json"}
    )
    redirected_from: str | None = None
    if response.status in (301, 302, 303, 307, 308):
        location = response.header("location")
        if not location:
            raise _unexpected(response, f"{identifier} (a redirect without Location)")
        target = urljoin(response.url, location)
        redirected_from = identifier
        new_accession = _accession_from_location(location)
        response = yield HttpRequest("uniprot", "GET", target)
        if response.status in (301, 302, 303, 307, 308):
            raise _unexpected(response, f"{identifier} (redirected twice, to {new_accession})")
    if response.status == 404:
        what = "isoform" if query.isoform else query.kind.replace("_", " ")
        raise NotFoundError(
            f"UniProt {what} {identifier} was not found; check it, or search by gene or protein name",
            query=query.text,
        )
    if response.status == 400:
        raise InvalidQueryError(
            f"UniProt rejected {identifier!r}: {_messages(response)}", query=query.text
        )
    if response.status != 200 or not isinstance(response.body, dict):
        raise _unexpected(response, f"the entry {identifier}")
    record = record_from_entry(
        response.body, url=response.url, query=query.text, isoform=query.isoform
    )
    if redirected_from is None:
        return record
    if query.kind == "entry_name":  # entry name -> its entry: not a merge; a rename is said
        if record.entry_name and record.entry_name != redirected_from:
            note = f"entry name {redirected_from} now belongs to {record.entry_name} ({record.accession})"
            record = record.model_copy(update={"note": note})
        return record
    if record.accession != redirected_from.split("-")[0]:
        record = record.model_copy(
            update={
                "requested_accession": redirected_from,
                "note": (
                    f"UniProt accession {redirected_from} is secondary: it was merged into "
                    f"{record.accession}, which is returned; cite {record.accession}"
                ),
            }
        )
    return record


def next_link(response: HttpResponse) -> str | None:
    link = response.header("link")
    if not link:
        return None
    match = _NEXT_LINK_RE.search(link)
    return match.group(1) if match else None


def search_entries(
    query_text: str, *, limit: int = 50, page_size: int = 25
) -> Exchange[tuple[list[dict[str, Any]], int | None, str]]:
    """Entries for a UniProt query (following `Link: rel="next"` up to `limit`), the total, the URL."""
    request = HttpRequest(
        "uniprot",
        "GET",
        "uniprotkb/search",
        params={"query": query_text, "format": "json", "size": str(min(page_size, limit))},
    )
    entries: list[dict[str, Any]] = []
    total: int | None = None
    first_url = ""
    while True:
        response = yield request
        first_url = first_url or response.url
        if response.status == 400:
            raise InvalidQueryError(
                f"UniProt rejected the search {query_text!r}: {_messages(response)}"
            )
        if response.status != 200 or not isinstance(response.body, dict):
            raise _unexpected(response, f"the search {query_text!r}")
        if total is None and response.header("x-total-results"):
            try:
                total = int(response.header("x-total-results") or "")
            except ValueError:
                total = None
        entries.extend(response.body.get("results") or [])
        following = next_link(response)
        if following is None or len(entries) >= limit:
            return entries[:limit], total, first_url
        request = HttpRequest("uniprot", "GET", urljoin(response.url, following))


def _rank(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reviewed before unreviewed, human first within each, otherwise UniProt's order."""

    def key(indexed: tuple[int, dict[str, Any]]) -> tuple[int, int, int]:
        position, entry = indexed
        reviewed = _is_reviewed(entry) is True
        human = (entry.get("organism") or {}).get("taxonId") == HUMAN_TAXON
        return (0 if reviewed else 1, 0 if human else 1, position)

    return [entry for _, entry in sorted(enumerate(entries), key=key)]


def _organism_clause(query: ProteinQuery) -> str:
    if query.taxon_id is not None:
        return f" AND organism_id:{query.taxon_id}"
    if query.organism_name:
        return f' AND organism_name:"{query.organism_name}"'
    return ""


def _organism_words(query: ProteinQuery) -> str:
    if query.taxon_id is not None:
        return f" in organism {query.taxon_id}"
    if query.organism_name:
        return f" in {query.organism_name}"
    return ""


def _quote(value: str) -> str:
    return '"' + value.replace('"', " ") + '"'


def search_exchange(
    query: ProteinQuery, *, max_candidates: int, page_size: int = 25, max_results: int = 50
) -> Exchange[ProteinRecord]:
    """Gene or protein-name search: one clear match is returned (with a note), else Ambiguous.

    Reviewed entries are searched first; unreviewed only when no reviewed entry matches. A
    unique exact match (gene symbol, or recommended name) among reviewed entries is the
    answer; the note says how many other hits were set aside. Otherwise the ranked
    candidates (reviewed, human first) are raised as AmbiguousError.
    """
    if query.kind == "gene" and query.name_fallback:
        # `mouse Kras`, `insulin human`: a symbol in the organism's nomenclature, or a name
        base = f"(gene:{query.value} OR protein_name:{_quote(query.value)})"
        described = f"gene or protein {query.value!r}"
    elif query.kind == "gene":
        base = f"gene:{query.value}"
        described = f"gene {query.value}"
    else:
        base = f"protein_name:{_quote(query.value)}"
        described = f"protein name {query.value!r}"
    clause = base + _organism_clause(query)
    described += _organism_words(query)
    wanted = query.value.casefold()

    def gene_exact(entry: dict[str, Any]) -> bool:
        return wanted in (g.casefold() for g in _gene_names(entry))

    def name_exact(entry: dict[str, Any]) -> bool:
        return (_protein_name(entry) or "").casefold() == wanted

    def exact_among(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if query.kind == "protein_name":
            return [e for e in entries if name_exact(e)]
        by_gene = [e for e in entries if gene_exact(e)]
        if by_gene or not query.name_fallback:
            return by_gene
        return [e for e in entries if name_exact(e)]

    paging = {"limit": max_results, "page_size": page_size}
    entries, total, url = yield from search_entries(f"({clause}) AND reviewed:true", **paging)
    reviewed = True
    if not entries:
        entries, total, url = yield from search_entries(clause, **paging)
        reviewed = False
    if not entries:
        raise NotFoundError(
            f"UniProt has no entry for {described}; check the spelling or the organism",
            query=query.text,
        )
    ranked = _rank(entries)
    exact_matches = exact_among(ranked)
    # a bare gene symbol without organism is ambiguous across species unless only one exists
    organism_given = query.taxon_id is not None or query.organism_name is not None
    single = exact_matches if len(exact_matches) == 1 else (ranked if len(ranked) == 1 else [])
    if single and (organism_given or len(ranked) == 1 or query.kind == "protein_name"):
        entry = single[0]
        record = record_from_entry(entry, url=url, query=query.text)
        hits = total if total is not None else len(entries)
        status = "reviewed" if reviewed else "unreviewed (no reviewed entry matched)"
        note = f"chosen as the only {status} exact match for {described}"
        if hits > 1:
            note += f" among {hits} {'reviewed ' if reviewed else ''}hits"
        return record.model_copy(update={"note": note})
    shown = (exact_matches or ranked)[:max_candidates]
    hits = total if total is not None else len(entries)
    raise AmbiguousError(
        f"{described} matches {hits} {'reviewed ' if reviewed else ''}UniProt entries; pick one "
        "by accession, or add the organism (e.g. 'TP53 human')",
        [candidate_from_entry(e) for e in shown],
        query=query.text,
    )


def resolve_protein_exchange(
    query: ProteinQuery, *, max_candidates: int = 10, page_size: int = 25, max_results: int = 50
) -> Exchange[ProteinRecord]:
    if query.kind == "accession":
        return (yield from fetch_entry(query.isoform or query.value, query))
    if query.kind == "entry_name":
        return (yield from fetch_entry(query.value, query))
    if query.kind in ("gene", "protein_name"):
        return (
            yield from search_exchange(
                query, max_candidates=max_candidates, page_size=page_size, max_results=max_results
            )
        )
    raise ValueError(f"{query.kind} queries need no lookup")


def batch_entries_exchange(
    accessions: Sequence[str], batch_size: int
) -> Exchange[dict[str, ProteinRecord]]:
    """Active entries for many accessions via `/uniprotkb/accessions` (Link pages followed)."""
    found: dict[str, ProteinRecord] = {}
    for start in range(0, len(accessions), batch_size):
        chunk = list(accessions[start : start + batch_size])
        request = HttpRequest(
            "uniprot",
            "GET",
            "uniprotkb/accessions",
            params={"accessions": ",".join(chunk), "format": "json", "size": str(len(chunk))},
        )
        while True:
            response = yield request
            if response.status == 400:
                raise InvalidQueryError(
                    f"UniProt rejected accessions {chunk[:5]}: {_messages(response)}"
                )
            if response.status == 404:
                break
            if response.status != 200 or not isinstance(response.body, dict):
                raise _unexpected(response, "an accessions batch")
            for entry in response.body.get("results") or []:
                if str(entry.get("entryType", "")).lower() == "inactive":
                    continue
                accession = str(entry.get("primaryAccession"))
                found[accession] = record_from_entry(entry, url=response.url, query=accession)
            following = next_link(response)
            if following is None:
                break
            request = HttpRequest("uniprot", "GET", urljoin(response.url, following))
    return found
