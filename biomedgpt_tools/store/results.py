"""What searches and `stats()` return: small typed results instead of Chroma's parallel lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from biomedgpt_tools.store.record import AnnotationRecord


@dataclass(frozen=True)
class AnnotationHit:
    """A record found by text similarity; `distance` is cosine distance (0 = same direction, 2 = opposite)."""

    record: AnnotationRecord
    distance: float


@dataclass(frozen=True)
class ProteinVector:
    """One protein's embedding under one encoder (e.g. mean-pooled ESM-2 states), as stored."""

    key: str
    vector: list[float]
    encoder_id: str
    encoder_revision: str = ""
    display_name: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True)
class ProteinHit:
    """A protein whose stored embedding is close to the query vector, with what was said about it."""

    key: str
    display_name: str
    distance: float
    encoder_id: str
    encoder_revision: str
    annotations: list[AnnotationRecord] = field(default_factory=list)


@dataclass(frozen=True)
class StoreStats:
    """Counts for `biomedgpt store stats` and for people deciding whether to trust the memory."""

    location: str
    embedding_model: str
    annotations: int
    by_kind: dict[str, int]
    by_source: dict[str, int]
    by_model: dict[str, int]  # "model_id@revision" -> count
    protein_vectors: dict[str, int]  # "encoder_id@revision" -> count

    def to_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "embedding_model": self.embedding_model,
            "annotations": self.annotations,
            "by_kind": dict(self.by_kind),
            "by_source": dict(self.by_source),
            "by_model": dict(self.by_model),
            "protein_vectors": dict(self.protein_vectors),
        }
