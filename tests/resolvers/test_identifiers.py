"""Identifier detection: every input form users type, and the ones that must be refused."""

from __future__ import annotations

import pytest

from biomedgpt_tools.resolvers.identifiers import (
    ACCESSION_RE,
    detect_molecule_query,
    detect_protein_query,
)
from biomedgpt_tools.resolvers.outcomes import InvalidQueryError


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("aspirin", "name", "aspirin"),
        ("  acetylsalicylic   acid ", "name", "acetylsalicylic acid"),
        ("2244", "cid", "2244"),
        ("CID 2244", "cid", "2244"),
        ("cid:2244", "cid", "2244"),
        ("CID2244", "cid", "2244"),
        ("BSYNRYMUTXBXSQ-UHFFFAOYSA-N", "inchikey", "BSYNRYMUTXBXSQ-UHFFFAOYSA-N"),
        ("inchikey:bsynrymutxbxsq-uhfffaoysa-n", "inchikey", "BSYNRYMUTXBXSQ-UHFFFAOYSA-N"),
        ("InChI=1S/CH4/h1H4", "inchi", "InChI=1S/CH4/h1H4"),
        # SMILES are canonicalised by RDKit before anything is sent
        ("CC(=O)OC1=CC=CC=C1C(=O)O", "smiles", "CC(=O)Oc1ccccc1C(=O)O"),
        ("OC(=O)c1ccccc1OC(C)=O", "smiles", "CC(=O)Oc1ccccc1C(=O)O"),
        ("[Na+].[Cl-]", "smiles", "[Cl-].[Na+]"),
        ("C[C@H](N)C(=O)O", "smiles", "C[C@H](N)C(=O)O"),
        ("CCO", "smiles", "CCO"),
        ("smiles:OCC", "smiles", "CCO"),
        # names that contain SMILES-ish characters stay names
        ("1,3-butadiene", "name", "1,3-butadiene"),
        ("(S)-ibuprofen", "name", "(S)-ibuprofen"),
        ("aspirin/test #1 + alias", "name", "aspirin/test #1 + alias"),
        ("vitamin C", "name", "vitamin C"),
        ("name:NO", "name", "NO"),
    ],
)
def test_molecule_forms(text, kind, value):
    query = detect_molecule_query(text)
    assert (query.kind, query.value) == (kind, value)
    assert query.text == text.strip()


@pytest.mark.parametrize(
    "text", ["C1CC", "CC(=O", "c1cccc1C(=O)[Xx]", "smiles:aspirin", "", "cid:abc", "CID 0"]
)
def test_invalid_molecule_queries_are_refused_before_any_request(text):
    with pytest.raises(InvalidQueryError) as caught:
        detect_molecule_query(text)
    assert caught.value.kind == "invalid"


def test_invalid_smiles_message_names_input_and_way_out():
    with pytest.raises(InvalidQueryError, match=r"'C1CC' is not a valid SMILES.*by name"):
        detect_molecule_query("C1CC")


def test_cache_keys_normalise_equivalent_inputs():
    assert detect_molecule_query("Aspirin").cache_key == detect_molecule_query("aspirin ").cache_key
    assert detect_molecule_query("CID 2244").cache_key == detect_molecule_query("2244").cache_key
    assert (
        detect_molecule_query("OC(=O)c1ccccc1OC(C)=O").cache_key
        == detect_molecule_query("CC(=O)OC1=CC=CC=C1C(=O)O").cache_key
    )


