"""BioMedGPTForConditionalGeneration: composition, splicing, labels, dtypes, save/load."""

from __future__ import annotations

import pytest
import torch
from transformers import EsmModel, LlamaForCausalLM

from biomedgpt_tools.model.configuration_biomedgpt import BioMedGPTConfig
from biomedgpt_tools.model.modeling_biomedgpt import (
    IGNORE_INDEX,
    BioMedGPTForConditionalGeneration,
    build_multimodal_batch,
    position_ids_from_mask,
)
from biomedgpt_tools.model.molecule_graph import featurize_smiles
from biomedgpt_tools.model.prompt import Conversation, Molecule, Protein, Turn, render_prompt
from biomedgpt_tools.model.protein_sequence import protein_token_ids
from biomedgpt_tools.model.tiny import build_tiny_model

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
PROTEIN = "MKTAYIAKQRQISFVKSHFSRQ"


def conversations():
    return [
        Conversation([Turn("Please describe the molecule.", [Molecule(ASPIRIN)])]),
        Conversation(
            [
                Turn("Describe it.", [Molecule("CCO")], answer="Ethanol."),
                Turn(
                    "Does this molecule bind to this protein?",
                    [Molecule("C/C=C/C"), Protein(PROTEIN)],
                ),
            ]
        ),
        Conversation([Turn("What is its function?", [Protein("MKV")])]),
        Conversation([Turn("What is aspirin?")]),
    ]


def test_submodules_and_state_dict_prefixes(tiny_model):
    assert isinstance(tiny_model.prot_structure_encoder, EsmModel)
    assert isinstance(tiny_model.llm, LlamaForCausalLM)
    prefixes = {key.split(".")[0] for key in tiny_model.state_dict()}
    assert prefixes == {
        "mol_structure_encoder",
        "prot_structure_encoder",
        "llm",
        "proj_mol",
        "proj_prot",
    }
    keys = set(tiny_model.state_dict())
    assert "prot_structure_encoder.pooler.dense.weight" in keys  # built with the default pooler
    assert "prot_structure_encoder.contact_head.regression.weight" in keys
    assert "llm.lm_head.weight" in keys and "llm.model.embed_tokens.weight" in keys  # untied
    assert (
        tiny_model.llm.lm_head.weight.data_ptr()
        != tiny_model.llm.model.embed_tokens.weight.data_ptr()
    )


def test_real_preset_has_the_released_shapes():
    config = BioMedGPTConfig.from_preset("real")
    with torch.device("meta"):
        model = BioMedGPTForConditionalGeneration(config)
    shapes = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    assert shapes["llm.model.embed_tokens.weight"] == (32001, 4096)
    assert shapes["llm.lm_head.weight"] == (32001, 4096)
    assert shapes["proj_mol.weight"] == (4096, 300)
    assert shapes["proj_prot.weight"] == (4096, 2560)
    assert shapes["prot_structure_encoder.embeddings.word_embeddings.weight"] == (33, 2560)
    assert shapes["mol_structure_encoder.x_embedding1.weight"] == (120, 300)
    assert (
        sum(1 for k in shapes if k.startswith("llm.model.layers.") and k.endswith("q_proj.weight"))
        == 32
    )
    assert (
        sum(
            1
            for k in shapes
            if k.startswith("prot_structure_encoder.encoder.layer.") and k.endswith("query.weight")
        )
        == 36
    )
    assert config.text_config.pad_token_id == 32000


def test_soft_tokens_land_in_their_slots(tiny_model, segment_encoder):
    convs = conversations()
    pad = tiny_model.config.text_config.pad_token_id
    batch = build_multimodal_batch(convs, segment_encoder, pad)
    assert batch.modalities == ["molecule", "molecule", "molecule", "protein", "protein"]
    with torch.no_grad():
        embeds = tiny_model.embed_batch(batch)  # embed_inputs on the batch's fields
        # Expected, built independently: each row = E(seg0), soft(input0), E(seg1), ...
        table = tiny_model.llm.get_input_embeddings().weight
        for row, conversation in enumerate(convs):
            tokenized = segment_encoder.tokenize_prompt(render_prompt(conversation))
            pieces = [table[torch.tensor(tokenized.segment_ids[0])]]
            for item, segment in zip(conversation.inputs, tokenized.segment_ids[1:], strict=True):
                if isinstance(item, Molecule):
                    states = tiny_model.mol_structure_encoder(featurize_smiles(item.smiles))
                    pieces.append(tiny_model.proj_mol(states))
                else:
                    ids = torch.tensor([protein_token_ids(item.sequence)])
                    states = tiny_model.prot_structure_encoder(input_ids=ids).last_hidden_state[0]
                    pieces.append(tiny_model.proj_prot(states))
                pieces.append(table[torch.tensor(segment, dtype=torch.long)])
            expected = torch.cat(pieces)  # (T_row, C)
            length = int(batch.attention_mask[row].sum())
            assert length == expected.shape[0] == batch.prompt_lengths[row]
            assert batch.attention_mask[row, : embeds.shape[1] - length].sum() == 0  # left padding
            torch.testing.assert_close(embeds[row, -length:], expected, rtol=1e-5, atol=1e-5)


