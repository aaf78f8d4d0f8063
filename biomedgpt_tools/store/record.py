"""One stored answer and where it came from.

An `AnnotationRecord` is what the tools save after answering: the entity (kind + canonical key),
the question, the answer, and the provenance needed to trust or discard it later (which model
and checkpoint, which source, when, which tool version). Keys and questions are normalised here
so that the same question asked twice maps to the same record id (see ids.py).
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, get_args

from biomedgpt_tools.store.errors import InvalidAnnotationError
from biomedgpt_tools.version import __version__ as TOOL_VERSION

EntityKind = Literal["molecule", "protein", "text"]
AnnotationSource = Literal["model", "pubchem", "uniprot", "user"]
ENTITY_KINDS: tuple[str, ...] = get_args(EntityKind)
SOURCES: tuple[str, ...] = get_args(AnnotationSource)

INCHIKEY_RE = re.compile(r"^[A-Z]{14}-[A-Z]{10}-[A-Z]$")
# UniProt's accession grammar, with an optional isoform suffix (P04637-2).
UNIPROT_ACCESSION_RE = re.compile(
    r"^(?:[OPQ][0-9][A-Z0-9]{3}[0-9]|[A-NR-Z][0-9](?:[A-Z][A-Z0-9]{2}[0-9]){1,2})(?:-[0-9]{1,3})?$"
)
# A protein known only by its sequence: "SEQ-" + 32 hex digits of sha256 (ids.sequence_key).
SEQUENCE_KEY_RE = re.compile(r"^SEQ-[0-9A-F]{32}$")
# BiomedQA questions keyed by their context/options (ids.text_key), or no key at all.
TEXT_KEY_RE = re.compile(r"^(?:|CTX-[0-9A-F]{32})$")

_TRAILING_PUNCTUATION = "?.!;:,。？！…"
_WHITESPACE_RE = re.compile(r"\s+")
# Metadata values Chroma accepts; `extra` is stored as JSON so any of these round-trip.
ExtraValue = str | int | float | bool | None


def normalize_question(question: str) -> str:
    """The form questions are compared in: NFKC, one space, lower case, no trailing punctuation.

    "What is  aspirin?" and "what is aspirin" are the same question; the wording the user
    typed is kept in `AnnotationRecord.question` for display.
    """
    if not isinstance(question, str):
        raise InvalidAnnotationError(f"question must be a string, got {type(question).__name__}")
    text = unicodedata.normalize("NFKC", question)
    text = _WHITESPACE_RE.sub(" ", text).strip().casefold()
    text = text.rstrip(_TRAILING_PUNCTUATION + " ")
    if not text:
        raise InvalidAnnotationError(
            f"question {question!r} is empty after normalisation; ask a question with words in it"
        )
    return text


def normalize_key(kind: str, key: str) -> str:
    """Canonical entity key: an InChIKey (molecule), a UniProt accession or sequence key (protein).

    Raises InvalidAnnotationError naming the key and what was expected, so a caller that passes
    a name or a SMILES learns to resolve it first.
    """
    if kind not in ENTITY_KINDS:
        raise InvalidAnnotationError(
            f"entity kind {kind!r} is not one of {', '.join(ENTITY_KINDS)}"
        )
    if not isinstance(key, str):
        raise InvalidAnnotationError(f"{kind} key must be a string, got {type(key).__name__}")
    text = key.strip().upper()
    if kind == "molecule":
        if not INCHIKEY_RE.match(text):
            raise InvalidAnnotationError(
                f"molecule key {key!r} is not an InChIKey (XXXXXXXXXXXXXX-YYYYYYYYYY-Z); "
                "resolve the molecule first (PubChem, or RDKit from its SMILES)"
            )
    elif kind == "protein":
        if not (UNIPROT_ACCESSION_RE.match(text) or SEQUENCE_KEY_RE.match(text)):
            raise InvalidAnnotationError(
                f"protein key {key!r} is not a UniProt accession (e.g. P04637) or a sequence key "
                "(biomedgpt_tools.store.sequence_key(sequence)); resolve the protein first"
            )
    elif not TEXT_KEY_RE.match(text):
        raise InvalidAnnotationError(
            f"text key {key!r} must be empty or made by biomedgpt_tools.store.text_key(context, options)"
        )
    return text


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
        set_field(self, "question", _WHITESPACE_RE.sub(" ", self.question).strip())
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
        from biomedgpt_tools.store.ids import annotation_id

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
