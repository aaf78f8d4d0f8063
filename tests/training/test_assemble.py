"""`python -m training assemble`: LM folder + GIN state dict + ESM-2 -> a stage-2 starting folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from biomedgpt_tools.model.api import BioMedGPT
from biomedgpt_tools.model.configuration_biomedgpt import MoleculeEncoderConfig
from biomedgpt_tools.model.molecule_encoder import GINMoleculeEncoder
from biomedgpt_tools.model.molecule_graph import collate_graphs, featurize_smiles
from biomedgpt_tools.model.protein_sequence import write_esm_vocab
from biomedgpt_tools.model.tiny import tiny_text_vocab_size, write_tiny_tokenizer
from training.assemble import Parts, assemble
from training.config import ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]


def write_lm(folder: Path, with_pad_row: bool = True) -> Path:
    """A random Llama folder with the tiny tokenizer (rows for [PAD] or, like BioMedGPT-LM-7B, not)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    write_tiny_tokenizer(folder)
    vocab = tiny_text_vocab_size() - (0 if with_pad_row else 1)
    torch.manual_seed(1)
    config = LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=256,
                         tie_word_embeddings=False)  # fmt: skip
    LlamaForCausalLM(config).save_pretrained(str(folder))
    return folder


def gin_state(layers: int = 2, hidden: int = 24) -> dict[str, torch.Tensor]:
    """A pretrain-gnns state dict (GraphMVP's key names) with non-default values everywhere."""
    torch.manual_seed(2)
    encoder = GINMoleculeEncoder(MoleculeEncoderConfig(num_layers=layers, hidden_size=hidden))
    state = {}
    for key, value in encoder.state_dict().items():
        if key.endswith("running_var"):
            value = torch.rand_like(value) + 0.5  # a variance stays positive
        elif value.is_floating_point():
            value = value + 0.1 * torch.randn_like(value)
        state[key] = value
    return state


def write_hf_esm(folder: Path) -> Path:
    from transformers import EsmConfig, EsmModel

    from biomedgpt_tools.model.configuration_biomedgpt import _protein_common

    torch.manual_seed(3)
    config = EsmConfig(**_protein_common(), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                       intermediate_size=32)  # fmt: skip
    EsmModel(config, add_pooling_layer=True).save_pretrained(str(folder))
    write_esm_vocab(folder)
    return folder


def test_assembled_folder_holds_each_part_unchanged(tmp_path):
    lm = write_lm(tmp_path / "lm")
    state = gin_state()
    torch.save(state, tmp_path / "gin.pth")
    esm_dir = write_hf_esm(tmp_path / "esm")
    out = assemble(Parts(lm=lm, gin=tmp_path / "gin.pth", esm=esm_dir), tmp_path / "init")

    loaded = BioMedGPT.from_pretrained(out, dtype="fp32")
    model = loaded.model
    from transformers import EsmModel, LlamaForCausalLM

    reference_lm = LlamaForCausalLM.from_pretrained(str(lm))
    for key, value in reference_lm.state_dict().items():
        assert torch.equal(model.llm.state_dict()[key], value), key
    for key, value in state.items():
        assert torch.equal(model.mol_structure_encoder.state_dict()[key], value), key
    reference_esm = EsmModel.from_pretrained(str(esm_dir))
    for key, value in reference_esm.state_dict().items():
        assert torch.equal(model.prot_structure_encoder.state_dict()[key], value), key
    assert (
        model.config.molecule_config.num_layers == 2
        and model.config.molecule_config.hidden_size == 24
    )
    assert tuple(model.proj_mol.weight.shape) == (32, 24)  # fresh: GIN width -> LM width
    # the encoder really reads the GIN weights: the same states as a GIN loaded with them
    reference_gin = GINMoleculeEncoder(MoleculeEncoderConfig(num_layers=2, hidden_size=24))
    reference_gin.load_state_dict(state)
    graph = collate_graphs([featurize_smiles("CC(=O)Oc1ccccc1C(=O)O")])
    with torch.no_grad():
        torch.testing.assert_close(model.mol_structure_encoder(graph), reference_gin.eval()(graph))
    # and the folder answers through the facade (the align stage's starting point)
    from biomedgpt_tools.model.prompt import Molecule
    from biomedgpt_tools.model.requests import GenerationRequest

    result = loaded.generate([GenerationRequest(question="What is it?", inputs=[Molecule("CCO")])],
                             max_new_tokens=3)  # fmt: skip
    assert len(result) == 1


def test_lm_without_a_pad_row_gets_one_and_fresh_parts_are_seeded(tmp_path):
    lm = write_lm(tmp_path / "lm", with_pad_row=False)
    first = assemble(Parts(lm=lm, gin_layers=2, gin_hidden=8, seed=5), tmp_path / "a")
    second = assemble(Parts(lm=lm, gin_layers=2, gin_hidden=8, seed=5), tmp_path / "b")
    a = BioMedGPT.from_pretrained(first, dtype="fp32").model
    b = BioMedGPT.from_pretrained(second, dtype="fp32").model
    assert a.config.text_config.vocab_size == tiny_text_vocab_size()  # [PAD] added as the last id
    for key, value in a.state_dict().items():
        assert torch.equal(b.state_dict()[key], value), key


