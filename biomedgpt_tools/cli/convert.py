"""`biomedgpt convert`: the official .pth + LM and ESM folders -> a Hugging Face-style folder.

    biomedgpt convert --official biomedgpt_10b.pth --llm-dir BioMedGPT-LM-7B --esm-dir esm2_t36_3B_UR50D --out biomedgpt-10b

The folder holds config.json, safetensors shards (+ index), the LM tokenizer files and
`esm/vocab.txt`; `biomedgpt generate --model DIR` then loads it lazily from memory-mapped
safetensors, with no pickle involved. The conversion is strict (see official_checkpoint.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from biomedgpt_tools.model.placement import DTYPE_CHOICES

from . import CommandError
from .model_source import check_official_files


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="convert the official biomedgpt_10b.pth into a safetensors model folder",
        description=(
            "Load the official checkpoint strictly and write a folder that `biomedgpt generate --model` "
            "loads lazily (config.json, safetensors shards, tokenizer files)."
        ),
    )
    parser.add_argument(
        "--official", required=True, metavar="PTH", help="the official biomedgpt_10b.pth"
    )
    parser.add_argument(
        "--llm-dir",
        required=True,
        metavar="DIR",
        help="BioMedGPT-LM-7B folder (config.json, tokenizer.model)",
    )
    parser.add_argument(
        "--esm-dir", required=True, metavar="DIR", help="ESM-2 3B folder (config.json, vocab.txt)"
    )
    parser.add_argument(
        "--out", required=True, metavar="DIR", help="folder to write (must be empty or absent)"
    )
    parser.add_argument(
        "--dtype", choices=DTYPE_CHOICES, default="fp16",
        help="dtype of the written weights (default fp16: the file's dtype for the LM and ESM, "
        "~20 GB; the fp32 GIN and projections are rounded. fp32 is lossless, ~40 GB)",
    )  # fmt: skip
    parser.add_argument(
        "--max-shard-size",
        default="2GB",
        metavar="SIZE",
        help="largest shard, e.g. 2GB or 500MB (default 2GB)",
    )
    parser.add_argument(
        "--force", action="store_true", help="write into --out even if it already holds files"
    )
    parser.set_defaults(handler=run_convert)


def run_convert(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {out} is a file; give a folder")
    if out.is_dir() and any(out.iterdir()) and not args.force:
        raise CommandError(
            f"--out {out} is not empty; give a new folder or pass --force to write into it"
        )
    check_official_files(args.official, args.llm_dir, args.esm_dir)
    max_shard_size = _parse_shard_size(args.max_shard_size)

    from biomedgpt_tools.model.api import BioMedGPT

    try:
        biomedgpt = BioMedGPT.from_official(
            args.official, args.llm_dir, args.esm_dir, dtype=args.dtype, device="cpu"
        )
        biomedgpt.save_pretrained(out, max_shard_size=max_shard_size)
    except (ValueError, OSError, RuntimeError) as error:
        raise CommandError(str(error).strip().splitlines()[0]) from error

    shards = sorted(out.glob("*.safetensors"))
    size = sum(shard.stat().st_size for shard in shards)
    print(f"wrote {out}: {len(shards)} safetensors shard(s), {size / 2**30:.2f} GiB, {args.dtype}")
    print(f"use it with: biomedgpt generate --model {out} --question ...")
    return 0


def _parse_shard_size(text: str) -> int | str:
    """'2GB', '500MB' or a byte count; checked here so a typo fails before the long load."""
    units = {
        "KB": 10**3,
        "MB": 10**6,
        "GB": 10**9,
        "KIB": 2**10,
        "MIB": 2**20,
        "GIB": 2**30,
        "B": 1,
    }
    cleaned = text.strip().upper()
    if cleaned.isdigit():
        return int(cleaned)
    for unit, factor in units.items():
        number = cleaned.removesuffix(unit)
        if cleaned.endswith(unit) and number.replace(".", "", 1).isdigit():
            return int(float(number) * factor)
    raise CommandError(
        f"--max-shard-size {text!r} is not a size; write e.g. 2GB, 500MB or a byte count"
    )
