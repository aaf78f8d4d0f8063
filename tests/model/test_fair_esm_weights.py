"""fair-esm checkpoint -> transformers EsmModel, checked against a tiny ESM2 built by fair-esm."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import torch

from biomedgpt_tools.model.fair_esm_weights import (
    FairEsmCheckpointError,
    fair_esm_hub_checkpoint,
    load_fair_esm_checkpoint,
)
from biomedgpt_tools.model.protein_sequence import protein_token_ids

esm = pytest.importorskip("esm")
transformers = pytest.importorskip("transformers")

NUM_LAYERS, EMBED_DIM, HEADS = 2, 32, 4
SEQUENCES = [
    ("long", "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVV"),
    ("short", "MKV"),
    ("masked", "MKT<mask>YIAKQ<mask>QISF"),  # exercises token dropout's mask rescaling
    ("rare", "MXBUZOACDEFGHIKLNPQRSTVWY"),
]


def fairseq_key(key: str) -> str:
    """The prefixes fair-esm's released .pt files carry (stripped by esm.pretrained)."""
    return ("encoder." if key.startswith("lm_head.") else "encoder.sentence_encoder.") + key


def save_hub_checkpoint(model, directory: Path, name: str, *, regression: bool = True) -> Path:
    """Save `model` the way fair-esm's downloads sit in the torch hub cache."""
    state = model.state_dict()
    body = {fairseq_key(k): v for k, v in state.items() if not k.startswith("contact_head.")}
    cfg = argparse.Namespace(
        _name="ESM-2",
        encoder_layers=NUM_LAYERS,
        encoder_embed_dim=EMBED_DIM,
        encoder_ffn_embed_dim=4 * EMBED_DIM,
        encoder_attention_heads=HEADS,
        token_dropout=True,
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.pt"
    torch.save({"model": body, "cfg": {"model": cfg}}, path)
    if regression:
        heads = {k: v for k, v in state.items() if k.startswith("contact_head.")}
        torch.save({"model": heads}, directory / f"{name}-contact-regression.pt")
    return path


@pytest.fixture(scope="module")
def fair_model():
    """A tiny ESM2 from fair-esm itself, every weight perturbed so that no two look alike."""
    torch.manual_seed(0)
    model = esm.model.esm2.ESM2(
        num_layers=NUM_LAYERS, embed_dim=EMBED_DIM, attention_heads=HEADS, token_dropout=True
    ).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.1 * torch.randn_like(parameter))
    return model


