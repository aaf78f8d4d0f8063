"""Distributed checkpoints that resume exactly: model, optimizer, scheduler, data position, RNG.

A checkpoint is a folder `step-NNNNNNN/` written with torch.distributed.checkpoint (each
rank writes its shards), plus `trainer_state.json` (step, tokens seen, scheduler) and one
`rng-rank{r}.pt` per rank. `COMPLETE` is written last: a folder without it is ignored.
Frozen parameters are not saved (they come back from the starting weights).
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_state_dict, set_state_dict

from training.config import ConfigError
from training.engine.process_group import ProcessInfo

_OPTIONS = StateDictOptions(ignore_frozen_params=True)
COMPLETE_MARKER = "COMPLETE"


def checkpoint_dir(root: Path, step: int) -> Path:
    return Path(root) / f"step-{step:07d}"


def latest_checkpoint(root: Path) -> Path | None:
    done = sorted(p for p in Path(root).glob("step-*") if (p / COMPLETE_MARKER).is_file())
    return done[-1] if done else None


def _rng_state() -> dict:
    numpy_state = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": [numpy_state[0], torch.from_numpy(numpy_state[1].copy()), *numpy_state[2:]],
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def _restore_rng(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, keys.numpy(), *rest))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def save_checkpoint(
    root: Path,
    step: int,
    model,
    optimizer,
    scheduler,
    trainer_state: dict,
    process: ProcessInfo,
    keep: int,
) -> Path:
    folder = checkpoint_dir(root, step)
    model_state, optim_state = get_state_dict(model, optimizer, options=_OPTIONS)
    dcp.save({"model": model_state, "optim": optim_state}, checkpoint_id=str(folder))
    torch.save(_rng_state(), folder / f"rng-rank{process.rank}.pt")
    dist.barrier()
    if process.is_main:
        payload = {
            **trainer_state,
            "step": step,
            "world_size": process.world_size,
            "scheduler": scheduler.state_dict(),
        }
        (folder / "trainer_state.json").write_text(json.dumps(payload, indent=2))
        (folder / COMPLETE_MARKER).write_text("")
        finished = sorted(p for p in Path(root).glob("step-*") if (p / COMPLETE_MARKER).is_file())
        for old in finished[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    dist.barrier()
    return folder


def load_checkpoint(folder: Path, model, optimizer, scheduler, process: ProcessInfo) -> dict:
    """Restore everything in place; returns the trainer state (step, tokens seen, ...)."""
    state = json.loads((folder / "trainer_state.json").read_text())
    if state["world_size"] != process.world_size:
        raise ConfigError(
            f"{folder} was written by {state['world_size']} processes, this run has "
            f"{process.world_size}; resume with the same number (the data order and RNG streams "
            "are per process), or start a new run_dir"
        )
    model_state, optim_state = get_state_dict(model, optimizer, options=_OPTIONS)
    loaded = {"model": model_state, "optim": optim_state}
    dcp.load(loaded, checkpoint_id=str(folder))
    set_state_dict(
        model,
        optimizer,
        model_state_dict=loaded["model"],
        optim_state_dict=loaded["optim"],
        options=StateDictOptions(ignore_frozen_params=True, strict=False),
    )
    scheduler.load_state_dict(state["scheduler"])
    _restore_rng(torch.load(folder / f"rng-rank{process.rank}.pt", weights_only=True))
    return state
