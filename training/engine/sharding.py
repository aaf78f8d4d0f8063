"""FSDP2 (`fully_shard`) with bf16 mixed precision on GPU, plus activation checkpointing.

Units: every Llama decoder layer, the LM's input embedding + head (stages call the
embedding directly to build `inputs_embeds`, so it must unshard on its own), and the rest
(encoders, projections, final norm) under the root. The root must be the module whose
`forward` the loop calls.

Every rank must run the same units in the same order: FSDP's all-gathers are collectives.
The LM runs on every micro-batch, but an encoder runs only when its modality is present,
which differs between ranks; so the encoders live in the root unit (gathered once per
forward on every rank) instead of units of their own.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard


def compute_dtype(mixed_precision: str, device: torch.device) -> torch.dtype:
    """bf16 on GPU (the paper), fp32 on CPU where bf16 matmuls are slow and inexact."""
    if mixed_precision == "bf16" or (mixed_precision == "auto" and device.type == "cuda"):
        return torch.bfloat16
    return torch.float32


def enable_activation_checkpointing(llm: nn.Module) -> None:
    """Recompute decoder layers in backward (non-reentrant: works with frozen layers and FSDP)."""
    llm.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    llm.config.use_cache = False


def _units(root: nn.Module) -> list[nn.Module | list[nn.Module]]:
    """Decoder layers, and the LM's embedding + head as one unit (they may be tied)."""
    units: list[nn.Module | list[nn.Module]] = []
    for module in root.modules():
        if type(module).__name__ == "LlamaDecoderLayer":
            units.append(module)
    for module in root.modules():
        if hasattr(module, "get_input_embeddings") and hasattr(module, "lm_head"):
            units.append([module.get_input_embeddings(), module.lm_head])
    return units


def shard_model(root: nn.Module, dtype: torch.dtype, device: torch.device) -> nn.Module:
    """Shard `root` in place across the default process group; returns it."""
    policy = MixedPrecisionPolicy(param_dtype=dtype, reduce_dtype=torch.float32)
    root.to(device)
    for unit in _units(root):
        fully_shard(unit, mp_policy=policy)
    fully_shard(root, mp_policy=policy)
    return root
