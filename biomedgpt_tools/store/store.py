"""AnnotationStore: the tools' memory of past answers, on Chroma.

Two kinds of collection live in one Chroma database:
- "annotations": one entry per AnnotationRecord; id derived from (entity, question, model),
  document = the answer, embedding = MiniLM of name + question + answer, cosine space.
- "protein-vectors-<encoder hash>": one entry per protein per encoder (mean-pooled ESM states
  the caller computes), cosine space, for "similar proteins annotated before".

Every vector is computed here and passed to Chroma explicitly; collections are opened with
`embedding_function=None`, so Chroma's default (downloading) embedding function never runs.
A write is durable when the call returns (Chroma commits its log before answering); a batch is
written in chunks, each its own commit, so a process killed mid-call loses at most the chunks
not yet committed. The store core never imports LangChain (see retriever.py).
"""

from __future__ import annotations

import contextlib
import heapq
import math
import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from biomedgpt_tools.store import jsonl
from biomedgpt_tools.store.connection import (
    StoreLocation,
    WriterLock,
    connect_embedded,
    connect_server,
    resolve_location,
)
from biomedgpt_tools.store.embedding import TextEmbedder, default_text_embedder
from biomedgpt_tools.store.errors import (
    EmbeddingMismatchError,
    InvalidAnnotationError,
    StoreError,
    StoreUnavailableError,
)
from biomedgpt_tools.store.ids import annotation_id, encoder_collection_name, protein_vector_id
from biomedgpt_tools.store.keys import normalize_key
from biomedgpt_tools.store.record import AnnotationRecord
from biomedgpt_tools.store.results import AnnotationHit, ProteinHit, ProteinVector, StoreStats

ANNOTATIONS_COLLECTION = "annotations"
PROTEIN_COLLECTION_PREFIX = "protein-vectors-"
SCHEMA = "biomedgpt-annotations/1"
COSINE = {"hnsw": {"space": "cosine"}}
WRITE_CHUNK = 500  # records per Chroma commit: the most a killed process can lose from one call


