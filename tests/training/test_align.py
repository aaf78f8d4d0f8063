"""`align`: exactly the intended parameters train, labels mask prompt and soft tokens, loss falls."""

from __future__ import annotations

import json

import pytest
import torch

from training.config import load_config
from training.objectives import IGNORE_INDEX
from training.stages import align, multimodal

CONFIG = "training/configs/align_tiny.yaml"
LORA_CONFIG = "training/configs/align_lora_tiny.yaml"
RECORDS = [
    {
        "id": "m1",
        "question": "Please describe the molecule.",
        "answer": "The molecule is ethanol.",
        "system": "Molecule system.",
        "molecules": ["CCO"],
        "proteins": [],
    },
    {
        "id": "p1",
        "question": "What is the function of this protein?",
        "answer": "It binds ATP.",
        "system": "Protein system.",
        "molecules": [],
        "proteins": ["MKTAYIAKQR"],
    },
]


@pytest.fixture
def qa_file(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    return path


def trainable_names(stage) -> set[str]:
    return {name for name, p in stage.objective.model.named_parameters() if p.requires_grad}


def test_only_the_projections_train(qa_file):
    stage = align.build_stage(load_config(CONFIG, [f"data.train=[{qa_file}]"]))
    model = stage.objective.model
    assert trainable_names(stage) == {
        "proj_mol.weight",
        "proj_mol.bias",
        "proj_prot.weight",
        "proj_prot.bias",
    }
    text, mol, prot = (
        model.config.text_config,
        model.config.molecule_config,
        model.config.protein_config,
    )
    expected = (mol.hidden_size + 1) * text.hidden_size + (prot.hidden_size + 1) * text.hidden_size
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == expected
    stage.objective.train()
    assert not model.mol_structure_encoder.training and not model.prot_structure_encoder.training
    assert model.llm.training


def test_esm_lora_adds_only_adapters(qa_file):
    config = load_config(LORA_CONFIG, [f"data.train=[{qa_file}]"])
    stage = align.build_stage(config)
    model = stage.objective.model
    names = trainable_names(stage) - {
        "proj_mol.weight",
        "proj_mol.bias",
        "proj_prot.weight",
        "proj_prot.bias",
    }
    prot = model.config.protein_config
    layers, hidden, r = prot.num_hidden_layers, prot.hidden_size, config.model.trainable.prot_lora.r
    assert len(names) == layers * 2 * 2  # query and value, lora_A and lora_B, per layer
    assert all("lora_" in n and (".query." in n or ".value." in n) for n in names)
    lora_count = sum(p.numel() for n, p in model.named_parameters() if n in names)
    assert lora_count == layers * 2 * (r * hidden + hidden * r)
    assert not any(p.requires_grad for p in model.llm.parameters())


def test_labels_cover_only_answer_and_eos(qa_file):
    stage = align.build_stage(load_config(CONFIG, [f"data.train=[{qa_file}]"]))
    data = stage.train_data
    batch = data.collate([0, 1])
    labels, soft = batch.labels, batch.soft_token_mask
    assert (labels[soft] == IGNORE_INDEX).all()
    assert int(soft[0].sum()) == 3  # CCO: one soft token per heavy atom
    assert int(soft[1].sum()) == len("MKTAYIAKQR") + 2  # residues + cls + eos
    encoder = data.segment_encoder
    for row, record in enumerate(RECORDS):
        answer = encoder.encode(record["answer"]) + [data.eos_token_id]
        kept = labels[row][labels[row] != IGNORE_INDEX].tolist()
        assert kept == answer
        assert batch.input_ids[row, -len(answer) :].tolist() == answer  # answer ends each row
        assert (labels[row, : -len(answer)] == IGNORE_INDEX).all()  # prompt, soft tokens, padding
    assert data.target_count(batch) == sum(len(encoder.encode(r["answer"])) + 1 for r in RECORDS)


def test_align_loss_falls_and_writes_a_run_folder(qa_file, tmp_path, single_process):
    from training.engine.process_group import start_process_group, stop_process_group
    from training.stages.run_stage import train_stage

    config = load_config(
        CONFIG,
        [
            f"data.train=[{qa_file}]",
            f"output.run_dir={tmp_path / 'run'}",
            "train.max_steps=8",
            "batch.global_batch_size=2",
            "batch.micro_batch_size=1",
            "output.save_final_model=false",
        ],
    )
    process = start_process_group()
    try:
        folder = train_stage(config, process)
    finally:
        stop_process_group()
    metrics = folder.metrics()
    losses = [m["loss"] for m in metrics if "loss" in m]
    assert len(losses) == 8 and losses[-1] < losses[0] * 0.9
    start = metrics[0]
    assert start["event"] == "start" and start["trainable_parameters"] < start["parameters"] / 10
    assert folder.loss_curve_path.stat().st_size > 0
    assert (folder.checkpoints / "step-0000008" / "COMPLETE").is_file()


def test_align_refuses_to_train_the_lm(qa_file):
    from training.config import ConfigError

    with pytest.raises(ConfigError, match="keeps the LM frozen"):
        align.build_stage(
            load_config(CONFIG, [f"data.train=[{qa_file}]", "model.trainable.llm=true"])
        )


def test_too_long_record_is_named(qa_file):
    stage = multimodal.build_stage(
        load_config(CONFIG, [f"data.train=[{qa_file}]", "data.max_length=10"])
    )
    from training.data.input_files import DataFormatError

    with pytest.raises(DataFormatError, match="record m1 is .* tokens long"):
        stage.train_data.collate([0])


def test_trainable_gin_keeps_batch_norm_statistics(qa_file):
    from torch import nn

    config = load_config(
        "training/configs/finetune_tiny.yaml",
        [f"data.train=[{qa_file}]", "model.trainable.mol_encoder=true"],
    )
    stage = multimodal.build_stage(config)
    stage.objective.train()
    encoder = stage.objective.model.mol_structure_encoder
    norms = [m for m in encoder.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert norms and not any(m.training for m in norms)
    assert all(p.requires_grad for p in encoder.parameters())
    before = [m.running_mean.clone() for m in norms]
    stage.objective(stage.train_data.collate([0])).backward()  # one molecule of 3 atoms
    assert all(torch.equal(b, m.running_mean) for b, m in zip(before, norms, strict=True))
    assert all(p.grad is not None for p in encoder.parameters() if p.requires_grad)
