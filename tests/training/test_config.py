"""Every shipped config parses and validates; overrides and errors behave."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.config import ConfigError, check_world_size, load_config

CONFIG_DIR = Path(__file__).resolve().parents[2] / "training" / "configs"
CONFIGS = sorted(CONFIG_DIR.glob("*.yaml"))


def test_there_are_configs_for_every_stage():
    stages = {load_config(path).stage for path in CONFIGS}
    assert stages == {"lm", "align", "finetune"}


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_config_parses_and_validates(path):
    config = load_config(path)
    assert config.output.run_dir
    assert config.batch.global_batch_size % config.batch.micro_batch_size == 0


def test_paper_settings():
    lm = load_config(CONFIG_DIR / "lm_paper.yaml")
    assert (lm.optim.lr, lm.batch.global_batch_size, lm.runtime.mixed_precision) == (
        2e-5,
        192,
        "bf16",
    )
    chebi = load_config(CONFIG_DIR / "finetune_chebi20_paper.yaml")
    assert (chebi.optim.lr, chebi.batch.global_batch_size, chebi.train.epochs) == (7e-5, 24, 50)
    assert chebi.model.trainable.llm is False
    medqa = load_config(CONFIG_DIR / "finetune_biomedqa_paper.yaml")
    assert (medqa.optim.lr, medqa.batch.global_batch_size, medqa.train.epochs) == (2e-5, 512, 3)
    assert medqa.model.trainable.llm is True
    align = load_config(CONFIG_DIR / "align_paper.yaml")
    assert align.model.trainable.llm is False


def test_overrides_are_typed(tmp_path):
    config = load_config(
        CONFIG_DIR / "lm_tiny.yaml",
        ["optim.lr=1e-4", "train.max_steps=3", "data.train=[/x]", "runtime.fsdp=false"],
    )
    assert config.optim.lr == 1e-4 and config.train.max_steps == 3
    assert config.data.train == ["/x"] and config.runtime.fsdp is False


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("optim.lrr=1", "unknown key optim.lrr"),
        ("optim.lr=fast", "optim.lr: expected a number"),
        ("optim.lr=-1", "optim.lr must be positive"),
        ("train.epochs=2", "exactly one of max_steps and epochs"),
        ("batch.micro_batch_size=3", "not a multiple of micro_batch_size"),
        ("runtime.mixed_precision=fp16", "runtime.mixed_precision"),
        ("stage=pretrain", "stage: 'pretrain' is not one of"),
        ("lr", "is not KEY=VALUE"),
    ],
)
def test_invalid_settings_name_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(CONFIG_DIR / "lm_tiny.yaml", [override])


def test_lora_and_trainable_esm_are_exclusive():
    with pytest.raises(ConfigError, match="prot_lora and prot_encoder are exclusive"):
        load_config(
            CONFIG_DIR / "align_tiny.yaml",
            ["model.trainable.prot_lora.enabled=true", "model.trainable.prot_encoder=true"],
        )


def test_global_batch_on_any_world_size():
    config = load_config(
        CONFIG_DIR / "lm_tiny.yaml", ["batch.global_batch_size=8", "batch.micro_batch_size=2"]
    )
    assert [check_world_size(config, w) for w in (1, 2, 4)] == [4, 2, 1]
    with pytest.raises(ConfigError, match="not divisible by micro_batch_size 2 x 3 processes"):
        check_world_size(config, 3)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
