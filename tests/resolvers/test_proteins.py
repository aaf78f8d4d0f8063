"""Protein resolution against the local UniProt server: input forms, obsolete and merged entries."""

from __future__ import annotations

import pytest

from biomedgpt_tools.resolvers import (
    AmbiguousError,
    InvalidQueryError,
    NotFoundError,
    ObsoleteError,
    ProteinRecord,
)


@pytest.mark.parametrize(
    "query",
    [
        "P04637",
        "p04637",
        "P04637-1",
        "accession:P04637",
        "P53_HUMAN",
        "TP53 human",
        "TP53 in human",
        "TP53 (Homo sapiens)",
        "gene:TP53 organism:9606",
        "Cellular tumor antigen p53 human",
    ],
)
def test_input_forms_reach_human_p53(make_resolver, query):
    record = make_resolver().protein(query)
    assert record.accession == "P04637"
    assert record.entry_name == "P53_HUMAN"
    assert record.reviewed is True
    assert record.organism == "Homo sapiens" and record.taxon_id == 9606
    assert "TP53" in record.gene_names
    assert record.length == len(record.sequence) == 393
    assert record.protein_name == "Cellular tumor antigen p53"
    assert record.family == "p53 family"
    assert record.requested_accession is None
    assert record.query == query


@pytest.mark.parametrize("entry_name", ["CKL10_ARATH", "INS_HUMAN", "HBA_HUMAN", "P53_HUMAN"])
def test_record_fields_match_the_entry(make_resolver, resolver_server, entry_name):
    expected = resolver_server.entities.by_entry_name[entry_name]
    record = make_resolver().protein(entry_name)
    assert record.accession == expected.accession
    assert record.protein_name == expected.protein_name
    assert record.gene_names[: len(expected.gene_names)] == expected.gene_names
    assert (record.organism, record.taxon_id) == (expected.organism, expected.taxon_id)
    assert record.sequence == expected.sequence and record.length == expected.length
    assert record.function == expected.function
    assert record.subcellular_locations == expected.subcellular_locations
    assert record.family == expected.family.removeprefix("Belongs to the ").rstrip(".")
    assert record.ec_numbers == expected.ec_numbers
    assert record.secondary_accessions == expected.secondary_accessions
    assert record.source_url.startswith(resolver_server.uniprot_url)


def test_gene_plus_organism_note_says_what_was_chosen(make_resolver, resolver_server):
    record = make_resolver().protein("TP53 human")
    assert "only reviewed exact match" in record.note
    # the reviewed search answered; the unreviewed TP53 entry (A0A0A0Z9Z9) was never fetched
    assert [r.query["query"] for r in resolver_server.requests] == [
        "(gene:TP53 AND organism_id:9606) AND reviewed:true"
    ]


def test_bare_gene_is_ambiguous_with_reviewed_human_first(make_resolver):
    with pytest.raises(AmbiguousError) as caught:
        make_resolver().protein("TP53")
    candidates = caught.value.candidates
    assert candidates[0].accession == "P04637" and candidates[0].taxon_id == 9606
    assert all(c.reviewed for c in candidates)
    assert {c.accession for c in candidates} == {"P04637", "P02340", "P10361"}
    assert all(c.entry_name and c.organism for c in candidates)


def test_search_follows_link_pages(make_resolver, resolver_server):
    with pytest.raises(AmbiguousError) as caught:
        make_resolver(uniprot_page_size=1).protein("TP53")
    assert len(caught.value.candidates) == 3
    searches = [r for r in resolver_server.requests if r.path == "/uniprotkb/search"]
    assert len(searches) == 3 and "cursor" in searches[1].query


def test_protein_name_search_ambiguous(make_resolver):
    with pytest.raises(AmbiguousError) as caught:
        make_resolver().protein("casein kinase")
    assert {c.accession for c in caught.value.candidates} >= {"P48730", "P48729"}
    assert caught.value.candidates[0].taxon_id == 9606


def test_raw_sequence_needs_no_lookup(make_resolver, resolver_server):
    sequence = "MALWMRLLPLLALLALWGPDPAAAFVNQHLCGSHLVEALYLVCGERGFFYTPKT"
    record = make_resolver().protein(sequence)
    assert (record.accession, record.sequence, record.length, record.source) == (
        None,
        sequence,
        len(sequence),
        "sequence",
    )
    assert resolver_server.requests == []


def test_unknown_accession_is_not_found(make_resolver):
    with pytest.raises(NotFoundError, match="Q99999") as caught:
        make_resolver().protein("Q99999")
    assert caught.value.query == "Q99999"


def test_unknown_isoform_is_not_found(make_resolver):
    with pytest.raises(NotFoundError, match="isoform P04637-9"):
        make_resolver().protein("P04637-9")


def test_unknown_gene_is_not_found(make_resolver):
    with pytest.raises(NotFoundError, match="gene NOSUCHGENE1"):
        make_resolver().protein("NOSUCHGENE1 human")


def test_demerged_accession_is_obsolete_with_replacements(make_resolver, resolver_server):
    demerged = next(
        p for p in resolver_server.entities.raw["inactive_proteins"] if p["reason"] == "DEMERGED"
    )
    with pytest.raises(ObsoleteError) as caught:
        make_resolver().protein(demerged["accession"])
    assert caught.value.reason == "demerged"
    assert caught.value.replacements == demerged["merge_demerge_to"]
    assert all(a in caught.value.message for a in demerged["merge_demerge_to"])
    assert caught.value.to_json()["error"]["replacements"] == demerged["merge_demerge_to"]


def test_deleted_accession_is_obsolete_with_the_reason(make_resolver, resolver_server):
    deleted = next(
        p for p in resolver_server.entities.raw["inactive_proteins"] if p["reason"] == "DELETED"
    )
    with pytest.raises(ObsoleteError) as caught:
        make_resolver().protein(deleted["accession"])
    assert caught.value.reason == "deleted" and caught.value.replacements == []
    assert deleted["deleted_reason"] in caught.value.message


def test_merged_accession_redirect_is_reported(make_resolver, resolver_server):
    record = make_resolver().protein("Q15086")  # a secondary accession of P04637
    assert record.accession == "P04637"
    assert record.requested_accession == "Q15086"
    assert "merged into P04637" in record.note
    first, second = resolver_server.requests
    assert first.path == "/uniprotkb/Q15086" and second.path == "/uniprotkb/P04637"
    assert second.query.get("from") == "Q15086"


def test_malformed_accession_is_refused_locally(make_resolver, resolver_server):
    with pytest.raises(InvalidQueryError):
        make_resolver().protein("accession:P0463X")
    assert resolver_server.requests == []


def test_batch_accessions(make_resolver, resolver_server):
    records = make_resolver().proteins_by_accession(["P04637", "p01308", "Q99999"])
    assert sorted(records) == ["P01308", "P04637"]
    assert all(isinstance(r, ProteinRecord) for r in records.values())
    (request,) = resolver_server.requests
    assert (
        request.path == "/uniprotkb/accessions"
        and request.query["accessions"] == "P04637,P01308,Q99999"
    )


async def test_async_protein(make_resolver):
    resolver = make_resolver()
    record = await resolver.aprotein("TP53 human")
    assert record.accession == "P04637"
    batch = await resolver.aproteins_by_accession(["P01308"])
    assert list(batch) == ["P01308"]
    await resolver.aclose()
