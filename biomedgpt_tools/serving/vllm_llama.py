"""vLLM's Llama reading the LM straight out of a BioMedGPT folder's safetensors shards.

A BioMedGPT folder stores the LM under `llm.` next to the encoders (`mol_structure_encoder.`,
`prot_structure_encoder.`, `proj_*`). This class takes the `llm.` tensors without the prefix
and passes over the rest, so vLLM can load the folder's own shards (symlinked, see
llama_folder.py) instead of a second copy of the 13.5 GB LM. Unprefixed names (a plain
Llama folder) load unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import torch
from vllm.model_executor.models.llama import LlamaForCausalLM

LM_PREFIX = "llm."
ENCODER_PREFIXES = ("mol_structure_encoder.", "prot_structure_encoder.", "proj_mol.", "proj_prot.")


def lm_weights(
    weights: Iterable[tuple[str, torch.Tensor]],
) -> Iterator[tuple[str, torch.Tensor]]:
    """The LM's tensors under Llama's own names; the encoders' tensors are dropped."""
    for name, tensor in weights:
        if name.startswith(LM_PREFIX):
            yield name[len(LM_PREFIX) :], tensor
        elif not name.startswith(ENCODER_PREFIXES):
            yield name, tensor


class BioMedGPTLlamaForCausalLM(LlamaForCausalLM):
    """LlamaForCausalLM whose weights come from a BioMedGPT checkpoint."""

    def load_weights(self, weights: Iterable[tuple[str, torch.Tensor]]) -> set[str]:
        return super().load_weights(lm_weights(weights))
