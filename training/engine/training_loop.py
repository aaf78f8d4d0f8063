"""The optimizer loop shared by every stage: global batches, accumulation, logging, checkpoints.

Data order is a pure function of (seed, position): epoch e visits a seeded permutation of
the dataset, and optimizer step s consumes positions [s*G, (s+1)*G). Each of W processes
takes its contiguous G/W slice in micro-batches. So the data position is the step count,
and a run on W processes sees the same global batches as a run on one.

The loss is normalised by the number of target tokens in the whole global batch (summed
over micro-batches and processes), so 1 process x 4 accumulation steps and 2 processes x 2
give the same gradient, not a mean of means.
"""

from __future__ import annotations

import math
import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
import torch.distributed as dist
from torch import nn

from training.config import StageConfig, check_world_size
from training.engine.checkpoints import latest_checkpoint, load_checkpoint, save_checkpoint
from training.engine.lr_schedule import build_scheduler
from training.engine.process_group import ProcessInfo

# Fault injection for the resume test: the process dies (no cleanup) right after the
# checkpoint of this step is complete, as a preempted job would.
EXIT_AFTER_CHECKPOINT_ENV = "BIOMEDGPT_TRAINING_EXIT_AFTER_CHECKPOINT"


class TrainingData(Protocol):
    def __len__(self) -> int: ...

    def collate(self, indices: list[int]) -> Any:
        """A micro-batch the model's forward takes."""

    def target_count(self, batch: Any) -> int:
        """Tokens that carry a label in `batch` (the loss normaliser)."""

    def token_count(self, batch: Any) -> int:
        """Input tokens processed (for throughput)."""


@dataclass
class LoopResult:
    final_step: int
    last_loss: float | None


class DataOrder:
    """Position in the epoch stream -> dataset index, from seeded per-epoch permutations."""

    def __init__(self, size: int, seed: int):
        self.size = size
        self.seed = seed
        self._epoch = -1
        self._permutation: list[int] = []

    def __call__(self, position: int) -> int:
        epoch = position // self.size
        if epoch != self._epoch:
            generator = torch.Generator().manual_seed(self.seed + epoch)
            self._permutation = torch.randperm(self.size, generator=generator).tolist()
            self._epoch = epoch
        return self._permutation[position % self.size]


def total_steps(config: StageConfig, dataset_size: int) -> int:
    if config.train.max_steps is not None:
        return config.train.max_steps
    return max(1, math.ceil(config.train.epochs * dataset_size / config.batch.global_batch_size))


def _peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _all_reduce(values: list[float], op=dist.ReduceOp.SUM) -> list[float]:
    tensor = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(tensor, op=op)
    return tensor.tolist()


def _set_gradient_sync(model: nn.Module, enabled: bool) -> None:
    if hasattr(model, "set_requires_gradient_sync"):
        model.set_requires_gradient_sync(enabled)


def evaluate(
    model: nn.Module, data: TrainingData, config: StageConfig, process: ProcessInfo
) -> float | None:
    """Mean loss per target token over the first items of `data`, split evenly across ranks."""
    micro, world = config.batch.micro_batch_size, process.world_size
    count = min(len(data), config.data.valid_batches * micro * world)
    count -= count % world
    if count == 0:
        return None
    per_rank = count // world
    mine = list(range(process.rank * per_rank, (process.rank + 1) * per_rank))
    loss_sum, targets = 0.0, 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(mine), micro):
            batch = data.collate(mine[start : start + micro])
            loss_sum += float(model(batch))
            targets += data.target_count(batch)
    model.train()
    loss_sum, targets = _all_reduce([loss_sum, targets])
    return loss_sum / max(targets, 1)


