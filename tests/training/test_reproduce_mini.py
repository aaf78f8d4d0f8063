"""`python -m training reproduce-mini --size toy`: the whole protocol at toy size, on the real data.

The same code as the real run, a handful of steps per stage and a few molecules: it proves
the wiring (data -> tokenizer -> lm -> assemble -> align -> finetune x 4 -> evals run x 4 +
retrieval -> report -> publish), not the numbers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file

REPO_ROOT = Path(__file__).resolve().parents[2]
VARIANTS = ("graph-frozen-lm", "graph-trained-lm", "smiles-text", "no-molecule", "retrieval")
TEST_MOLECULES = 6  # the toy size's test_limit


def _weights(folder: Path) -> dict:
    state = {}
    for path in sorted(folder.glob("*.safetensors")):
        state.update(load_file(str(path)))
    return state


def _caption_scores(predictions: Path) -> dict:
    completed = subprocess.run(
        [sys.executable, "-m", "evals", "caption", "--predictions", str(predictions), "--json", "--quiet"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.needs_shared_data
def test_toy_run_wires_every_stage_baseline_and_report(shared_data, tmp_path):
    run, published = tmp_path / "run", tmp_path / "published"
    command = [sys.executable, "-m", "training", "reproduce-mini", "--size", "toy", "--out", str(run),
               "--data", str(shared_data), "--publish", str(published)]  # fmt: skip
    first = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]

    # every stage ran its steps and left a loss curve; the stage-2 start was assembled
    for stage in ("lm", "align", *(f"finetune-{v}" for v in VARIANTS[:4])):
        rows = [
            json.loads(line) for line in (run / stage / "metrics.jsonl").read_text().splitlines()
        ]
        assert max(r.get("step", 0) for r in rows) == 3, stage
        assert (run / stage / "loss_curve.png").stat().st_size > 0
    assert json.loads((run / "init" / "assembled_from.json").read_text())["lm"] == str(
        run / "lm" / "final_model"
    )

    # LM frozen means frozen: graph-frozen-lm keeps stage 1's LM, graph-trained-lm does not
    lm = _weights(run / "lm" / "final_model")
    frozen = _weights(run / "finetune-graph-frozen-lm" / "final_model")
    trained = _weights(run / "finetune-graph-trained-lm" / "final_model")
    key = "model.layers.0.mlp.down_proj.weight"
    assert (frozen[f"llm.{key}"] == lm[key]).all()
    assert not (trained[f"llm.{key}"] == lm[key]).all()
    assert not (frozen["proj_mol.weight"] == _weights(run / "init")["proj_mol.weight"]).all()

    # the baselines see the molecule as text, or not at all
    smiles_text = [
        json.loads(line)
        for line in (run / "data" / "train-smiles-text.jsonl").read_text().splitlines()
    ]
    graph = [json.loads(line) for line in (run / "data" / "train.jsonl").read_text().splitlines()]
    no_molecule = [
        json.loads(line)
        for line in (run / "data" / "train-no-molecule.jsonl").read_text().splitlines()
    ]
    assert len(graph) == len(smiles_text) == len(no_molecule) == 24
    for g, s, n in zip(graph, smiles_text, no_molecule, strict=True):
        assert g["molecules"] and not s["molecules"] and not n["molecules"]
        assert g["molecules"][0] in s["question"] and n["question"] == g["question"]
        assert g["answer"] == s["answer"] == n["answer"]
    assert "molecule_input" not in json.loads(
        (run / "evals" / "graph-frozen-lm" / "run.json").read_text()
    )
    assert (
        json.loads((run / "evals" / "smiles-text" / "run.json").read_text())["molecule_input"]
        == "smiles-text"
    )
    assert (
        json.loads((run / "evals" / "no-molecule" / "run.json").read_text())["molecule_input"]
        == "none"
    )

    # one MolT5-format predictions file per variant, named by it, over the same test molecules
    smiles_sets = []
    for variant in VARIANTS:
        lines = (run / "predictions" / f"{variant}.tsv").read_text(encoding="utf-8").splitlines()
        assert lines[0] == "SMILES\tground truth\toutput" and len(lines) == 1 + TEST_MOLECULES
        smiles_sets.append([line.split("\t")[0] for line in lines[1:]])
    assert all(s == smiles_sets[0] for s in smiles_sets)
    prior = [
        line.split("\t")[2]
        for line in (run / "predictions" / "no-molecule.tsv").read_text().splitlines()[1:]
    ]
    assert len(set(prior)) == 1  # no input: one answer for every molecule
    train_captions = {r["answer"] for r in graph}
    retrieved = [
        line.split("\t")[2]
        for line in (run / "predictions" / "retrieval.tsv").read_text().splitlines()[1:]
    ]
    assert all(
        " ".join(c.split()) in {" ".join(t.split()) for t in train_captions} for c in retrieved
    )

    report = (run / "report.md").read_text()
    assert "validation split" in report and "Table 3" in report
    for variant in VARIANTS:
        assert f"| {variant} |" in report

    # the published copy: report, metrics and predictions, no weights; they re-score exactly
    assert not list(published.rglob("*.safetensors"))
    for variant in VARIANTS:
        metrics = json.loads((published / "metrics" / f"{variant}.json").read_text())["metrics"][
            "overall"
        ]
        rescored = _caption_scores(published / "predictions" / f"{variant}.tsv")
        assert rescored["n"] == TEST_MOLECULES
        for name in ("bleu2", "bleu4", "rouge1", "rouge2", "rougeL", "meteor"):
            assert rescored[name] == pytest.approx(metrics[name], abs=1e-9), (variant, name)

    # rerunning the same command resumes: nothing is trained or generated again
    second = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.stdout.count("already trained, skipped") == 6
    assert "evals run" not in second.stdout
