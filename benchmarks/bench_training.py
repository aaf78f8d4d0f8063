"""Throughput and peak memory of the `lm` stage on the small config: 1 process against 2.

Both runs use the same global batch and the same cores (2 intra-op threads for one process,
1 thread each for two processes under torchrun with gloo + FSDP2), so the comparison shows
what sharding and the extra communication cost or gain on this machine. The baseline is the
1-process run measured here, in the same invocation. The first logged interval (warm-up:
allocation, lazy FSDP init) is excluded from tokens/s.

    python benchmarks/bench_training.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from biomedgpt_tools.testing.processes import python_command, run_captured

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # the apps run from the repository root

from training.data.token_blocks import write_token_blocks  # noqa: E402

CONFIG = REPO_ROOT / "training" / "configs" / "lm_small.yaml"


def write_random_corpus(folder: Path, n_blocks: int, block_size: int, vocab: int) -> Path:
    """Random token blocks in prepare-corpus's layout (content does not matter for speed)."""
    rows = np.random.default_rng(0).integers(0, vocab, size=(n_blocks, block_size))
    return write_token_blocks(folder, rows)


def run(processes: int, corpus: Path, run_dir: Path, steps: int, cores: int) -> dict:
    overrides = [
        f"data.train=[{corpus}]",
        f"output.run_dir={run_dir}",
        f"train.max_steps={steps}",
        "train.log_every=2",
        "train.save_every=0",
        "output.save_final_model=false",
    ]
    training = ["-m", "training", "lm", "--config", str(CONFIG), *overrides]
    threads = max(1, cores // processes)
    command = python_command([*training, f"runtime.num_threads={threads}"], processes)
    environment = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(REPO_ROOT)}
    started = time.perf_counter()
    result = run_captured(command, cwd=REPO_ROOT, env=environment, timeout=None)
    wall = time.perf_counter() - started
    if result.returncode != 0:
        print(result.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"{processes}-process run failed")
    metrics = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    logged = [m for m in metrics if "tokens_per_s" in m]
    steady = logged[1:] or logged
    return {
        "processes": processes,
        "threads_per_process": threads,
        "tokens_per_s": sum(m["tokens_per_s"] for m in steady) / len(steady),
        "peak_memory_mb_per_process": max(m["peak_memory_mb_per_process"] for m in logged),
        "final_loss": logged[-1]["loss"],
        "wall_s": wall,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter steps")
    args = parser.parse_args()
    steps, block = (6, 128) if args.quick else (12, 256)
    cores = os.cpu_count() or 2
    with tempfile.TemporaryDirectory(prefix="bench-training-") as scratch:
        root = Path(scratch)
        corpus = write_random_corpus(root / "blocks", n_blocks=64, block_size=block, vocab=1024)
        print(
            f"lm stage, config {CONFIG.name}: {steps} steps, global batch 8 x {block} tokens, {cores} cores"
        )
        results = [run(p, corpus, root / f"run{p}", steps, cores) for p in (1, 2)]
    baseline = results[0]
    print(
        f"{'processes':>9} {'threads':>7} {'tokens/s':>10} {'vs 1 proc':>9} {'peak MB/proc':>12} {'final loss':>10} {'wall s':>7}"
    )
    for r in results:
        print(
            f"{r['processes']:>9} {r['threads_per_process']:>7} {r['tokens_per_s']:>10.0f} "
            f"{r['tokens_per_s'] / baseline['tokens_per_s']:>8.2f}x {r['peak_memory_mb_per_process']:>12.0f} "
            f"{r['final_loss']:>10.4f} {r['wall_s']:>7.1f}"
        )
    print("peak memory: max resident set size per process (CPU) or max allocated (GPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
