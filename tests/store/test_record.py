"""AnnotationRecord validation, normalisation and deterministic ids (no Chroma needed)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from biomedgpt_tools.store import (
    AnnotationRecord,
    InvalidAnnotationError,
    annotation_id,
    normalize_key,
    normalize_question,
    sequence_key,
    text_key,
)
from biomedgpt_tools.store.ids import encoder_collection_name, protein_vector_id
from tests.store.conftest import ASPIRIN, TP53


@pytest.mark.parametrize(
    "variant",
    [
        "What is this molecule?",
        "what is this molecule",
        "  WHAT  is\tthis\nmolecule ?!",
        "What is this molecule.",
    ],
)
def test_question_variants_normalise_to_one_form(variant):
    assert normalize_question(variant) == "what is this molecule"


def test_question_normalisation_keeps_inner_punctuation():
    assert normalize_question("Is it an N-acetyl, or O-acetyl, derivative?") == (
        "is it an n-acetyl, or o-acetyl, derivative"
    )


@pytest.mark.parametrize("question", ["", "   ", "???", " . "])
def test_empty_question_is_refused(question):
    with pytest.raises(InvalidAnnotationError, match="empty"):
        normalize_question(question)


def test_keys_are_canonicalised():
    assert normalize_key("molecule", " bsynrymutxbxsq-uhfffaoysa-n ") == ASPIRIN
    assert normalize_key("protein", "p04637") == TP53
    assert normalize_key("protein", "P04637-2") == "P04637-2"
    assert normalize_key("protein", "A0A023GPI8") == "A0A023GPI8"
    assert normalize_key("text", "") == ""


@pytest.mark.parametrize(
    ("kind", "key", "hint"),
    [
        ("molecule", "aspirin", "InChIKey"),
        ("molecule", "CC(=O)OC1=CC=CC=C1C(=O)O", "InChIKey"),
        ("protein", "TP53_HUMAN", "UniProt accession"),
        ("protein", "MKTAYIAK", "UniProt accession"),
        ("text", "anything", "text_key"),
        ("gene", "TP53", "not one of"),
    ],
)
def test_bad_keys_name_the_key_and_the_way_out(kind, key, hint):
    with pytest.raises(InvalidAnnotationError, match=hint) as caught:
        normalize_key(kind, key)
    assert repr(key) in str(caught.value) or kind == "gene"


def test_sequence_and_text_keys():
    assert sequence_key("mkt ayiak\nqr") == sequence_key("MKTAYIAKQR")
    assert normalize_key("protein", sequence_key("MKTAYIAKQR")).startswith("SEQ-")
    assert sequence_key("MKTAYIAKQR") != sequence_key("MKTAYIAKQK")
    with pytest.raises(ValueError, match="amino-acid"):
        sequence_key("MKT-123")
    assert text_key() == "" and text_key("", []) == ""
    assert text_key("ctx", ["a", "b"]) != text_key("ctx", ["b", "a"])
    assert text_key("ctx", ["a"]) != text_key("", ["ctx", "a"])
    assert normalize_key("text", text_key("context")) == text_key("context")


def test_id_is_deterministic_and_ignores_question_form(make_record):
    first = make_record(question="What is this molecule?")
    second = make_record(question="  what is THIS molecule ", answer="another answer")
    assert first.id == second.id
    assert first.id == annotation_id(
        "molecule", ASPIRIN.lower(), "what is this molecule", "biomedgpt-10b", "rev-a"
    )
    assert first.id.startswith("ann-") and len(first.id) == 44


@pytest.mark.parametrize(
    "change",
    [
        {"model_revision": "rev-b"},
        {"model_id": "other-model"},
        {"question": "What is this molecule used for?"},
        {"key": "RYYVLZVUVIJVGH-UHFFFAOYSA-N"},
        {"kind": "protein", "key": TP53},
    ],
)
def test_id_changes_with_entity_question_or_model(make_record, change):
    assert make_record().id != make_record(**change).id


def test_id_fields_cannot_collide_across_the_separator():
    # "ab" + "c" and "a" + "bc" must not hash to the same id.
    assert annotation_id("text", "", "q", "ab", "c") != annotation_id("text", "", "q", "a", "bc")


def test_record_validation_messages(make_record):
    with pytest.raises(InvalidAnnotationError, match="answer .* is empty"):
        make_record(answer="  ")
    with pytest.raises(InvalidAnnotationError, match="model_id is empty"):
        make_record(model_id="")
    with pytest.raises(InvalidAnnotationError, match="source 'wikipedia'"):
        make_record(source="wikipedia")
    with pytest.raises(InvalidAnnotationError, match="not JSON-serialisable"):
        make_record(extra={"when": datetime.now()})
    with pytest.raises(InvalidAnnotationError, match="ISO 8601"):
        make_record(created_at="yesterday")


def test_created_at_is_utc_and_naive_times_are_taken_as_utc(make_record):
    naive = make_record(created_at=datetime(2024, 5, 1, 12, 0))
    assert naive.created_at == datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    assert make_record().created_at.tzinfo is not None


def test_dict_round_trip_and_tamper_check(make_record):
    record = make_record(
        extra={"prompt_tokens": 42, "note": "x", "ok": True, "score": 0.5, "none": None}
    )
    data = record.to_dict()
    assert AnnotationRecord.from_dict(data) == record
    assert AnnotationRecord.from_dict(data).extra == record.extra
    tampered = dict(data, model_revision="rev-z")
    with pytest.raises(InvalidAnnotationError, match="does not match its fields"):
        AnnotationRecord.from_dict(tampered)
    with pytest.raises(InvalidAnnotationError, match="unknown annotation field"):
        AnnotationRecord.from_dict(dict(data, colour="blue"))
    with pytest.raises(InvalidAnnotationError, match="missing field"):
        AnnotationRecord.from_dict({"kind": "molecule"})


def test_stored_question_keeps_wording_but_collapses_whitespace(make_record):
    record = make_record(question="  What is\n this molecule?  ")
    assert record.question == "What is this molecule?"
    assert record.normalized_question == "what is this molecule"


def test_ids_and_keys_are_pinned_to_literal_values(make_record):
    """Every stored entry is found by these values: a changed recipe would orphan existing
    stores, so it must fail here and come with a migration (and a new ID_SCHEME)."""
    record = make_record(question="  What is THIS molecule? ")
    assert record.id == "ann-1d878464c69d7d8741f395e7986958a880d96054"
    assert (
        protein_vector_id("p04637 ", "esm2", "r1") == "pv-409b4070249389f8ffe7a4eeebb81dacf6495ce7"
    )
    assert encoder_collection_name("esm2", "r1") == "protein-vectors-e8926275f1d89a081f03d540"
    assert sequence_key("mktay iakqr") == "SEQ-0B2B6B8411D220F8648B67B5F839A433"
    assert text_key("ctx", ["a", "b"]) == "CTX-4B74EC6EEF3A9160BCA6785C3DF139AA"
