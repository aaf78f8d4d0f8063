"""The prepared GPU benchmark (benchmarks/gpu/) runs end to end at tiny size on the CPU."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
SCRIPT = REPO_ROOT / "benchmarks" / "gpu" / "bench_vllm_gpu.py"


@pytest.mark.slow
def test_the_gpu_benchmark_dry_run_measures_both_engines_at_each_concurrency(tmp_path):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--dry-run", "--out", str(tmp_path), "--concurrency", "1", "3"],
        capture_output=True, text=True, timeout=540, cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "layout: LM hidden 32 x 2 layers" in out
    for level in (1, 3):
        assert re.search(rf"^transformers, +{level} requests: +[0-9.]+ tokens/s", out, re.M), out
        match = re.search(
            rf"^vLLM, +{level} requests: .* same greedy tokens on (\d+)/{level}$", out, re.M
        )
        assert match, out
        assert int(match.group(1)) == level  # fp32 on the CPU: both engines agree exactly
    assert (tmp_path / "lm" / "config.json").is_file()  # the LM folder was derived from the layout
