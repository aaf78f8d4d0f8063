"""Hand-entered facts hold together: the bundled snapshot and the test server's entities.

Formula, weight, InChI and InChIKey are recomputed from each SMILES with RDKit; the
InChIKeys were typed independently, so a match checks the SMILES (stereo included). When a
test here fails, fix the entry, not the test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rdkit import Chem, RDLogger
from rdkit.Chem import Descriptors, rdMolDescriptors

from biomedgpt_tools.testing.resolver_server.entities import ENTITIES_PATH

RDLogger.DisableLog("rdApp.*")

REPO_ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT_DIR = REPO_ROOT / "biomedgpt_tools" / "resolvers" / "snapshot_data"
ENTITIES = json.loads(ENTITIES_PATH.read_text())
SNAPSHOT_MOLECULES = json.loads((SNAPSHOT_DIR / "molecules.json").read_text())
SNAPSHOT_PROTEINS = json.loads((SNAPSHOT_DIR / "proteins.json").read_text())

ACCESSION = re.compile(
    r"^(?:[OPQ][0-9][A-Z0-9]{3}[0-9]|[A-NR-Z][0-9](?:[A-Z][A-Z0-9]{2}[0-9]){1,2})$"
)
ENTRY_NAME = re.compile(r"^[A-Z0-9]{1,10}_[A-Z0-9]{1,5}$")
PROTEIN_SEQUENCE = re.compile(r"^[ACDEFGHIKLMNPQRSTVWY]+$")
EC_NUMBER = re.compile(r"^\d+\.(?:\d+|-)\.(?:\d+|-)\.(?:n?\d+|-)$")

MOLECULE_KEYS = {
    "cid",
    "name",
    "smiles",
    "connectivity_smiles",
    "inchi",
    "inchikey",
    "formula",
    "molecular_weight",
    "iupac_name",
    "synonyms",
}
PROTEIN_KEYS = {
    "accession",
    "secondary_accessions",
    "entry_name",
    "reviewed",
    "protein_name",
    "gene_names",
    "organism",
    "taxon_id",
    "sequence",
    "length",
    "family",
    "subcellular_locations",
    "ec_numbers",
}

ALL_MOLECULES = [("entities", m) for m in ENTITIES["molecules"]] + [
    ("snapshot", m) for m in SNAPSHOT_MOLECULES
]


def _id(item) -> str:
    source, molecule = item
    return f"{source}-{molecule['cid']}"


# -- molecules: facts recomputed with RDKit ----------------------------------------------


@pytest.mark.parametrize("item", ALL_MOLECULES, ids=_id)
def test_molecule_facts_match_rdkit(item):
    _, molecule = item
    mol = Chem.MolFromSmiles(molecule["smiles"])
    assert mol is not None, f"RDKit cannot parse the SMILES of CID {molecule['cid']}"
    assert rdMolDescriptors.CalcMolFormula(mol) == molecule["formula"]
    assert abs(Descriptors.MolWt(mol) - float(molecule["molecular_weight"])) <= 0.01 + 1e-9
    assert Chem.MolToInchi(mol) == molecule["inchi"]
    assert Chem.MolToInchiKey(mol) == molecule["inchikey"]
    assert Chem.InchiToInchiKey(molecule["inchi"]) == molecule["inchikey"]


@pytest.mark.parametrize("item", ALL_MOLECULES, ids=_id)
def test_connectivity_smiles_is_the_smiles_without_stereo(item):
    _, molecule = item
    connectivity = molecule["connectivity_smiles"]
    assert not re.search(r"[@/\\]", connectivity)
    flat = Chem.MolFromSmiles(molecule["smiles"])
    Chem.RemoveStereochemistry(flat)
    assert Chem.MolToSmiles(Chem.MolFromSmiles(connectivity)) == Chem.MolToSmiles(flat)


def test_entity_identifiers_are_unique():
    cids = [m["cid"] for m in ENTITIES["molecules"]]
    keys = [m["inchikey"] for m in ENTITIES["molecules"]]
    assert len(set(cids)) == len(cids)
    assert len(set(keys)) == len(keys)


def test_molecular_weight_is_a_string_on_the_server_and_a_number_in_the_snapshot():
    assert all(isinstance(m["molecular_weight"], str) for m in ENTITIES["molecules"])
    assert all(isinstance(m["molecular_weight"], float) for m in SNAPSHOT_MOLECULES)


def test_ambiguous_names_point_at_real_entities():
    known = {m["cid"] for m in ENTITIES["molecules"]}
    ambiguous = ENTITIES["ambiguous_names"]
    assert sum(len(cids) > 1 for cids in ambiguous.values()) >= 2
    for name, cids in ambiguous.items():
        assert set(cids) <= known, name


def test_a_test_alias_carries_slash_hash_and_plus():
    aliases = [a for m in ENTITIES["molecules"] for a in m.get("test_aliases", [])]
    assert any(all(ch in alias for ch in "/#+") for alias in aliases)


def test_server_texts_are_marked_as_test_data():
    for molecule in ENTITIES["molecules"]:
        assert molecule["description"].startswith("Test data:"), molecule["cid"]
    for protein in ENTITIES["proteins"]:
        if protein["function"]:
            assert protein["function"].startswith("Test data:"), protein["accession"]


# -- the bundled snapshot ----------------------------------------------------------------


def test_snapshot_molecules_schema_and_demo_names():
    assert 10 <= len(SNAPSHOT_MOLECULES) <= 30
    for molecule in SNAPSHOT_MOLECULES:
        assert set(molecule) == MOLECULE_KEYS, molecule["cid"]
    names = {n.casefold() for m in SNAPSHOT_MOLECULES for n in [m["name"], *m["synonyms"]]}
    assert {"aspirin", "caffeine", "ibuprofen", "paracetamol", "glucose", "ethanol"} <= names


def test_snapshot_molecules_equal_the_server_entities():
    by_cid = {m["cid"]: m for m in ENTITIES["molecules"]}
    for molecule in SNAPSHOT_MOLECULES:
        entity = by_cid[molecule["cid"]]
        assert entity["in_snapshot"] is True
        assert molecule["name"] == entity["title"]
        for key in ("smiles", "connectivity_smiles", "inchi", "inchikey", "formula", "iupac_name"):
            assert molecule[key] == entity[key], (molecule["cid"], key)
        assert molecule["molecular_weight"] == float(entity["molecular_weight"])
        assert molecule["synonyms"] == entity["synonyms"]  # test aliases stay out


def test_snapshot_proteins_schema_and_facts():
    assert 6 <= len(SNAPSHOT_PROTEINS) <= 15
    for protein in SNAPSHOT_PROTEINS:
        accession = protein["accession"]
        assert set(protein) == PROTEIN_KEYS, accession
        assert ACCESSION.match(accession)
        assert ENTRY_NAME.match(protein["entry_name"])
        assert PROTEIN_SEQUENCE.match(protein["sequence"]), accession
        assert protein["length"] == len(protein["sequence"]), accession
        assert isinstance(protein["reviewed"], bool)
        assert isinstance(protein["taxon_id"], int) and protein["taxon_id"] > 0
        assert all(EC_NUMBER.match(ec) for ec in protein["ec_numbers"])
        assert not (protein["family"] or "").startswith("Belongs to")
    entry_names = {p["entry_name"] for p in SNAPSHOT_PROTEINS}
    assert {"INS_HUMAN", "UBB_HUMAN"} <= entry_names


def test_snapshot_proteins_are_verified_entities_only():
    by_accession = {p["accession"]: p for p in ENTITIES["proteins"]}
    for protein in SNAPSHOT_PROTEINS:
        entity = by_accession[protein["accession"]]
        assert entity["in_snapshot"] is True
        assert entity["sequence_is_placeholder"] is False
        assert not entity.get("synthetic") and not entity.get("facts_unverified")
        assert protein["sequence"] == entity["sequence"]
        assert protein["entry_name"] == entity["entry_name"]
        assert protein["organism"] == entity["organism"]
        assert protein["gene_names"] == entity["gene_names"]


def test_ubiquitin_precursor_is_three_identical_ubiquitins():
    """Polyubiquitin-B is three copies of the 76-residue ubiquitin plus one residue."""
    ubb = next(p for p in SNAPSHOT_PROTEINS if p["entry_name"] == "UBB_HUMAN")["sequence"]
    ubiquitin = ubb[:76]
    assert ubiquitin.startswith("MQIFVKTLTGK") and ubiquitin.endswith("LRLRGG")
    assert ubb == ubiquitin * 3 + ubb[-1]


# -- the server's proteins ---------------------------------------------------------------


@pytest.mark.parametrize("protein", ENTITIES["proteins"], ids=lambda p: p["accession"])
def test_server_protein_entries(protein):
    assert ACCESSION.match(protein["accession"])
    assert ENTRY_NAME.match(protein["entry_name"])
    assert all(ACCESSION.match(a) for a in protein["secondary_accessions"])
    assert isinstance(protein["length"], int) and protein["length"] > 0
    if protein["sequence_is_placeholder"]:
        assert protein["sequence"] is None
        assert protein["in_snapshot"] is False
    else:
        assert PROTEIN_SEQUENCE.match(protein["sequence"])
        assert protein["length"] == len(protein["sequence"])


def test_server_accessions_do_not_collide():
    primaries = [p["accession"] for p in ENTITIES["proteins"]]
    secondaries = [a for p in ENTITIES["proteins"] for a in p["secondary_accessions"]]
    inactive = [p["accession"] for p in ENTITIES["inactive_proteins"]]
    everything = primaries + secondaries + inactive
    assert len(set(everything)) == len(everything)
    for entry in ENTITIES["inactive_proteins"]:
        assert set(entry.get("merge_demerge_to", [])) <= set(primaries)


def test_server_has_entities_the_snapshot_lacks():
    """Client tests tell network answers from snapshot answers with these."""
    snapshot_cids = {m["cid"] for m in SNAPSHOT_MOLECULES}
    snapshot_accessions = {p["accession"] for p in SNAPSHOT_PROTEINS}
    assert len({m["cid"] for m in ENTITIES["molecules"]} - snapshot_cids) >= 5
    assert {"P04637", "Q9LW62"} <= {p["accession"] for p in ENTITIES["proteins"]}
    assert not {"P04637", "Q9LW62"} & snapshot_accessions