def test_gin_key_that_does_not_fit_is_named(tmp_path):
    lm = write_lm(tmp_path / "lm")
    state = gin_state()
    state["gnns.0.mlp.5.weight"] = torch.zeros(3)
    torch.save(state, tmp_path / "gin.pth")
    with pytest.raises(ConfigError, match=r"gnns\.0\.mlp\.5\.weight"):
        assemble(Parts(lm=lm, gin=tmp_path / "gin.pth"), tmp_path / "init")
    wrong_shape = gin_state()
    wrong_shape["batch_norms.1.weight"] = torch.zeros(5)
    torch.save(wrong_shape, tmp_path / "gin2.pth")
    with pytest.raises(ConfigError, match=r"batch_norms\.1\.weight.*\(5,\)"):
        assemble(Parts(lm=lm, gin=tmp_path / "gin2.pth"), tmp_path / "init2")


def test_cli_refuses_a_pickled_gin_file_in_one_line(tmp_path):
    lm = write_lm(tmp_path / "lm")
    torch.save(
        {"x_embedding1.weight": torch.zeros(2, 2), "extra": object.__new__(Parts)},
        tmp_path / "evil.pth",
    )
    completed = subprocess.run(
        [sys.executable, "-m", "training", "assemble", "--lm", str(lm), "--gin", str(tmp_path / "evil.pth"),
         "--fresh-esm", "--out", str(tmp_path / "init")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and "weights-only" in lines[0] and "evil.pth" in lines[0], (
        completed.stderr
    )
    assert not (tmp_path / "init").exists()


def test_fair_esm_checkpoint_built_by_fair_esm_gives_its_representations(tmp_path):
    esm = pytest.importorskip("esm")
    from tests.model.test_fair_esm_weights import NUM_LAYERS, fair_esm_tokens, save_hub_checkpoint

    torch.manual_seed(0)
    fair_model = esm.model.esm2.ESM2(
        num_layers=NUM_LAYERS, embed_dim=32, attention_heads=4, token_dropout=True
    ).eval()
    with torch.no_grad():
        for parameter in fair_model.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
    checkpoint = save_hub_checkpoint(fair_model, tmp_path / "hub", "esm2_t2_32_tiny")
    lm = write_lm(tmp_path / "lm")
    out = assemble(Parts(lm=lm, gin_layers=2, gin_hidden=8, fair_esm=checkpoint), tmp_path / "init")

    encoder = BioMedGPT.from_pretrained(out, dtype="fp32").model.prot_structure_encoder
    tokens = fair_esm_tokens(fair_model, [("a", "MKTAYIAKQRQISFVKSHFSRQ"), ("b", "MKV")])  # (B, T)
    mask = (tokens != 1).long()
    with torch.no_grad():
        expected = fair_model(tokens, repr_layers=[NUM_LAYERS])["representations"][NUM_LAYERS]
        got = encoder(input_ids=tokens, attention_mask=mask).last_hidden_state  # (B, T, 32)
    real = mask.bool()
    torch.testing.assert_close(got[real], expected[real], rtol=1e-5, atol=1e-5)


def test_xavier_gin_init_starts_the_soft_tokens_near_word_embedding_scale(tmp_path):
    """The default keeps the model's init (std 0.02: tiny soft tokens); 'xavier' is pretrain-gnns' init."""
    lm = write_lm(tmp_path / "lm")
    graph = collate_graphs([featurize_smiles("CC(=O)Oc1ccccc1C(=O)O")])
    norms = {}
    for init in ("model", "xavier"):
        folder = assemble(
            Parts(lm=lm, gin_layers=2, gin_hidden=24, seed=5, gin_init=init), tmp_path / init
        )
        model = BioMedGPT.from_pretrained(folder, dtype="fp32").model
        table = model.mol_structure_encoder.x_embedding1.weight.detach()
        bound = (6 / sum(table.shape)) ** 0.5
        if init == "xavier":
            assert float(table.abs().max()) <= bound and float(table.std()) > 0.5 * bound / 3**0.5
            assert (
                float(model.mol_structure_encoder.gnns[0].edge_embedding1.weight.detach().std())
                > 0.05
            )
        else:
            assert float(table.std()) < 0.03  # the model's normal(0, 0.02)
        with torch.no_grad():
            tokens = model.proj_mol(model.mol_structure_encoder(graph))
        norms[init] = float(tokens.norm(dim=-1).mean())
        assert "seed 5" in json.loads((folder / "assembled_from.json").read_text())["gin"]
        assert f"{init} init" in json.loads((folder / "assembled_from.json").read_text())["gin"]
    assert norms["xavier"] > 5 * norms["model"], norms


def test_gin_init_is_for_a_fresh_gin_only(tmp_path):
    lm = write_lm(tmp_path / "lm")
    torch.save(gin_state(), tmp_path / "gin.pth")
    with pytest.raises(ConfigError, match="fresh GIN only"):
        assemble(Parts(lm=lm, gin=tmp_path / "gin.pth", gin_init="xavier"), tmp_path / "init")
    with pytest.raises(ConfigError, match="expected one of model, xavier"):
        assemble(
            Parts(lm=lm, gin_layers=2, gin_hidden=8, gin_init="orthogonal"), tmp_path / "init2"
        )
