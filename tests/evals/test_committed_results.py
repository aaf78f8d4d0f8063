"""The committed ChEBI-20 results (evals/results/chebi20-mini) re-score to their committed metrics."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS = REPO_ROOT / "evals" / "results" / "chebi20-mini"
PREDICTIONS = sorted((RESULTS / "predictions").glob("*.tsv")) if RESULTS.is_dir() else []


def test_every_committed_metrics_file_has_its_predictions():
    if not RESULTS.is_dir():
        pytest.skip(f"{RESULTS} not committed")
    metrics = {p.stem for p in (RESULTS / "metrics").glob("*.json")}
    assert metrics and metrics == {p.stem for p in PREDICTIONS}
    assert not list(RESULTS.rglob("*.safetensors")) and not list(RESULTS.rglob("*.pt"))
    report = (RESULTS / "report.md").read_text()
    assert "validation split" in report and "command:" in report and "machine:" in report


@pytest.mark.slow
@pytest.mark.needs_shared_data
@pytest.mark.parametrize("predictions", PREDICTIONS, ids=[p.stem for p in PREDICTIONS])
def test_committed_predictions_rescore_to_the_committed_metrics(predictions, shared_data):
    committed = json.loads((RESULTS / "metrics" / f"{predictions.stem}.json").read_text())
    completed = subprocess.run(
        [sys.executable, "-m", "evals", "caption", "--predictions", str(predictions),
         "--references", str(shared_data / "chebi20" / "test.txt"), "--json", "--quiet"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    rescored = json.loads(completed.stdout.strip().splitlines()[-1])
    assert rescored["n"] == committed["n_items"]
    for name, value in committed["metrics"]["overall"].items():
        if name != "n":
            assert rescored[name] == pytest.approx(value, abs=1e-9), name