class AnnotationStore:
    """Save, recall and search annotations. Open with `AnnotationStore.open()`; close when done."""

    def __init__(
        self, client: Any, location: StoreLocation, embedder: TextEmbedder, lock: WriterLock | None
    ):
        self._client = client
        self.location = location
        self.embedder = embedder
        self._lock = lock
        self._closed = False
        self._annotations = self._open_annotations()
        self._protein_collections: dict[str, Any] = {}

    # ----------------------------------------------------------------- opening and closing
    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        url: str | None = None,
        *,
        embedder: TextEmbedder | None = None,
    ) -> AnnotationStore:
        """Open (creating if needed) the store.

        Embedded under $BIOMEDGPT_HOME/annotations by default, or `path`; a Chroma server when
        `url` or $BIOMEDGPT_CHROMA_URL is given. The embedded mode holds an exclusive lock until
        `close()`: a second process gets StoreBusyError naming the server mode as the way out.
        """
        location = resolve_location(path, url)
        embedder = embedder or default_text_embedder()
        if location.is_server:
            return cls._checked(connect_server(location.url), location, embedder, lock=None)
        lock = WriterLock(location.path)
        try:
            return cls._checked(connect_embedded(location.path), location, embedder, lock)
        except BaseException:
            lock.release()
            raise

    @classmethod
    def _checked(
        cls, client: Any, location: StoreLocation, embedder: TextEmbedder, lock: WriterLock | None
    ):
        """Build the store; if the collections are refused (wrong embedder), let go of the client."""
        try:
            return cls(client, location, embedder, lock)
        except BaseException:
            close = getattr(client, "close", None)
            if close is not None:
                close()
            raise

    def close(self) -> None:
        """Release Chroma's handles and the writer lock; idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._client, "close", None)
            if close is not None:
                close()
        finally:
            if self._lock is not None:
                self._lock.release()

    def __enter__(self) -> AnnotationStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"AnnotationStore({self.location.describe()}, embedder={self.embedder.name})"

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(
                f"the {self.location.describe()} is closed; open it again with AnnotationStore.open()"
            )

    @contextlib.contextmanager
    def _chroma(self, action: str) -> Iterator[None]:
        """Turn a failure of Chroma after opening (a server that went away, a damaged file) into
        StoreUnavailableError, so callers such as the tools catch one exception type and go on."""
        try:
            yield
        except StoreError:
            raise
        except Exception as error:
            raise StoreUnavailableError(
                f"{action} failed on the {self.location.describe()}: {type(error).__name__}: "
                f"{error}; check that the store is reachable (a Chroma server still running) "
                "and try again"
            ) from error

    def _embed(self, texts: list[str]) -> list[list[float]]:
        """The embedder's vectors; its failures (a missing package, no weights) as StoreUnavailableError."""
        try:
            return self.embedder.embed(texts)
        except StoreError:
            raise
        except Exception as error:
            raise StoreUnavailableError(
                f"the text embedder {self.embedder.name!r} failed: {type(error).__name__}: {error}"
            ) from error

    def _open_annotations(self):
        collection = self._client.get_or_create_collection(
            ANNOTATIONS_COLLECTION,
            embedding_function=None,
            configuration=COSINE,
            metadata={
                "schema": SCHEMA,
                "embedding_model": self.embedder.name,
                "embedding_dimension": self.embedder.dimension,
            },
        )
        stored = collection.metadata or {}
        if (
            stored.get("embedding_model") not in (None, self.embedder.name)
            or stored.get("embedding_dimension", self.embedder.dimension) != self.embedder.dimension
        ):
            raise EmbeddingMismatchError(
                f"the {self.location.describe()} was built with the text embedder "
                f"{stored.get('embedding_model')!r} ({stored.get('embedding_dimension')}-d), not "
                f"{self.embedder.name!r} ({self.embedder.dimension}-d); open it with that embedder, "
                "or export it and import into a new store (import re-embeds)"
            )
        return collection

    # ----------------------------------------------------------------- writing
    def add(self, record: AnnotationRecord) -> str:
        """Save one annotation (upsert: the same entity, question and model replace the old answer)."""
        return self.add_many([record])[0]

    def add_many(
        self, records: Iterable[AnnotationRecord], chunk_size: int = WRITE_CHUNK
    ) -> list[str]:
        """Save many annotations; returns their ids in input order.

        Within one call a later record with the same id wins. Each chunk of `chunk_size` is one
        Chroma commit; everything is durable when this returns.
        """
        self._check_open()
        records = list(records)
        for record in records:
            if not isinstance(record, AnnotationRecord):
                raise InvalidAnnotationError(
                    f"add() takes AnnotationRecord objects, got {type(record).__name__}"
                )
        latest: dict[str, AnnotationRecord] = {}
        for record in records:
            latest[record.id] = record  # later duplicates win, one entry per id per upsert
        unique = list(latest.items())
        chunk_size = max(1, min(chunk_size, self._max_batch_size()))
        for start in range(0, len(unique), chunk_size):
            chunk = unique[start : start + chunk_size]
            embeddings = self._embed([record.document_text() for _, record in chunk])
            with self._chroma("saving annotations"):
                self._annotations.upsert(
                    ids=[record_id for record_id, _ in chunk],
                    embeddings=embeddings,
                    documents=[record.answer for _, record in chunk],
                    metadatas=[record.chroma_metadata() for _, record in chunk],
                )
        return [record.id for record in records]

    def delete(self, ids: Sequence[str]) -> None:
        """Remove annotations by id (e.g. a wrong answer a person flagged)."""
        self._check_open()
        if ids:
            with self._chroma("deleting annotations"):
                self._annotations.delete(ids=list(ids))

    def add_protein_vector(
        self,
        key: str,
        vector: Sequence[float],
        encoder_id: str,
        encoder_revision: str = "",
        display_name: str = "",
    ) -> str:
        """Remember a protein's embedding (e.g. `BioMedGPT.encode_protein(seq)`) under its encoder."""
        return self.add_protein_vectors(
            [ProteinVector(key, list(vector), encoder_id, encoder_revision, display_name)]
        )[0]

    def add_protein_vectors(self, vectors: Iterable[ProteinVector]) -> list[str]:
        """Batch form of add_protein_vector; vectors of several encoders may be mixed."""
        self._check_open()
        by_collection: dict[str, list[tuple[str, ProteinVector, list[float]]]] = {}
        ids: list[str] = []
        for item in vectors:
            key = normalize_key("protein", item.key)
            values = _checked_vector(item.vector, f"protein vector for {key}")
            collection = self._protein_collection(
                item.encoder_id, item.encoder_revision, len(values), create=True
            )
            vector_id = protein_vector_id(key, item.encoder_id, item.encoder_revision)
            by_collection.setdefault(collection.name, []).append((vector_id, item, values))
            ids.append(vector_id)
        for name, items in by_collection.items():
            latest = {vector_id: (item, values) for vector_id, item, values in items}
            entries = list(latest.items())
            chunk_size = max(1, min(WRITE_CHUNK, self._max_batch_size()))
            for start in range(0, len(entries), chunk_size):
                chunk = entries[start : start + chunk_size]
                now = datetime.now(timezone.utc)
                with self._chroma("saving protein vectors"):
                    self._protein_collections[name].upsert(
                        ids=[vector_id for vector_id, _ in chunk],
                        embeddings=[values for _, (_, values) in chunk],
                        metadatas=[
                            {
                                "key": normalize_key("protein", item.key),
                                "display_name": item.display_name,
                                "encoder_id": item.encoder_id.strip(),
                                "encoder_revision": item.encoder_revision.strip(),
                                "created_at": (item.created_at or now).isoformat(),
                            }
                            for _, (item, _) in chunk
                        ],
                    )
        return ids

    def _protein_collection(
        self, encoder_id: str, encoder_revision: str, dimension: int | None, create: bool
    ):
        if not isinstance(encoder_id, str) or not encoder_id.strip():
            raise InvalidAnnotationError("encoder_id is empty; pass the protein encoder's model id")
        name = encoder_collection_name(encoder_id, encoder_revision)
        collection = self._protein_collections.get(name)
        if collection is None:
            if create:
                with self._chroma("opening the protein vectors collection"):
                    collection = self._client.get_or_create_collection(
                        name,
                        embedding_function=None,
                        configuration=COSINE,
                        metadata={
                            "schema": SCHEMA,
                            "encoder_id": encoder_id.strip(),
                            "encoder_revision": encoder_revision.strip(),
                            "dimension": dimension,
                        },
                    )
            else:
                try:
                    collection = self._client.get_collection(name, embedding_function=None)
                except Exception:  # chromadb raises NotFoundError / ValueError by version
                    return None
            self._protein_collections[name] = collection
        stored_dimension = (collection.metadata or {}).get("dimension")
        if dimension is not None and stored_dimension is not None and stored_dimension != dimension:
            raise InvalidAnnotationError(
                f"protein vectors of encoder {encoder_id}@{encoder_revision or '-'} are "
                f"{stored_dimension}-d in this store, got {dimension}-d; pass vectors from the same encoder"
            )
        return collection

    def _max_batch_size(self) -> int:
        try:
            return int(self._client.get_max_batch_size())
        except Exception:
            return WRITE_CHUNK

    # ----------------------------------------------------------------- reading
    def recall(
        self, kind: str, key: str, question: str, model_id: str, model_revision: str = ""
    ) -> AnnotationRecord | None:
        """The stored answer for exactly this entity, question (normalised) and model, or None.

        A different model revision is a miss: answers are never carried across checkpoints.
        """
        return self.get(annotation_id(kind, key, question, model_id, model_revision))

    def get(self, record_id: str) -> AnnotationRecord | None:
        self._check_open()
        with self._chroma("reading an annotation"):
            found = self._annotations.get(ids=[record_id], include=["metadatas", "documents"])
        if not found["ids"]:
            return None
        return AnnotationRecord.from_chroma(found["metadatas"][0], found["documents"][0])

    def find(
        self,
        kind: str,
        key: str,
        *,
        model_id: str | None = None,
        model_revision: str | None = None,
        limit: int = 100,
    ) -> list[AnnotationRecord]:
        """Everything stored about one entity (all questions, all models unless filtered), newest first."""
        self._check_open()
        where = _where(
            kind=kind,
            key=normalize_key(kind, key),
            model_id=model_id,
            model_revision=model_revision,
        )
        with self._chroma("reading annotations"):
            found = self._annotations.get(where=where, include=["metadatas", "documents"])
        records = [
            AnnotationRecord.from_chroma(m, d)
            for m, d in zip(found["metadatas"], found["documents"], strict=True)
        ]
        records.sort(key=lambda record: record.created_at, reverse=True)
        return records[:limit]

    def search(
        self,
        text: str,
        *,
        k: int = 5,
        kind: str | None = None,
        key: str | None = None,
        model_id: str | None = None,
        source: str | None = None,
    ) -> list[AnnotationHit]:
        """The `k` annotations whose name + question + answer are closest in meaning to `text`."""
        self._check_open()
        if not isinstance(text, str) or not text.strip():
            raise InvalidAnnotationError("search text is empty; pass words to search for")
        if k < 1:
            raise InvalidAnnotationError(f"k must be at least 1, got {k}")
        if key is not None:
            if kind is None:
                raise InvalidAnnotationError(
                    "searching by key needs the entity kind too (kind=...)"
                )
            key = normalize_key(kind, key)
        query = self._embed([text])[0]
        with self._chroma("searching annotations"):
            found = self._annotations.query(
                query_embeddings=[query],
                n_results=k,
                where=_where(kind=kind, key=key, model_id=model_id, source=source),
                include=["metadatas", "documents", "distances"],
            )
        return [
            AnnotationHit(AnnotationRecord.from_chroma(m, d), float(dist))
            for m, d, dist in zip(
                found["metadatas"][0], found["documents"][0], found["distances"][0], strict=True
            )
        ]

    def similar_proteins(
        self,
        vector: Sequence[float],
        encoder_id: str,
        encoder_revision: str = "",
        *,
        k: int = 5,
        exclude_key: str | None = None,
        with_annotations: bool = True,
    ) -> list[ProteinHit]:
        """Proteins annotated before whose embedding (same encoder) is closest to `vector`.

        `exclude_key` drops the query protein itself, so "what is similar to P04637" does not
        answer "P04637".
        """
        self._check_open()
        values = _checked_vector(vector, "query protein vector")
        collection = self._protein_collection(
            encoder_id, encoder_revision, len(values), create=False
        )
        if collection is None:
            return []
        excluded = normalize_key("protein", exclude_key) if exclude_key else None
        with self._chroma("searching protein vectors"):
            found = collection.query(
                query_embeddings=[values],
                n_results=k + (1 if excluded else 0),
                include=["metadatas", "distances"],
            )
        hits = []
        for metadata, distance in zip(found["metadatas"][0], found["distances"][0], strict=True):
            if metadata["key"] == excluded:
                continue
            annotations = self.find("protein", metadata["key"]) if with_annotations else []
            hits.append(
                ProteinHit(
                    key=metadata["key"],
                    display_name=metadata.get("display_name", ""),
                    distance=float(distance),
                    encoder_id=metadata.get("encoder_id", encoder_id),
                    encoder_revision=metadata.get("encoder_revision", encoder_revision),
                    annotations=annotations,
                )
            )
        return hits[:k]

    def count(self) -> int:
        self._check_open()
        with self._chroma("counting annotations"):
            return self._annotations.count()

    def iter_records(self, page_size: int = 1000) -> Iterator[AnnotationRecord]:
        """Every annotation, page by page (for export and stats; not for hot paths)."""
        self._check_open()
        offset = 0
        while True:
            with self._chroma("reading annotations"):
                page = self._annotations.get(
                    limit=page_size, offset=offset, include=["metadatas", "documents"]
                )
            if not page["ids"]:
                return
            for metadata, document in zip(page["metadatas"], page["documents"], strict=True):
                yield AnnotationRecord.from_chroma(metadata, document)
            offset += len(page["ids"])

    def newest(self, limit: int = 100, page_size: int = 1000) -> list[AnnotationRecord]:
        """The `limit` most recent annotations, newest first, whatever the store's size: the
        times are read page by page (no documents), only `limit` of them kept, and only the
        chosen records fetched whole."""
        self._check_open()
        if limit < 1:
            return []
        kept: list[tuple[datetime, str]] = []  # a min-heap of (created_at, id)
        offset = 0
        while True:
            with self._chroma("reading annotations"):
                page = self._annotations.get(limit=page_size, offset=offset, include=["metadatas"])
            if not page["ids"]:
                break
            for record_id, metadata in zip(page["ids"], page["metadatas"], strict=True):
                item = (datetime.fromisoformat(metadata["created_at"]), record_id)
                if len(kept) < limit:
                    heapq.heappush(kept, item)
                elif item > kept[0]:
                    heapq.heapreplace(kept, item)
            offset += len(page["ids"])
        if not kept:
            return []
        with self._chroma("reading annotations"):
            found = self._annotations.get(
                ids=[record_id for _, record_id in kept], include=["metadatas", "documents"]
            )
        records = [
            AnnotationRecord.from_chroma(m, d)
            for m, d in zip(found["metadatas"], found["documents"], strict=True)
        ]
        records.sort(key=lambda record: record.created_at, reverse=True)
        return records

    def iter_protein_vectors(self, page_size: int = 1000) -> Iterator[ProteinVector]:
        """Every stored protein embedding, of every encoder."""
        self._check_open()
        for name in self._protein_collection_names():
            with self._chroma("opening a protein vectors collection"):
                collection = self._client.get_collection(name, embedding_function=None)
            offset = 0
            while True:
                with self._chroma("reading protein vectors"):
                    page = collection.get(
                        limit=page_size, offset=offset, include=["metadatas", "embeddings"]
                    )
                if not len(page["ids"]):
                    break
                for metadata, embedding in zip(page["metadatas"], page["embeddings"], strict=True):
                    yield ProteinVector(
                        key=metadata["key"],
                        vector=[float(value) for value in embedding],
                        encoder_id=metadata["encoder_id"],
                        encoder_revision=metadata.get("encoder_revision", ""),
                        display_name=metadata.get("display_name", ""),
                        created_at=datetime.fromisoformat(metadata["created_at"]),
                    )
                offset += len(page["ids"])

    def _protein_collection_names(self) -> list[str]:
        names = []
        with self._chroma("listing collections"):
            collections = self._client.list_collections()
        for collection in collections:
            name = collection if isinstance(collection, str) else collection.name
            if name.startswith(PROTEIN_COLLECTION_PREFIX):
                names.append(name)
        return sorted(names)

    def stats(self) -> StoreStats:
        """Counts by kind, source and model, and protein vectors per encoder."""
        self._check_open()
        by_kind: Counter[str] = Counter()
        by_source: Counter[str] = Counter()
        by_model: Counter[str] = Counter()
        offset, page_size = 0, 5000
        while True:
            with self._chroma("reading annotations"):
                page = self._annotations.get(limit=page_size, offset=offset, include=["metadatas"])
            if not page["ids"]:
                break
            for metadata in page["metadatas"]:
                by_kind[metadata["kind"]] += 1
                by_source[metadata["source"]] += 1
                by_model[f"{metadata['model_id']}@{metadata['model_revision'] or '-'}"] += 1
            offset += len(page["ids"])
        protein_vectors = {}
        for name in self._protein_collection_names():
            with self._chroma("counting protein vectors"):
                collection = self._client.get_collection(name, embedding_function=None)
                metadata = collection.metadata or {}
                count = collection.count()
            label = f"{metadata.get('encoder_id', name)}@{metadata.get('encoder_revision') or '-'}"
            protein_vectors[label] = count
        return StoreStats(
            location=self.location.describe(),
            embedding_model=self.embedder.name,
            annotations=sum(by_kind.values()),
            by_kind=dict(by_kind),
            by_source=dict(by_source),
            by_model=dict(by_model),
            protein_vectors=protein_vectors,
        )

    # ----------------------------------------------------------------- exchange and LangChain
    def export_jsonl(self, destination: str | os.PathLike[str] | IO[str]) -> dict[str, int]:
        """Write every annotation and protein vector as JSON lines; see jsonl.py for the format."""
        return jsonl.export_jsonl(self, destination)

    def import_jsonl(self, source: str | os.PathLike[str] | IO[str]) -> dict[str, int]:
        """Upsert the annotations and protein vectors of an export (text embeddings are recomputed)."""
        return jsonl.import_jsonl(self, source)

    def as_retriever(self, **search_options: Any):
        """A LangChain BaseRetriever over `search()` (needs langchain-core; imported only here)."""
        from biomedgpt_tools.store.retriever import AnnotationRetriever

        return AnnotationRetriever(store=self, **search_options)


