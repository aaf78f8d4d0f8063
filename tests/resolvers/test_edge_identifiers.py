"""Identifiers users type at the edges (issue 16): CAS numbers, organism-style gene symbols,
the organism on either side of the name; against the local PubChem/UniProt server."""

from __future__ import annotations

import pytest

from biomedgpt_tools.resolvers import AmbiguousError, InvalidQueryError, NotFoundError


def _uniprot_queries(server) -> list[str]:
    return [r.query.get("query", "") for r in server.requests if r.service == "uniprot"]


@pytest.mark.parametrize("text", ["50-78-2", "CAS 50-78-2", "cas:50-78-2", "CAS No. 50-78-2"])
def test_a_valid_cas_number_is_a_pubchem_name_search(make_resolver, resolver_server, text):
    record = make_resolver().molecule(text, details=False)
    assert record.cid == 2244 and record.name == "Aspirin"
    first = resolver_server.requests[0]
    assert (first.method, first.path) == ("POST", "/rest/pug/compound/name/cids/JSON")
    assert first.form == {"name": "50-78-2"}


def test_a_bad_check_digit_is_a_clear_error_and_sends_nothing(make_resolver, resolver_server):
    with pytest.raises(InvalidQueryError) as caught:
        make_resolver().molecule("50-78-3")
    message = str(caught.value)
    assert (
        "CAS Registry Number" in message and "check digit is 3" in message and "needs 2" in message
    )
    assert resolver_server.requests == []


def test_an_unknown_cas_number_is_not_found_and_says_why(make_resolver):
    with pytest.raises(NotFoundError, match=r"CAS number '100-00-5'.*synonym"):
        make_resolver().molecule("100-00-5")


def test_a_cas_number_filed_under_several_compounds_is_ambiguous(make_resolver):
    with pytest.raises(AmbiguousError) as caught:
        make_resolver().molecule("CAS 50-21-5")
    assert [c.cid for c in caught.value.candidates] == [612, 107689]
    assert "CAS number '50-21-5' matches 2 PubChem compounds" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "accession"),
    [
        ("mouse Kras", "P32883"),
        ("Kras mouse", "P32883"),
        ("Kras in mouse", "P32883"),
        ("kras mouse", "P32883"),  # lower case: UniProt's fields ignore case
        ("Mus musculus Kras", "P32883"),
        ("gene:kras organism:10090", "P32883"),
        ("KRAS human", "P01116"),
        ("human KRAS", "P01116"),
        ("rat Tp53", "P10361"),
        ("Tp53 (Rattus norvegicus)", "P10361"),
        ("mouse Tp53", "P02340"),
        ("E. coli lacZ", "P00722"),
        ("lacZ in Escherichia coli", "P00722"),
    ],
)
def test_organism_style_symbols_are_searched_as_genes(
    make_resolver, resolver_server, text, accession
):
    record = make_resolver().protein(text)
    assert record.accession == accession
    assert any("gene:" in q for q in _uniprot_queries(resolver_server))


@pytest.mark.parametrize(
    "text", ["human insulin", "insulin human", "insulin (human)", "Homo sapiens insulin"]
)
def test_organism_on_either_side_of_a_protein_name(make_resolver, text):
    record = make_resolver().protein(text)
    assert record.accession == "P01308" and record.organism == "Homo sapiens"
    assert "protein 'insulin' in organism 9606" in record.note


def test_a_name_in_an_organism_with_two_matches_is_ambiguous(make_resolver):
    with pytest.raises(AmbiguousError) as caught:
        make_resolver().protein("mouse insulin")
    assert {c.accession for c in caught.value.candidates} == {"P01325", "P01326"}


def test_a_gene_symbol_beats_a_protein_name_match(make_resolver, resolver_server):
    # "Kras" is no protein's name, but the search asks for both, so one request answers it
    make_resolver().protein("mouse Kras")
    assert _uniprot_queries(resolver_server)[0] == (
        '((gene:Kras OR protein_name:"Kras") AND organism_id:10090) AND reviewed:true'
    )
