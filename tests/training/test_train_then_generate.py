"""The proof that training and inference agree on prompt, splicing and tokenization:
a tiny model fine-tuned on a handful of QA pairs answers them exactly through
`BioMedGPT.generate` (and `biomedgpt generate --model` when that subcommand exists).

The two molecules share a question and so do the two proteins: only the spliced soft
tokens tell them apart, so exact answers need the splice to match training's.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from biomedgpt_tools.model.prompt import SYSTEM_TEXT
from biomedgpt_tools.testing.ports import free_port
from training.config import load_config

CONFIG = "training/configs/finetune_tiny.yaml"
RECORDS = [
    {
        "id": "m1",
        "question": "Please describe the molecule.",
        "answer": "The molecule is ethanol.",
        "molecules": ["CCO"],
        "proteins": [],
    },
    {
        "id": "m2",
        "question": "Please describe the molecule.",
        "answer": "It is benzene, an aromatic ring.",
        "molecules": ["c1ccccc1"],
        "proteins": [],
    },
    {
        "id": "p1",
        "question": "What is the function of this protein?",
        "answer": "It binds ATP.",
        "molecules": [],
        "proteins": ["MKTAYIAKQR"],
    },
    {
        "id": "p2",
        "question": "What is the function of this protein?",
        "answer": "It carries oxygen.",
        "molecules": [],
        "proteins": ["MVLSPADKTNVKAAWGKV"],
    },
]


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory):
    import os

    from training.engine.process_group import start_process_group, stop_process_group
    from training.stages.run_stage import train_stage

    root = tmp_path_factory.mktemp("memorize")
    data = root / "qa.jsonl"
    data.write_text("".join(json.dumps({**r, "system": SYSTEM_TEXT}) + "\n" for r in RECORDS))
    config = load_config(
        CONFIG, [f"data.train=[{data}]", f"output.run_dir={root / 'run'}", "train.max_steps=100"]
    )
    port = free_port()
    saved = {
        k: os.environ.get(k)
        for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
    }
    os.environ.update(
        RANK="0", WORLD_SIZE="1", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port)
    )
    try:
        process = start_process_group()
        try:
            folder = train_stage(config, process)
        finally:
            stop_process_group()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return folder


def test_generate_answers_the_training_questions_exactly(trained_model):
    from biomedgpt_tools.model.api import BioMedGPT
    from biomedgpt_tools.model.prompt import Molecule, Protein
    from biomedgpt_tools.model.requests import GenerationRequest

    model = BioMedGPT.from_pretrained(trained_model.final_model)
    requests = [
        GenerationRequest(
            question=r["question"],
            inputs=[Molecule(s) for s in r["molecules"]] + [Protein(p) for p in r["proteins"]],
        )
        for r in RECORDS
    ]
    answers = [result.text for result in model.generate(requests, batch_size=4, max_new_tokens=40)]
    assert answers == [r["answer"] for r in RECORDS]


@pytest.mark.skipif(
    importlib.util.find_spec("biomedgpt_tools.cli.generate") is None,
    reason="the `biomedgpt generate` subcommand is not built yet",
)
def test_cli_generate_loads_the_final_model(trained_model, tmp_path, capsys):
    from biomedgpt_tools.cli import main

    batch = tmp_path / "requests.jsonl"
    batch.write_text(
        "".join(
            json.dumps(
                {
                    "question": r["question"],
                    **({"molecule": r["molecules"][0]} if r["molecules"] else {}),
                    **({"protein": r["proteins"][0]} if r["proteins"] else {}),
                }
            )
            + "\n"
            for r in RECORDS
        )
    )
    capsys.readouterr()
    code = main(
        [
            "generate",
            "--model",
            str(trained_model.final_model),
            "--batch",
            str(batch),
            "--json",
            "--max-new-tokens",
            "40",
        ]
    )
    assert code == 0
    printed = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    assert [p["text"] for p in printed] == [r["answer"] for r in RECORDS]
