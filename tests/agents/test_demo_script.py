"""`make demo`'s script runs end to end offline, and says plainly when no model answered."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from biomedgpt_tools.testing.processes import run_captured

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_offline_without_a_model_and_says_so(tmp_path):
    # An empty BIOMEDGPT_HOME has no demo model, and BIOMEDGPT_MODEL is unset: the "none" backend.
    env = {k: v for k, v in os.environ.items() if k != "BIOMEDGPT_MODEL"}
    env.update({"BIOMEDGPT_HOME": str(tmp_path / "home"), "OMP_NUM_THREADS": "1"})
    result = run_captured(
        [sys.executable, "scripts/demo.py", "--home", str(tmp_path / "demo-home")],
        cwd=REPO_ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "Model: none" in out
    assert out.count(" you> ") == 6
    assert "no model answered" in out
    assert "PubChem CID 2244" in out and "UniProt P0CG47" in out  # cited sources
    assert "Demo finished in" in out and "Traceback" not in result.stderr
