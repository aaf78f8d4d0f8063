"""GIN molecule encoder: checkpoint key names and shapes, and the layer math written out by hand."""

from __future__ import annotations

import pytest
import torch

from biomedgpt_tools.model.configuration_biomedgpt import MoleculeEncoderConfig
from biomedgpt_tools.model.molecule_encoder import GINMoleculeEncoder
from biomedgpt_tools.model.molecule_graph import MoleculeGraph, collate_graphs, featurize_smiles


def random_encoder(
    seed: int = 0, layers: int = 3, width: int = 8, scale: float = 1.0
) -> GINMoleculeEncoder:
    torch.manual_seed(seed)
    encoder = GINMoleculeEncoder(MoleculeEncoderConfig(num_layers=layers, hidden_size=width))
    with torch.no_grad():
        for parameter in encoder.parameters():
            parameter.normal_(std=scale)
        for norm in encoder.batch_norms:
            norm.running_mean.normal_()
            norm.running_var.uniform_(0.5, 2.0)
    return encoder.eval()


def test_parameter_names_and_shapes_follow_the_checkpoint():
    encoder = GINMoleculeEncoder(MoleculeEncoderConfig())  # the real 5 x 300 encoder
    shapes = {name: tuple(tensor.shape) for name, tensor in encoder.state_dict().items()}
    expected = {"x_embedding1.weight": (120, 300), "x_embedding2.weight": (3, 300)}
    for layer in range(5):
        expected |= {
            f"gnns.{layer}.mlp.0.weight": (600, 300),
            f"gnns.{layer}.mlp.0.bias": (600,),
            f"gnns.{layer}.mlp.2.weight": (300, 600),
            f"gnns.{layer}.mlp.2.bias": (300,),
            f"gnns.{layer}.edge_embedding1.weight": (6, 300),
            f"gnns.{layer}.edge_embedding2.weight": (3, 300),
            f"batch_norms.{layer}.weight": (300,),
            f"batch_norms.{layer}.bias": (300,),
            f"batch_norms.{layer}.running_mean": (300,),
            f"batch_norms.{layer}.running_var": (300,),
            f"batch_norms.{layer}.num_batches_tracked": (),
        }
    assert shapes == expected


def hand_written_gin(encoder: GINMoleculeEncoder, graph: MoleculeGraph) -> torch.Tensor:
    """The spec's math, one atom and one edge at a time."""
    atoms = graph.atom_features.tolist()
    edges = list(
        zip(
            graph.edge_index[0].tolist(),
            graph.edge_index[1].tolist(),
            graph.edge_features.tolist(),
            strict=True,
        )
    )
    edges += [(i, i, [4, 0]) for i in range(len(atoms))]  # self loops: type 4, direction 0
    h = [encoder.x_embedding1.weight[a] + encoder.x_embedding2.weight[c] for a, c in atoms]
    for layer, (gin, norm) in enumerate(zip(encoder.gnns, encoder.batch_norms, strict=True)):
        summed = [torch.zeros_like(h[0]) for _ in atoms]
        for source, target, (bond_type, direction) in edges:
            summed[target] = (
                summed[target]
                + h[source]
                + gin.edge_embedding1.weight[bond_type]
                + gin.edge_embedding2.weight[direction]
            )
        new = []
        for vector in summed:
            hidden = torch.relu(gin.mlp[0].weight @ vector + gin.mlp[0].bias)
            out = gin.mlp[2].weight @ hidden + gin.mlp[2].bias
            out = (out - norm.running_mean) / torch.sqrt(
                norm.running_var + norm.eps
            ) * norm.weight + norm.bias
            new.append(torch.relu(out) if layer < len(encoder.gnns) - 1 else out)
        h = new
    return torch.stack(h)


@pytest.mark.parametrize(
    "smiles", ["CC(=O)Oc1ccccc1C(=O)O", "C[C@H](N)C(=O)O", "C/C=C/C", "[Na+].[Cl-]", "C"]
)
def test_forward_matches_the_layer_math(smiles):
    encoder = random_encoder()
    graph = featurize_smiles(smiles)
    with torch.no_grad():
        states = encoder(graph)
        expected = hand_written_gin(encoder, graph)
    assert states.shape == (graph.num_atoms, 8)
    torch.testing.assert_close(states, expected, rtol=1e-4, atol=1e-4)


def test_last_layer_has_no_relu_and_batch_norm_statistics_are_used():
    encoder = random_encoder()
    graph = featurize_smiles("CC(=O)Oc1ccccc1C(=O)O")
    with torch.no_grad():
        states = encoder(graph)
        assert (states < 0).any()  # no ReLU after the last layer
        encoder.batch_norms[-1].running_mean.add_(1.0)
        shifted = encoder(graph)
    assert not torch.allclose(states, shifted)


def test_collated_graphs_give_each_molecule_its_own_states():
    encoder = random_encoder()
    graphs = [featurize_smiles(s) for s in ("CCO", "c1ccccc1", "C")]
    with torch.no_grad():
        together = encoder(collate_graphs(graphs))
        alone = torch.cat([encoder(graph) for graph in graphs])
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-3)


def test_a_graph_without_bonds_still_encodes():
    encoder = random_encoder()
    graph = featurize_smiles("[He]")
    assert graph.edge_index.shape == (2, 0)
    with torch.no_grad():
        assert encoder(graph).shape == (1, 8)


def test_out_of_range_feature_indices_raise_a_clear_error():
    encoder = random_encoder()
    graph = featurize_smiles("CCO")
    graph.atom_features[0, 1] = 3  # the reference's CHI_OTHER overflow
    with pytest.raises(ValueError, match="chirality index outside 0..2"):
        encoder(graph)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_runs_in_half_precision_on_cpu(dtype):
    encoder = random_encoder(scale=0.3)
    graph = featurize_smiles("CC(=O)Oc1ccccc1C(=O)O")
    with torch.no_grad():
        reference = encoder(graph)
        half = encoder.to(dtype)(graph)
    assert half.dtype == dtype
    scale = float(reference.abs().max())
    torch.testing.assert_close(half.float(), reference, rtol=0.0, atol=0.05 * scale)
