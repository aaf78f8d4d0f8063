"""The resolver test server speaks PubChem PUG REST and UniProt REST as apis.md describes.

Plain httpx requests, no resolver code: if these pass, a client that works against the
server works against the protocol facts, not against a friendly fake.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from biomedgpt_tools.testing.resolver_server import Fault, RecordedRequest, ResolverTestServer
from biomedgpt_tools.testing.resolver_server.entities import average_mass, crc64

REPO_ROOT = Path(__file__).resolve().parents[2]
SLASH_HASH_PLUS_NAME = "aspirin/test #1 + alias"  # a test alias of CID 2244 in entities.json


@pytest.fixture(scope="module")
def server():
    with ResolverTestServer() as running:
        yield running


@pytest.fixture
def client(server):
    server.clear_requests()
    server.throttling = None
    server.pubchem_rate_limit = None
    with httpx.Client(timeout=5.0) as http:
        yield http
    assert server.pending_faults("pubchem") == 0, "a test left unconsumed PubChem faults"
    assert server.pending_faults("uniprot") == 0, "a test left unconsumed UniProt faults"


def fault_of(response: httpx.Response) -> dict:
    return response.json()["Fault"]


# -- PubChem: lookups --------------------------------------------------------------------


def test_name_to_cids_by_get(server, client):
    response = client.get(f"{server.pubchem_url}/compound/name/aspirin/cids/JSON")
    assert response.status_code == 200
    assert response.json() == {"IdentifierList": {"CID": [2244]}}


def test_name_lookup_is_case_insensitive_and_knows_synonyms(server, client):
    for name in ("Paracetamol", "ACETAMINOPHEN"):
        response = client.get(f"{server.pubchem_url}/compound/name/{name}/cids/JSON")
        assert response.json()["IdentifierList"]["CID"] == [1983]


def test_name_with_slash_hash_plus_arrives_intact_by_post(server, client):
    response = client.post(
        f"{server.pubchem_url}/compound/name/cids/JSON", data={"name": SLASH_HASH_PLUS_NAME}
    )
    assert response.json() == {"IdentifierList": {"CID": [2244]}}
    recorded = server.requests[-1]
    assert recorded.method == "POST"
    assert recorded.path == "/rest/pug/compound/name/cids/JSON"
    assert recorded.form == {"name": SLASH_HASH_PLUS_NAME}


def test_name_with_slash_hash_plus_works_percent_encoded_and_breaks_raw(server, client):
    encoded = quote(SLASH_HASH_PLUS_NAME, safe="")
    good = client.get(f"{server.pubchem_url}/compound/name/{encoded}/cids/JSON")
    assert good.json()["IdentifierList"]["CID"] == [2244]
    # Pasted raw, '/' splits the path and '#' starts a fragment: the upstream failure mode.
    raw = client.get(f"{server.pubchem_url}/compound/name/{SLASH_HASH_PLUS_NAME}/cids/JSON")
    # Here "aspirin" becomes the name and "test " the operation: a Fault, never CID 2244.
    assert raw.status_code in (400, 404, 501)
    assert "Fault" in raw.json()


def test_raw_plus_in_a_post_body_becomes_a_space(server, client):
    """Form decoding turns an unescaped '+' into a space, as upstream does; clients must encode it."""
    response = client.post(
        f"{server.pubchem_url}/compound/name/cids/JSON",
        content="name=aspirin/test #1 + alias",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    # '#' and '/' survive in a body, but '+' decodes to ' ': "aspirin/test #1   alias" is unknown.
    assert response.status_code == 404


def test_ambiguous_name_maps_to_several_cids(server, client):
    for name, expected in (("alanine", [5950, 602, 71080]), ("lactic acid", [612, 107689, 61503])):
        response = client.post(f"{server.pubchem_url}/compound/name/cids/JSON", data={"name": name})
        assert response.json()["IdentifierList"]["CID"] == expected
    rows = client.post(
        f"{server.pubchem_url}/compound/name/property/Title/JSON", data={"name": "alanine"}
    ).json()["PropertyTable"]["Properties"]
    assert [row["CID"] for row in rows] == [5950, 602, 71080]


def test_unknown_name_is_a_not_found_fault(server, client):
    response = client.get(f"{server.pubchem_url}/compound/name/no-such-compound-xyz/cids/JSON")
    assert response.status_code == 404
    assert fault_of(response)["Code"] == "PUGREST.NotFound"
    assert fault_of(response)["Message"] == "No CID found"


def test_smiles_with_brackets_by_post(server, client):
    response = client.post(
        f"{server.pubchem_url}/compound/smiles/cids/JSON", data={"smiles": "[Na+].[Cl-]"}
    )
    assert response.json()["IdentifierList"]["CID"] == [5234]
    assert server.requests[-1].form == {"smiles": "[Na+].[Cl-]"}
    encoded = quote("[Na+].[Cl-]", safe="")
    by_get = client.get(f"{server.pubchem_url}/compound/smiles/{encoded}/cids/JSON")
    assert by_get.json()["IdentifierList"]["CID"] == [5234]


def test_smiles_lookup_ignores_atom_order_but_not_stereo(server, client):
    url = f"{server.pubchem_url}/compound/smiles/cids/JSON"
    same = client.post(url, data={"smiles": "OC(=O)c1ccccc1OC(C)=O"})  # aspirin, other order
    assert same.json()["IdentifierList"]["CID"] == [2244]
    l_alanine = client.post(url, data={"smiles": "N[C@@H](C)C(=O)O"})
    d_alanine = client.post(url, data={"smiles": "N[C@H](C)C(=O)O"})
    assert l_alanine.json()["IdentifierList"]["CID"] == [5950]
    assert d_alanine.json()["IdentifierList"]["CID"] == [71080]


def test_valid_smiles_not_in_database_gives_cid_zero(server, client):
    response = client.post(
        f"{server.pubchem_url}/compound/smiles/cids/JSON", data={"smiles": "CCCCCCCCCCCCO"}
    )
    assert response.json() == {"IdentifierList": {"CID": [0]}}
    props = client.post(
        f"{server.pubchem_url}/compound/smiles/property/SMILES/JSON",
        data={"smiles": "CCCCCCCCCCCCO"},
    )
    assert props.status_code == 404


def test_unparseable_smiles_is_bad_request(server, client):
    response = client.post(
        f"{server.pubchem_url}/compound/smiles/cids/JSON", data={"smiles": "C1CC(=O"}
    )
    assert response.status_code == 400
    assert fault_of(response)["Code"] == "PUGREST.BadRequest"


def test_fastidentity_smiles(server, client):
    response = client.post(
        f"{server.pubchem_url}/compound/fastidentity/smiles/cids/JSON", data={"smiles": "CCO"}
    )
    assert response.json()["IdentifierList"]["CID"] == [702]


def test_inchikey_lookup_and_malformed_key(server, client):
    ok = client.get(f"{server.pubchem_url}/compound/inchikey/RYYVLZVUVIJVGH-UHFFFAOYSA-N/cids/JSON")
    assert ok.json()["IdentifierList"]["CID"] == [2519]
    bad = client.get(f"{server.pubchem_url}/compound/inchikey/NOT-A-KEY/cids/JSON")
    assert bad.status_code == 400
    unknown = client.get(
        f"{server.pubchem_url}/compound/inchikey/AAAAAAAAAAAAAA-BBBBBBBBBB-N/cids/JSON"
    )
    assert unknown.status_code == 404
    by_post = client.post(
        f"{server.pubchem_url}/compound/inchikey/cids/JSON",
        data={"inchikey": "RYYVLZVUVIJVGH-UHFFFAOYSA-N"},
    )
    assert by_post.json()["IdentifierList"]["CID"] == [2519]


def test_inchi_only_by_post(server, client):
    inchi = server.entities.by_cid[702].inchi
    ok = client.post(f"{server.pubchem_url}/compound/inchi/cids/JSON", data={"inchi": inchi})
    assert ok.json()["IdentifierList"]["CID"] == [702]
    by_get = client.get(f"{server.pubchem_url}/compound/inchi/{quote(inchi, safe='')}/cids/JSON")
    assert by_get.status_code == 400


# -- PubChem: properties and other operations --------------------------------------------


def test_property_batch_keeps_request_order_and_uses_2025_keys(server, client):
    response = client.get(
        f"{server.pubchem_url}/compound/cid/2519,2244,3672/property/"
        "IsomericSMILES,CanonicalSMILES,MolecularWeight,MolecularFormula,InChIKey/JSON"
    )
    rows = response.json()["PropertyTable"]["Properties"]
    assert [row["CID"] for row in rows] == [2519, 2244, 3672]
    aspirin = rows[1]
    assert "IsomericSMILES" not in aspirin and "CanonicalSMILES" not in aspirin
    assert aspirin["SMILES"] == "CC(=O)OC1=CC=CC=C1C(=O)O"
    assert aspirin["ConnectivitySMILES"] == "CC(=O)OC1=CC=CC=C1C(=O)O"
    assert aspirin["MolecularWeight"] == "180.16"  # a string, as upstream sends it
    assert aspirin["MolecularFormula"] == "C9H8O4"
    assert aspirin["InChIKey"] == "BSYNRYMUTXBXSQ-UHFFFAOYSA-N"


def test_isomeric_and_connectivity_smiles_differ_for_chiral_compounds(server, client):
    row = client.get(
        f"{server.pubchem_url}/compound/cid/89594/property/SMILES,ConnectivitySMILES/JSON"
    ).json()["PropertyTable"]["Properties"][0]
    assert "@" in row["SMILES"] and "@" not in row["ConnectivitySMILES"]


def test_property_batch_by_post_body(server, client):
    cids = [m.cid for m in server.entities.molecules]
    response = client.post(
        f"{server.pubchem_url}/compound/cid/property/Title,MolecularWeight/JSON",
        data={"cid": ",".join(map(str, reversed(cids)))},
    )
    rows = response.json()["PropertyTable"]["Properties"]
    assert [row["CID"] for row in rows] == list(reversed(cids))
    assert all(isinstance(row["MolecularWeight"], str) for row in rows)


def test_xlogp_absent_for_a_salt(server, client):
    rows = client.get(
        f"{server.pubchem_url}/compound/cid/5234,2244/property/XLogP,Charge/JSON"
    ).json()["PropertyTable"]["Properties"]
    assert "XLogP" not in rows[0] and rows[0]["Charge"] == 0
    assert isinstance(rows[1]["XLogP"], float)


def test_unknown_cids_in_a_batch_are_skipped_and_all_unknown_is_not_found(server, client):
    mixed = client.get(f"{server.pubchem_url}/compound/cid/999999999,2244/property/Title/JSON")
    assert [row["CID"] for row in mixed.json()["PropertyTable"]["Properties"]] == [2244]
    none = client.get(f"{server.pubchem_url}/compound/cid/999999999/property/Title/JSON")
    assert none.status_code == 404


def test_invalid_cid_and_invalid_property_are_bad_requests(server, client):
    assert client.get(f"{server.pubchem_url}/compound/cid/abc/cids/JSON").status_code == 400
    response = client.get(f"{server.pubchem_url}/compound/cid/2244/property/Flavour/JSON")
    assert response.status_code == 400
    assert fault_of(response)["Code"] == "PUGREST.BadRequest"


def test_synonyms_shape(server, client):
    info = client.get(f"{server.pubchem_url}/compound/cid/2244/synonyms/JSON").json()
    item = info["InformationList"]["Information"][0]
    assert item["CID"] == 2244
    assert "acetylsalicylic acid" in item["Synonym"]


def test_description_first_item_holds_only_the_title(server, client):
    items = client.get(f"{server.pubchem_url}/compound/cid/2244/description/JSON").json()[
        "InformationList"
    ]["Information"]
    assert items[0] == {"CID": 2244, "Title": "Aspirin"}
    assert {"Description", "DescriptionSourceName", "DescriptionURL"} <= set(items[1])
    assert items[1]["Description"].startswith("Test data:")


def test_record_json(server, client):
    for path in ("/compound/cid/2244/JSON", "/compound/cid/2244/record/JSON"):
        compound = client.get(server.pubchem_url + path).json()["PC_Compounds"][0]
        assert compound["id"]["id"]["cid"] == 2244
        labels = {(p["urn"]["label"], p["urn"].get("name")) for p in compound["props"]}
        assert ("SMILES", "Absolute") in labels and ("InChIKey", "Standard") in labels


def test_cids_as_text(server, client):
    response = client.get(f"{server.pubchem_url}/compound/name/alanine/cids/TXT")
    assert response.text.split() == ["5950", "602", "71080"]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/compound/cid/2244/frobnicate/JSON", 501, "PUGREST.Unimplemented"),
        ("GET", "/compound/nonsense/2244/cids/JSON", 400, "PUGREST.BadRequest"),
        ("GET", "/compound/cid/2244/cids", 400, "PUGREST.BadRequest"),
        ("GET", "/compound/formula/C9H8O4/cids/JSON", 501, "PUGREST.Unimplemented"),
        ("PUT", "/compound/cid/2244/cids/JSON", 405, "PUGREST.NotAllowed"),
        ("DELETE", "/compound/cid/2244/cids/JSON", 405, "PUGREST.NotAllowed"),
    ],
)
def test_protocol_errors_are_fault_json(server, client, method, path, status, code):
    response = client.request(method, server.pubchem_url + path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert fault_of(response)["Code"] == code


# -- PubChem: faults and throttling ------------------------------------------------------


def test_503_burst_json_then_html_then_success(server, client):
    server.inject(
        "pubchem",
        Fault.status(503, retry_after=2),
        Fault.status(503, html=True),
    )
    url = f"{server.pubchem_url}/compound/cid/2244/cids/JSON"
    first = client.get(url)
    assert first.status_code == 503
    assert first.headers["Retry-After"] == "2"
    assert fault_of(first) == {
        "Code": "PUGREST.ServerBusy",
        "Message": "Too many requests or server too busy, retry later",
    }
    second = client.get(url)
    assert second.status_code == 503
    assert second.headers["content-type"].startswith("text/html")
    assert "<html>" in second.text
    third = client.get(url)
    assert third.status_code == 200
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    ("status", "code"),
    [(500, "PUGREST.ServerError"), (504, "PUGREST.Timeout"), (400, "PUGREST.BadRequest")],
)
def test_injected_status_faults_carry_the_right_code(server, client, status, code):
    server.inject("pubchem", Fault.status(status))
    response = client.get(f"{server.pubchem_url}/compound/cid/2244/cids/JSON")
    assert response.status_code == status
    assert fault_of(response)["Code"] == code


def test_delay_beyond_the_client_timeout_times_out_and_server_stays_up(server, client):
    server.inject("pubchem", Fault.delay(2.0))
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        client.get(f"{server.pubchem_url}/compound/cid/2244/cids/JSON", timeout=0.3)
    assert time.monotonic() - started < 1.5
    response = client.get(f"{server.pubchem_url}/compound/cid/2244/cids/JSON")
    assert response.status_code == 200


def test_short_delay_then_normal_answer(server, client):
    server.inject("pubchem", Fault.delay(0.2))
    started = time.monotonic()
    response = client.get(f"{server.pubchem_url}/compound/cid/2244/cids/JSON")
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize("state", ["Green", "Yellow", "Red"])
def test_forced_throttling_header(server, client, state):
    server.throttling = state
    for _ in range(5):  # always present when forced
        response = client.get(f"{server.pubchem_url}/compound/cid/2244/cids/JSON")
        header = response.headers["X-Throttling-Control"]
        assert header.startswith(f"Request Count status: {state} (")
        assert "Request Time status:" in header and "Service status:" in header


def test_black_throttling_blocks_with_503(server, client):
    server.throttling = "Black"
    response = client.get(f"{server.pubchem_url}/compound/cid/2244/cids/JSON")
    assert response.status_code == 503
    assert "Black" in response.headers["X-Throttling-Control"]


def test_unforced_throttling_header_is_sometimes_missing_and_green_at_low_load(server, client):
    headers = [
        client.get(f"{server.pubchem_url}/compound/cid/2244/cids/JSON").headers.get(
            "X-Throttling-Control"
        )
        for _ in range(8)
    ]
    present = [h for h in headers if h is not None]
    assert 0 < len(present) < len(headers)
    assert all(re.match(r"Request Count status: Green \(\d+%\)", h) for h in present)


def test_invalid_throttling_state_and_service_are_rejected(server):
    with pytest.raises(ValueError):
        server.throttling = "Purple"
    with pytest.raises(ValueError):
        server.inject("chembl", Fault.status(503))
    with pytest.raises(ValueError):
        Fault.status(200)


def test_rate_limit_option_answers_503_beyond_the_limit(server, client):
    server.pubchem_rate_limit = 3
    server.pubchem_rate_window = 60.0  # wide enough that a loaded machine still sends 5 inside it
    statuses = [
        client.get(f"{server.pubchem_url}/compound/cid/2244/cids/JSON").status_code
        for _ in range(5)
    ]
    assert statuses[:3] == [200, 200, 200]
    assert 503 in statuses[3:]


def test_max_requests_in_window_is_measured_from_arrival_times(server, client):
    url = f"{server.pubchem_url}/compound/cid/2244/cids/JSON"
    for _ in range(3):
        client.get(url)
        time.sleep(0.35)
    client.get(f"{server.uniprot_url}/uniprotkb/P01308")
    assert server.max_requests_in_window("pubchem", seconds=5.0) == 3
    assert server.max_requests_in_window("pubchem", seconds=0.3) == 1
    assert server.max_requests_in_window("uniprot", seconds=1.0) == 1


def test_recorded_request_fields(server, client):
    client.get(f"{server.uniprot_url}/uniprotkb/search", params={"query": "gene:INS", "size": "1"})
    (recorded,) = server.requests
    assert isinstance(recorded, RecordedRequest)
    assert recorded.service == "uniprot"
    assert recorded.method == "GET"
    assert recorded.path == "/uniprotkb/search"
    assert recorded.query == {"query": "gene:INS", "size": "1"}
    assert recorded.body == ""
    server.clear_requests()
    assert server.requests == []


# -- UniProt: entries --------------------------------------------------------------------


def test_entry_json_has_the_real_shape(server, client):
    entry = client.get(f"{server.uniprot_url}/uniprotkb/P01308").json()
    assert entry["entryType"] == "UniProtKB reviewed (Swiss-Prot)"
    assert entry["primaryAccession"] == "P01308"
    assert entry["uniProtkbId"] == "INS_HUMAN"
    assert entry["organism"]["scientificName"] == "Homo sapiens"
    assert entry["organism"]["taxonId"] == 9606
    assert entry["proteinDescription"]["recommendedName"]["fullName"]["value"] == "Insulin"
    assert [g["geneName"]["value"] for g in entry["genes"]] == ["INS"]
    kinds = {c["commentType"] for c in entry["comments"]}
    assert kinds == {"FUNCTION", "SUBCELLULAR LOCATION", "SIMILARITY"}
    similarity = next(c for c in entry["comments"] if c["commentType"] == "SIMILARITY")
    assert similarity["texts"][0]["value"].startswith("Belongs to the ")
    location = next(c for c in entry["comments"] if c["commentType"] == "SUBCELLULAR LOCATION")
    assert location["subcellularLocations"][0]["location"]["value"] == "Secreted"
    sequence = entry["sequence"]
    assert sequence["length"] == len(sequence["value"]) == 110
    assert re.fullmatch(r"[0-9A-F]{16}", sequence["crc64"])
    assert re.fullmatch(r"[0-9A-F]{32}", sequence["md5"])
    assert isinstance(sequence["molWeight"], int)


def test_ec_numbers_and_secondary_accessions(server, client):
    lysozyme = client.get(f"{server.uniprot_url}/uniprotkb/P00698").json()
    names = lysozyme["proteinDescription"]["recommendedName"]
    assert [ec["value"] for ec in names["ecNumbers"]] == ["3.2.1.17"]
    p53 = client.get(f"{server.uniprot_url}/uniprotkb/P04637").json()
    assert "Q15086" in p53["secondaryAccessions"]


def test_entry_name_isoform_and_extension_forms(server, client):
    by_name = client.get(f"{server.uniprot_url}/uniprotkb/CKL10_ARATH").json()
    assert by_name["primaryAccession"] == "Q9LW62"
    assert client.get(f"{server.uniprot_url}/uniprotkb/Q9LW62-1").status_code == 200
    assert client.get(f"{server.uniprot_url}/uniprotkb/Q9LW62.json").json()["uniProtkbId"] == (
        "CKL10_ARATH"
    )
    fasta = client.get(f"{server.uniprot_url}/uniprotkb/P01308.fasta").text
    header, *lines = fasta.strip().split("\n")
    assert header.startswith(">sp|P01308|INS_HUMAN Insulin OS=Homo sapiens OX=9606 GN=INS")
    assert "".join(lines) == by_accession_sequence(server, "P01308")


def by_accession_sequence(server, accession: str) -> str:
    return server.entities.by_accession[accession].sequence


def test_fields_parameter_slims_and_rejects_unknown_fields(server, client):
    slim = client.get(
        f"{server.uniprot_url}/uniprotkb/P01308", params={"fields": "accession,gene_names"}
    ).json()
    assert set(slim) == {"entryType", "primaryAccession", "genes"}
    bad = client.get(f"{server.uniprot_url}/uniprotkb/P01308", params={"fields": "colour"})
    assert bad.status_code == 400
    assert bad.json()["messages"] == ["Invalid fields parameter value 'colour'"]


def test_unreviewed_entry_uses_submission_names(server, client):
    entry = client.get(f"{server.uniprot_url}/uniprotkb/A0A0A0Z9Z9").json()
    assert entry["entryType"] == "UniProtKB unreviewed (TrEMBL)"
    assert "recommendedName" not in entry["proteinDescription"]
    assert entry["proteinDescription"]["submissionNames"][0]["fullName"]["value"]


def test_malformed_accession_is_400_and_unknown_is_404(server, client):
    bad = client.get(f"{server.uniprot_url}/uniprotkb/NOT-AN-ACCESSION")
    assert bad.status_code == 400
    assert set(bad.json()) == {"url", "messages"}
    missing = client.get(f"{server.uniprot_url}/uniprotkb/P99999")
    assert missing.status_code == 404
    assert missing.json()["messages"] == ["Resource not found"]
    assert missing.json()["url"].endswith("/uniprotkb/P99999")


def test_inactive_entries_are_200_without_sequence(server, client):
    demerged = client.get(f"{server.uniprot_url}/uniprotkb/Q9ZZZ0")
    assert demerged.status_code == 200
    body = demerged.json()
    assert body["entryType"] == "Inactive"
    assert body["inactiveReason"] == {
        "inactiveReasonType": "DEMERGED",
        "mergeDemergeTo": ["P69905", "P68871"],
    }
    assert "sequence" not in body
    deleted = client.get(f"{server.uniprot_url}/uniprotkb/Q9ZZZ9").json()
    assert deleted["inactiveReason"]["inactiveReasonType"] == "DELETED"
    assert deleted["inactiveReason"]["deletedReason"]
    assert "sequence" not in deleted


def test_merged_secondary_accession_redirects_303(server, client):
    response = client.get(f"{server.uniprot_url}/uniprotkb/Q15086")
    assert response.status_code == 303
    assert response.headers["Location"] == "/uniprotkb/P04637?from=Q15086"
    followed = client.get(f"{server.uniprot_url}/uniprotkb/Q15086", follow_redirects=True)
    assert followed.status_code == 200
    assert followed.json()["primaryAccession"] == "P04637"
    assert [r.status_code for r in followed.history] == [303]


# -- UniProt: search and batch -----------------------------------------------------------


def search(server, client, query: str, **params) -> httpx.Response:
    return client.get(f"{server.uniprot_url}/uniprotkb/search", params={"query": query, **params})


def accessions(response: httpx.Response) -> list[str]:
    return [entry["primaryAccession"] for entry in response.json()["results"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("gene:CKL10 AND organism_id:3702", ["Q9LW62"]),
        ("gene:TP53 AND organism_id:9606", ["P04637", "A0A0A0Z9Z9"]),
        ("gene:TP53 AND organism_id:9606 AND reviewed:true", ["P04637"]),
        ("gene:TP53 AND organism_name:human", ["P04637", "A0A0A0Z9Z9"]),
        ('gene:TP53 AND organism_name:"Mus musculus"', ["P02340"]),
        ('protein_name:"casein kinase" AND organism_id:9606', ["P48730", "P48729"]),
        ("accession:P52341", ["P52341"]),
        ("accession:Q15086", ["P04637"]),
        ("id:CKL10_ARATH", ["Q9LW62"]),
        ("ec:3.2.1.17", ["P00698"]),
        ("(gene:INS OR gene:HBB) AND NOT organism_id:10090", ["P01308", "P68871"]),
        ("gene:NOSUCHGENE", []),
    ],
)
def test_search_syntax(server, client, query, expected):
    response = search(server, client, query)
    assert response.status_code == 200
    assert accessions(response) == expected
    assert response.headers["X-Total-Results"] == str(len(expected))


def test_bare_gene_matches_several_organisms_with_what_is_needed_to_choose(server, client):
    response = search(server, client, "TP53", fields="accession,id,organism_name,reviewed")
    entries = response.json()["results"]
    assert len(entries) >= 4
    taxa = {entry["organism"]["taxonId"] for entry in entries}
    assert {9606, 10090, 10116} <= taxa
    human_reviewed = [
        e
        for e in entries
        if e["organism"]["taxonId"] == 9606 and e["entryType"].startswith("UniProtKB reviewed")
    ]
    assert [e["primaryAccession"] for e in human_reviewed] == ["P04637"]
    # The server does not put human first: a client must rank candidates itself.
    assert entries[0]["organism"]["taxonId"] != 9606


def test_search_pages_through_link_header(server, client):
    everything = accessions(search(server, client, "reviewed:true", size="500"))
    collected: list[str] = []
    response = search(server, client, "reviewed:true", size="4")
    pages = 0
    while True:
        pages += 1
        assert response.headers["X-Total-Results"] == str(len(everything))
        collected += accessions(response)
        link = response.headers.get("Link")
        if link is None:
            break
        match = re.fullmatch(r'<([^>]+)>; rel="next"', link)
        assert match and "cursor=" in match.group(1)
        response = client.get(match.group(1))
    assert collected == everything
    assert pages == -(-len(everything) // 4)


def test_search_errors(server, client):
    unknown_field = search(server, client, "colour:blue")
    assert unknown_field.status_code == 400
    assert "colour" in unknown_field.json()["messages"][0]
    assert search(server, client, "(gene:TP53").status_code == 400
    assert search(server, client, "gene:TP53", size="501").status_code == 400
    assert search(server, client, "gene:TP53", cursor="garbage!").status_code == 400
    missing = client.get(f"{server.uniprot_url}/uniprotkb/search")
    assert missing.status_code == 400


def test_accessions_batch(server, client):
    response = client.get(
        f"{server.uniprot_url}/uniprotkb/accessions",
        params={"accessions": "Q9LW62,P01308,P99999", "fields": "accession,id"},
    )
    assert accessions(response) == ["Q9LW62", "P01308"]
    bad = client.get(
        f"{server.uniprot_url}/uniprotkb/accessions", params={"accessions": "P01308,???"}
    )
    assert bad.status_code == 400
    assert set(bad.json()) == {"url", "messages"}


def test_uniprot_faults(server, client):
    server.inject(
        "uniprot", Fault.status(429, retry_after=1), Fault.status(503, html=True), Fault.delay(0)
    )
    url = f"{server.uniprot_url}/uniprotkb/P01308"
    limited = client.get(url)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert set(limited.json()) == {"url", "messages"}
    maintenance = client.get(url)
    assert maintenance.status_code == 503
    assert maintenance.headers["content-type"].startswith("text/html")
    assert client.get(url).status_code == 200


def test_faults_go_to_their_own_service_only(server, client):
    server.inject("uniprot", Fault.status(500))
    assert client.get(f"{server.pubchem_url}/compound/cid/2244/cids/JSON").status_code == 200
    assert client.get(f"{server.uniprot_url}/uniprotkb/P01308").status_code == 500


# -- checksums and the standalone entry point --------------------------------------------


def test_checksums_match_a_published_uniprot_entry():
    """UniProt P02091 (147 aa): the CRC64 and mass published with it reproduce exactly."""
    sequence = (
        "MVHLTDAEKAAVNGLWGKVNPDDVGGEALGRLLVVYPWTQRYFDSFGDLSSASAIMGNPKVKAHGKKVINAFNDGLKHLDNLKGTF"
        "AHLSELHCDKLHVDPENFRLLGNMIVIVLGHHLGKEFTPCAQAAFQKVVAGVASALAHKYH"
    )
    assert crc64(sequence) == "77A715901BC44D26"
    assert average_mass(sequence) == 15979


def test_standalone_server_prints_its_urls_and_answers():
    process = subprocess.Popen(
        [sys.executable, "-m", "biomedgpt_tools.testing.resolver_server", "--port", "0"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline().strip()
        second = process.stdout.readline().strip()
        assert first.startswith("BIOMEDGPT_PUBCHEM_URL=http://127.0.0.1:")
        assert second.startswith("BIOMEDGPT_UNIPROT_URL=http://127.0.0.1:")
        pubchem_url = first.split("=", 1)[1]
        response = httpx.get(f"{pubchem_url}/compound/name/caffeine/cids/JSON", timeout=5)
        assert response.json()["IdentifierList"]["CID"] == [2519]
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_synthetic_compounds_serve_any_cid_for_benchmarks(server, client):
    url = f"{server.pubchem_url}/compound/cid/property/Title,MolecularWeight/JSON"
    cids = ",".join(str(cid) for cid in range(1, 1001))
    assert client.post(url, data={"cid": "1,3"}).status_code == 404  # off by default
    server.synthetic_compounds = True
    try:
        rows = client.post(url, data={"cid": cids}).json()["PropertyTable"]["Properties"]
    finally:
        server.synthetic_compounds = False
    assert [row["CID"] for row in rows] == list(range(1, 1001))
    assert rows[0]["Title"] == "Synthetic test compound 1"
    assert next(row for row in rows if row["CID"] == 702)["Title"] == "Ethanol"  # real entries win