@pytest.fixture
def hub_dir(tmp_path, monkeypatch) -> Path:
    """A private torch hub cache; returns its checkpoints/ folder."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)
    return Path(torch.hub.get_dir()) / "checkpoints"


@pytest.fixture
def checkpoint(fair_model, hub_dir) -> Path:
    return save_hub_checkpoint(fair_model, hub_dir, "esm2_t2_32_tiny")


def fair_esm_tokens(model, sequences):
    _, _, tokens = model.alphabet.get_batch_converter()(sequences)
    return tokens  # (B, T) long, right-padded with <pad> = 1


def test_fixture_is_in_the_format_fair_esm_itself_loads(checkpoint, fair_model):
    with torch.serialization.safe_globals([argparse.Namespace]):
        reloaded, _ = esm.pretrained.load_model_and_alphabet_local(str(checkpoint))
    for key, value in fair_model.state_dict().items():
        assert torch.equal(reloaded.state_dict()[key], value), key


def test_converted_esm_model_matches_fair_esm_representations(checkpoint, fair_model):
    assert fair_esm_hub_checkpoint("esm2_t2_32_tiny") == checkpoint
    weights = load_fair_esm_checkpoint(fair_esm_hub_checkpoint("esm2_t2_32_tiny"))
    config = weights.config
    assert (config.hidden_size, config.num_hidden_layers, config.num_attention_heads) == (32, 2, 4)
    assert config.intermediate_size == 128 and config.vocab_size == 33
    assert config.position_embedding_type == "rotary" and config.token_dropout is True

    model = transformers.EsmModel(config).eval()
    left_alone = weights.load_into(model)
    assert left_alone == ["pooler.dense.bias", "pooler.dense.weight"]
    assert weights.unused_keys == sorted(
        k for k in fair_model.state_dict() if k.startswith("lm_head.")
    )

    tokens = fair_esm_tokens(fair_model, SEQUENCES)  # (B, T)
    attention_mask = (tokens != 1).long()  # (B, T)
    with torch.no_grad():
        expected = fair_model(tokens, repr_layers=[NUM_LAYERS])["representations"][NUM_LAYERS]
        got = model(input_ids=tokens, attention_mask=attention_mask).last_hidden_state  # (B, T, C)
    real = attention_mask.bool()
    assert real.sum() < real.numel()  # the batch has padding
    torch.testing.assert_close(got[real], expected[real], rtol=1e-5, atol=1e-5)
    # and each sequence alone (no padding) gives the same states as inside the batch
    for row, (_, sequence) in enumerate(SEQUENCES[:2]):
        ids = torch.tensor([protein_token_ids(sequence)])  # (1, L + 2)
        assert ids[0].tolist() == tokens[row, : ids.shape[1]].tolist()
        with torch.no_grad():
            alone = model(input_ids=ids).last_hidden_state[0]  # (L + 2, C)
        torch.testing.assert_close(alone, expected[row, : ids.shape[1]], rtol=1e-5, atol=1e-5)


def test_contact_head_comes_from_the_regression_file(checkpoint, fair_model):
    weights = load_fair_esm_checkpoint(checkpoint)
    assert weights.has_contact_head
    torch.testing.assert_close(
        weights.state_dict["contact_head.regression.weight"],
        fair_model.state_dict()["contact_head.regression.weight"],
    )
    without = load_fair_esm_checkpoint(checkpoint, contact_regression=None)
    assert not without.has_contact_head
    left_alone = without.load_into(transformers.EsmModel(without.config))
    assert left_alone == [
        "contact_head.regression.bias",
        "contact_head.regression.weight",
        "pooler.dense.bias",
        "pooler.dense.weight",
    ]


def test_dtype_cast(checkpoint):
    weights = load_fair_esm_checkpoint(checkpoint, dtype=torch.bfloat16)
    inv_freq = weights.state_dict.pop("rotary_embeddings.inv_freq")
    assert {t.dtype for t in weights.state_dict.values()} == {torch.bfloat16}
    assert inv_freq.dtype == torch.float32  # the file's frequencies, not rounded to bf16


def test_missing_hub_file_says_how_to_get_it(hub_dir):
    with pytest.raises(FileNotFoundError, match=r"esm2_t36_3B_UR50D\.pt.*esm\.pretrained"):
        fair_esm_hub_checkpoint()


def rewrite(checkpoint: Path, edit) -> Path:
    data = torch.load(checkpoint, weights_only=False)  # our own test file
    edit(data)
    path = checkpoint.with_name("edited.pt")
    torch.save(data, path)
    return path


def test_renamed_key_is_named(checkpoint):
    def rename(data):
        data["model"]["encoder.sentence_encoder.layers.1.fc3.weight"] = data["model"].pop(
            "encoder.sentence_encoder.layers.1.fc2.weight"
        )

    with pytest.raises(FairEsmCheckpointError, match=r"layers\.1\.fc3\.weight") as info:
        load_fair_esm_checkpoint(rewrite(checkpoint, rename))
    assert "does not have" in str(info.value)


def test_removed_key_is_named(checkpoint):
    def remove(data):
        del data["model"]["encoder.sentence_encoder.layers.0.self_attn.k_proj.bias"]

    with pytest.raises(
        FairEsmCheckpointError, match=r"missing.*layers\.0\.self_attn\.k_proj\.bias"
    ):
        load_fair_esm_checkpoint(rewrite(checkpoint, remove))


def test_missing_heads_setting_is_named(checkpoint):
    def drop_heads(data):
        del data["cfg"]["model"].encoder_attention_heads

    with pytest.raises(FairEsmCheckpointError, match="encoder_attention_heads"):
        load_fair_esm_checkpoint(rewrite(checkpoint, drop_heads))


def test_esm1b_checkpoint_is_refused(tmp_path):
    path = tmp_path / "esm1b_t33_650M_UR50S.pt"
    torch.save({"model": {}, "args": argparse.Namespace(arch="roberta_large")}, path)
    with pytest.raises(FairEsmCheckpointError, match="roberta_large.*not ESM-2"):
        load_fair_esm_checkpoint(path)


def test_plain_state_dict_is_refused(tmp_path, fair_model):
    path = tmp_path / "state_dict.pt"
    torch.save(fair_model.state_dict(), path)
    with pytest.raises(FairEsmCheckpointError, match="not a fair-esm checkpoint"):
        load_fair_esm_checkpoint(path)


def test_text_file_is_refused(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("not a checkpoint\n")
    with pytest.raises(FairEsmCheckpointError, match="cannot read"):
        load_fair_esm_checkpoint(path)


def test_truncated_download_is_refused(checkpoint):
    truncated = checkpoint.with_name("truncated.pt")
    truncated.write_bytes(checkpoint.read_bytes()[:4096])
    with pytest.raises(FairEsmCheckpointError, match="cannot read.*truncated.pt"):
        load_fair_esm_checkpoint(truncated)


def test_legacy_torch_format_is_read_without_mmap(checkpoint):
    legacy = checkpoint.with_name("legacy.pt")
    data = torch.load(checkpoint, weights_only=False)  # our own test file
    torch.save(data, legacy, _use_new_zipfile_serialization=False)
    weights = load_fair_esm_checkpoint(legacy)
    assert weights.config.num_hidden_layers == NUM_LAYERS


class SideEffect:
    """A class the weights-only unpickler must refuse: restoring it would run our code."""

    restored = False

    def __setstate__(self, state):
        SideEffect.restored = True


def test_pickled_code_is_refused_without_running(tmp_path):
    path = tmp_path / "esm2_evil.pt"
    torch.save({"model": {}, "cfg": {"model": SideEffect()}}, path)
    with pytest.raises(FairEsmCheckpointError, match=r"SideEffect.*refusing to run pickle code"):
        load_fair_esm_checkpoint(path)
    assert SideEffect.restored is False


def test_load_into_a_model_of_another_size_names_the_mismatch(checkpoint):
    weights = load_fair_esm_checkpoint(checkpoint)
    other = transformers.EsmConfig(**{**weights.config.to_dict(), "intermediate_size": 64})
    with pytest.raises(FairEsmCheckpointError, match=r"intermediate\.dense\.weight.*\(128, 32\)"):
        weights.load_into(transformers.EsmModel(other))
