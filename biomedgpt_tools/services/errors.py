"""Errors of the services layer, plain library errors: the tools turn them into `ToolException`s,
the CLI and bulk annotation report them as they are."""

from __future__ import annotations


class ServicesError(Exception):
    """Base of the errors the services raise (resolver and store errors keep their own types)."""


class NoStructureKeyError(ServicesError, ValueError):
    """No memory key can be computed for a structure (RDKit gives no InChIKey for the SMILES)."""
