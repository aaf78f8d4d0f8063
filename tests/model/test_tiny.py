"""Tiny presets: the offline tokenizer and models every test builds on."""

from __future__ import annotations

import sentencepiece
import torch

from biomedgpt_tools.model.configuration_biomedgpt import BioMedGPTConfig
from biomedgpt_tools.model.tiny import (
    build_tiny_biomedgpt,
    build_tiny_model,
    tiny_config,
    tiny_text_vocab_size,
    train_tiny_sentencepiece,
)


def test_tiny_tokenizer_is_deterministic_and_llama_shaped():
    model_bytes = train_tiny_sentencepiece()
    assert model_bytes == train_tiny_sentencepiece()
    processor = sentencepiece.SentencePieceProcessor(model_proto=model_bytes)
    assert (processor.unk_id(), processor.bos_id(), processor.eos_id(), processor.pad_id()) == (
        0,
        1,
        2,
        -1,
    )
    assert (
        processor.id_to_piece(3) == "<0x00>"
    )  # byte fallback right after the specials, as in Llama
    assert processor.encode("x", out_type=str)[0].startswith("\u2581")  # dummy prefix
    assert processor.encode("a  b", out_type=str) == ["\u2581a", "\u2581", "\u2581b"]  # spaces kept
    assert tiny_text_vocab_size() == processor.get_piece_size() + 1


def test_tiny_models_are_reproducible_per_seed():
    first, again, other = (
        build_tiny_model(seed=3),
        build_tiny_model(seed=3),
        build_tiny_model(seed=4),
    )
    a, b, c = first.state_dict(), again.state_dict(), other.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)
    assert not first.training


def test_presets():
    tiny = tiny_config()
    assert tiny.text_config.vocab_size == tiny_text_vocab_size()
    assert tiny.text_config.pad_token_id == tiny.text_config.vocab_size - 1
    small = tiny_config("small")
    assert (
        small.text_config.hidden_size
        == small.protein_config.hidden_size
        == small.molecule_config.hidden_size
        == 256
    )
    assert (
        small.text_config.num_hidden_layers
        == small.protein_config.num_hidden_layers
        == small.molecule_config.num_layers
        == 4
    )
    real = BioMedGPTConfig.from_preset("real")
    assert (
        real.text_config.hidden_size,
        real.text_config.num_hidden_layers,
        real.text_config.vocab_size,
    ) == (4096, 32, 32001)
    assert (real.protein_config.hidden_size, real.protein_config.num_hidden_layers) == (2560, 36)
    assert (real.protein_config.num_attention_heads, real.protein_config.intermediate_size) == (
        40,
        10240,
    )
    assert real.protein_config.token_dropout and not real.protein_config.emb_layer_norm_before
    assert (real.molecule_config.num_layers, real.molecule_config.hidden_size) == (5, 300)


def test_tiny_biomedgpt_answers(tmp_path):
    model = build_tiny_biomedgpt(tmp_path, seed=0)
    from biomedgpt_tools.model.prompt import Molecule
    from biomedgpt_tools.model.requests import GenerationRequest

    result = model.generate(GenerationRequest("Describe it.", [Molecule("CCO")]), max_new_tokens=4)[
        0
    ]
    assert len(result.token_ids) == 4 and isinstance(result.text, str)
    assert model.model_id == "biomedgpt-tiny-seed0"
