"""Strict loading of a tiny checkpoint laid out like the official biomedgpt_10b.pth."""

from __future__ import annotations

import json
import re

import pytest
import torch

from biomedgpt_tools.model.api import BioMedGPT
from biomedgpt_tools.model.configuration_biomedgpt import BioMedGPTConfig
from biomedgpt_tools.model.modeling_biomedgpt import (
    BioMedGPTForConditionalGeneration,
    build_multimodal_batch,
)
from biomedgpt_tools.model.official_checkpoint import (
    ESM_POSITION_EMBEDDINGS,
    ESM_SHARED_INV_FREQ,
    OfficialCheckpointError,
    load_official_model,
    load_official_state_dict,
    official_config,
    translate_official_state_dict,
)
from biomedgpt_tools.model.placement import default_dtype
from biomedgpt_tools.model.prompt import Molecule, Protein
from biomedgpt_tools.model.requests import GenerationRequest
from biomedgpt_tools.model.tiny import build_tiny_model
from biomedgpt_tools.testing.official_layout import official_state_dict, write_official_checkpoint

ESM_LAYER_0_INV_FREQ = (
    "prot_structure_encoder.encoder.layer.0.attention.self.rotary_embeddings.inv_freq"
)
LLM_LAYER_1_INV_FREQ = "llm.model.layers.1.self_attn.rotary_emb.inv_freq"


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    """(source model, .pth, llm_dir, esm_dir) of a tiny model written in the official layout."""
    folder = tmp_path_factory.mktemp("official")
    model = build_tiny_model(seed=3)
    path = write_official_checkpoint(
        model, folder / "biomedgpt_tiny.pth", folder / "llm", folder / "esm"
    )
    return model, path, folder / "llm", folder / "esm"


def _resave(official, tmp_path, edit) -> torch.nn.Module:
    """Copy of the official file with `edit(state_dict)` applied; returns its path."""
    state_dict = torch.load(official[1], weights_only=True)
    edit(state_dict)
    path = tmp_path / "edited.pth"
    torch.save(state_dict, path)
    return path


def _batch(biomedgpt: BioMedGPT):
    requests = [
        GenerationRequest("Please describe the molecule.", [Molecule("CC(=O)Oc1ccccc1C(=O)O")]),
        GenerationRequest(
            "What is the function of this protein?", [Protein("MKTAYIAKQRQISFVKSHFSRQ")]
        ),
        GenerationRequest(
            "Does this molecule bind to this protein?",
            [Molecule("C[C@H](N)C(=O)O"), Protein("GSHMSLFDF")],
        ),
    ]
    return build_multimodal_batch(
        [r.conversation() for r in requests], biomedgpt.segments, biomedgpt._pad_token_id
    )


def test_written_file_has_the_official_layout(official):
    model, path, llm_dir, esm_dir = official
    state_dict = load_official_state_dict(path)
    config = model.config
    esm_layers, llm_layers = (
        config.protein_config.num_hidden_layers,
        config.text_config.num_hidden_layers,
    )
    ours = set(model.state_dict())
    assert ESM_SHARED_INV_FREQ not in state_dict
    assert ESM_POSITION_EMBEDDINGS in state_dict
    assert ESM_LAYER_0_INV_FREQ in state_dict and LLM_LAYER_1_INV_FREQ in state_dict
    assert "prot_structure_encoder.embeddings.position_ids" not in state_dict
    assert "mol_structure_encoder.batch_norms.0.num_batches_tracked" in state_dict
    assert len(state_dict) == len(ours) - 1 + esm_layers + llm_layers + 1
    for key, tensor in state_dict.items():
        if tensor.is_floating_point():
            half = key.startswith(("llm.", "prot_structure_encoder."))
            assert tensor.dtype == (torch.float16 if half else torch.float32), key
    llm_config = json.loads((llm_dir / "config.json").read_text())
    assert llm_config["vocab_size"] == config.text_config.vocab_size - 1  # without [PAD]
    assert (llm_dir / "tokenizer.model").is_file()
    assert (esm_dir / "vocab.txt").is_file() and (esm_dir / "config.json").is_file()


