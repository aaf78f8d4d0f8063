"""The ChEBI-20 baselines: the molecule as SMILES text or left out, and nearest-neighbour retrieval."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from biomedgpt_tools.model.prompt import Molecule, question_with_smiles_text
from evals.baselines.retrieval import nearest_captions, run_retrieval
from evals.tasks.items import CaptionItem, ModalityInput
from evals.tasks.model import BioMedGPTTaskModel
from evals.tasks.prompts import request_for

REPO_ROOT = Path(__file__).resolve().parents[3]
ITEM = CaptionItem(
    "c1", "Please describe the molecule.", "ref", (ModalityInput("molecule", "CCO"),)
)


def test_molecule_input_modes_shape_the_request():
    graph = request_for(ITEM, "sys")
    assert graph.inputs == [Molecule("CCO")] and graph.question == ITEM.question
    text = request_for(ITEM, "sys", "smiles-text")
    assert text.inputs == [] and text.question == question_with_smiles_text("CCO", ITEM.question)
    assert "CCO" in text.question
    none = request_for(ITEM, "sys", "none")
    assert none.inputs == [] and none.question == ITEM.question and none.system == "sys"


def test_identical_requests_are_generated_once(tmp_path):
    from biomedgpt_tools.model.tiny import build_tiny_biomedgpt

    biomedgpt = build_tiny_biomedgpt(tmp_path / "tiny")
    asked = []
    original = biomedgpt.generate

    def counting(requests, **options):
        asked.append(len(requests))
        return original(requests, **options)

    biomedgpt.generate = counting
    model = BioMedGPTTaskModel(biomedgpt, batch_size=8)
    other = CaptionItem("c2", ITEM.question, "ref", (ModalityInput("molecule", "c1ccccc1"),))
    requests = [request_for(i, None, "none") for i in (ITEM, other, ITEM)]
    answers = model.generate(requests, max_new_tokens=4)
    assert asked == [1] and len(set(answers)) == 1 and len(answers) == 3
    # with the molecules attached the prompts differ, so each is asked, and batching keeps order
    graph = [request_for(i, None) for i in (ITEM, other, ITEM)]
    answers = model.generate(graph, max_new_tokens=4)
    assert asked[-1] == 2 and answers[0] == answers[2]
    assert answers == [original([r], max_new_tokens=4)[0].text for r in graph]


def _split(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text("CID\tSMILES\tdescription\n" + "".join(f"{c}\t{s}\t{d}\n" for c, s, d in rows))
    return path


def test_retrieval_takes_the_caption_of_the_most_similar_training_molecule(tmp_path):
    train = _split(tmp_path / "train.txt", [
        ("1", "CCCCCCCCCCCCCCCC(=O)O", "The molecule is a long-chain fatty acid."),
        ("2", "c1ccc2ccccc2c1", "The molecule is a polycyclic arene."),
        ("3", "C/C=C\\\\C", "The molecule is a cis-alkene."),
    ])  # fmt: skip
    test = _split(tmp_path / "test.txt", [
        ("9", "CCCCCCCCCCCC(=O)OC", "The molecule is a fatty acid methyl ester."),
        ("8", "c1ccc2cc3ccccc3cc2c1", "The molecule is an acene."),
        ("7", "C/C=C\\\\C", "The molecule is but-2-ene."),
    ])  # fmt: skip
    rows = nearest_captions(train, test)
    assert [r[2] for r in rows] == [
        "The molecule is a long-chain fatty acid.", "The molecule is a polycyclic arene.", "The molecule is a cis-alkene.",
    ]  # fmt: skip
    assert rows[2][0] == "C/C=C\\C" and rows[2][3] == pytest.approx(1.0) and rows[0][3] < 1.0


@pytest.mark.needs_shared_data
def test_retrieval_run_directory_rescores_to_its_metrics(tmp_path, shared_data):
    lines = (shared_data / "chebi20" / "test.txt").read_text().splitlines()
    train = tmp_path / "train.txt"
    train.write_text("\n".join(lines[:1] + lines[1:40]) + "\n")
    test = tmp_path / "test.txt"
    test.write_text("\n".join(lines[:1] + lines[35:45]) + "\n")
    vocab = str(shared_data / "scibert_scivocab_uncased")
    result = run_retrieval(train, test, tmp_path / "run", vocab, progress=False)
    assert result["n_items"] == 10 and result["scoring"] == "retrieval"
    details = [
        json.loads(line) for line in (tmp_path / "run" / "details.jsonl").read_text().splitlines()
    ]
    assert all(
        d["tanimoto"] == 1.0 and d["output"] == d["reference"] for d in details[:5]
    )  # in both splits
    completed = subprocess.run(
        [sys.executable, "-m", "evals", "caption", "--predictions", str(tmp_path / "run" / "predictions.tsv"),
         "--vocab", vocab, "--json", "--quiet"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    rescored = json.loads(completed.stdout.strip().splitlines()[-1])
    for name, value in result["metrics"]["overall"].items():
        assert rescored[name] == pytest.approx(value, abs=1e-12), name
