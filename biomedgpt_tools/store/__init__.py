"""Annotation store: the tools' memory of past answers, on Chroma.

    from biomedgpt_tools.store import AnnotationRecord, AnnotationStore
    with AnnotationStore.open() as store:          # $BIOMEDGPT_HOME/annotations, or
        store.add(AnnotationRecord(...))           # $BIOMEDGPT_CHROMA_URL for a server
        store.recall("molecule", inchikey, question, model_id, revision)

Importing this package is light (no chromadb, torch or LangChain until a store is opened).
"""

from biomedgpt_tools.store.errors import (
    EmbeddingMismatchError,
    InvalidAnnotationError,
    StoreBusyError,
    StoreError,
    StoreUnavailableError,
)
from biomedgpt_tools.store.ids import annotation_id, sequence_key, text_key
from biomedgpt_tools.store.keys import normalize_key, normalize_question
from biomedgpt_tools.store.record import AnnotationRecord
from biomedgpt_tools.store.results import AnnotationHit, ProteinHit, ProteinVector, StoreStats
from biomedgpt_tools.store.store import AnnotationStore, open_store

__all__ = [
    "AnnotationHit",
    "AnnotationRecord",
    "AnnotationStore",
    "EmbeddingMismatchError",
    "InvalidAnnotationError",
    "ProteinHit",
    "ProteinVector",
    "StoreBusyError",
    "StoreError",
    "StoreStats",
    "StoreUnavailableError",
    "annotation_id",
    "normalize_key",
    "normalize_question",
    "open_store",
    "sequence_key",
    "text_key",
]
