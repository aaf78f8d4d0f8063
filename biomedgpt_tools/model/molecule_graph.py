"""Molecule graphs as the GIN encoder of BioMedGPT-10B sees them.

The featurization must reproduce the reference exactly where it decides what the
checkpoint's embedding rows mean (see ../shared/reference/biomedgpt-10b.md), and be
safe where the reference crashes.

What the reference does (and we do the same):

- ``Chem.MolFromSmiles(smiles)`` with default sanitization, no added hydrogens, RDKit atom
  order; one row per heavy atom.
- atom type = atomic number - 1 for Z in 1..118, else 118 (``*`` and other dummies, Z = 0).
- chirality: CHI_UNSPECIFIED 0, CHI_TETRAHEDRAL_CW 1, CHI_TETRAHEDRAL_CCW 2.
- bond type: SINGLE 0, DOUBLE 1, TRIPLE 2, AROMATIC 3 (4 is the GIN's self loop and 5 its
  mask; neither is ever produced here).
- bond direction: NONE 0, ENDUPRIGHT 1, ENDDOWNRIGHT 2.
- every bond gives two directed edges, begin -> end then end -> begin, with the same
  features, in RDKit bond order; a molecule without bonds has an empty edge list.

Where the reference crashes or indexes out of its tables, we map instead (and log a warning
once per process for each unusual RDKit value; see ``CHIRALITY_FALLBACKS`` etc.):

- CHI_OTHER (the reference gives 3, past the 3-row table), CHI_ALLENE, CHI_SQUAREPLANAR,
  CHI_TRIGONALBIPYRAMIDAL, CHI_OCTAHEDRAL -> 0: the table only knows tetrahedral centres,
  so these atoms are encoded as "no tetrahedral chirality". CHI_TETRAHEDRAL (RDKit's
  permutation form, normally converted by the parser) -> 2 for permutation 1 (``@``) and
  1 for permutation 2 (``@@``), 0 otherwise.
- DATIVE (and DATIVEONE/L/R) -> SINGLE: a dative bond is a two-electron sigma bond.
  QUADRUPLE and higher -> TRIPLE (the highest order the table knows); ONEANDAHALF ->
  AROMATIC; TWOANDAHALF -> DOUBLE, THREEANDAHALF and up -> TRIPLE (rounded down, capped);
  UNSPECIFIED, IONIC, HYDROGEN, THREECENTER, ZERO, OTHER -> SINGLE.
- BEGINWEDGE, BEGINDASH, EITHERDOUBLE, UNKNOWN directions -> NONE (they come from
  drawings, not from SMILES, and carry no cis/trans meaning the model was trained on).

Large molecules: every atom becomes one soft token of the LM (4096-token context), so
``featurize_smiles`` accepts at most ``DEFAULT_MAX_ATOMS`` (512) heavy atoms by default and
raises a clear error above; pass ``max_atoms=None`` (or a larger number) to lift the limit.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported where tensors are built: validation stays torch-free
    import torch

logger = logging.getLogger(__name__)

DEFAULT_MAX_ATOMS = 512
"""Heavy atoms accepted by default: one LM soft token each, an eighth of the 4096 context."""

NUM_ATOM_TYPES = 120  # rows of x_embedding1: Z-1 for Z in 1..118, 118 = other, 119 unused (mask)
NUM_CHIRALITY_TAGS = 3  # rows of x_embedding2
NUM_BOND_TYPES = 6  # rows of edge_embedding1: 0..3 bonds, 4 self loop, 5 mask
NUM_BOND_DIRECTIONS = 3  # rows of edge_embedding2
SELF_LOOP_BOND_TYPE = 4
OTHER_ATOM_TYPE = 118

# RDKit enum names -> table rows. Names (not enum objects) so that RDKit versions that lack
# a newer tag still import this module.
CHIRALITY_INDEX = {"CHI_UNSPECIFIED": 0, "CHI_TETRAHEDRAL_CW": 1, "CHI_TETRAHEDRAL_CCW": 2}
CHIRALITY_FALLBACKS = {
    "CHI_OTHER": 0,
    "CHI_ALLENE": 0,
    "CHI_SQUAREPLANAR": 0,
    "CHI_TRIGONALBIPYRAMIDAL": 0,
    "CHI_OCTAHEDRAL": 0,
    # CHI_TETRAHEDRAL is resolved by its permutation in `_chirality_index`.
}
BOND_TYPE_INDEX = {"SINGLE": 0, "DOUBLE": 1, "TRIPLE": 2, "AROMATIC": 3}
BOND_TYPE_FALLBACKS = {
    "DATIVE": 0,
    "DATIVEONE": 0,
    "DATIVEL": 0,
    "DATIVER": 0,
    "QUADRUPLE": 2,
    "QUINTUPLE": 2,
    "HEXTUPLE": 2,
    "ONEANDAHALF": 3,
    "TWOANDAHALF": 1,
    "THREEANDAHALF": 2,
    "FOURANDAHALF": 2,
    "FIVEANDAHALF": 2,
    "UNSPECIFIED": 0,
    "IONIC": 0,
    "HYDROGEN": 0,
    "THREECENTER": 0,
    "ZERO": 0,
    "OTHER": 0,
}
UNKNOWN_BOND_TYPE_INDEX = 0  # for a bond type newer than this table
BOND_DIRECTION_INDEX = {"NONE": 0, "ENDUPRIGHT": 1, "ENDDOWNRIGHT": 2}
BOND_DIRECTION_FALLBACK = 0  # BEGINWEDGE, BEGINDASH, EITHERDOUBLE, UNKNOWN, anything newer

_reported_fallbacks: set[str] = set()


class InvalidMoleculeError(ValueError):
    """A SMILES that cannot become a molecule graph; the message names the input."""


@dataclass
class MoleculeGraph:
    """One molecule, or a disjoint union of several (see `collate_graphs`)."""

    atom_features: torch.Tensor  # (N, 2) long: atom type index, chirality index
    edge_index: torch.Tensor  # (2, E) long: source, target atom
    edge_features: torch.Tensor  # (E, 2) long: bond type, bond direction
    atom_counts: list[int] | None = None  # atoms per molecule when collated

    @property
    def num_atoms(self) -> int:
        return int(self.atom_features.shape[0])

    @property
    def num_edges(self) -> int:
        return int(self.edge_index.shape[1])

    def to(self, device: torch.device | str) -> MoleculeGraph:
        """The same graph with its tensors on `device`."""
        return MoleculeGraph(
            self.atom_features.to(device),
            self.edge_index.to(device),
            self.edge_features.to(device),
            self.atom_counts,
        )


def collate_graphs(graphs: list[MoleculeGraph]) -> MoleculeGraph:
    """Disjoint union: atom indices of each graph are offset by the atoms before it.

    An empty list gives an empty graph (no atoms, no edges, ``atom_counts == []``), so a batch
    without molecules needs no special case.
    """
    import torch

    offsets = 0
    edge_indices = []
    for graph in graphs:
        edge_indices.append(graph.edge_index + offsets)
        offsets += graph.num_atoms
    if not graphs:
        return MoleculeGraph(
            atom_features=torch.zeros(0, 2, dtype=torch.long),
            edge_index=torch.zeros(2, 0, dtype=torch.long),
            edge_features=torch.zeros(0, 2, dtype=torch.long),
            atom_counts=[],
        )
    return MoleculeGraph(
        atom_features=torch.cat([g.atom_features for g in graphs], dim=0),  # (N_total, 2)
        edge_index=torch.cat(edge_indices, dim=1),  # (2, E_total)
        edge_features=torch.cat([g.edge_features for g in graphs], dim=0),  # (E_total, 2)
        atom_counts=[g.num_atoms for g in graphs],
    )


def featurize_smiles(smiles: str, *, max_atoms: int | None = DEFAULT_MAX_ATOMS) -> MoleculeGraph:
    """SMILES -> MoleculeGraph exactly as the reference featurizes it (see module docstring).

    Raises `InvalidMoleculeError` naming the SMILES for: a non-string, an empty string,
    whitespace inside the SMILES (RDKit would silently read the rest as a molecule name),
    SMILES RDKit cannot parse or sanitize (RDKit's own reason is quoted; its stderr noise is
    suppressed), and molecules with more than ``max_atoms`` heavy atoms.
    A salt or mixture written with ``.`` gives one graph with several components.
    """
    return featurize_mol(parse_smiles(smiles, max_atoms=max_atoms), source=smiles)


def parse_smiles(smiles: str, *, max_atoms: int | None = DEFAULT_MAX_ATOMS):
    """RDKit molecule for a SMILES (default sanitization), or `InvalidMoleculeError`.

    Does every check of `featurize_smiles` without building tensors (no torch import), so
    the CLI and tools can validate input cheaply.
    """
    from rdkit import Chem

    if not isinstance(smiles, str):
        raise InvalidMoleculeError(
            f"expected a SMILES string, got {type(smiles).__name__} {smiles!r}"
        )
    text = smiles.strip()
    if not text:
        raise InvalidMoleculeError(
            f"SMILES is empty ({smiles!r}); give a molecule such as 'CC(=O)Oc1ccccc1C(=O)O'"
        )
    if re.search(r"\s", text):
        raise InvalidMoleculeError(
            f"SMILES {_shorten(smiles)!r} contains whitespace; RDKit would read only the part "
            f"before it and take the rest as a name. Remove the spaces or pass one molecule "
            f"(use '.' to join the parts of a salt or mixture)."
        )
    mol, rdkit_reason = _mol_from_smiles_quietly(Chem, text)
    if mol is None:
        reason = f": RDKit says {rdkit_reason!r}" if rdkit_reason else ""
        raise InvalidMoleculeError(
            f"cannot parse SMILES {_shorten(text)!r}{reason}. Check the SMILES (or resolve the "
            f"compound name to a SMILES first)."
        )
    num_atoms = mol.GetNumAtoms()
    if num_atoms == 0:
        raise InvalidMoleculeError(f"SMILES {_shorten(text)!r} has no atoms")
    if max_atoms is not None and num_atoms > max_atoms:
        raise InvalidMoleculeError(
            f"SMILES {_shorten(text)!r} has {num_atoms} heavy atoms, more than the limit of "
            f"{max_atoms}: every atom becomes one soft token of the language model (context "
            f"4096 tokens). Pass max_atoms=None or a larger max_atoms to accept it anyway."
        )
    return mol


def featurize_mol(mol, *, source: str | None = None) -> MoleculeGraph:
    """RDKit molecule (already sanitized, no explicit H) -> MoleculeGraph.

    `source` (e.g. the SMILES) only names the molecule in the fallback warnings.
    """
    import torch

    atom_rows = [
        (_atom_type_index(atom.GetAtomicNum()), _chirality_index(atom, source))
        for atom in mol.GetAtoms()
    ]
    sources: list[int] = []
    targets: list[int] = []
    edge_rows: list[tuple[int, int]] = []
    for bond in mol.GetBonds():
        begin, end = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        features = (_bond_type_index(bond, source), _bond_direction_index(bond, source))
        sources += [begin, end]
        targets += [end, begin]
        edge_rows += [features, features]
    atom_features = torch.tensor(atom_rows, dtype=torch.long).reshape(-1, 2)  # (N, 2)
    edge_index = torch.tensor([sources, targets], dtype=torch.long).reshape(2, -1)  # (2, E)
    edge_features = torch.tensor(edge_rows, dtype=torch.long).reshape(-1, 2)  # (E, 2)
    return MoleculeGraph(atom_features, edge_index, edge_features)


def _mol_from_smiles_quietly(chem, smiles: str):
    """`Chem.MolFromSmiles` without RDKit's stderr noise; returns (mol, RDKit's first message)."""
    from rdkit import rdBase

    capture_class = getattr(rdBase, "CaptureErrorLog", None)
    if capture_class is not None:  # RDKit >= 2025: capture the reason as text
        with capture_class() as capture:
            mol = chem.MolFromSmiles(smiles)
        return mol, _first_rdkit_message(capture.messages)
    with rdBase.BlockLogs():  # older RDKit: silence, then ask for the sanitization problem
        mol = chem.MolFromSmiles(smiles)
        if mol is not None:
            return mol, ""
        raw = chem.MolFromSmiles(smiles, sanitize=False)
        if raw is None:
            return None, "not valid SMILES syntax"
        problems = chem.DetectChemistryProblems(raw)
        return None, problems[0].Message() if problems else ""


def _first_rdkit_message(messages: str) -> str:
    for line in str(messages or "").splitlines():
        line = re.sub(r"^\[\d\d:\d\d:\d\d\]\s*", "", line).strip()
        if line:
            return line
    return ""


def _atom_type_index(atomic_num: int) -> int:
    return atomic_num - 1 if 1 <= atomic_num <= 118 else OTHER_ATOM_TYPE


def _chirality_index(atom, source: str | None) -> int:
    tag = str(atom.GetChiralTag()).rsplit(".", 1)[-1]
    if tag in CHIRALITY_INDEX:
        return CHIRALITY_INDEX[tag]
    if tag == "CHI_TETRAHEDRAL":
        # RDKit's permutation form: @TH1 is '@' (counter-clockwise), @TH2 is '@@' (clockwise).
        permutation = (
            atom.GetUnsignedProp("_chiralPermutation") if atom.HasProp("_chiralPermutation") else 0
        )
        index = {
            1: CHIRALITY_INDEX["CHI_TETRAHEDRAL_CCW"],
            2: CHIRALITY_INDEX["CHI_TETRAHEDRAL_CW"],
        }
        if permutation in index:
            return index[permutation]
    index = CHIRALITY_FALLBACKS.get(tag, 0)
    _report_fallback("chiral tag", tag, index, source)
    return index


def _bond_type_index(bond, source: str | None) -> int:
    name = str(bond.GetBondType()).rsplit(".", 1)[-1]
    if name in BOND_TYPE_INDEX:
        return BOND_TYPE_INDEX[name]
    index = BOND_TYPE_FALLBACKS.get(name, UNKNOWN_BOND_TYPE_INDEX)
    _report_fallback("bond type", name, index, source)
    return index


def _bond_direction_index(bond, source: str | None) -> int:
    name = str(bond.GetBondDir()).rsplit(".", 1)[-1]
    if name in BOND_DIRECTION_INDEX:
        return BOND_DIRECTION_INDEX[name]
    _report_fallback("bond direction", name, BOND_DIRECTION_FALLBACK, source)
    return BOND_DIRECTION_FALLBACK


def _report_fallback(kind: str, name: str, index: int, source: str | None) -> None:
    """Warn once per process per unusual RDKit value, so a large batch does not flood the log."""
    key = f"{kind}:{name}"
    if key in _reported_fallbacks:
        return
    _reported_fallbacks.add(key)
    where = f" in SMILES {_shorten(source)!r}" if source else ""
    logger.warning(
        "%s %s%s has no row in the GIN's embedding table (the reference crashes here); "
        "encoded as index %d. Reported once per process.",
        kind,
        name,
        where,
        index,
    )


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
