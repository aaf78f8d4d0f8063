"""Expected failures of the annotation store, each with a message that names the way out."""

from __future__ import annotations


class StoreError(Exception):
    """Base class: anything the store refuses or cannot do, said in one actionable line."""


class InvalidAnnotationError(StoreError, ValueError):
    """A record, key, question or import line that does not pass validation."""


class StoreBusyError(StoreError):
    """Another process holds the embedded store for writing (Chroma's embedded mode is single-writer)."""


class StoreUnavailableError(StoreError):
    """The store cannot be opened: server unreachable, bad URL, unreadable directory."""


class EmbeddingMismatchError(StoreError):
    """The store was built with a different text embedder; vectors would not be comparable."""
