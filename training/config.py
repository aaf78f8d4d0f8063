"""Stage configs: dataclasses loaded from YAML, with `key.sub=value` overrides and validation.

Every field has a meaning in the paper's recipe or in running it; unknown keys, wrong types
and inconsistent settings raise `ConfigError` naming the key and the way out.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

STAGES = ("lm", "align", "finetune")


class ConfigError(ValueError):
    """A config that cannot run; the message names the file or key."""


@dataclass
class LoraConfig:
    """ESM LoRA of the released code (query/value, r 8, alpha 32, dropout 0.1)."""

    enabled: bool = False
    r: int = 8
    alpha: int = 32
    dropout: float = 0.1
    target_modules: list[str] = field(default_factory=lambda: ["query", "value"])


@dataclass
class TrainableConfig:
    """Which BioMedGPT parts receive gradients (align/finetune; `lm` trains the whole LM)."""

    llm: bool = False
    proj_mol: bool = True
    proj_prot: bool = True
    mol_encoder: bool = False
    prot_encoder: bool = False
    prot_lora: LoraConfig = field(default_factory=LoraConfig)


@dataclass
class ModelConfig:
    """Where the starting weights come from.

    `init: pretrained` loads `path` (a Hugging Face LM folder for `lm`, a
    `BioMedGPT.save_pretrained` folder otherwise); `init: scratch` builds a random model
    from `llm_config` (LlamaConfig fields; `lm` only); `init: tiny` builds the tiny test
    model of `biomedgpt_tools.model.tiny`.
    """

    init: str = "pretrained"
    path: str | None = None
    preset: str = "tiny"  # init: tiny -> the `tiny` or `small` preset of biomedgpt_tools.model.tiny
    seed: int = 0  # init: tiny -> weight seed
    sizes: dict = field(
        default_factory=dict
    )  # init: tiny -> {text_config|protein_config|molecule_config: {field: value}}
    tokenizer: str | None = None  # defaults to `path`, or `tiny` for init: tiny
    llm_config: dict = field(default_factory=dict)
    trainable: TrainableConfig = field(default_factory=TrainableConfig)


@dataclass
class DataConfig:
    """`train`/`valid`: a token-block folder (lm) or QA JSON-lines files (align, finetune)."""

    train: list[str] = field(default_factory=list)
    valid: list[str] = field(default_factory=list)
    max_length: int = 2048  # QA: prompt + answer tokens beyond this are cut (answer end first)
    max_protein_residues: int = 1022  # the ESM tokenizer's limit (1024 with <cls>, <eos>)
    valid_batches: int = 8  # micro-batches per evaluation


@dataclass
class OptimConfig:
    lr: float = 2e-5
    weight_decay: float = 0.0
    betas: list[float] = field(default_factory=lambda: [0.9, 0.95])
    eps: float = 1e-8
    schedule: str = "cosine"  # cosine | linear | constant, after linear warmup
    warmup_steps: int = 0
    min_lr_ratio: float = 0.1
    grad_clip: float = 1.0  # 0 disables


@dataclass
class BatchConfig:
    """The global batch is reached on any world size by gradient accumulation."""

    global_batch_size: int = 192
    micro_batch_size: int = 1


@dataclass
class TrainConfig:
    max_steps: int | None = None  # optimizer steps; exactly one of max_steps / epochs
    epochs: float | None = None
    seed: int = 1234
    log_every: int = 10
    eval_every: int = 0  # 0: only at the end (when data.valid is set)
    save_every: int = 0  # 0: only at the end
    keep_checkpoints: int = 2


@dataclass
class RuntimeConfig:
    fsdp: bool = True
    mixed_precision: str = "auto"  # auto (bf16 on GPU, fp32 on CPU) | bf16 | fp32
    activation_checkpointing: bool = True
    attention: str = "sdpa"  # sdpa (flash kernels on GPU) | eager
    num_threads: int = 0  # torch intra-op threads per process; 0 leaves torch's default


@dataclass
class OutputConfig:
    run_dir: str = "runs/unnamed"
    save_final_model: bool = True


@dataclass
class StageConfig:
    stage: str = ""
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    batch: BatchConfig = field(default_factory=BatchConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _check_type(value, annotation, key: str):
    """Coerce YAML scalars into the annotated type, or raise naming the key."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _check_type(value, option, key)
            except ConfigError:
                continue
        raise ConfigError(f"{key}: {value!r} is not a {annotation}")
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        (item_type,) = typing.get_args(annotation)
        return [_check_type(v, item_type, f"{key}[{i}]") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(annotation):
        return _build(annotation, value, key)
    if annotation is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected an integer, got {value!r}")
        return value
    if annotation is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(f"{key}: expected a string, got {value!r}")
        return str(value)
    raise ConfigError(f"{key}: unsupported type {annotation}")


def _build(cls, data, prefix: str):
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix or 'config'}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        where = f"{prefix}." if prefix else ""
        raise ConfigError(f"unknown key {where}{unknown[0]}; valid keys here: {', '.join(names)}")
    values = {
        name: _check_type(data[name], hints[name], f"{prefix}.{name}" if prefix else name)
        for name in names
        if name in data
    }
    return cls(**values)


