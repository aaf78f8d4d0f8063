"""`python -m training {lm,align,finetune} --config FILE [key=value ...]`: the shared driver.

setup (config, process group, run folder) -> build the stage (model, data) -> shard ->
train (resuming from the newest checkpoint) -> export the final model -> plot the loss curve.
"""

from __future__ import annotations

import argparse
import json

import torch
import torch.distributed as dist
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

from training.config import ConfigError, StageConfig, load_config
from training.engine.checkpoints import latest_checkpoint
from training.engine.process_group import ProcessInfo, start_process_group, stop_process_group
from training.engine.sharding import compute_dtype, enable_activation_checkpointing, shard_model
from training.engine.training_loop import run_training
from training.run_folder import RunFolder


def _build(config: StageConfig):
    if config.stage == "lm":
        from training.stages import lm

        return lm
    if config.stage == "align":
        from training.stages import align

        return align
    from training.stages import finetune

    return finetune


def train_stage(config: StageConfig, process: ProcessInfo) -> RunFolder:
    folder = RunFolder(config.output.run_dir)
    if process.is_main:
        folder.start(config)
    dist.barrier()
    if config.runtime.num_threads:
        torch.set_num_threads(config.runtime.num_threads)
    if not config.runtime.fsdp and process.world_size > 1:
        raise ConfigError("runtime.fsdp: false runs on one process only; enable FSDP for torchrun")
    torch.manual_seed(config.train.seed)  # identical initial weights on every rank before sharding
    stage_module = _build(config)
    stage = stage_module.build_stage(config)
    root = stage.objective
    if config.runtime.activation_checkpointing:
        enable_activation_checkpointing(stage.llm)
    dtype = compute_dtype(config.runtime.mixed_precision, process.device)
    if config.runtime.fsdp:
        shard_model(root, dtype, process.device)
    else:
        root.to(process.device)

    previous = latest_checkpoint(folder.checkpoints)
    if previous is not None and process.is_main:
        folder.drop_metrics_after(json.loads((previous / "trainer_state.json").read_text())["step"])

    def log(record: dict) -> None:
        if process.is_main:
            folder.log(record)
            shown = {k: (round(v, 5) if isinstance(v, float) else v) for k, v in record.items()}
            print(json.dumps(shown), flush=True)

    if process.is_main:
        trainable = sum(p.numel() for p in root.parameters() if p.requires_grad)
        total = sum(p.numel() for p in root.parameters())
        log(
            {
                "event": "start",
                "stage": config.stage,
                "world_size": process.world_size,
                "compute_dtype": str(dtype).removeprefix("torch."),
                "trainable_parameters": trainable,
                "parameters": total,
                "train_items": len(stage.train_data),
            }
        )
    run_training(root, stage.train_data, stage.valid_data, config, process, folder.checkpoints, log)

    if config.output.save_final_model:
        full_state = get_model_state_dict(
            root, options=StateDictOptions(full_state_dict=True, cpu_offload=True)
        )
        if process.is_main:
            stage_module.export_final_model(stage, full_state, config, folder.final_model)
            log({"event": "final_model", "path": str(folder.final_model)})
        dist.barrier()
    if process.is_main:
        folder.plot_loss_curve(f"stage {config.stage}: {folder.root.name}")
    return folder


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config, args.overrides)
    if config.stage != args.command:
        raise ConfigError(
            f"{args.config} is a `{config.stage}` config; run `python -m training {config.stage}`"
        )
    process = start_process_group()
    try:
        train_stage(config, process)
    finally:
        stop_process_group()
    return 0
