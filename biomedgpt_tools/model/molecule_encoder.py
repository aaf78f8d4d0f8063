"""The GIN molecule encoder of BioMedGPT-10B (GraphMVP weights, pretrain-gnns layout).

Parameter names are those of the official checkpoint under `mol_structure_encoder.`:
`x_embedding1`, `x_embedding2`, `gnns.{l}.mlp.{0,2}`, `gnns.{l}.edge_embedding{1,2}`,
`batch_norms.{l}`. BioMedGPT feeds every atom's final state to the LM as one soft token,
so the encoder returns per-atom states ("JK last"), never a pooled vector.
"""

from __future__ import annotations

import torch
from torch import nn

from .configuration_biomedgpt import MoleculeEncoderConfig
from .molecule_graph import MoleculeGraph

# Bond features of the self loop every layer adds to every atom (type 4, direction 0).
SELF_LOOP_BOND_TYPE = 4
SELF_LOOP_BOND_DIRECTION = 0


class GINLayer(nn.Module):
    r"""One graph isomorphism layer with bond features (Hu et al. 2020, "pretrain-gnns").

    .. math::
        h_i' = \mathrm{MLP}\Big(\sum_{j \in \mathcal{N}(i) \cup \{i\}}
               h_j + e_1(\mathrm{type}_{ji}) + e_2(\mathrm{dir}_{ji})\Big)

    where the self loop (j = i) carries bond type 4 and direction 0, and
    MLP = Linear(d, 2d) -> ReLU -> Linear(2d, d).
    """

    def __init__(self, config: MoleculeEncoderConfig):
        super().__init__()
        width = config.hidden_size
        self.mlp = nn.Sequential(
            nn.Linear(width, 2 * width), nn.ReLU(), nn.Linear(2 * width, width)
        )
        self.edge_embedding1 = nn.Embedding(config.num_bond_types, width)
        self.edge_embedding2 = nn.Embedding(config.num_bond_directions, width)

    def forward(
        self,
        atom_states: torch.Tensor,  # (N, d)
        edge_index: torch.Tensor,  # (2, E) source, target
        edge_features: torch.Tensor,  # (E, 2) bond type, bond direction
    ) -> torch.Tensor:
        num_atoms = atom_states.shape[0]
        atoms = torch.arange(num_atoms, device=atom_states.device)
        self_loops = torch.stack([atoms, atoms])  # (2, N)
        loop_features = torch.tensor(
            [SELF_LOOP_BOND_TYPE, SELF_LOOP_BOND_DIRECTION], device=atom_states.device
        ).expand(num_atoms, 2)  # (N, 2)
        edge_index = torch.cat([edge_index, self_loops], dim=1)  # (2, E + N)
        edge_features = torch.cat([edge_features, loop_features], dim=0)  # (E + N, 2)

        bond_embeddings = self.edge_embedding1(edge_features[:, 0]) + self.edge_embedding2(
            edge_features[:, 1]
        )  # (E + N, d)
        source, target = edge_index[0], edge_index[1]
        messages = atom_states[source] + bond_embeddings.to(atom_states.dtype)  # (E + N, d)
        summed = torch.zeros_like(atom_states).index_add_(0, target, messages)  # (N, d)
        return self.mlp(summed)


class GINMoleculeEncoder(nn.Module):
    r"""Per-atom states of a (batched) molecule graph.

    .. math::
        h^{(0)}_i = x_1(\mathrm{atom\_type}_i) + x_2(\mathrm{chirality}_i), \qquad
        h^{(l+1)} = \sigma_l\big(\mathrm{BN}_l(\mathrm{GIN}_l(h^{(l)}))\big)

    with :math:`\sigma_l` = ReLU for every layer but the last (identity), dropout 0, and
    batch norm using its running statistics in eval mode. The output is :math:`h^{(L)}`.
    """

    def __init__(self, config: MoleculeEncoderConfig):
        super().__init__()
        self.config = config
        width = config.hidden_size
        self.x_embedding1 = nn.Embedding(config.num_atom_types, width)
        self.x_embedding2 = nn.Embedding(config.num_chirality_tags, width)
        self.gnns = nn.ModuleList(GINLayer(config) for _ in range(config.num_layers))
        self.batch_norms = nn.ModuleList(
            nn.BatchNorm1d(width, eps=config.batch_norm_eps) for _ in range(config.num_layers)
        )

    def forward(self, graph: MoleculeGraph) -> torch.Tensor:
        """Return the last layer's atom states, (N_total, hidden), in the graph's atom order."""
        atom_features = graph.atom_features  # (N, 2)
        self._check_indices(graph)
        states = self.x_embedding1(atom_features[:, 0]) + self.x_embedding2(
            atom_features[:, 1]
        )  # (N, d)
        last = len(self.gnns) - 1
        for layer_index, (layer, norm) in enumerate(zip(self.gnns, self.batch_norms, strict=True)):
            states = norm(layer(states, graph.edge_index, graph.edge_features))  # (N, d)
            if layer_index != last:
                states = torch.relu(states)
        return states

    def _check_indices(self, graph: MoleculeGraph) -> None:
        """Out-of-range feature indices would be an opaque CUDA assert; name them instead."""
        limits = (
            ("atom type", graph.atom_features[:, 0], self.config.num_atom_types),
            ("chirality", graph.atom_features[:, 1], self.config.num_chirality_tags),
            ("bond type", graph.edge_features[:, 0], self.config.num_bond_types),
            ("bond direction", graph.edge_features[:, 1], self.config.num_bond_directions),
        )
        for name, values, size in limits:
            if values.numel() and (int(values.min()) < 0 or int(values.max()) >= size):
                raise ValueError(
                    f"molecule graph has a {name} index outside 0..{size - 1}; "
                    "build graphs with featurize_smiles, which maps unknown features safely"
                )
