"""The entity finder reads organisms and CAS check digits the way the resolvers do: one table,
one rule (a word the resolvers know as an organism is one in a question too)."""

from __future__ import annotations

import pytest

from agents.entities import find_entities


@pytest.mark.parametrize(
    ("question", "symbol", "taxon"),
    [
        ("What does Kras in house mouse do?", "Kras", "10090"),
        ("Tell me about dog Brca1.", "Brca1", "9615"),
        ("What is the role of fission yeast Cdc2?", "Cdc2", "284812"),
    ],
)
def test_organisms_the_resolvers_know_are_found_in_questions(question, symbol, taxon):
    genes = [e for e in find_entities(question) if e.kind == "gene"]
    assert [(e.text, e.organism) for e in genes] == [(symbol, taxon)]


def test_cas_numbers_use_the_resolvers_check_digit():
    assert [e.text for e in find_entities("Is 50-78-2 toxic?") if e.kind == "cas"] == ["50-78-2"]
    assert not [
        e for e in find_entities("Is 50-78-3 toxic?") if e.kind == "cas"
    ]  # bad digit, no cue
    assert [e.text for e in find_entities("What is CAS 50-78-3?") if e.kind == "cas"] == ["50-78-3"]
