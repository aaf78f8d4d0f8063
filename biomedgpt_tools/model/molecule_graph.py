"""Molecule graphs as the GIN encoder of BioMedGPT-10B sees them.

The featurization must reproduce the reference exactly where it decides what the
checkpoint's embedding rows mean (see ../shared/reference/biomedgpt-10b.md), and be
safe where the reference crashes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


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

    def to(self, device: torch.device | str) -> MoleculeGraph:
        return MoleculeGraph(
            self.atom_features.to(device),
            self.edge_index.to(device),
            self.edge_features.to(device),
            self.atom_counts,
        )


def collate_graphs(graphs: list[MoleculeGraph]) -> MoleculeGraph:
    """Disjoint union: atom indices of each graph are offset by the atoms before it."""
    offsets = 0
    edge_indices = []
    for graph in graphs:
        edge_indices.append(graph.edge_index + offsets)
        offsets += graph.num_atoms
    return MoleculeGraph(
        atom_features=torch.cat([g.atom_features for g in graphs], dim=0),
        edge_index=torch.cat(edge_indices, dim=1) if edge_indices else torch.zeros(2, 0, dtype=torch.long),
        edge_features=torch.cat([g.edge_features for g in graphs], dim=0),
        atom_counts=[g.num_atoms for g in graphs],
    )
