"""Stage 1 (`lm`): continued causal-LM training of the Llama model on packed token blocks.

Paper: Llama-2-7B-Chat, lr 2e-5, global batch 192, context 2048, FSDP, bf16, gradient
checkpointing, flash attention. Every position of a block is a target.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from training.config import ConfigError, StageConfig
from training.data.token_blocks import TokenBlocks
from training.objectives import summed_next_token_loss


class BlockData:
    """Token blocks -> micro-batches {'input_ids': (B, T)}."""

    def __init__(self, folder: str):
        self.blocks = TokenBlocks(Path(folder))

    def __len__(self) -> int:
        return len(self.blocks)

    def collate(self, indices: list[int]) -> dict:
        rows = [torch.from_numpy(self.blocks[i]) for i in indices]
        return {"input_ids": torch.stack(rows)}  # (B, T)

    def target_count(self, batch: dict) -> int:
        batch_size, length = batch["input_ids"].shape
        return batch_size * (length - 1)

    def token_count(self, batch: dict) -> int:
        return batch["input_ids"].numel()


class CausalLMObjective(nn.Module):
    """Root module for FSDP: forward(batch) -> summed next-token loss of the micro-batch."""

    def __init__(self, llm: nn.Module):
        super().__init__()
        self.llm = llm

    def forward(self, batch: dict) -> torch.Tensor:
        input_ids = batch["input_ids"].to(self.llm.device)  # (B, T)
        logits = self.llm(input_ids=input_ids, use_cache=False).logits  # (B, T, V)
        return summed_next_token_loss(logits, input_ids)


@dataclass
class LMStage:
    objective: CausalLMObjective
    train_data: BlockData
    valid_data: BlockData | None
    tokenizer: object | None

    @property
    def llm(self) -> nn.Module:
        return self.objective.llm


def build_llm(config: StageConfig) -> nn.Module:
    from transformers import LlamaConfig, LlamaForCausalLM

    model = config.model
    if model.init == "scratch":
        llm_config = LlamaConfig(**model.llm_config)
        llm_config._attn_implementation = config.runtime.attention
        return LlamaForCausalLM(llm_config)
    if model.init == "tiny":
        from biomedgpt_tools.model.tiny import build_tiny_model

        llm = build_tiny_model().llm
        llm.config._attn_implementation = config.runtime.attention
        return llm
    path = Path(model.path)
    if not (path / "config.json").is_file():
        raise ConfigError(f"model.path {path} is not a Hugging Face LM folder (no config.json)")
    return LlamaForCausalLM.from_pretrained(
        str(path), dtype=torch.float32, attn_implementation=config.runtime.attention
    )


def build_stage(config: StageConfig) -> LMStage:
    llm = build_llm(config)
    train = BlockData(config.data.train[0])
    valid = BlockData(config.data.valid[0]) if config.data.valid else None
    vocab = llm.get_input_embeddings().weight.shape[0]
    for name, data in (("train", train), ("valid", valid)):
        if data is not None and len(data) and int(data.blocks[0].max()) >= vocab:
            raise ConfigError(
                f"data.{name}: token ids exceed the LM vocabulary ({vocab}); "
                "prepare the corpus with this model's tokenizer"
            )
    if len(train) == 0:
        raise ConfigError(f"data.train: {config.data.train[0]} holds no blocks")
    tokenizer = None
    spec = config.model.tokenizer or (
        config.model.path if config.model.init == "pretrained" else None
    )
    if spec:
        from training.text_tokenizer import load_text_tokenizer

        tokenizer = load_text_tokenizer(spec)
    return LMStage(CausalLMObjective(llm), train, valid, tokenizer)


def export_final_model(stage: LMStage, full_state: dict, config: StageConfig, out: Path) -> None:
    """Rank 0: a plain Hugging Face LM folder (the input of the align stage's LM)."""
    from transformers import LlamaForCausalLM

    llm_state = {k.removeprefix("llm."): v for k, v in full_state.items()}
    fresh = LlamaForCausalLM(stage.objective.llm.config)
    fresh.load_state_dict(llm_state, strict=True)
    fresh.config.use_cache = True
    fresh.save_pretrained(str(out))
    if stage.tokenizer is not None:
        stage.tokenizer.save_pretrained(str(out))