def test_the_real_size_layout_reconciles():
    """On the meta device (no memory): the released file's 1004 keys, 323 LM + 620 ESM + 57 GIN
    + 4 projections, become exactly the current model's keys."""
    config = BioMedGPTConfig.from_preset("real")
    with torch.device("meta"):
        model = BioMedGPTForConditionalGeneration(config)
    written = official_state_dict(model)
    prefixes = [key.split(".")[0] for key in written]
    counts = {name: prefixes.count(name) for name in dict.fromkeys(prefixes)}
    assert counts == {
        "mol_structure_encoder": 57,
        "prot_structure_encoder": 620,
        "llm": 323,
        "proj_mol": 2,
        "proj_prot": 2,
    }
    translated = translate_official_state_dict(written, config)
    assert set(translated) == set(model.state_dict())
    assert translated["llm.model.embed_tokens.weight"].shape == (32001, 4096)


def test_config_comes_from_the_folders_and_the_tensors(official):
    model, path, llm_dir, esm_dir = official
    config = official_config(load_official_state_dict(path), llm_dir, esm_dir)
    assert config.text_config.vocab_size == model.config.text_config.vocab_size  # from embed rows
    assert config.text_config.pad_token_id == config.text_config.vocab_size - 1
    assert config.molecule_config.num_layers == model.config.molecule_config.num_layers
    assert config.molecule_config.hidden_size == model.config.molecule_config.hidden_size
    assert config.protein_config.hidden_size == model.config.protein_config.hidden_size


def test_loaded_model_holds_the_file_weights_and_matches_a_plain_load(official):
    model, path, llm_dir, esm_dir = official
    loaded = load_official_model(path, llm_dir=llm_dir, esm_dir=esm_dir)
    assert loaded.dtype == torch.float32 and not loaded.training
    file_weights = load_official_state_dict(path)
    for key, tensor in loaded.state_dict().items():
        source = (
            file_weights[ESM_LAYER_0_INV_FREQ] if key == ESM_SHARED_INV_FREQ else file_weights[key]
        )
        assert torch.equal(tensor, source.to(tensor.dtype)), key

    # The same weights through the ordinary nn.Module path: a fully built model and a strict
    # load_state_dict. Equal logits show the meta-device load set every buffer right.
    config = official_config(file_weights, llm_dir, esm_dir)
    plain = BioMedGPTForConditionalGeneration(config)
    plain.load_state_dict(translate_official_state_dict(file_weights, config), strict=True)
    plain = plain.float().eval()
    biomedgpt = BioMedGPT.from_components(loaded, llm_dir, esm_dir)
    batch = _batch(biomedgpt)
    with torch.inference_mode():
        expected = plain(**batch.model_inputs()).logits
        got = loaded(**batch.model_inputs()).logits
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    with torch.inference_mode():  # and the source model, up to the fp16 rounding of the file
        source = model(**batch.model_inputs()).logits
    assert (got - source).abs().max() < 0.05 * source.abs().max()


def test_dtype_choice(official):
    _, path, llm_dir, esm_dir = official
    loaded = load_official_model(path, llm_dir=llm_dir, esm_dir=esm_dir, dtype=torch.bfloat16)
    assert {p.dtype for p in loaded.parameters()} == {torch.bfloat16}
    assert default_dtype("cpu") == torch.float32
    assert default_dtype("cuda:1") == torch.float16


