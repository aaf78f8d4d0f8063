"""Molecule resolution against the local PubChem server: every input form and every outcome."""

from __future__ import annotations

import json

import pytest

from biomedgpt_tools.resolvers import (
    AmbiguousError,
    InvalidQueryError,
    MoleculeRecord,
    NotFoundError,
)

ASPIRIN_INCHI = "InChI=1S/C9H8O4/c1-6(10)13-8-5-3-2-4-7(8)9(11)12/h2-5H,1H3,(H,11,12)"


@pytest.mark.parametrize(
    "query",
    [
        "aspirin",
        "Acetylsalicylic Acid",
        "2244",
        "CID 2244",
        "cid:2244",
        "CC(=O)OC1=CC=CC=C1C(=O)O",
        "OC(=O)c1ccccc1OC(C)=O",  # another writing of the same structure
        "BSYNRYMUTXBXSQ-UHFFFAOYSA-N",
        ASPIRIN_INCHI,
    ],
)
def test_every_input_form_reaches_aspirin(make_resolver, resolver_server, query):
    record = make_resolver().molecule(query)
    assert record.cid == 2244
    assert record.name == "Aspirin"
    assert record.smiles == "CC(=O)OC1=CC=CC=C1C(=O)O"  # read from the 2025 `SMILES` key
    assert record.connectivity_smiles == "CC(=O)OC1=CC=CC=C1C(=O)O"
    assert record.inchikey == "BSYNRYMUTXBXSQ-UHFFFAOYSA-N"
    assert record.inchi == ASPIRIN_INCHI
    assert record.formula == "C9H8O4"
    assert record.molecular_weight == pytest.approx(180.16)  # a string upstream, a number here
    assert record.iupac_name == "2-acetyloxybenzoic acid"
    assert "acetylsalicylic acid" in record.synonyms
    assert record.description and record.description_source
    assert record.source == "pubchem" and record.source_url.startswith(resolver_server.pubchem_url)
    assert record.query == query
    json.loads(record.model_dump_json())  # JSON-serialisable


def test_names_smiles_and_inchi_are_posted_inchikeys_and_cids_are_urls(
    make_resolver, resolver_server
):
    resolver = make_resolver()
    for query in (
        "aspirin",
        "CC(=O)OC1=CC=CC=C1C(=O)O",
        ASPIRIN_INCHI,
        "BSYNRYMUTXBXSQ-UHFFFAOYSA-N",
    ):
        resolver_server.clear_requests()
        resolver.molecule(query, details=False)
        first = resolver_server.requests[0]
        if query.startswith("BSYN"):
            assert (first.method, first.path) == (
                "GET",
                "/rest/pug/compound/inchikey/BSYNRYMUTXBXSQ-UHFFFAOYSA-N/cids/JSON",
            )
        else:
            assert first.method == "POST" and first.path.endswith("/cids/JSON")
            assert query not in first.path
        assert resolver_server.requests[1].path.startswith("/rest/pug/compound/cid/2244/property/")


def test_name_with_slash_hash_plus_reaches_the_server_intact(make_resolver, resolver_server):
    name = "aspirin/test #1 + alias"
    record = make_resolver().molecule(name, details=False)
    assert record.cid == 2244
    posted = resolver_server.requests[0]
    assert posted.method == "POST" and posted.path == "/rest/pug/compound/name/cids/JSON"
    assert posted.form == {"name": name}


def test_smiles_with_brackets_reaches_the_server_intact(make_resolver, resolver_server):
    smiles = "C[C@@H](C(=O)O)N"  # L-alanine: brackets, @@, parentheses, =
    record = make_resolver().molecule(smiles, details=False)
    assert record.cid == 5950
    posted = resolver_server.requests[0]
    assert posted.method == "POST" and posted.path == "/rest/pug/compound/smiles/cids/JSON"
    assert posted.form == {"smiles": "C[C@H](N)C(=O)O"}  # RDKit canonical, stereo kept
    salt = make_resolver().molecule("[Na+].[Cl-]", details=False)
    assert salt.formula == "ClNa"


def test_unknown_name_is_not_found_with_the_query(make_resolver):
    with pytest.raises(NotFoundError) as caught:
        make_resolver().molecule("unobtainium-7")
    assert caught.value.query == "unobtainium-7"
    assert "unobtainium-7" in caught.value.message and "spelling" in caught.value.message


def test_unknown_cid_and_unknown_structure_are_not_found(make_resolver):
    resolver = make_resolver()
    with pytest.raises(NotFoundError, match="CID 999999999"):
        resolver.molecule("CID 999999999")
    with pytest.raises(NotFoundError, match="can be used as given"):
        resolver.molecule("CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCO")


def test_ambiguous_name_lists_candidates_in_pubchem_order(make_resolver, resolver_server):
    with pytest.raises(AmbiguousError) as caught:
        make_resolver().molecule("alanine")
    candidates = caught.value.candidates
    assert [c.cid for c in candidates] == [5950, 602, 71080]
    assert [c.name for c in candidates] == ["L-Alanine", "DL-Alanine", "D-Alanine"]
    payload = caught.value.to_json()["error"]
    assert payload["kind"] == "ambiguous" and payload["candidates"][0] == {
        "cid": 5950,
        "name": "L-Alanine",
    }
    # one search + one title batch, nothing fetched for a guessed compound
    assert len(resolver_server.requests) == 2


def test_invalid_smiles_sends_nothing(make_resolver, resolver_server):
    with pytest.raises(InvalidQueryError):
        make_resolver().molecule("C1CC(=O")
    assert resolver_server.requests == []


def test_batch_of_cids_is_one_post(make_resolver, resolver_server):
    cids = [m["cid"] for m in resolver_server.entities.raw["molecules"]]
    records = make_resolver().molecules_by_cid([*cids, 999999999])
    assert sorted(records) == sorted(cids)  # the unknown CID is absent, not an error
    assert all(isinstance(r, MoleculeRecord) and r.smiles for r in records.values())
    assert len(resolver_server.requests) == 1
    request = resolver_server.requests[0]
    assert request.method == "POST" and request.path.startswith("/rest/pug/compound/cid/property/")
    assert request.form["cid"].split(",")[:2] == [str(cids[0]), str(cids[1])]


def test_batch_splits_by_batch_size_and_uses_the_cache(make_resolver, resolver_server):
    cids = [m["cid"] for m in resolver_server.entities.raw["molecules"]][:10]
    resolver = make_resolver(pubchem_batch_size=4)
    assert sorted(resolver.molecules_by_cid(cids)) == sorted(cids)
    assert len(resolver_server.requests) == 3
    resolver_server.clear_requests()
    assert sorted(resolver.molecules_by_cid(cids)) == sorted(cids)
    assert resolver_server.requests == []


async def test_async_api(make_resolver, resolver_server):
    resolver = make_resolver()
    record = await resolver.amolecule("caffeine")
    assert (record.cid, record.formula) == (2519, "C9H8O4".replace("C9H8O4", "C8H10N4O2"))
    batch = await resolver.amolecules_by_cid([2244, 2519])
    assert sorted(batch) == [2244, 2519]
    await resolver.aclose()