def apply_override(raw: dict, override: str) -> None:
    """`optim.lr=1e-4` sets raw['optim']['lr'] to the YAML value of the right-hand side."""
    if "=" not in override:
        raise ConfigError(f"override {override!r} is not KEY=VALUE (e.g. optim.lr=1e-4)")
    key, text = override.split("=", 1)
    value = yaml.safe_load(text) if text else ""
    if isinstance(value, str) and _looks_numeric(value):
        value = float(value)  # YAML 1.1 reads `1e-4` (no dot) as a string
    parts = key.strip().split(".")
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {override!r}: {part} is not a section")
    node[parts[-1]] = value


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> StageConfig:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist; see training/configs/ for examples")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from None
    raw = _normalize_yaml_numbers(raw)
    for override in overrides:
        apply_override(raw, override)
    try:
        config = _build(StageConfig, raw, "")
        validate(config)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None
    return config


def _normalize_yaml_numbers(node):
    if isinstance(node, dict):
        return {k: _normalize_yaml_numbers(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_normalize_yaml_numbers(v) for v in node]
    if isinstance(node, str) and _looks_numeric(node) and any(c in node.lower() for c in "e."):
        return float(node)
    return node


def validate(config: StageConfig) -> None:
    """Settings that parse but cannot run together."""
    if config.stage not in STAGES:
        raise ConfigError(f"stage: {config.stage!r} is not one of {', '.join(STAGES)}")
    model = config.model
    if model.init not in ("pretrained", "scratch", "tiny"):
        raise ConfigError(f"model.init: {model.init!r} is not pretrained, scratch or tiny")
    if model.init == "tiny" and model.preset not in ("tiny", "small"):
        raise ConfigError(f"model.preset: {model.preset!r} is not tiny or small")
    unknown_parts = sorted(set(model.sizes) - {"text_config", "protein_config", "molecule_config"})
    if unknown_parts:
        raise ConfigError(
            f"model.sizes.{unknown_parts[0]}: not text_config, protein_config or molecule_config"
        )
    if model.sizes and model.init != "tiny":
        raise ConfigError("model.sizes resizes the tiny preset; use it with model.init: tiny")
    if model.init == "pretrained" and not model.path:
        raise ConfigError("model.path is required with model.init: pretrained")
    if model.init == "scratch":
        if config.stage != "lm":
            raise ConfigError(
                "model.init: scratch builds a bare LM and is for stage lm only; use tiny or pretrained"
            )
        if not model.llm_config:
            raise ConfigError(
                "model.llm_config (LlamaConfig fields) is required with model.init: scratch"
            )
    if model.init != "tiny" and not (model.tokenizer or model.path) and config.stage != "lm":
        raise ConfigError("model.tokenizer is required when model.path is not set")
    trainable = model.trainable
    if trainable.prot_lora.enabled and trainable.prot_encoder:
        raise ConfigError(
            "model.trainable: prot_lora and prot_encoder are exclusive (LoRA trains adapters of a frozen ESM)"
        )
    if config.stage != "lm" and not any(
        [
            trainable.llm,
            trainable.proj_mol,
            trainable.proj_prot,
            trainable.mol_encoder,
            trainable.prot_encoder,
            trainable.prot_lora.enabled,
        ]
    ):
        raise ConfigError("model.trainable: nothing is trainable; enable at least one part")
    if trainable.prot_lora.enabled and (
        trainable.prot_lora.r < 1 or trainable.prot_lora.alpha <= 0
    ):
        raise ConfigError("model.trainable.prot_lora: r must be >= 1 and alpha > 0")
    if not config.data.train:
        raise ConfigError("data.train: give at least one training file or folder")
    if config.stage == "lm" and len(config.data.train) != 1:
        raise ConfigError("data.train: stage lm takes one token-block folder (from prepare-corpus)")
    if config.data.max_length < 8:
        raise ConfigError(f"data.max_length: {config.data.max_length} is too short")
    optim = config.optim
    if optim.lr <= 0:
        raise ConfigError(f"optim.lr must be positive, got {optim.lr}")
    if optim.schedule not in ("cosine", "linear", "constant"):
        raise ConfigError(f"optim.schedule: {optim.schedule!r} is not cosine, linear or constant")
    if len(optim.betas) != 2 or not all(0 <= b < 1 for b in optim.betas):
        raise ConfigError(f"optim.betas: expected two numbers in [0, 1), got {optim.betas}")
    if not 0 <= optim.min_lr_ratio <= 1:
        raise ConfigError(f"optim.min_lr_ratio must be in [0, 1], got {optim.min_lr_ratio}")
    if optim.warmup_steps < 0 or optim.grad_clip < 0 or optim.weight_decay < 0:
        raise ConfigError("optim: warmup_steps, grad_clip and weight_decay must not be negative")
    batch = config.batch
    if batch.micro_batch_size < 1 or batch.global_batch_size < batch.micro_batch_size:
        raise ConfigError("batch: need 1 <= micro_batch_size <= global_batch_size")
    if batch.global_batch_size % batch.micro_batch_size:
        raise ConfigError(
            f"batch.global_batch_size {batch.global_batch_size} is not a multiple of "
            f"micro_batch_size {batch.micro_batch_size}"
        )
    train = config.train
    if (train.max_steps is None) == (train.epochs is None):
        raise ConfigError("train: set exactly one of max_steps and epochs")
    if (train.max_steps is not None and train.max_steps < 1) or (
        train.epochs is not None and train.epochs <= 0
    ):
        raise ConfigError("train: max_steps / epochs must be positive")
    if min(train.log_every, train.eval_every, train.save_every) < 0 or train.log_every == 0:
        raise ConfigError("train: log_every must be >= 1; eval_every and save_every >= 0")
    if train.keep_checkpoints < 1:
        raise ConfigError("train.keep_checkpoints must be at least 1 (resuming needs the last one)")
    runtime = config.runtime
    if runtime.mixed_precision not in ("auto", "bf16", "fp32"):
        raise ConfigError(
            f"runtime.mixed_precision: {runtime.mixed_precision!r} is not auto, bf16 or fp32"
        )
    if runtime.attention not in ("sdpa", "eager"):
        raise ConfigError(f"runtime.attention: {runtime.attention!r} is not sdpa or eager")


def check_world_size(config: StageConfig, world_size: int) -> int:
    """Gradient-accumulation steps that reach the global batch on `world_size` processes."""
    per_step = config.batch.micro_batch_size * world_size
    if config.batch.global_batch_size % per_step:
        raise ConfigError(
            f"batch.global_batch_size {config.batch.global_batch_size} is not divisible by "
            f"micro_batch_size {config.batch.micro_batch_size} x {world_size} processes; change "
            "batch.micro_batch_size or the number of processes"
        )
    return config.batch.global_batch_size // per_step
