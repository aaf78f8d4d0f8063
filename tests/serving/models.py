"""The model the serving tests serve: the tiny preset with head_dim 32 (vLLM's CPU kernels need >= 32)."""

from __future__ import annotations

from pathlib import Path

SERVING_SEED = 3
SERVING_HEADS = 1  # hidden 32 / 1 head: head_dim 32


def build_serving_biomedgpt(folder: str | Path):
    """A `BioMedGPT` on the tiny preset whose LM has head_dim 32, with its side files in `folder`."""
    import torch

    from biomedgpt_tools.model.api import BioMedGPT
    from biomedgpt_tools.model.modeling_biomedgpt import BioMedGPTForConditionalGeneration
    from biomedgpt_tools.model.tiny import tiny_config, write_tiny_assets

    llm_dir, esm_dir = write_tiny_assets(folder)
    config = tiny_config("tiny")
    config.text_config.num_attention_heads = SERVING_HEADS
    config.text_config.num_key_value_heads = SERVING_HEADS
    config.text_config.head_dim = config.text_config.hidden_size // SERVING_HEADS
    torch.manual_seed(SERVING_SEED)
    model = BioMedGPTForConditionalGeneration(config).eval()
    return BioMedGPT.from_components(model, llm_dir, esm_dir, model_id="biomedgpt-serving-tiny")


def write_serving_model(root: str | Path) -> Path:
    """The serving model saved as a folder (what `biomedgpt serve --model` reads)."""
    root = Path(root)
    build_serving_biomedgpt(root / "assets").save_pretrained(root / "model")
    return root / "model"
