"""UniProt REST (uniprotkb), as the test server speaks it.

Endpoints: ``/uniprotkb/{accession|entry name}[.json|.fasta]`` (``?fields=`` slims the JSON),
``/uniprotkb/search`` (paged through the ``Link: <...cursor=...>; rel="next"`` header, total in
``X-Total-Results``), ``/uniprotkb/stream`` (all results, no paging) and
``/uniprotkb/accessions?accessions=A,B``. Faithful points: entry JSON in the real shape,
errors as ``{"url", "messages"}`` (400 malformed, 404 "Resource not found"), inactive entries
(DEMERGED/DELETED) answered 200 with ``entryType: "Inactive"`` and no sequence, and a merged
secondary accession answered 303 to ``/uniprotkb/NEW?from=OLD``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import unquote, urlencode

from .entities import EntityCatalog, InactiveProtein, Protein, average_mass, crc64
from .reply import Reply
from .uniprot_query import QueryError, parse_query

ACCESSION_PATTERN = re.compile(
    r"^(?:[OPQ][0-9][A-Z0-9]{3}[0-9]|[A-NR-Z][0-9](?:[A-Z][A-Z0-9]{2}[0-9]){1,2})(?:-(?P<isoform>[0-9]+))?$"
)
ENTRY_NAME_PATTERN = re.compile(r"^[A-Z0-9]{1,10}_[A-Z0-9]{1,5}$")

REVIEWED = "UniProtKB reviewed (Swiss-Prot)"
UNREVIEWED = "UniProtKB unreviewed (TrEMBL)"
INACTIVE = "Inactive"

# Return fields -> the JSON sections they bring. entryType and primaryAccession always come.
FIELD_SECTIONS = {
    "accession": (),
    "reviewed": (),
    "id": ("uniProtkbId",),
    "protein_name": ("proteinDescription",),
    "ec": ("proteinDescription",),
    "gene_names": ("genes",),
    "gene_primary": ("genes",),
    "gene_synonym": ("genes",),
    "organism_name": ("organism",),
    "organism_id": ("organism",),
    "sequence": ("sequence",),
    "length": ("sequence",),
    "mass": ("sequence",),
    "cc_function": ("comments:FUNCTION",),
    "cc_subcellular_location": ("comments:SUBCELLULAR LOCATION",),
    "cc_similarity": ("comments:SIMILARITY",),
    "protein_families": ("comments:SIMILARITY",),
    "annotation_score": ("annotationScore",),
    "sec_acc": ("secondaryAccessions",),
}
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 25

MAINTENANCE_PAGE = """<!DOCTYPE html>
<html><head><title>Service unavailable</title></head>
<body><h1>UniProt is temporarily unavailable</h1>
<p>We are performing maintenance. Please try again later.</p>
<p>(resolver test server)</p></body></html>
"""


class UniProtError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def error_reply(status: int, url: str, message: str) -> Reply:
    """UniProt's error body: the request URL and a list of messages."""
    return Reply.json(status, {"url": url, "messages": [message]})


def maintenance_reply(status: int = 503) -> Reply:
    return Reply.text(status, MAINTENANCE_PAGE, content_type="text/html; charset=UTF-8")


def entry_json(p: Protein, sections: set[str] | None = None) -> dict:
    """The entry in UniProt's JSON shape; sections=None gives the full entry."""

    def wanted(name: str) -> bool:
        return sections is None or name in sections

    entry: dict = {
        "entryType": REVIEWED if p.reviewed else UNREVIEWED,
        "primaryAccession": p.accession,
    }
    if p.secondary_accessions and wanted("secondaryAccessions"):
        entry["secondaryAccessions"] = list(p.secondary_accessions)
    if wanted("uniProtkbId"):
        entry["uniProtkbId"] = p.entry_name
    if wanted("annotationScore"):
        entry["annotationScore"] = 5.0 if p.reviewed else 1.0
    if wanted("organism"):
        organism = {"scientificName": p.organism}
        if p.organism_common_name:
            organism["commonName"] = p.organism_common_name
        organism["taxonId"] = p.taxon_id
        entry["organism"] = organism
    if wanted("proteinDescription"):
        name: dict = {"fullName": {"value": p.protein_name}}
        if p.ec_numbers:
            name["ecNumbers"] = [{"value": ec} for ec in p.ec_numbers]
        entry["proteinDescription"] = (
            {"recommendedName": name} if p.reviewed else {"submissionNames": [name]}
        )
        if p.alternative_names and p.reviewed:
            entry["proteinDescription"]["alternativeNames"] = [
                {"fullName": {"value": alternative}} for alternative in p.alternative_names
            ]
    if wanted("genes") and (p.gene_names or p.gene_synonyms):
        genes = []
        for index, gene in enumerate(p.gene_names or [""]):
            item: dict = {"geneName": {"value": gene}} if gene else {}
            if index == 0 and p.gene_synonyms:
                item["synonyms"] = [{"value": s} for s in p.gene_synonyms]
            genes.append(item)
        entry["genes"] = genes
    comments = []
    if p.function and wanted("comments:FUNCTION"):
        comments.append({"commentType": "FUNCTION", "texts": [{"value": p.function}]})
    if p.subcellular_locations and wanted("comments:SUBCELLULAR LOCATION"):
        comments.append(
            {
                "commentType": "SUBCELLULAR LOCATION",
                "subcellularLocations": [
                    {"location": {"value": loc}} for loc in p.subcellular_locations
                ],
            }
        )
    if p.family and wanted("comments:SIMILARITY"):
        comments.append({"commentType": "SIMILARITY", "texts": [{"value": p.family}]})
    if comments:
        entry["comments"] = comments
    if wanted("sequence"):
        entry["sequence"] = {
            "value": p.sequence,
            "length": len(p.sequence),
            "molWeight": average_mass(p.sequence),
            "crc64": crc64(p.sequence),
            "md5": hashlib.md5(p.sequence.encode("ascii")).hexdigest().upper(),
        }
    return entry


