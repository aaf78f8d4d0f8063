"""`python -m evals run --server URL` gives the run `--model DIR` gives with the same weights."""

from __future__ import annotations

import json

from evals.__main__ import main


def write_pubmedqa(folder):
    folder.mkdir()
    pqal, truth = {}, {}
    for pmid, label in zip(["11", "12", "13"], ["yes", "no", "maybe"], strict=True):
        pqal[pmid] = {"QUESTION": f"Does treatment {pmid} work?", "CONTEXTS": ["Background.", "Results."],
                      "LABELS": ["BACKGROUND", "RESULTS"], "MESHES": ["Humans"], "YEAR": "2001",
                      "reasoning_required_pred": label, "reasoning_free_pred": label,
                      "final_decision": label, "LONG_ANSWER": "Conclusion."}  # fmt: skip
        truth[pmid] = label
    (folder / "ori_pqal.json").write_text(json.dumps(pqal))
    (folder / "test_ground_truth.json").write_text(json.dumps(truth))
    return folder


def predictions(run_dir) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "predictions.jsonl").read_text().splitlines()]


def test_evals_run_through_the_server_equals_in_process(
    model_server, serving_model_dir, tmp_path, capsys
):
    data = write_pubmedqa(tmp_path / "pubmedqa")
    common = [
        "run",
        "pubmedqa",
        "--data",
        str(data),
        "--max-new-tokens",
        "6",
        "--batch-size",
        "3",
        "--quiet",
    ]
    assert main([*common, "--model", str(serving_model_dir), "--out", str(tmp_path / "local")]) == 0
    assert main([*common, "--server", model_server.url, "--out", str(tmp_path / "remote")]) == 0
    local, remote = predictions(tmp_path / "local"), predictions(tmp_path / "remote")
    assert len(remote) == 3
    assert remote == local
    run = json.loads((tmp_path / "remote" / "run.json").read_text())
    assert run == json.loads((tmp_path / "local" / "run.json").read_text())  # same model@revision
    capsys.readouterr()
    assert main([*common, "--server", model_server.url, "--scoring", "loglik"]) == 2
    assert "loglik" in capsys.readouterr().err
