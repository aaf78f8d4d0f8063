"""Parsing upstream shapes into records: the 2025 SMILES keys, numbers, TrEMBL names, JSON."""

from __future__ import annotations

import json

import pytest

from biomedgpt_tools.resolvers import MoleculeRecord, ProteinRecord, UnavailableError
from biomedgpt_tools.resolvers.pubchem import record_from_properties
from biomedgpt_tools.resolvers.uniprot import record_from_entry

ROW_2025 = {
    "CID": 2244,
    "MolecularFormula": "C9H8O4",
    "MolecularWeight": "180.16",
    "SMILES": "CC(=O)OC1=CC=CC=C1C(=O)O",
    "ConnectivitySMILES": "CC(=O)OC1=CC=CC=C1C(=O)O",
    "InChIKey": "BSYNRYMUTXBXSQ-UHFFFAOYSA-N",
    "Title": "Aspirin",
}


def test_2025_keys_are_read_and_weight_becomes_a_number():
    record = record_from_properties(ROW_2025, url="u", query="aspirin")
    assert record.smiles == ROW_2025["SMILES"]
    assert record.molecular_weight == 180.16 and isinstance(record.molecular_weight, float)
    assert record.iupac_name is None  # absent keys stay absent, never invented


def test_a_row_with_only_the_retired_keys_is_refused_not_half_read():
    old = {k: v for k, v in ROW_2025.items() if k not in ("SMILES", "ConnectivitySMILES")}
    old |= {"IsomericSMILES": ROW_2025["SMILES"], "CanonicalSMILES": ROW_2025["SMILES"]}
    with pytest.raises(UnavailableError, match="no `SMILES` key"):
        record_from_properties(old, url="u", query="aspirin")


def test_unreviewed_entry_uses_submission_name(make_resolver):
    record = make_resolver().protein("A0A0A0Z9Z9")
    assert record.reviewed is False and record.protein_name  # TrEMBL: submissionNames[0]


def test_records_round_trip_through_json():
    molecule = record_from_properties(ROW_2025, url="u", query="aspirin")
    assert MoleculeRecord.model_validate_json(molecule.model_dump_json()) == molecule
    protein = record_from_entry(
        {
            "entryType": "UniProtKB reviewed (Swiss-Prot)",
            "primaryAccession": "P01308",
            "uniProtkbId": "INS_HUMAN",
            "organism": {"scientificName": "Homo sapiens", "taxonId": 9606},
            "proteinDescription": {"recommendedName": {"fullName": {"value": "Insulin"}}},
            "genes": [{"geneName": {"value": "INS"}}],
            "sequence": {"value": "MALW", "length": 4},
        },
        url="u",
        query="P01308",
    )
    assert protein.reviewed is True and protein.gene_names == ["INS"]
    data = json.loads(protein.model_dump_json())
    assert ProteinRecord.model_validate(data) == protein


def test_entry_without_sequence_is_unavailable_not_garbage():
    with pytest.raises(UnavailableError, match="without a sequence"):
        record_from_entry(
            {"entryType": "UniProtKB reviewed (Swiss-Prot)", "primaryAccession": "P1"},
            url="u",
            query="P1",
        )
