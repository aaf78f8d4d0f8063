"""Featurization against the spec (../shared/reference/biomedgpt-10b.md), written out by hand."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from rdkit import Chem

from biomedgpt_tools.model import molecule_graph
from biomedgpt_tools.model.molecule_graph import (
    DEFAULT_MAX_ATOMS,
    NUM_ATOM_TYPES,
    NUM_BOND_DIRECTIONS,
    NUM_CHIRALITY_TAGS,
    InvalidMoleculeError,
    MoleculeGraph,
    collate_graphs,
    featurize_mol,
    featurize_smiles,
)

C, N, O = 5, 6, 7  # noqa: E741  (atom type = Z - 1)
SINGLE, DOUBLE, TRIPLE, AROMATIC = 0, 1, 2, 3


def directed(bonds):
    """Hand-written bond list [(i, j, type, dir)] -> the spec's edges: i->j then j->i per bond."""
    sources, targets, features = [], [], []
    for i, j, bond_type, direction in bonds:
        sources += [i, j]
        targets += [j, i]
        features += [[bond_type, direction], [bond_type, direction]]
    return sources, targets, features


def assert_graph(graph: MoleculeGraph, atoms, bonds):
    sources, targets, features = directed(bonds)
    assert graph.atom_features.dtype == torch.long
    assert graph.atom_features.tolist() == [list(a) for a in atoms]
    assert graph.edge_index.tolist() == [sources, targets]
    assert graph.edge_features.tolist() == features
    assert graph.edge_index.dtype == graph.edge_features.dtype == torch.long


def assert_in_tables(graph: MoleculeGraph):
    """Never an index outside the GIN's embedding tables, never the self-loop/mask rows."""
    assert graph.atom_features[:, 0].max() < NUM_ATOM_TYPES - 1
    assert graph.atom_features[:, 1].max() < NUM_CHIRALITY_TAGS
    if graph.num_edges:
        assert graph.edge_features[:, 0].max() <= AROMATIC
        assert graph.edge_features[:, 1].max() < NUM_BOND_DIRECTIONS
    assert graph.atom_features.min() >= 0 and graph.edge_features.min() >= 0


@pytest.fixture
def fresh_warnings(monkeypatch):
    """Forget which fallbacks were already reported, so this test sees its own warnings."""
    monkeypatch.setattr(molecule_graph, "_reported_fallbacks", set())


def test_aspirin_matches_the_spec():
    # CC(=O)Oc1ccccc1C(=O)O: RDKit atom order follows the SMILES; the ring-closure bond
    # (atom 9 to atom 4) is listed last by RDKit.
    atoms = [(C, 0), (C, 0), (O, 0), (O, 0)] + [(C, 0)] * 6 + [(C, 0), (O, 0), (O, 0)]
    bonds = [
        (0, 1, SINGLE, 0),
        (1, 2, DOUBLE, 0),
        (1, 3, SINGLE, 0),
        (3, 4, SINGLE, 0),
        (4, 5, AROMATIC, 0),
        (5, 6, AROMATIC, 0),
        (6, 7, AROMATIC, 0),
        (7, 8, AROMATIC, 0),
        (8, 9, AROMATIC, 0),
        (9, 10, SINGLE, 0),
        (10, 11, DOUBLE, 0),
        (10, 12, SINGLE, 0),
        (9, 4, AROMATIC, 0),
    ]
    graph = featurize_smiles("CC(=O)Oc1ccccc1C(=O)O")
    assert graph.num_atoms == 13 and graph.num_edges == 26
    assert_graph(graph, atoms, bonds)


def test_l_alanine_has_chirality_index_2_on_atom_1():
    graph = featurize_smiles("C[C@H](N)C(=O)O")
    atoms = [(C, 0), (C, 2), (N, 0), (C, 0), (O, 0), (O, 0)]
    bonds = [
        (0, 1, SINGLE, 0),
        (1, 2, SINGLE, 0),
        (1, 3, SINGLE, 0),
        (3, 4, DOUBLE, 0),
        (3, 5, SINGLE, 0),
    ]
    assert_graph(graph, atoms, bonds)
    assert featurize_smiles("C[C@@H](N)C(=O)O").atom_features[1, 1].item() == 1


def test_trans_butene_has_direction_1_on_directed_single_bonds():
    graph = featurize_smiles("C/C=C/C")
    assert_graph(graph, [(C, 0)] * 4, [(0, 1, SINGLE, 1), (1, 2, DOUBLE, 0), (2, 3, SINGLE, 1)])
    cis = featurize_smiles("C/C=C\\C")
    assert cis.edge_features[:, 1].tolist() == [1, 1, 0, 0, 2, 2]