def test_protein_soft_tokens_cover_cls_residues_and_eos(tiny_model, segment_encoder):
    pad = tiny_model.config.text_config.pad_token_id
    batch = build_multimodal_batch(
        [Conversation([Turn("q", [Protein(PROTEIN)])])], segment_encoder, pad
    )
    assert int(batch.soft_token_mask.sum()) == len(PROTEIN) + 2


def test_count_mismatch_is_a_clear_error(tiny_model, segment_encoder):
    pad = tiny_model.config.text_config.pad_token_id
    batch = build_multimodal_batch(conversations()[:2], segment_encoder, pad)
    with pytest.raises(
        ValueError, match="3 molecule and 1 protein placeholders but 3 molecules and 0 proteins"
    ):
        tiny_model.embed_inputs(
            batch.input_ids, batch.soft_token_mask, batch.modalities, batch.molecule_graph
        )
    fewer_slots = batch.soft_token_mask.clone()
    fewer_slots[0, fewer_slots[0].nonzero()[0]] = False
    with pytest.raises(ValueError, match="soft-token slots but the molecules and proteins give"):
        tiny_model.embed_inputs(
            batch.input_ids,
            fewer_slots,
            batch.modalities,
            batch.molecule_graph,
            batch.protein_input_ids,
            batch.protein_attention_mask,
        )


def test_soft_tokens_change_the_output(tiny_model, segment_encoder):
    pad = tiny_model.config.text_config.pad_token_id
    first = build_multimodal_batch(
        [Conversation([Turn("q", [Molecule("CCO")])])], segment_encoder, pad
    )
    second = build_multimodal_batch(
        [Conversation([Turn("q", [Molecule("CCN")])])], segment_encoder, pad
    )
    with torch.no_grad():
        a = tiny_model(**first.model_inputs()).logits[0, -1]
        b = tiny_model(**second.model_inputs()).logits[0, -1]
    assert not torch.allclose(a, b, atol=1e-3)


def test_left_padding_does_not_change_a_row(tiny_model, segment_encoder):
    pad = tiny_model.config.text_config.pad_token_id
    convs = conversations()
    batch = build_multimodal_batch(convs, segment_encoder, pad)
    with torch.no_grad():
        together = tiny_model(**batch.model_inputs()).logits
        for row, conversation in enumerate(convs):
            alone = tiny_model(
                **build_multimodal_batch([conversation], segment_encoder, pad).model_inputs()
            ).logits[0]
            torch.testing.assert_close(
                together[row, -alone.shape[0] :], alone, rtol=1e-4, atol=1e-4
            )


def test_position_ids_start_at_each_rows_first_token():
    mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
    assert position_ids_from_mask(mask).tolist() == [[0, 0, 0, 1, 2], [0, 1, 2, 3, 4]]


def test_training_labels_cover_only_the_answer_and_eos(segment_encoder):
    model = build_tiny_model(seed=1)
    model.train()
    pad = model.config.text_config.pad_token_id
    convs = conversations()[:3]
    answers = ["It is aspirin.", "Yes.", "It binds DNA and regulates transcription."]
    batch = build_multimodal_batch(convs, segment_encoder, pad, answers=answers, eos_token_id=2)
    for row, answer in enumerate(answers):
        labelled = batch.labels[row][batch.labels[row] != IGNORE_INDEX].tolist()
        assert labelled == segment_encoder.encode(answer) + [2]
        assert not (batch.soft_token_mask[row] & (batch.labels[row] != IGNORE_INDEX)).any()
        assert batch.input_ids[row, -len(labelled) :].tolist() == labelled
    output = model(**batch.model_inputs())
    assert torch.isfinite(output.loss)
    output.loss.backward()
    assert model.proj_mol.weight.grad is not None and model.proj_mol.weight.grad.abs().sum() > 0
    assert model.proj_prot.weight.grad.abs().sum() > 0
    assert model.mol_structure_encoder.x_embedding1.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_whole_model_runs_in_half_precision_on_cpu(dtype, tiny_model, segment_encoder):
    half = build_tiny_model(seed=0, dtype=dtype)
    pad = half.config.text_config.pad_token_id
    batch = build_multimodal_batch(conversations(), segment_encoder, pad)
    with torch.no_grad():
        logits = half(**batch.model_inputs()).logits
        reference = tiny_model(**batch.model_inputs()).logits
    assert logits.dtype == dtype
    assert torch.isfinite(logits).all()
    # Same weights rounded: the next-token distributions stay close.
    real = batch.attention_mask.bool()
    close = torch.cosine_similarity(logits.float()[real], reference[real], dim=-1)
    assert close.min() > 0.95


def test_save_and_load_round_trip(tiny_model, segment_encoder, tmp_path):
    tiny_model.save_pretrained(str(tmp_path), max_shard_size="100KB")
    files = sorted(path.name for path in tmp_path.iterdir())
    assert "config.json" in files and "model.safetensors.index.json" in files
    assert sum(name.endswith(".safetensors") for name in files) > 1
    loaded = BioMedGPTForConditionalGeneration.from_pretrained(str(tmp_path)).eval()
    original, restored = tiny_model.state_dict(), loaded.state_dict()
    assert original.keys() == restored.keys()
    assert all(torch.equal(original[k], restored[k]) for k in original)
    batch = build_multimodal_batch(
        conversations(), segment_encoder, tiny_model.config.text_config.pad_token_id
    )
    with torch.no_grad():
        torch.testing.assert_close(
            loaded(**batch.model_inputs()).logits, tiny_model(**batch.model_inputs()).logits
        )
