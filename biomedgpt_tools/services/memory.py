"""The annotation memory: recall before compute, save with provenance.

The store is opened on first use (never at construction, so building services writes nothing);
when it cannot open, the reason is kept and every call says so in a note instead of failing:
an answer without memory is still an answer.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from biomedgpt_tools.inference.backend import answered_by
from biomedgpt_tools.store.errors import StoreError
from biomedgpt_tools.store.record import AnnotationRecord, ExtraValue, normalize_question

if TYPE_CHECKING:
    from biomedgpt_tools.inference.backend import ModelBackend
    from biomedgpt_tools.model.requests import GenerationResult, ModelIdentity
    from biomedgpt_tools.services.settings import ToolkitSettings
    from biomedgpt_tools.store.store import AnnotationStore

# (the value, or None; a note for the answer when memory failed, or None)
Recalled = tuple[AnnotationRecord | None, str | None]
Saved = tuple[str | None, str | None]


@dataclass(frozen=True)
class AnswerToRemember:
    """One model answer and what it is about, as the store keys it."""

    kind: str  # "molecule", "protein" or "text"
    key: str  # InChIKey, UniProt accession, sequence key or text key
    question: str  # as asked (the store compares it normalised)
    text: str  # the answer as shown
    display_name: str = ""
    options: list[str] | None = None
    protein_sequence: str | None = None  # as the model read it: its embedding is kept too


class AnnotationMemory:
    """An `AnnotationStore` opened lazily from the settings (or given open), and its failure."""

    def __init__(self, settings: ToolkitSettings, store: AnnotationStore | None = None):
        self.settings = settings
        self._store = store
        self._owns_store = False  # a store given in stays the caller's to close
        self._error: str | None = None
        self._lock = threading.Lock()

    def open(self) -> AnnotationStore | None:
        """The store, opened on first use; None (with the reason kept) when memory is off or
        the store cannot open."""
        if self._store is not None or not self.settings.memory:
            return self._store
        with self._lock:
            if self._store is None and self._error is None:
                from biomedgpt_tools.store.store import open_store

                try:
                    if self.settings.chroma_url:
                        self._store = open_store(url=self.settings.chroma_url)
                    else:
                        self._store = open_store(path=self.settings.store_path)
                    self._owns_store = True
                except StoreError as error:
                    self._error = str(error)
        return self._store

    @property
    def error(self) -> str | None:
        """Why the store could not be opened (None: it opened, or was never tried)."""
        return self._error

    def unavailable_note(self) -> str | None:
        """The note an answer carries when memory is on but its store could not open."""
        if not self.settings.memory:
            return None
        return f"memory unavailable: {self._error}" if self._error else None

    def close(self) -> None:
        """Close the store if this memory opened it (releasing the embedded store's writer lock)."""
        with self._lock:
            if self._owns_store and self._store is not None:
                self._store.close()
                self._store = None
                self._owns_store = False

    def recall(
        self, kind: str, key: str, question: str, identity: ModelIdentity | None
    ) -> Recalled:
        """The stored answer of this model (or, with no model, of any model)."""
        store = self.open()
        if store is None:
            return None, self.unavailable_note()
        try:
            if identity is not None:
                return store.recall(kind, key, question, identity.model_id, identity.revision), None
            wanted = normalize_question(question)
            for record in store.find(kind, key):  # newest first
                if record.source == "model" and record.normalized_question == wanted:
                    return record, None
            return None, None
        except StoreError as error:
            return None, f"memory lookup failed: {error}"

    def save(
        self, entry: AnswerToRemember, answer: GenerationResult, backend: ModelBackend
    ) -> Saved:
        """Save a model answer with its provenance; returns (annotation id, note if saving failed).

        A protein's embedding is kept as well (when the settings ask for it), so later
        searches find "similar proteins annotated before".
        """
        store = self.open()
        if store is None:
            return None, self.unavailable_note()
        identity = answered_by(backend, answer)
        extra: dict[str, ExtraValue] = {
            "generate_s": round(answer.seconds, 4),
            "backend": backend.kind,
        }
        if entry.options:
            extra["options_json"] = json.dumps(entry.options)
        try:
            record = AnnotationRecord(
                kind=entry.kind,
                key=entry.key,
                question=entry.question,
                answer=entry.text,
                model_id=identity.model_id,
                model_revision=identity.revision,
                source="model",
                display_name=entry.display_name,
                extra=extra,
            )
            annotation_id = store.add(record)
        except StoreError as error:
            return None, f"the answer was not saved to memory: {error}"
        if entry.protein_sequence is not None and self.settings.protein_vectors:
            try:
                vector = backend.encode_protein(entry.protein_sequence)
                if vector is not None:
                    store.add_protein_vector(
                        entry.key,
                        vector,
                        identity.model_id,
                        identity.revision,
                        entry.display_name,
                    )
            except (StoreError, ValueError) as error:
                return (
                    annotation_id,
                    f"the protein's embedding was not saved for similarity search: {error}",
                )
        return annotation_id, None
