"""Load time and peak memory: the converted safetensors folder against the official-layout .pth.

For each model size the script writes a checkpoint in the official layout (LM and ESM fp16,
GIN and projections fp32, the 4.31-era keys) with `write_official_checkpoint`, converts it
with `biomedgpt convert` (fp32 and fp16 folders), then loads each in a FRESH Python process
so that peak RSS belongs to one load only. Each child reports the time to load (imports
excluded), the peak RSS after loading, and the peak RSS after one forward pass (which
touches every weight; a memory-mapped load only pays for pages when they are read). The
baseline is the .pth loaded strictly (`load_official_model`); files are in the page cache
(just written), so times are warm-cache times.

Sizes: `small` (the preset: hidden 256, 4 layers in each part) and, without --quick, a
synthetic `medium` (LM hidden 1024 x 8 layers, ESM 512 x 6: about 125M parameters).

    .venv/bin/python benchmarks/bench_loading.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from biomedgpt_tools.testing.machine import describe_machine

REPO_ROOT = Path(__file__).resolve().parents[1]


def peak_rss_mib() -> float:
    """This process's peak RSS (VmHWM). Not ru_maxrss: Linux carries that over fork + exec,
    so a child would report its parent's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def current_rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# ---------------------------------------------------------------------------------------------
# Child: one load in a fresh process


def run_child(kind: str, folder: Path, dtype: str) -> None:
    import torch

    from biomedgpt_tools.model.api import BioMedGPT
    from biomedgpt_tools.model.prompt import Molecule, Protein
    from biomedgpt_tools.model.requests import GenerationRequest

    torch.set_num_threads(1)
    before = current_rss_mib()
    start = time.perf_counter()
    if kind == "pth":
        biomedgpt = BioMedGPT.from_official(
            folder / "official.pth", folder / "llm", folder / "esm", dtype=dtype, device="cpu"
        )
    else:
        biomedgpt = BioMedGPT.from_pretrained(folder / kind, dtype=dtype, device="cpu")
    load_s = time.perf_counter() - start
    peak_load = peak_rss_mib()
    request = GenerationRequest(
        "Do they bind?", [Molecule("CC(=O)Oc1ccccc1C(=O)O"), Protein("MKTAYIAKQRQISFVKSHFSRQ")]
    )
    start = time.perf_counter()
    biomedgpt.generate([request], max_new_tokens=1)
    forward_s = time.perf_counter() - start
    print(json.dumps({
        "load_s": load_s,
        "rss_before_mib": before,
        "peak_after_load_mib": peak_load,
        "peak_after_forward_mib": peak_rss_mib(),
        "first_forward_s": forward_s,
    }))  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Parent: write the files, spawn the children, print the table


def build_model(size: str):
    import torch

    from biomedgpt_tools.model.modeling_biomedgpt import BioMedGPTForConditionalGeneration
    from biomedgpt_tools.model.tiny import build_tiny_model, tiny_config

    if size == "small":
        return build_tiny_model(seed=0, preset="small")
    config = tiny_config("small")
    text, protein = config.text_config, config.protein_config
    text.hidden_size, text.intermediate_size, text.num_hidden_layers = 1024, 2752, 8
    text.num_attention_heads = text.num_key_value_heads = 16
    (
        protein.hidden_size,
        protein.intermediate_size,
        protein.num_hidden_layers,
        protein.num_attention_heads,
    ) = 512, 2048, 6, 8
    torch.manual_seed(0)
    return BioMedGPTForConditionalGeneration(config).eval()


