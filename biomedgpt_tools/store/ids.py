"""Deterministic ids: the same entity, question and model always map to the same record id.

That is what makes a second save an upsert instead of a duplicate, and what makes recall an
exact lookup by id instead of a search. Fields are joined with a unit separator (\\x1f), which
cannot occur in normalised keys and questions, so ("a", "bc") and ("ab", "c") never collide.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from biomedgpt_tools.store.keys import normalize_key, normalize_question

ID_SCHEME = "v1"  # bump only with a migration: stored ids depend on it
_SEPARATOR = "\x1f"


def _digest(*parts: str) -> str:
    return hashlib.sha256(_SEPARATOR.join(parts).encode("utf-8")).hexdigest()


def annotation_id(
    kind: str, key: str, question: str, model_id: str, model_revision: str = ""
) -> str:
    """Id of the annotation for (entity, normalised question, model id, model revision)."""
    parts = (
        ID_SCHEME,
        kind,
        normalize_key(kind, key),
        normalize_question(question),
        model_id.strip(),
        model_revision.strip(),
    )
    return "ann-" + _digest(*parts)[:40]


def protein_vector_id(key: str, encoder_id: str, encoder_revision: str = "") -> str:
    """Id of one protein's embedding under one encoder: re-adding replaces, never duplicates."""
    return (
        "pv-"
        + _digest(
            ID_SCHEME, normalize_key("protein", key), encoder_id.strip(), encoder_revision.strip()
        )[:40]
    )


def encoder_collection_name(encoder_id: str, encoder_revision: str = "") -> str:
    """Chroma collection for one protein encoder: vectors of different encoders never mix."""
    return (
        "protein-vectors-" + _digest(ID_SCHEME, encoder_id.strip(), encoder_revision.strip())[:24]
    )


def sequence_key(sequence: str) -> str:
    """Key for a protein known only by its sequence (no UniProt accession).

    The sequence is upper-cased and stripped of whitespace first, so the same chain typed with
    line breaks gets the same key.
    """
    residues = re.sub(r"\s+", "", sequence).upper()
    if not residues or not residues.isalpha():
        raise ValueError(
            f"protein sequence {sequence[:30]!r}... must be amino-acid letters; got {len(residues)} characters"
        )
    return "SEQ-" + hashlib.sha256(residues.encode("ascii")).hexdigest()[:32].upper()


def text_key(context: str | None = None, options: list[str] | None = None) -> str:
    """Key for a free-text question: "" without context/options, else a hash of both.

    BiomedQA asked with different context or answer options is a different question, so the
    context and options belong in the key; their order of options matters (A/B/C labels).
    """
    context_text = unicodedata.normalize("NFKC", context or "").strip()
    option_texts = [unicodedata.normalize("NFKC", option).strip() for option in options or []]
    if not context_text and not option_texts:
        return ""
    return "CTX-" + _digest(ID_SCHEME, context_text, *option_texts)[:32].upper()
