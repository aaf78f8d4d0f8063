"""The training loss: summed next-token cross-entropy over positions that carry a label."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from biomedgpt_tools.model.modeling_biomedgpt import IGNORE_INDEX  # the labels' owner


def summed_next_token_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Sum (not mean) of -log p(label[t+1] | ..t); the loop divides by the global target count.

    logits (B, T, V), labels (B, T) with IGNORE_INDEX where no loss is wanted.
    """
    shifted_logits = logits[:, :-1, :].float()  # (B, T-1, V), fp32 for a stable log-softmax
    shifted_labels = labels[:, 1:]  # (B, T-1)
    return F.cross_entropy(
        shifted_logits.reshape(-1, shifted_logits.shape[-1]),
        shifted_labels.reshape(-1),
        ignore_index=IGNORE_INDEX,
        reduction="sum",
    )


def count_targets(labels: torch.Tensor) -> int:
    return int((labels[:, 1:] != IGNORE_INDEX).sum())
