"""What can happen to a lookup besides success, as exceptions an agent or CLI can act on.

Success returns a record; every other outcome raises a `ResolverError` subclass whose `kind`
matches the CLI's JSON (`not_found`, `ambiguous`, `obsolete`, `unavailable`, `invalid`) and
whose message names the input and the way out. `to_json()` gives the CLI/tool error payload.
"""

from __future__ import annotations

from typing import Any, ClassVar

from biomedgpt_tools.resolvers.records import MoleculeCandidate, ProteinCandidate

Candidate = MoleculeCandidate | ProteinCandidate


class ResolverError(Exception):
    """Base of every expected resolver failure."""

    kind: ClassVar[str] = "error"

    def __init__(self, message: str, *, query: str | None = None):
        super().__init__(message)
        self.message = message
        self.query = query

    @property
    def candidates(self) -> list[Candidate]:
        return []

    def to_json(self) -> dict[str, Any]:
        return {
            "error": {
                "kind": self.kind,
                "message": self.message,
                "query": self.query,
                "candidates": [c.model_dump(mode="json") for c in self.candidates],
                **self._extra_json(),
            }
        }

    def _extra_json(self) -> dict[str, Any]:
        return {}


class NotFoundError(ResolverError):
    """The service answered and knows nothing under this query."""

    kind = "not_found"


class AmbiguousError(ResolverError):
    """Several entries match; `candidates` are ordered best first, never silently picked."""

    kind = "ambiguous"

    def __init__(self, message: str, candidates: list[Candidate], *, query: str | None = None):
        super().__init__(message, query=query)
        self._candidates = list(candidates)

    @property
    def candidates(self) -> list[Candidate]:
        return self._candidates


class ObsoleteError(ResolverError):
    """A UniProt accession that is inactive (deleted or demerged); replacements if any."""

    kind = "obsolete"

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        replacements: list[str] | None = None,
        query: str | None = None,
    ):
        super().__init__(message, query=query)
        self.reason = reason
        self.replacements = list(replacements or [])

    def _extra_json(self) -> dict[str, Any]:
        return {"reason": self.reason, "replacements": self.replacements}


class UnavailableError(ResolverError):
    """The service could not answer (after retries), or we are offline without a local answer."""

    kind = "unavailable"


class OfflineError(UnavailableError):
    """Offline mode and neither the cache nor the bundled snapshot knows the query."""


class InvalidQueryError(ResolverError, ValueError):
    """The input cannot be a valid query (bad SMILES, malformed accession); nothing was sent."""

    kind = "invalid"
