"""Stage 2 (`align`): the LM frozen; projections trained (and optionally the encoders, as in
the paper, or an ESM LoRA r 8 / alpha 32 as in the released code) on PubChemQA + UniProtQA.
Loss on answer tokens + `</s>` only (see stages/multimodal.py).
"""

from __future__ import annotations

from training.config import ConfigError, StageConfig
from training.stages import multimodal
from training.stages.multimodal import export_final_model

__all__ = ["build_stage", "export_final_model"]


def build_stage(config: StageConfig) -> multimodal.MultimodalStage:
    if config.model.trainable.llm:
        raise ConfigError(
            "model.trainable.llm: the align stage keeps the LM frozen; use finetune to train it"
        )
    return multimodal.build_stage(config)