def inactive_json(entry: InactiveProtein) -> dict:
    reason: dict = {"inactiveReasonType": entry.reason}
    if entry.reason == "DEMERGED":
        reason["mergeDemergeTo"] = list(entry.merge_demerge_to)
    else:
        reason["deletedReason"] = entry.deleted_reason
    return {
        "entryType": INACTIVE,
        "primaryAccession": entry.accession,
        "uniProtkbId": entry.entry_name,
        "inactiveReason": reason,
    }


def fasta(p: Protein) -> str:
    database = "sp" if p.reviewed else "tr"
    header = (
        f">{database}|{p.accession}|{p.entry_name} {p.protein_name} OS={p.organism} OX={p.taxon_id}"
    )
    if p.gene_names:
        header += f" GN={p.gene_names[0]}"
    lines = [p.sequence[i : i + 60] for i in range(0, len(p.sequence), 60)]
    return header + "\n" + "\n".join(lines) + "\n"


class UniProtProtocol:
    """Answers /uniprotkb/... requests from an EntityCatalog."""

    def __init__(self, catalog: EntityCatalog, origin: str = ""):
        self.catalog = catalog
        self.origin = origin  # "http://127.0.0.1:PORT", used in Link headers and error bodies

    def handle(self, method: str, path: str, query: dict[str, str]) -> Reply:
        """path: the full request path (percent-encoded), query: decoded parameters."""
        url = self.origin + path + (("?" + urlencode(query)) if query else "")
        try:
            if method not in ("GET", "HEAD"):
                raise UniProtError(405, f"Request method '{method}' is not supported")
            parts = [unquote(p) for p in path.strip("/").split("/")]
            if len(parts) != 2 or parts[0] != "uniprotkb":
                raise UniProtError(404, "Resource not found")
            target = parts[1]
            if target in ("search", "stream"):
                return self._search(query, paged=target == "search")
            if target == "accessions":
                return self._accessions(query)
            return self._entry(target, query)
        except UniProtError as error:
            return error_reply(error.status, url, error.message)

    # -- helpers -----------------------------------------------------------------------

    @staticmethod
    def _format(query: dict[str, str], extension: str = "") -> str:
        fmt = (extension or query.get("format") or "json").lower()
        if fmt not in ("json", "fasta"):
            raise UniProtError(
                400, f"Invalid request received. Requested media type/format not accepted: '{fmt}'."
            )
        return fmt

    @staticmethod
    def _sections(query: dict[str, str]) -> set[str] | None:
        if not query.get("fields"):
            return None
        sections: set[str] = set()
        for name in (f.strip() for f in query["fields"].split(",")):
            if not name:
                continue
            if name.startswith("xref_"):
                continue
            if name not in FIELD_SECTIONS:
                raise UniProtError(400, f"Invalid fields parameter value '{name}'")
            sections.update(FIELD_SECTIONS[name])
        return sections

    # -- endpoints ---------------------------------------------------------------------

    def _entry(self, target: str, query: dict[str, str]) -> Reply:
        identifier, _, extension = target.partition(".")
        fmt = self._format(query, extension)
        sections = self._sections(query)
        identifier = identifier.strip()
        match = ACCESSION_PATTERN.match(identifier.upper())
        catalog = self.catalog
        if match:
            accession = identifier.upper()
            isoform = match.group("isoform")
            base = accession.split("-")[0]
            if base in catalog.inactive:
                if fmt == "fasta":
                    return Reply.text(200, "", content_type="text/plain;format=fasta")
                return Reply.json(200, inactive_json(catalog.inactive[base]))
            if base in catalog.by_accession:
                if isoform not in (None, "1"):
                    raise UniProtError(404, "Resource not found")
                return self._render(catalog.by_accession[base], fmt, sections)
            if base in catalog.secondary_to_primary:
                primary = catalog.secondary_to_primary[base]
                redirect_query = {k: v for k, v in query.items() if k != "from"}
                redirect_query["from"] = base
                location = f"/uniprotkb/{primary}{'.' + extension if extension else ''}?{urlencode(redirect_query)}"
                return Reply(303, b"", "text/plain", {"Location": location})
            raise UniProtError(404, "Resource not found")
        if ENTRY_NAME_PATTERN.match(identifier.upper()):
            protein = catalog.by_entry_name.get(identifier.upper())
            if protein is None:
                raise UniProtError(404, "Resource not found")
            return self._render(protein, fmt, sections)
        raise UniProtError(
            400,
            "The 'accession' value has invalid format. It should be a valid UniProtKB accession",
        )

    @staticmethod
    def _render(protein: Protein, fmt: str, sections: set[str] | None) -> Reply:
        if fmt == "fasta":
            return Reply.text(200, fasta(protein), content_type="text/plain;format=fasta")
        return Reply.json(200, entry_json(protein, sections))

    def _search(self, query: dict[str, str], paged: bool) -> Reply:
        if "query" not in query or not query["query"].strip():
            raise UniProtError(400, "'query' is a required parameter")
        fmt = self._format(query)
        sections = self._sections(query)
        try:
            matcher = parse_query(query["query"])
        except QueryError as error:
            raise UniProtError(400, str(error)) from None
        # Reviewed entries score higher upstream; within a group keep the file order.
        hits = [p for p in self.catalog.proteins if matcher(p)]
        hits.sort(key=lambda p: not p.reviewed)
        total = len(hits)
        headers = {"X-Total-Results": str(total)}
        if paged:
            size = self._page_size(query)
            offset = self._cursor_offset(query.get("cursor"))
            page = hits[offset : offset + size]
            if offset + size < total:
                next_query = {k: v for k, v in query.items() if k != "cursor"}
                next_query["cursor"] = _encode_cursor(offset + size)
                headers["Link"] = (
                    f'<{self.origin}/uniprotkb/search?{urlencode(next_query)}>; rel="next"'
                )
        else:
            page = hits
        if fmt == "fasta":
            reply = Reply.text(
                200, "".join(fasta(p) for p in page), content_type="text/plain;format=fasta"
            )
            reply.headers.update(headers)
            return reply
        return Reply.json(200, {"results": [entry_json(p, sections) for p in page]}, headers)

    @staticmethod
    def _page_size(query: dict[str, str]) -> int:
        raw = query.get("size", str(DEFAULT_PAGE_SIZE))
        if not raw.isdigit():
            raise UniProtError(400, "'size' must be a number")
        size = int(raw)
        if size > MAX_PAGE_SIZE:
            raise UniProtError(400, f"'size' must be less than or equal to {MAX_PAGE_SIZE}")
        if size < 1:
            raise UniProtError(400, "'size' must be greater than 0")
        return size

    @staticmethod
    def _cursor_offset(cursor: str | None) -> int:
        if cursor is None:
            return 0
        try:
            decoded = base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)).decode()
            prefix, _, number = decoded.partition(":")
            if prefix != "offset" or not number.isdigit():
                raise ValueError(decoded)
            return int(number)
        except ValueError:
            raise UniProtError(400, "The 'cursor' is invalid") from None

    def _accessions(self, query: dict[str, str]) -> Reply:
        raw = query.get("accessions", "")
        accessions = [a.strip().upper() for a in raw.split(",") if a.strip()]
        if not accessions:
            raise UniProtError(400, "'accessions' is a required parameter")
        if len(accessions) > 1000:
            raise UniProtError(400, "'accessions' size must be less than or equal to 1000")
        bad = [a for a in accessions if not ACCESSION_PATTERN.match(a)]
        if bad:
            raise UniProtError(
                400,
                f"Accession '{bad[0]}' has invalid format. It should be a valid UniProtKB accession.",
            )
        fmt = self._format(query)
        sections = self._sections(query)
        results = []
        for accession in accessions:
            base = accession.split("-")[0]
            if base in self.catalog.by_accession:
                results.append(self.catalog.by_accession[base])
        headers = {"X-Total-Results": str(len(results))}
        if fmt == "fasta":
            reply = Reply.text(
                200, "".join(fasta(p) for p in results), content_type="text/plain;format=fasta"
            )
            reply.headers.update(headers)
            return reply
        return Reply.json(200, {"results": [entry_json(p, sections) for p in results]}, headers)


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")
