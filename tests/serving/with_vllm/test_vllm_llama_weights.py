"""vLLM's Llama takes the LM's tensors out of a BioMedGPT checkpoint and nothing else."""

from __future__ import annotations

import torch

from biomedgpt_tools.serving.vllm_llama import lm_weights


def test_the_lm_prefix_is_stripped_and_the_encoders_are_passed_over():
    tensor = torch.zeros(1)
    names = [
        "llm.model.embed_tokens.weight",
        "llm.model.layers.0.self_attn.q_proj.weight",
        "llm.lm_head.weight",
        "mol_structure_encoder.gnns.0.mlp.0.weight",
        "prot_structure_encoder.encoder.layer.0.attention.self.query.weight",
        "proj_mol.weight",
        "proj_prot.bias",
        "model.norm.weight",  # a plain Llama folder's names load unchanged
    ]
    kept = [name for name, _ in lm_weights((name, tensor) for name in names)]
    assert kept == [
        "model.embed_tokens.weight",
        "model.layers.0.self_attn.q_proj.weight",
        "lm_head.weight",
        "model.norm.weight",
    ]