def run_training(
    model: nn.Module,
    data: TrainingData,
    valid_data: TrainingData | None,
    config: StageConfig,
    process: ProcessInfo,
    checkpoint_root: Path,
    log: Callable[[dict], None],
) -> LoopResult:
    """Train `model` (already sharded; its forward returns the summed loss of a micro-batch)."""
    accumulation = check_world_size(config, process.world_size)
    micro = config.batch.micro_batch_size
    global_batch = config.batch.global_batch_size
    per_rank = global_batch // process.world_size
    steps = total_steps(config, len(data))
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        parameters,
        lr=config.optim.lr,
        betas=tuple(config.optim.betas),
        eps=config.optim.eps,
        weight_decay=config.optim.weight_decay,
    )
    scheduler = build_scheduler(
        optimizer,
        steps,
        config.optim.warmup_steps,
        config.optim.schedule,
        config.optim.min_lr_ratio,
    )
    start_step, tokens_seen = 0, 0
    resume_from = latest_checkpoint(checkpoint_root)
    if resume_from is not None:
        state = load_checkpoint(resume_from, model, optimizer, scheduler, process)
        start_step, tokens_seen = state["step"], state["tokens_seen"]
        log({"event": "resumed", "step": start_step, "checkpoint": str(resume_from)})
    else:
        torch.manual_seed(config.train.seed + process.rank)
    order = DataOrder(len(data), config.train.seed)
    exit_after = int(os.environ.get(EXIT_AFTER_CHECKPOINT_ENV, "0") or 0)
    save_every = config.train.save_every
    eval_every = config.train.eval_every

    model.train()
    last_loss = None
    interval_start, interval_tokens = time.perf_counter(), 0
    for step in range(start_step, steps):
        first = step * global_batch + process.rank * per_rank
        mine = [order(first + i) for i in range(per_rank)]
        batches = [data.collate(mine[i : i + micro]) for i in range(0, per_rank, micro)]
        local_targets = sum(data.target_count(b) for b in batches)
        local_tokens = sum(data.token_count(b) for b in batches)
        global_targets, global_tokens = _all_reduce([local_targets, local_tokens])
        scale = process.world_size / max(global_targets, 1.0)  # FSDP averages over processes
        local_loss = 0.0
        for index, batch in enumerate(batches):
            _set_gradient_sync(model, index == accumulation - 1)
            loss_sum = model(batch)  # scalar: summed token losses of this micro-batch
            (loss_sum * scale).backward()
            local_loss += float(loss_sum.detach())
        if config.optim.grad_clip > 0:
            grad_norm = float(torch.nn.utils.clip_grad_norm_(parameters, config.optim.grad_clip))
        else:
            grad_norm = float("nan")
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        (total_loss,) = _all_reduce([local_loss])
        last_loss = total_loss / max(global_targets, 1.0)
        tokens_seen += int(global_tokens)
        interval_tokens += int(global_tokens)
        done = step + 1
        if done % config.train.log_every == 0 or done == steps:
            elapsed = time.perf_counter() - interval_start
            (peak,) = _all_reduce([_peak_memory_mb(process.device)], op=dist.ReduceOp.MAX)
            log(
                {
                    "step": done,
                    "loss": last_loss,
                    "lr": scheduler.get_last_lr()[0],
                    "grad_norm": grad_norm,
                    "tokens_seen": tokens_seen,
                    "tokens_per_s": interval_tokens / max(elapsed, 1e-9),
                    "peak_memory_mb_per_process": peak,
                }
            )
            interval_start, interval_tokens = time.perf_counter(), 0
        if valid_data is not None and ((eval_every and done % eval_every == 0) or done == steps):
            log({"step": done, "valid_loss": evaluate(model, valid_data, config, process)})
        if (save_every and done % save_every == 0) or done == steps:
            save_checkpoint(
                checkpoint_root,
                done,
                model,
                optimizer,
                scheduler,
                {"tokens_seen": tokens_seen},
                process,
                keep=config.train.keep_checkpoints,
            )
            if exit_after and done == exit_after:
                os._exit(17)
    return LoopResult(final_step=steps, last_loss=last_loss)
