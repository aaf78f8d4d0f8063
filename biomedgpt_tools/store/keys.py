"""The canonical forms records are keyed by: entity keys and questions, normalised.

Both the record (its fields) and the ids (its id) need them, so they live here, below both:
the same question asked twice, or the same key typed in another case, maps to one record id.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal, get_args

from biomedgpt_tools.store.errors import InvalidAnnotationError

EntityKind = Literal["molecule", "protein", "text"]
ENTITY_KINDS: tuple[str, ...] = get_args(EntityKind)

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


def collapse_whitespace(text: str) -> str:
    """`text` with each run of whitespace made one space, and none at either end."""
    return _WHITESPACE_RE.sub(" ", text).strip()


def normalize_question(question: str) -> str:
    """The form questions are compared in: NFKC, one space, lower case, no trailing punctuation.

    "What is  aspirin?" and "what is aspirin" are the same question; the wording the user
    typed is kept in `AnnotationRecord.question` for display.
    """
    if not isinstance(question, str):
        raise InvalidAnnotationError(f"question must be a string, got {type(question).__name__}")
    text = unicodedata.normalize("NFKC", question)
    text = collapse_whitespace(text).casefold()
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
