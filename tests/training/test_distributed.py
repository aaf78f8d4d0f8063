"""The engine under torchrun: 2 CPU processes (gloo, FSDP2) against 1, and kill + resume.

Three runs of the tiny `lm` stage with the same global batch (4 blocks per step):
one process (accumulating 4 micro-batches), two processes (2 each), and two processes
killed right after the step-2 checkpoint and then resumed.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from biomedgpt_tools.testing.processes import python_command, run_captured
from training.data.token_blocks import write_token_blocks
from training.engine.training_loop import EXIT_AFTER_CHECKPOINT_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = REPO_ROOT / "training" / "configs" / "lm_tiny.yaml"
pytestmark = pytest.mark.slow


def write_blocks(folder: Path, n_blocks: int = 16, block_size: int = 32) -> Path:
    """A corpus with a learnable pattern (arithmetic sequences), in prepare-corpus's layout."""
    rows = np.array([(np.arange(block_size) * (i % 3 + 1) + i) % 128 for i in range(n_blocks)])
    return write_token_blocks(folder, rows)


def launch(
    run_dir: Path, corpus: Path, processes: int, exit_after: int | None = None
) -> subprocess.CompletedProcess:
    training = [
        "-m",
        "training",
        "lm",
        "--config",
        str(CONFIG),
        f"data.train=[{corpus}]",
        f"output.run_dir={run_dir}",
        "train.max_steps=4",
        "train.save_every=2",
    ]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    if exit_after is not None:
        environment[EXIT_AFTER_CHECKPOINT_ENV] = str(exit_after)
    return run_captured(python_command(training, processes), cwd=REPO_ROOT, env=environment)


def losses(run_dir: Path) -> dict[int, float]:
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return {m["step"]: m["loss"] for m in lines if "loss" in m}


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(run_dir / "final_model" / "model.safetensors")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("distributed")
    corpus = write_blocks(root / "blocks")
    one = launch(root / "one", corpus, 1)
    assert one.returncode == 0, one.stderr[-3000:]
    two = launch(root / "two", corpus, 2)
    assert two.returncode == 0, two.stderr[-3000:]
    killed = launch(root / "resumed", corpus, 2, exit_after=2)
    resumed = launch(root / "resumed", corpus, 2)
    return {"root": root, "killed": killed, "resumed": resumed}


def test_two_processes_match_one(runs):
    root = runs["root"]
    one, two = losses(root / "one"), losses(root / "two")
    assert sorted(one) == sorted(two) == [1, 2, 3, 4]
    for step in one:
        assert two[step] == pytest.approx(one[step], rel=1e-5)
    assert one[4] < one[1]  # it learns
    single, sharded = weights(root / "one"), weights(root / "two")
    assert single.keys() == sharded.keys()
    for name in single:
        torch.testing.assert_close(sharded[name], single[name], rtol=1e-4, atol=1e-5)
    start = json.loads((root / "two" / "metrics.jsonl").read_text().splitlines()[0])
    assert start["world_size"] == 2


def test_kill_after_checkpoint_then_resume_gives_the_same_weights(runs):
    root = runs["root"]
    assert runs["killed"].returncode != 0  # died right after the step-2 checkpoint
    assert runs["resumed"].returncode == 0, runs["resumed"].stderr[-3000:]
    checkpoints = sorted(p.name for p in (root / "resumed" / "checkpoints").iterdir())
    assert checkpoints == ["step-0000002", "step-0000004"]
    events = [
        json.loads(line) for line in (root / "resumed" / "metrics.jsonl").read_text().splitlines()
    ]
    assert any(e.get("event") == "resumed" and e["step"] == 2 for e in events)
    assert losses(root / "resumed") == pytest.approx(losses(root / "two"), rel=1e-6)
    uninterrupted, resumed = weights(root / "two"), weights(root / "resumed")
    for name in uninterrupted:
        assert torch.equal(resumed[name], uninterrupted[name]), name
    assert (root / "resumed" / "loss_curve.png").stat().st_size > 0
    assert (root / "resumed" / "config.yaml").is_file()


def test_align_on_two_processes_with_different_modalities_per_rank(tmp_path):
    """Rank 0 gets a molecule, rank 1 a protein: FSDP must still run the same collectives."""
    records = [
        {
            "id": "m",
            "question": "Please describe the molecule.",
            "answer": "The molecule is ethanol.",
            "system": "S.",
            "molecules": ["CCO"],
            "proteins": [],
        },
        {
            "id": "p",
            "question": "What is the function of this protein?",
            "answer": "It binds ATP.",
            "system": "S.",
            "molecules": [],
            "proteins": ["MKTAYIAKQR"],
        },
    ]
    data = tmp_path / "qa.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    config = REPO_ROOT / "training" / "configs" / "align_tiny.yaml"
    training = [
        "-m",
        "training",
        "align",
        "--config",
        str(config),
        f"data.train=[{data}]",
        "train.max_steps=3",
        "batch.global_batch_size=2",
        "batch.micro_batch_size=1",
        "output.save_final_model=false",
    ]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    one = run_captured(
        python_command([*training, f"output.run_dir={tmp_path / 'one'}"]),
        cwd=REPO_ROOT,
        env=environment,
    )
    assert one.returncode == 0, one.stderr[-3000:]
    two = run_captured(
        python_command([*training, f"output.run_dir={tmp_path / 'two'}"], processes=2),
        cwd=REPO_ROOT,
        env=environment,
    )
    assert two.returncode == 0, two.stderr[-3000:]
    single, sharded = losses(tmp_path / "one"), losses(tmp_path / "two")
    assert sorted(single) == sorted(sharded) == [1, 2, 3]
    for step in single:
        assert sharded[step] == pytest.approx(single[step], rel=1e-5)
