"""The resolver cache's keys, spelled in one place: one builder per query kind.

The SQLite cache outlives a process, so the key layout is part of its format; a change here
orphans every cached answer. The layout:

    molecule:<kind>:<value>            a negative answer (not found, ambiguous, obsolete)
    molecule:<kind>:<value>:basic      a record without the long fields
    molecule:<kind>:<value>:full       a record with them (synonyms, description)
    protein:<kind>:<value>:<organism>  a record or a negative answer; organism may be empty

Values arrive normalised by the query (identifiers.py): these functions only spell the key.
"""

from __future__ import annotations

from typing import Literal

MoleculeDetail = Literal["basic", "full"]


def molecule_key(kind: str, value: str, detail: MoleculeDetail | None = None) -> str:
    """The key of one molecule answer; `detail` None is the key negative answers live under."""
    key = f"molecule:{kind}:{value}"
    return f"{key}:{detail}" if detail else key


def molecule_lookup_keys(kind: str, value: str, details: bool) -> list[str]:
    """The keys a lookup reads, best first: a full record also answers a basic question."""
    levels: list[MoleculeDetail | None] = ["full", None] if details else ["basic", "full", None]
    return [molecule_key(kind, value, level) for level in levels]


def cid_key(cid: int | str, detail: MoleculeDetail | None = None) -> str:
    """The key of a molecule answer by PubChem CID (what every resolved molecule is aliased to)."""
    return molecule_key("cid", str(cid), detail)


def cid_lookup_keys(cid: int | str) -> list[str]:
    """The keys a basic lookup by CID reads, best first (the bulk CID batch reads these)."""
    return molecule_lookup_keys("cid", str(cid), details=False)


def protein_key(kind: str, value: str, organism: str = "") -> str:
    """The key of one protein answer; `organism` is a taxon id or a casefolded name, or empty."""
    return f"protein:{kind}:{value}:{organism}"


def accession_key(accession: str) -> str:
    """The key of a protein answer by UniProt accession (what every resolved entry is aliased to)."""
    return protein_key("accession", accession)
