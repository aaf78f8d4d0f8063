"""Export and import of a store as JSON lines, so memories move between machines and versions.

Format (one JSON object per line):
  {"type": "header", "format": "biomedgpt-annotations", "version": 1, ...}   first line
  {"type": "annotation", "record": {AnnotationRecord.to_dict()}}
  {"type": "protein_vector", "key": ..., "encoder_id": ..., "encoder_revision": ...,
   "display_name": ..., "created_at": ..., "vector": [floats]}
Text embeddings are not exported: import recomputes them with the importing store's embedder,
so an export also migrates a store to a new embedder. Protein vectors are exported because the
encoder that made them (ESM-2, billions of parameters) may not be at hand on import.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import IO, Protocol

from biomedgpt_tools.store.embedding import TextEmbedder
from biomedgpt_tools.store.errors import InvalidAnnotationError
from biomedgpt_tools.store.record import AnnotationRecord
from biomedgpt_tools.store.results import ProteinVector
from biomedgpt_tools.version import __version__ as TOOL_VERSION


class ExportableStore(Protocol):
    """What export and import need from a store (AnnotationStore is one): the format sits below
    the store, which calls it from `export_jsonl`/`import_jsonl`."""

    embedder: TextEmbedder

    def iter_records(self) -> Iterator[AnnotationRecord]: ...

    def iter_protein_vectors(self) -> Iterator[ProteinVector]: ...

    def add_many(self, records: Iterable[AnnotationRecord]) -> list[str]: ...

    def add_protein_vectors(self, vectors: Iterable[ProteinVector]) -> list[str]: ...


FORMAT_NAME = "biomedgpt-annotations"
FORMAT_VERSION = 1
IMPORT_BATCH = 256


@contextlib.contextmanager
def _opened(target: str | os.PathLike[str] | IO[str], mode: str) -> Iterator[IO[str]]:
    if hasattr(target, "read") or hasattr(target, "write"):
        yield target  # type: ignore[misc]
        return
    with open(target, mode, encoding="utf-8") as handle:
        yield handle


@contextlib.contextmanager
def _replaced_whole(target: str | os.PathLike[str] | IO[str]) -> Iterator[IO[str]]:
    """Write a path through a temporary file in its folder, renamed over it only when complete,
    so a failed or killed export never leaves a cut-short file (or a destroyed older export)."""
    if hasattr(target, "write"):
        yield target  # type: ignore[misc]
        return
    path = os.fspath(target)
    folder = os.path.dirname(os.path.abspath(path))
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed or removed below
        "w",
        encoding="utf-8",
        dir=folder,
        prefix=f".{os.path.basename(path)}.",
        suffix=".partial",
        delete=False,
    )
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise


def export_jsonl(
    store: ExportableStore, destination: str | os.PathLike[str] | IO[str]
) -> dict[str, int]:
    """Write header, annotations (sorted by id, so two exports of one store are identical) and vectors."""
    records = sorted(store.iter_records(), key=lambda record: record.id)
    vectors = sorted(
        store.iter_protein_vectors(),
        key=lambda item: (item.encoder_id, item.encoder_revision, item.key),
    )
    with _replaced_whole(destination) as out:
        header = {
            "type": "header",
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "tool_version": TOOL_VERSION,
            "embedding_model": store.embedder.name,
            "annotations": len(records),
            "protein_vectors": len(vectors),
        }
        out.write(json.dumps(header, sort_keys=True) + "\n")
        for record in records:
            out.write(
                json.dumps({"type": "annotation", "record": record.to_dict()}, sort_keys=True)
                + "\n"
            )
        for item in vectors:
            line = {
                "type": "protein_vector",
                "key": item.key,
                "encoder_id": item.encoder_id,
                "encoder_revision": item.encoder_revision,
                "display_name": item.display_name,
                "created_at": (item.created_at or datetime.now(timezone.utc)).isoformat(),
                "vector": item.vector,
            }
            out.write(json.dumps(line, sort_keys=True) + "\n")
    return {"annotations": len(records), "protein_vectors": len(vectors)}


def import_jsonl(
    store: ExportableStore, source: str | os.PathLike[str] | IO[str]
) -> dict[str, int]:
    """Validate the whole file first, then upsert: a bad line (named by number) imports nothing."""
    records: list[AnnotationRecord] = []
    vectors: list[ProteinVector] = []
    header: dict | None = None
    name = getattr(source, "name", None) or os.fspath(source)
    with _opened(source, "r") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as error:
                raise InvalidAnnotationError(
                    f"{name} line {number} is not JSON: {error.msg}"
                ) from None
            if not isinstance(item, dict):
                raise InvalidAnnotationError(f"{name} line {number} is not a JSON object")
            kind = item.get("type")
            try:
                if header is None or kind == "header":
                    _check_header(item, first=header is None)
                    header = item
                elif kind == "annotation":
                    records.append(AnnotationRecord.from_dict(item.get("record")))
                elif kind == "protein_vector":
                    vectors.append(_protein_vector(item))
                else:
                    raise InvalidAnnotationError(
                        f"unknown line type {kind!r} (expected annotation or protein_vector)"
                    )
            except InvalidAnnotationError as error:
                raise InvalidAnnotationError(f"{name} line {number}: {error}") from None
            except (TypeError, ValueError, KeyError) as error:
                raise InvalidAnnotationError(
                    f"{name} line {number}: {type(error).__name__}: {error}"
                ) from None
    if header is None:
        raise InvalidAnnotationError(f"{name} is empty; expected a biomedgpt store export")
    _check_complete(name, header, annotations=len(records), protein_vectors=len(vectors))
    for start in range(0, len(records), IMPORT_BATCH):
        store.add_many(records[start : start + IMPORT_BATCH])
    if vectors:
        store.add_protein_vectors(vectors)
    return {"annotations": len(records), "protein_vectors": len(vectors)}


def _check_header(item: dict, first: bool) -> None:
    if item.get("type") != "header" or not first:
        raise InvalidAnnotationError(
            "the first line must be the export header "
            f'{{"type": "header", "format": "{FORMAT_NAME}", ...}}; is this a biomedgpt store export?'
        )
    if item.get("format") != FORMAT_NAME:
        raise InvalidAnnotationError(f"format {item.get('format')!r} is not {FORMAT_NAME!r}")
    if item.get("version") != FORMAT_VERSION:
        raise InvalidAnnotationError(
            f"export format version {item.get('version')!r} is not supported (this tool reads {FORMAT_VERSION}); "
            "upgrade biomedgpt-tools"
        )


def _check_complete(name: str, header: dict, **found: int) -> None:
    """The header's counts against the lines read: a copy cut short at a line end parses
    cleanly, and importing it would silently drop the rest."""
    announced = {kind: header.get(kind) for kind in found}
    for kind, count in announced.items():
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
            raise InvalidAnnotationError(
                f"{name} line 1: the header's {kind} count must be a whole number, got {count!r}"
            )
    counted = {kind: count for kind, count in announced.items() if count is not None}
    if any(found[kind] != count for kind, count in counted.items()):
        said = ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in counted.items())
        held = ", ".join(f"{found[kind]} {kind.replace('_', ' ')}" for kind in counted)
        raise InvalidAnnotationError(
            f"{name} is incomplete: its header announces {said} but the file holds {held}; "
            "it was cut short or edited, so nothing was imported: copy or export it again"
        )


def _protein_vector(item: dict) -> ProteinVector:
    allowed = {
        "type",
        "key",
        "encoder_id",
        "encoder_revision",
        "display_name",
        "created_at",
        "vector",
    }
    unknown = set(item) - allowed
    if unknown:
        raise InvalidAnnotationError(
            f"unknown protein_vector field(s): {', '.join(sorted(unknown))}"
        )
    vector = item["vector"]
    if not isinstance(vector, list):
        raise InvalidAnnotationError("protein_vector.vector must be a list of numbers")
    created = item.get("created_at")
    return ProteinVector(
        key=item["key"],
        vector=vector,
        encoder_id=item["encoder_id"],
        encoder_revision=item.get("encoder_revision", ""),
        display_name=item.get("display_name", ""),
        created_at=datetime.fromisoformat(created) if created else None,
    )