def _rename(old, new):
    def edit(state_dict):
        state_dict[new] = state_dict.pop(old)

    return edit


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (_rename("llm.model.layers.0.mlp.up_proj.weight", "llm.model.layers.0.mlp.upper_proj.weight"),
         ["llm.model.layers.0.mlp.up_proj.weight", "llm.model.layers.0.mlp.upper_proj.weight"]),
        (lambda sd: sd.pop("mol_structure_encoder.batch_norms.1.running_var"),
         ["1 missing key(s): mol_structure_encoder.batch_norms.1.running_var"]),
        (lambda sd: sd.update({"proj_mol.scale": torch.ones(3)}), ["1 unexpected key(s): proj_mol.scale"]),
        (lambda sd: sd.update({"proj_prot.bias": torch.zeros(5)}), ["proj_prot.bias (5,) in the file"]),
        (lambda sd: sd.pop(ESM_LAYER_0_INV_FREQ), [ESM_LAYER_0_INV_FREQ]),
        (lambda sd: sd.pop(LLM_LAYER_1_INV_FREQ), ["LM rotary frequencies of only 1 of 2 layers", LLM_LAYER_1_INV_FREQ]),
        (lambda sd: sd[LLM_LAYER_1_INV_FREQ].mul_(2), [LLM_LAYER_1_INV_FREQ]),
        (lambda sd: sd["prot_structure_encoder.encoder.layer.1.attention.self.rotary_embeddings.inv_freq"].add_(0.5),
         ["prot_structure_encoder.encoder.layer.1.attention.self.rotary_embeddings.inv_freq differs"]),
    ],
    ids=["renamed", "removed", "unexpected", "shape", "esm-inv-freq-missing",
        "llm-inv-freq-missing", "llm-inv-freq-wrong", "esm-inv-freq-disagree"],
)  # fmt: skip
def test_any_other_difference_is_an_error_naming_the_key(official, tmp_path, edit, named):
    _, _, llm_dir, esm_dir = official
    path = _resave(official, tmp_path, edit)
    with pytest.raises(OfficialCheckpointError) as error:
        load_official_model(path, llm_dir=llm_dir, esm_dir=esm_dir)
    for text in named:
        assert text in str(error.value)


def test_many_missing_keys_are_counted_not_all_listed(official, tmp_path):
    _, _, llm_dir, esm_dir = official
    path = _resave(
        official, tmp_path, lambda sd: [sd.pop(k) for k in list(sd) if k.startswith("proj_")]
    )
    with pytest.raises(OfficialCheckpointError, match=re.escape("4 missing key(s): proj_mol.bias")):
        load_official_model(path, llm_dir=llm_dir, esm_dir=esm_dir)


def test_configs_that_do_not_belong_to_the_file_are_refused(official, tmp_path):
    _, path, llm_dir, esm_dir = official
    wrong_esm = tmp_path / "esm"
    wrong_esm.mkdir()
    config = json.loads((esm_dir / "config.json").read_text())
    (wrong_esm / "config.json").write_text(json.dumps(config | {"intermediate_size": 48}))
    with pytest.raises(
        OfficialCheckpointError,
        match=r"intermediate\.dense\.weight \(32, 16\) in the file, \(48, 16\)",
    ):
        load_official_model(path, llm_dir=llm_dir, esm_dir=wrong_esm)
    (wrong_esm / "config.json").write_text(json.dumps(config | {"model_type": "bert"}))
    with pytest.raises(OfficialCheckpointError, match="model_type 'bert', expected 'esm'"):
        load_official_model(path, llm_dir=llm_dir, esm_dir=wrong_esm)
    with pytest.raises(OfficialCheckpointError, match="no config.json"):
        load_official_model(path, llm_dir=tmp_path, esm_dir=esm_dir)


class NotATensor:
    pass


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"model": {"proj_mol.weight": torch.ones(2)}}, "wraps its weights under the key 'model'"),
        ({"proj_mol.weight": torch.ones(2), "step": 3}, "not a flat dict of tensors: step is not"),
        ([torch.ones(2)], "holds a list, not a state dict"),
        ({"module.proj_mol.weight": torch.ones(2)}, "starts with 'module.'"),
        ({"proj_mol.weight": NotATensor()}, "objects other than tensors"),
    ],
    ids=["wrapper", "non-tensor", "list", "ddp", "pickled-class"],
)
def test_files_that_are_not_a_flat_state_dict(tmp_path, content, message):
    path = tmp_path / "weights.pth"
    torch.save(content, path)
    with pytest.raises(OfficialCheckpointError, match=re.escape(message)):
        load_official_state_dict(path)


def test_missing_directory_and_foreign_files(tmp_path):
    with pytest.raises(OfficialCheckpointError, match="does not exist"):
        load_official_state_dict(tmp_path / "absent.pth")
    with pytest.raises(OfficialCheckpointError, match="is not a file"):
        load_official_state_dict(tmp_path)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"\x80\x02not a zip at all")
    with pytest.raises(OfficialCheckpointError, match="not a torch checkpoint in the zip format"):
        load_official_state_dict(garbage)