def _where(**conditions: str | None) -> dict[str, Any] | None:
    """Chroma's where syntax: one condition as is, several under $and, none as None."""
    terms = [{name: value} for name, value in conditions.items() if value is not None]
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else {"$and": terms}


def _checked_vector(vector: Sequence[float], what: str) -> list[float]:
    try:
        values = [float(value) for value in vector]
    except (TypeError, ValueError) as error:
        raise InvalidAnnotationError(f"{what} must be a sequence of numbers: {error}") from error
    if not values:
        raise InvalidAnnotationError(f"{what} is empty")
    if not all(math.isfinite(value) for value in values):
        raise InvalidAnnotationError(f"{what} contains NaN or infinity; check the encoder's output")
    if not any(values):
        raise InvalidAnnotationError(f"{what} is all zeros; cosine distance is undefined for it")
    return values


def open_store(
    path: str | Path | None = None, url: str | None = None, **options: Any
) -> AnnotationStore:
    """Shorthand for AnnotationStore.open (the CLI and the toolkit use it)."""
    try:
        return AnnotationStore.open(path, url, **options)
    except StoreError:
        raise
    except Exception as error:  # a damaged folder, a permissions problem
        location = resolve_location(path, url)
        raise StoreUnavailableError(
            f"cannot open the {location.describe()}: {type(error).__name__}: {error}"
        ) from error
