"""Makes vLLM know BioMedGPT's LM in every vLLM process (entry point `vllm.general_plugins`).

vLLM starts its engine and workers with spawn, so a model class registered only in the
server's process would be unknown where the weights load; vLLM runs its general plugins in
each process it starts, which is the documented way for a model class outside vLLM. This
module imports nothing heavy: vLLM imports it early in each of its processes.
"""

from __future__ import annotations

VLLM_ARCHITECTURE = "BioMedGPTLlamaForCausalLM"
_CLASS_PATH = "biomedgpt_tools.serving.vllm_llama:BioMedGPTLlamaForCausalLM"


def register() -> None:
    """Register the architecture (idempotent: vLLM may call plugins more than once)."""
    from vllm import ModelRegistry

    if VLLM_ARCHITECTURE not in ModelRegistry.get_supported_archs():
        ModelRegistry.register_model(VLLM_ARCHITECTURE, _CLASS_PATH)
