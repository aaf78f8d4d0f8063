"""`Resolver`: the one object that turns what users type into records, sync or async.

Order of answers: the persistent cache, then (offline) the bundled snapshot or a fast
OfflineError, else PubChem/UniProt through the rate-limited, retrying transports. Outcomes
other than "found" are exceptions (outcomes.py); not-found, ambiguous and obsolete answers are
cached briefly, "unavailable" never.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from biomedgpt_tools.resolvers.cache import ResolverCache
from biomedgpt_tools.resolvers.cache_keys import (
    accession_key,
    cid_key,
    cid_lookup_keys,
    molecule_key,
    molecule_lookup_keys,
)
from biomedgpt_tools.resolvers.exchange import Exchange, run_async, run_sync
from biomedgpt_tools.resolvers.identifiers import (
    ACCESSION_RE,
    MoleculeQuery,
    ProteinQuery,
    detect_molecule_query,
    detect_protein_query,
)
from biomedgpt_tools.resolvers.outcomes import (
    AmbiguousError,
    InvalidQueryError,
    NotFoundError,
    ObsoleteError,
    OfflineError,
    ResolverError,
    UnavailableError,
)
from biomedgpt_tools.resolvers.pubchem import batch_properties_exchange, resolve_molecule_exchange
from biomedgpt_tools.resolvers.records import (
    MoleculeCandidate,
    MoleculeRecord,
    ProteinCandidate,
    ProteinRecord,
)
from biomedgpt_tools.resolvers.settings import ResolverSettings
from biomedgpt_tools.resolvers.snapshot import Snapshot, bundled_snapshot
from biomedgpt_tools.resolvers.transport import ServiceTransport
from biomedgpt_tools.resolvers.uniprot import batch_entries_exchange, resolve_protein_exchange

logger = logging.getLogger(__name__)

_CACHED_ERRORS: dict[str, type[ResolverError]] = {
    "not_found": NotFoundError,
    "ambiguous": AmbiguousError,
    "obsolete": ObsoleteError,
}


def _error_from_cache(payload: dict[str, Any]) -> ResolverError:
    kind = payload.get("kind", "not_found")
    message = str(payload.get("message", ""))
    query = payload.get("query")
    if kind == "ambiguous":
        candidates = [
            ProteinCandidate(**c) if "accession" in c else MoleculeCandidate(**c)
            for c in payload.get("candidates", [])
        ]
        return AmbiguousError(message, candidates, query=query)
    if kind == "obsolete":
        return ObsoleteError(
            message,
            reason=str(payload.get("reason", "")),
            replacements=list(payload.get("replacements", [])),
            query=query,
        )
    return NotFoundError(message, query=query)


class Resolver:
    """Resolve molecules (PubChem) and proteins (UniProt); thread-safe and asyncio-friendly."""

    def __init__(
        self,
        settings: ResolverSettings | None = None,
        *,
        cache: ResolverCache | None = None,
        snapshot: Snapshot | None = None,
    ):
        self.settings = settings or ResolverSettings.from_env()
        self._cache = cache
        self._cache_lock = threading.Lock()
        self._snapshot = snapshot
        self.transports = {
            "pubchem": ServiceTransport("pubchem", self.settings.pubchem_url, self.settings),
            "uniprot": ServiceTransport("uniprot", self.settings.uniprot_url, self.settings),
        }

    # --- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Close HTTP clients (sync and every event loop's async one) and this thread's cache."""
        for transport in self.transports.values():
            transport.close()
        if self._cache is not None:
            self._cache.close()

    async def aclose(self) -> None:
        """Close the async HTTP clients, awaiting the one of the running loop."""
        for transport in self.transports.values():
            await transport.aclose()

    def __enter__(self) -> Resolver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Resolver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
        self.close()

    @property
    def cache(self) -> ResolverCache | None:
        if not self.settings.use_cache:
            return None
        with self._cache_lock:
            if self._cache is None:
                self._cache = ResolverCache(self.settings.resolved_cache_dir)
            return self._cache

    @property
    def snapshot(self) -> Snapshot:
        if self._snapshot is None:
            self._snapshot = bundled_snapshot() if self.settings.use_snapshot else Snapshot()
        return self._snapshot

    @property
    def requests_sent(self) -> int:
        return sum(t.requests_sent for t in self.transports.values())

    # --- public API --------------------------------------------------------------------------
    def molecule(self, query: str, *, details: bool = True) -> MoleculeRecord:
        """A molecule by name, CID, SMILES, InChI or InChIKey. `details`: synonyms + description."""
        return run_sync(self._molecule_exchange(query, details), self.transports)

    async def amolecule(self, query: str, *, details: bool = True) -> MoleculeRecord:
        return await run_async(self._molecule_exchange(query, details), self.transports)

    def protein(self, query: str) -> ProteinRecord:
        """A protein by accession, entry name, gene (+ organism), protein name, or sequence."""
        return run_sync(self._protein_exchange(query), self.transports)

    async def aprotein(self, query: str) -> ProteinRecord:
        return await run_async(self._protein_exchange(query), self.transports)

    def molecules_by_cid(self, cids: Iterable[int]) -> dict[int, MoleculeRecord]:
        """Properties for many CIDs in few requests (batched POSTs); unknown CIDs are absent."""
        return run_sync(self._cids_exchange(cids), self.transports)

    async def amolecules_by_cid(self, cids: Iterable[int]) -> dict[int, MoleculeRecord]:
        return await run_async(self._cids_exchange(cids), self.transports)

    def proteins_by_accession(self, accessions: Iterable[str]) -> dict[str, ProteinRecord]:
        """Active entries for many accessions (UniProt `accessions` batches); others absent."""
        return run_sync(self._accessions_exchange(accessions), self.transports)

    async def aproteins_by_accession(self, accessions: Iterable[str]) -> dict[str, ProteinRecord]:
        return await run_async(self._accessions_exchange(accessions), self.transports)

    # --- cache helpers -----------------------------------------------------------------------
    def _cached(self, keys: Sequence[str], record_type: type, text: str) -> Any:
        cache = self.cache
        if cache is None:
            return None
        for key in keys:
            hit = cache.get(key)
            if hit is None:
                continue
            outcome, payload = hit
            if outcome == "found":
                try:
                    record = record_type.model_validate(payload)
                except ValueError:
                    continue  # written by an older version: a miss
                return record.model_copy(update={"query": text})
            raise _error_from_cache(payload)
        return None

    def _remember(
        self, key: str, record: MoleculeRecord | ProteinRecord, aliases: Sequence[str] = ()
    ) -> None:
        cache = self.cache
        if cache is None:
            return
        ttl = self.settings.positive_ttl_s
        cache.put(key, "found", record.model_dump(mode="json"), ttl)
        plain = (
            record.model_copy(update={"query": None, "requested_accession": None, "note": None})
            if isinstance(record, ProteinRecord)
            else record.model_copy(update={"query": None})
        )
        for alias in aliases:
            if alias != key:
                cache.put(alias, "found", plain.model_dump(mode="json"), ttl)

    def _remember_error(self, key: str, error: ResolverError) -> None:
        cache = self.cache
        if cache is None or error.kind not in _CACHED_ERRORS:
            return
        cache.put(key, error.kind, error.to_json()["error"], self.settings.negative_ttl_s)

    def _offline_error(self, what: str, text: str) -> OfflineError:
        return OfflineError(
            f"offline mode: {what} {text!r} is neither in the resolver cache nor in the bundled "
            "snapshot; go online (unset BIOMEDGPT_OFFLINE or drop --offline) to look it up",
            query=text,
        )

    def _snapshot_fallback(self, find: Any, query: Any, error: UnavailableError) -> Any:
        """The service is down: the bundled snapshot may still know the answer (and says so)."""
        try:
            record = find(query) if self.settings.use_snapshot else None
        except AmbiguousError:
            record = None
        if record is None:
            raise error
        logger.warning("%s; answering %r from the bundled snapshot", error.message, query.text)
        return record.model_copy(
            update={
                "note": f"from the bundled snapshot: the online service was unavailable ({error.message})"
            }
        )

    # --- exchanges (run by run_sync / run_async) ----------------------------------------------
    def _molecule_exchange(self, text: str, details: bool) -> Exchange[MoleculeRecord]:
        query: MoleculeQuery = detect_molecule_query(text)
        keys = molecule_lookup_keys(query.kind, query.key_value, details)
        cached = self._cached(keys, MoleculeRecord, text)
        if cached is not None:
            return cached
        if self.settings.offline:
            record = self.snapshot.find_molecule(query)
            if record is None:
                raise self._offline_error("the molecule", text)
            return record
        try:
            record = yield from resolve_molecule_exchange(
                query, details=details, max_candidates=self.settings.max_candidates
            )
        except (NotFoundError, AmbiguousError, ObsoleteError) as error:
            self._remember_error(query.cache_key, error)
            raise
        except UnavailableError as error:
            return self._snapshot_fallback(self.snapshot.find_molecule, query, error)
        level = "full" if details else "basic"
        aliases = [cid_key(record.cid, level)] if record.cid is not None else []
        self._remember(molecule_key(query.kind, query.key_value, level), record, aliases)
        return record

    def _protein_exchange(self, text: str) -> Exchange[ProteinRecord]:
        query: ProteinQuery = detect_protein_query(text)
        if query.kind == "sequence":
            return ProteinRecord(
                accession=None,
                sequence=query.value,
                length=len(query.value),
                source="sequence",
                query=text if len(text) <= 80 else text[:77] + "...",
                note="a raw sequence: used as given, no database lookup",
            )
        cached = self._cached([query.cache_key], ProteinRecord, text)
        if cached is not None:
            return cached
        if self.settings.offline:
            record = self.snapshot.find_protein(query)
            if record is None:
                raise self._offline_error("the protein", text)
            return record
        try:
            record = yield from resolve_protein_exchange(
                query,
                max_candidates=self.settings.max_candidates,
                page_size=self.settings.uniprot_page_size,
                max_results=self.settings.uniprot_max_search_results,
            )
        except (NotFoundError, AmbiguousError, ObsoleteError) as error:
            self._remember_error(query.cache_key, error)
            raise
        except UnavailableError as error:
            return self._snapshot_fallback(self.snapshot.find_protein, query, error)
        aliases = []
        if record.accession and not query.isoform:
            aliases.append(accession_key(record.accession))
        self._remember(query.cache_key, record, aliases)
        return record

    def _cids_exchange(self, cids: Iterable[int]) -> Exchange[dict[int, MoleculeRecord]]:
        wanted = list(dict.fromkeys(int(c) for c in cids))
        bad = [c for c in wanted if c <= 0]
        if bad:
            raise InvalidQueryError(f"PubChem CIDs are positive integers; got {bad[:5]}")
        found: dict[int, MoleculeRecord] = {}
        missing: list[int] = []
        cache = self.cache
        hits = {}
        if cache is not None:
            hits = cache.get_many([key for c in wanted for key in cid_lookup_keys(c)])
        for cid in wanted:
            entry = next(
                (hits[k] for k in cid_lookup_keys(cid) if k in hits),
                None,
            )
            if entry is None:
                missing.append(cid)
            elif entry[0] == "found":
                try:
                    found[cid] = MoleculeRecord.model_validate(entry[1]).model_copy(
                        update={"query": f"CID {cid}"}
                    )
                except ValueError:
                    missing.append(cid)
            # a cached not_found: known to be absent for now; left out like upstream does
        if missing and self.settings.offline:
            for cid in missing:
                record = self.snapshot.find_molecule(MoleculeQuery("cid", str(cid), f"CID {cid}"))
                if record is not None:
                    found[cid] = record
        elif missing:
            fetched, _ = yield from batch_properties_exchange(
                missing, self.settings.pubchem_batch_size
            )
            found.update(fetched)
            if cache is not None:
                cache.put_many(
                    [
                        (cid_key(c, "basic"), "found", r.model_dump(mode="json"))
                        for c, r in fetched.items()
                    ],
                    self.settings.positive_ttl_s,
                )
                absent = [c for c in missing if c not in fetched]
                cache.put_many(
                    [
                        (
                            cid_key(c),
                            "not_found",
                            NotFoundError(
                                f"PubChem has no compound with CID {c}; check the number",
                                query=f"CID {c}",
                            ).to_json()["error"],
                        )
                        for c in absent
                    ],
                    self.settings.negative_ttl_s,
                )
        return {cid: found[cid] for cid in wanted if cid in found}

    def _accessions_exchange(self, accessions: Iterable[str]) -> Exchange[dict[str, ProteinRecord]]:
        wanted = list(dict.fromkeys(a.strip().upper() for a in accessions))
        bad = [a for a in wanted if not ACCESSION_RE.match(a)]
        if bad:
            raise InvalidQueryError(f"not UniProt accessions: {bad[:5]} (e.g. P04637)")
        found: dict[str, ProteinRecord] = {}
        missing: list[str] = []
        for accession in wanted:
            try:
                hit = self._cached([accession_key(accession)], ProteinRecord, accession)
            except ResolverError:
                hit = None
            if hit is not None:
                found[accession] = hit
            else:
                missing.append(accession)
        if missing and self.settings.offline:
            for accession in missing:
                record = self.snapshot.find_protein(ProteinQuery("accession", accession, accession))
                if record is not None:
                    found[accession] = record
        elif missing:
            fetched = yield from batch_entries_exchange(missing, self.settings.uniprot_batch_size)
            for accession, record in fetched.items():
                self._remember(accession_key(accession), record)
                found[accession] = record
            for accession in missing:
                if accession in found:
                    continue
                merged = next(
                    (r for r in fetched.values() if accession in r.secondary_accessions), None
                )
                if merged is not None:  # a secondary accession: say so, as for single lookups
                    found[accession] = merged.model_copy(
                        update={
                            "requested_accession": accession,
                            "note": f"UniProt accession {accession} is secondary: it was merged into "
                            f"{merged.accession}, which is returned",
                        }
                    )
        return {a: found[a] for a in wanted if a in found}