def test_salt_gives_one_graph_with_several_components():
    graph = featurize_smiles("CC(=O)[O-].[Na+]")
    atoms = [(C, 0), (C, 0), (O, 0), (O, 0), (10, 0)]  # Na: Z = 11
    bonds = [(0, 1, SINGLE, 0), (1, 2, DOUBLE, 0), (1, 3, SINGLE, 0)]
    assert_graph(graph, atoms, bonds)
    assert 4 not in graph.edge_index.flatten().tolist()  # the sodium is its own component


def test_single_atom_has_no_edges():
    graph = featurize_smiles("[Cl-]")
    assert graph.atom_features.tolist() == [[16, 0]]
    assert graph.edge_index.shape == (2, 0) and graph.edge_features.shape == (0, 2)


def test_benzene_bonds_are_aromatic():
    graph = featurize_smiles("C1=CC=CC=C1")  # Kekulé input: sanitization makes it aromatic
    ring = [(i, i + 1, AROMATIC, 0) for i in range(5)] + [(5, 0, AROMATIC, 0)]
    assert_graph(graph, [(C, 0)] * 6, ring)


def test_dummy_atom_and_heaviest_elements():
    graph = featurize_smiles("*C.[Og]")
    assert graph.atom_features[:, 0].tolist() == [118, C, 117]  # '*' has Z = 0; Og is Z = 118


@pytest.mark.parametrize(
    "smiles, reason",
    [
        ("C1CC", "unclosed ring"),
        ("CC(C", "open parentheses"),
        ("C(C)(C)(C)(C)C", "valence"),
        ("c1cccc1", "kekulize"),
        ("[Xx]", "SMILES"),
    ],
)
def test_unparsable_smiles_names_the_input_and_is_quiet(smiles, reason, capfd):
    with pytest.raises(InvalidMoleculeError) as info:
        featurize_smiles(smiles)
    message = str(info.value)
    assert repr(smiles) in message
    assert reason.lower() in message.lower()
    assert capfd.readouterr().err == ""  # RDKit's own stderr noise is silenced


@pytest.mark.parametrize("smiles", ["", "   ", "\n"])
def test_empty_smiles(smiles):
    with pytest.raises(InvalidMoleculeError, match="empty"):
        featurize_smiles(smiles)


@pytest.mark.parametrize("value", [None, 5, b"CCO", ["CCO"]])
def test_non_string(value):
    with pytest.raises(InvalidMoleculeError, match="expected a SMILES string"):
        featurize_smiles(value)


def test_inner_whitespace_is_rejected_not_read_as_a_name():
    with pytest.raises(InvalidMoleculeError, match="whitespace"):
        featurize_smiles("CC O")
    assert featurize_smiles("  CCO\n").num_atoms == 3  # surrounding whitespace is fine


def test_dative_and_other_bond_types_map_safely(fresh_warnings, caplog):
    caplog.set_level(logging.WARNING, logger=molecule_graph.__name__)
    dative = featurize_smiles("[NH3]->[Cu+2]")
    assert dative.atom_features.tolist() == [[N, 0], [28, 0]]
    assert dative.edge_features.tolist() == [[SINGLE, 0], [SINGLE, 0]]
    assert featurize_smiles("C$C").edge_features[:, 0].tolist() == [TRIPLE, TRIPLE]  # quadruple
    assert featurize_smiles("CC~C").edge_features[:, 0].tolist() == [SINGLE] * 4  # unspecified
    reported = " ".join(r.getMessage() for r in caplog.records)
    assert "DATIVE" in reported and "QUADRUPLE" in reported and "UNSPECIFIED" in reported


@pytest.mark.parametrize(
    "smiles", ["F[Pt@SP1](Cl)(Br)I", "S[As@TB1](F)(Cl)(Br)N", "O[Co@OH1](Cl)(C)(N)(F)P"]
)
def test_non_tetrahedral_chiral_tags_become_unspecified(smiles, fresh_warnings, caplog):
    caplog.set_level(logging.WARNING, logger=molecule_graph.__name__)
    graph = featurize_smiles(smiles)
    assert graph.atom_features[:, 1].tolist() == [0] * graph.num_atoms
    assert len(caplog.records) == 1 and "CHI_" in caplog.records[0].getMessage()
    assert_in_tables(graph)