@pytest.mark.parametrize(
    ("text", "kind", "value", "extra"),
    [
        ("P04637", "accession", "P04637", {}),
        ("p04637", "accession", "P04637", {}),
        ("P04637-2", "accession", "P04637", {"isoform": "P04637-2"}),
        ("A0A023GPI8", "accession", "A0A023GPI8", {}),
        ("Q9LW62", "accession", "Q9LW62", {}),
        ("accession:P52341", "accession", "P52341", {}),
        ("CKL10_ARATH", "entry_name", "CKL10_ARATH", {}),
        ("p53_human", "entry_name", "P53_HUMAN", {}),
        ("TP53 human", "gene", "TP53", {"taxon_id": 9606}),
        ("TP53 in human", "gene", "TP53", {"taxon_id": 9606}),
        ("TP53 (Homo sapiens)", "gene", "TP53", {"taxon_id": 9606}),
        ("CKL10 arabidopsis", "gene", "CKL10", {"taxon_id": 3702}),
        ("gene:TP53 organism:9606", "gene", "TP53", {"taxon_id": 9606}),
        ("gene:Trp53 organism:mouse", "gene", "Trp53", {"taxon_id": 10090}),
        ("TP53 in Xenopus tropicalis", "gene", "TP53", {"organism_name": "Xenopus tropicalis"}),
        ("TP53", "gene", "TP53", {"taxon_id": None}),
        ("casein kinase", "protein_name", "casein kinase", {}),
        ("insulin", "protein_name", "insulin", {}),
        ("insulin human", "gene", "insulin", {"taxon_id": 9606, "name_fallback": True}),
        ("human insulin", "gene", "insulin", {"taxon_id": 9606, "name_fallback": True}),
        ("insulin (human)", "gene", "insulin", {"taxon_id": 9606, "name_fallback": True}),
        ("mouse Kras", "gene", "Kras", {"taxon_id": 10090, "name_fallback": True}),
        ("Kras mouse", "gene", "Kras", {"taxon_id": 10090, "name_fallback": True}),
        ("Mus musculus Kras", "gene", "Kras", {"taxon_id": 10090}),
        ("rat Tp53", "gene", "Tp53", {"taxon_id": 10116}),
        ("E. coli lacZ", "gene", "lacZ", {"taxon_id": 83333, "name_fallback": True}),
        ("Escherichia coli lacZ", "gene", "lacZ", {"taxon_id": 83333}),
        ("lacZ in E. coli", "gene", "lacZ", {"taxon_id": 83333}),
        ("human TP53", "gene", "TP53", {"taxon_id": 9606, "name_fallback": False}),
        ("Homo sapiens TP53", "gene", "TP53", {"taxon_id": 9606}),
        ("human insulin receptor", "protein_name", "insulin receptor", {"taxon_id": 9606}),
        ("protein:Cellular tumor antigen p53", "protein_name", "Cellular tumor antigen p53", {}),
    ],
)
def test_protein_forms(text, kind, value, extra):
    query = detect_protein_query(text)
    assert (query.kind, query.value) == (kind, value)
    for name, expected in extra.items():
        assert getattr(query, name) == expected


def test_raw_and_fasta_sequences_need_no_lookup():
    raw = "MEEPQSDPSVEPPLSQETFSDLWKLLPENNVLSPLPSQAMDDLMLSPDDIEQWFTEDPGP"
    assert detect_protein_query(raw).kind == "sequence"
    fasta = ">sp|P04637|P53_HUMAN Cellular tumor antigen p53\nMEEPQSDPSV\nEPPLSQETFS\n"
    query = detect_protein_query(fasta)
    assert (query.kind, query.value) == ("sequence", "MEEPQSDPSVEPPLSQETFS")
    assert detect_protein_query("sequence:mkv").value == "MKV"  # explicit prefix: any length


@pytest.mark.parametrize(
    "text", ["", "accession:P0463", "entry:NOT-AN-ENTRY", "sequence:MK1V", ">x\nMK1V"]
)
def test_invalid_protein_queries(text):
    with pytest.raises(InvalidQueryError):
        detect_protein_query(text)


@pytest.mark.parametrize("good", ["P04637", "Q9LW62", "O00001", "A0A023GPI8", "A2BC19", "P52341"])
def test_accession_regex_accepts_uniprot_accessions(good):
    assert ACCESSION_RE.match(good)


@pytest.mark.parametrize("bad", ["P0463", "P046377", "XP04637", "P04637X", "B0463", "1P0463"])
def test_accession_regex_is_anchored(bad):
    assert ACCESSION_RE.match(bad) is None


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("50-78-2", "50-78-2"),
        ("CAS 50-78-2", "50-78-2"),
        ("CAS RN 58-08-2", "58-08-2"),
        ("cas:7732-18-5", "7732-18-5"),
        ("0050-78-2", "50-78-2"),
        ("85721-33-1", "85721-33-1"),
    ],
)
def test_cas_numbers_are_recognised(text, number):
    query = detect_molecule_query(text)
    assert (query.kind, query.value) == ("cas", number)
    assert query.cache_key == f"molecule:cas:{number}"


@pytest.mark.parametrize("text", ["50-78-3", "CAS 58-08-1", "cas:7732-18-4"])
def test_a_wrong_cas_check_digit_is_a_clear_error(text):
    with pytest.raises(InvalidQueryError, match="check digit") as caught:
        detect_molecule_query(text)
    assert "SMILES" not in str(caught.value).split(";")[0]


def test_cas_prefix_needs_the_cas_shape():
    with pytest.raises(InvalidQueryError, match="not a CAS Registry Number"):
        detect_molecule_query("cas:aspirin")


def test_cas_check_digit_rule():
    from biomedgpt_tools.resolvers.identifiers import cas_check_digit

    # the worked example of the CAS rule: 7732-18-5 (water): 8*1+1*2+2*3+3*4+7*5+7*6 = 105
    assert cas_check_digit("7732", "18") == 5
    assert cas_check_digit("50", "78") == 2
