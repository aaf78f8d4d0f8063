"""One stored answer and where it came from.

An `AnnotationRecord` is what the tools save after answering: the entity (kind + canonical key),
the question, the answer, and the provenance needed to trust or discard it later (which model
and checkpoint, which source, when, which tool version). Keys and questions are normalised (keys.py)
so that the same question asked twice maps to the same record id (ids.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, get_args

from biomedgpt_tools.store.errors import InvalidAnnotationError
from biomedgpt_tools.store.ids import annotation_id
from biomedgpt_tools.store.keys import (
    EntityKind,
    collapse_whitespace,
    normalize_key,
    normalize_question,
)
from biomedgpt_tools.version import __version__ as TOOL_VERSION

AnnotationSource = Literal["model", "pubchem", "uniprot", "user"]
SOURCES: tuple[str, ...] = get_args(AnnotationSource)
# Metadata values Chroma accepts; `extra` is stored as JSON so any of these round-trip.
ExtraValue = str | int | float | bool | None


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _as_utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as error:
            raise InvalidAnnotationError(
                f"created_at {value!r} is not an ISO 8601 time (e.g. 2024-05-01T12:00:00+00:00)"
            ) from error
    if not isinstance(value, datetime):
        raise InvalidAnnotationError(f"created_at must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


@dataclass(frozen=True)
class AnnotationRecord:
    """One answer about one entity, with its provenance.

    `model_id` + `model_revision` identify what answered (for source "model": the model folder's
    id and checkpoint hash; for a database or a person, e.g. "uniprot" and the release). A
    different revision is a different record: answers of an older checkpoint are never served
    as answers of a newer one.
    """

    kind: EntityKind
    key: str
    question: str
    answer: str
    model_id: str
    model_revision: str = ""
    source: AnnotationSource = "model"
    display_name: str = ""
    created_at: datetime = field(default_factory=_utc_now)
    tool_version: str = TOOL_VERSION
    extra: dict[str, ExtraValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_field = object.__setattr__  # frozen dataclass: normalise in place once
        set_field(self, "key", normalize_key(self.kind, self.key))
        normalize_question(self.question)  # validates; the id uses the normalised form
        set_field(self, "question", collapse_whitespace(self.question))
        for name in ("answer", "model_id", "model_revision", "display_name", "tool_version"):
            if not isinstance(getattr(self, name), str):
                raise InvalidAnnotationError(
                    f"{name} must be a string, got {type(getattr(self, name)).__name__}"
                )
        if not self.answer.strip():
            raise InvalidAnnotationError(
                f"answer for {self.kind} {self.key} is empty; store only real answers"
            )
        if not self.model_id.strip():
            raise InvalidAnnotationError(
                "model_id is empty; pass the model's id (or the source's name for pubchem/uniprot/user)"
            )
        if self.source not in SOURCES:
            raise InvalidAnnotationError(
                f"source {self.source!r} is not one of {', '.join(SOURCES)}"
            )
        set_field(self, "model_id", self.model_id.strip())
        set_field(self, "model_revision", self.model_revision.strip())
        set_field(self, "created_at", _as_utc(self.created_at))
        if not isinstance(self.extra, dict) or not all(isinstance(k, str) for k in self.extra):
            raise InvalidAnnotationError("extra must be a dict with string keys")
        try:
            json.dumps(self.extra)
        except (TypeError, ValueError) as error:
            raise InvalidAnnotationError(
                f"extra metadata is not JSON-serialisable: {error}"
            ) from error

    @property
    def normalized_question(self) -> str:
        return normalize_question(self.question)

    @property
    def id(self) -> str:
        return annotation_id(self.kind, self.key, self.question, self.model_id, self.model_revision)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (the export line format and the retriever's metadata)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "key": self.key,
            "display_name": self.display_name,
            "question": self.question,
            "answer": self.answer,
            "model_id": self.model_id,
            "model_revision": self.model_revision,
            "source": self.source,
            "created_at": self.created_at.isoformat(),
            "tool_version": self.tool_version,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnnotationRecord:
        """Inverse of to_dict; an `id` field, if present, must match the one derived."""
        if not isinstance(data, dict):
            raise InvalidAnnotationError(
                f"an annotation must be a JSON object, got {type(data).__name__}"
            )
        known = {
            "kind",
            "key",
            "question",
            "answer",
            "model_id",
            "model_revision",
            "source",
            "display_name",
            "created_at",
            "tool_version",
            "extra",
        }
        unknown = set(data) - known - {"id"}
        if unknown:
            raise InvalidAnnotationError(
                f"unknown annotation field(s): {', '.join(sorted(unknown))}"
            )
        missing = {"kind", "key", "question", "answer", "model_id"} - set(data)
        if missing:
            raise InvalidAnnotationError(
                f"annotation is missing field(s): {', '.join(sorted(missing))}"
            )
        record = cls(**{name: data[name] for name in known if name in data})
        if "id" in data and data["id"] != record.id:
            raise InvalidAnnotationError(
                f"annotation id {data['id']!r} does not match its fields (derived {record.id!r}); "
                "the line was edited or comes from an incompatible version"
            )
        return record

    def document_text(self) -> str:
        """The text that is embedded for similarity search: what, which question, the answer."""
        name = self.display_name or self.key or self.kind
        return f"{name}\n{self.question}\n{self.answer}"

    def chroma_metadata(self) -> dict[str, str | int | float | bool]:
        """Flat metadata Chroma can filter on (kind, key, model) plus the rest of the provenance."""
        return {
            "kind": self.kind,
            "key": self.key,
            "display_name": self.display_name,
            "question": self.question,
            "model_id": self.model_id,
            "model_revision": self.model_revision,
            "source": self.source,
            "created_at": self.created_at.isoformat(),
            "tool_version": self.tool_version,
            "extra_json": json.dumps(self.extra, sort_keys=True),
        }

    @classmethod
    def from_chroma(cls, metadata: dict[str, Any], answer: str) -> AnnotationRecord:
        """Rebuild a record from what `chroma_metadata` stored (the answer is the Chroma document)."""
        return cls(
            kind=metadata["kind"],
            key=metadata["key"],
            question=metadata["question"],
            answer=answer,
            model_id=metadata["model_id"],
            model_revision=metadata.get("model_revision", ""),
            source=metadata.get("source", "model"),
            display_name=metadata.get("display_name", ""),
            created_at=metadata["created_at"],
            tool_version=metadata.get("tool_version", ""),
            extra=json.loads(metadata.get("extra_json") or "{}"),
        )