def test_chi_other_and_drawing_directions_are_safe(fresh_warnings, caplog):
    """Tags the SMILES parser never makes but a molecule from elsewhere can carry."""
    caplog.set_level(logging.WARNING, logger=molecule_graph.__name__)
    mol = Chem.RWMol(Chem.MolFromSmiles("CC(N)(O)F.C=CC.CC"))
    mol.GetAtomWithIdx(1).SetChiralTag(Chem.ChiralType.CHI_OTHER)  # reference: index 3, overflow
    mol.GetBondWithIdx(0).SetBondDir(Chem.BondDir.BEGINWEDGE)
    mol.GetBondWithIdx(4).SetBondDir(Chem.BondDir.EITHERDOUBLE)
    mol.GetBondWithIdx(5).SetBondDir(Chem.BondDir.ENDDOWNRIGHT)  # a known direction: index 2
    mol.GetBondWithIdx(6).SetBondDir(Chem.BondDir.UNKNOWN)
    graph = featurize_mol(mol)
    assert graph.atom_features[1, 1].item() == 0
    assert graph.edge_features[:, 1].tolist() == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0]
    assert_in_tables(graph)
    names = " ".join(r.getMessage() for r in caplog.records)
    for name in ("CHI_OTHER", "BEGINWEDGE", "EITHERDOUBLE", "UNKNOWN"):
        assert name in names


def test_tetrahedral_permutation_tag_maps_to_cw_ccw():
    mol = Chem.RWMol(Chem.MolFromSmiles("CC(N)O"))
    atom = mol.GetAtomWithIdx(1)
    atom.SetChiralTag(Chem.ChiralType.CHI_TETRAHEDRAL)
    atom.SetUnsignedProp("_chiralPermutation", 1)  # @TH1 == '@'
    assert featurize_mol(mol).atom_features[1, 1].item() == 2
    atom.SetUnsignedProp("_chiralPermutation", 2)  # @TH2 == '@@'
    assert featurize_mol(mol).atom_features[1, 1].item() == 1


def test_fallback_warning_is_logged_once(fresh_warnings, caplog):
    caplog.set_level(logging.WARNING, logger=molecule_graph.__name__)
    for _ in range(3):
        featurize_smiles("[NH3]->[Cu+2]")
    assert len(caplog.records) == 1
    assert "[NH3]->[Cu+2]" in caplog.records[0].getMessage()


def test_300_atom_molecule_is_accepted():
    graph = featurize_smiles("C" * 300)
    assert graph.num_atoms == 300 and graph.num_edges == 2 * 299
    assert graph.atom_features.tolist() == [[C, 0]] * 300


def test_molecules_above_max_atoms_give_a_clear_error():
    too_big = "C" * (DEFAULT_MAX_ATOMS + 1)
    with pytest.raises(
        InvalidMoleculeError, match=f"{DEFAULT_MAX_ATOMS + 1} heavy atoms.*max_atoms"
    ):
        featurize_smiles(too_big)
    assert featurize_smiles(too_big, max_atoms=None).num_atoms == DEFAULT_MAX_ATOMS + 1
    with pytest.raises(InvalidMoleculeError, match="300 heavy atoms"):
        featurize_smiles("C" * 300, max_atoms=100)


def test_collate_graphs_offsets_atom_indices():
    ethanol, chloride, propene = (featurize_smiles(s) for s in ("CCO", "[Cl-]", "C=CC"))
    batch = collate_graphs([ethanol, chloride, propene])
    assert batch.atom_counts == [3, 1, 3]
    assert batch.num_atoms == 7
    # ethanol edges keep 0..2, chloride has none, propene's atoms start at 3 + 1 = 4
    assert batch.edge_index.tolist() == [[0, 1, 1, 2, 4, 5, 5, 6], [1, 0, 2, 1, 5, 4, 6, 5]]
    assert batch.edge_features.tolist() == [[0, 0]] * 4 + [[1, 0], [1, 0], [0, 0], [0, 0]]
    assert batch.atom_features.tolist() == [[C, 0], [C, 0], [O, 0], [16, 0], [C, 0], [C, 0], [C, 0]]


def test_collate_no_graphs_gives_an_empty_graph():
    batch = collate_graphs([])
    assert batch.atom_counts == [] and batch.num_atoms == 0
    assert batch.edge_index.shape == (2, 0) and batch.edge_features.shape == (0, 2)


def test_validation_alone_does_not_import_torch():
    """The CLI and tools check SMILES with parse_smiles; torch is only in the model extra."""
    code = (
        "import sys\n"
        "from biomedgpt_tools.model.molecule_graph import InvalidMoleculeError, parse_smiles\n"
        "assert parse_smiles('CCO').GetNumAtoms() == 3\n"
        "try:\n"
        "    parse_smiles('C' * 20, max_atoms=10)\n"
        "except InvalidMoleculeError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('max_atoms not enforced')\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    repo_root = Path(__file__).resolve().parents[2]  # importable even without an install
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=repo_root
    )
    assert result.returncode == 0, result.stderr