def prepare(size: str, folder: Path) -> int:
    """Write official.pth (+ llm/, esm/) and the fp32 / fp16 converted folders; returns #params."""
    from biomedgpt_tools.cli import main as cli_main
    from biomedgpt_tools.testing.official_layout import write_official_checkpoint

    model = build_model(size)
    parameters = sum(p.numel() for p in model.parameters())
    write_official_checkpoint(model, folder / "official.pth", folder / "llm", folder / "esm")
    del model
    official = [
        "--official",
        str(folder / "official.pth"),
        "--llm-dir",
        str(folder / "llm"),
        "--esm-dir",
        str(folder / "esm"),
    ]
    for dtype in ("fp32", "fp16"):
        code = cli_main(
            ["convert", *official, "--out", str(folder / f"folder-{dtype}"), "--dtype", dtype]
        )
        if code != 0:
            raise SystemExit(f"convert to {dtype} failed")
    return parameters


def measure(kind: str, folder: Path, dtype: str) -> dict:
    command = [sys.executable, __file__, "--child", kind, "--dir", str(folder), "--dtype", dtype]
    environment = os.environ | {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TQDM_DISABLE": "1",
    }
    completed = subprocess.run(
        command, capture_output=True, text=True, cwd=REPO_ROOT, env=environment, check=False
    )
    if completed.returncode != 0:
        raise SystemExit(f"child {kind} {dtype} failed:\n{completed.stderr[-2000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def size_on_disk(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="the small size only")
    parser.add_argument(
        "--child", choices=("pth", "folder-fp32", "folder-fp16"), help=argparse.SUPPRESS
    )
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dtype", default="fp32", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.dir, args.dtype)
        return 0

    os.environ.setdefault("TQDM_DISABLE", "1")
    print(f"machine: {describe_machine()}")
    print(
        "each load in a fresh process, CPU, 1 torch thread, warm page cache; RSS in MiB, peak = VmHWM"
    )
    sizes = ["small"] if args.quick else ["small", "medium"]
    # (label, file kind, load dtype); the .pth row of each pair is the baseline
    fp32_runs = [
        ("pth -> fp32", "pth", "fp32"),
        ("safetensors fp32 -> fp32", "folder-fp32", "fp32"),
    ]
    fp16_runs = [
        ("pth -> fp16", "pth", "fp16"),
        ("safetensors fp16 -> fp16", "folder-fp16", "fp16"),
    ]
    for size in sizes:
        runs = fp32_runs + (fp16_runs if size != "small" else [])
        with tempfile.TemporaryDirectory(prefix=f"bench-loading-{size}-") as tmp:
            folder = Path(tmp)
            started = time.perf_counter()
            parameters = prepare(size, folder)
            print(f"\n== {size}: {parameters / 1e6:.1f}M parameters; .pth {size_on_disk(folder / 'official.pth'):.0f} MiB, "
                  f"folder fp32 {size_on_disk(folder / 'folder-fp32'):.0f} MiB, fp16 {size_on_disk(folder / 'folder-fp16'):.0f} MiB "
                  f"(written in {time.perf_counter() - started:.1f} s)")  # fmt: skip
            print(
                f"{'source -> dtype':<28}{'load s':>8}{'RSS before':>12}{'peak load':>11}{'+load':>8}{'peak fwd':>10}{'+fwd':>8}"
            )
            baseline = None
            for label, kind, dtype in runs:
                result = measure(kind, folder, dtype)
                load_delta = result["peak_after_load_mib"] - result["rss_before_mib"]
                forward_delta = result["peak_after_forward_mib"] - result["rss_before_mib"]
                print(f"{label:<28}{result['load_s']:>8.2f}{result['rss_before_mib']:>12.0f}"
                      f"{result['peak_after_load_mib']:>11.0f}{load_delta:>8.0f}{result['peak_after_forward_mib']:>10.0f}{forward_delta:>8.0f}")  # fmt: skip
                if kind == "pth":
                    baseline = (result["load_s"], load_delta)
                elif baseline is not None:
                    speed = baseline[0] / result["load_s"] if result["load_s"] > 0 else float("inf")
                    print(
                        f"{'':<28}load {speed:.2f}x the .pth speed; load-time RSS growth {load_delta:.0f} vs {baseline[1]:.0f} MiB"
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
