"""Linear warmup then cosine / linear decay to `min_lr_ratio`, or constant."""

from __future__ import annotations

import math

import torch


def lr_multiplier(
    step: int, total_steps: int, warmup_steps: int, schedule: str, min_ratio: float
) -> float:
    """Multiplier of the base lr for optimizer step `step` (0-based)."""
    if warmup_steps and step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    span = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / span)
    if schedule == "linear":
        decay = 1.0 - progress
    else:
        decay = 0.5 * (1.0 + math.cos(math.pi * progress))
    return min_ratio + (1.0 - min_ratio) * decay


def build_scheduler(
    optimizer, total_steps: int, warmup_steps: int, schedule: str, min_ratio: float
):
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_multiplier(step, total_steps, warmup_steps, schedule, min_ratio)
    )
