"""Where a command's model comes from: a converted folder (--model) or the official files
(--official, --llm-dir, --esm-dir), shared by `generate`, `serve` and `convert` so the flags,
checks and loading are written once."""

from __future__ import annotations

import argparse

from . import CommandError


def add_model_source_arguments(group) -> None:
    """--model DIR, or --official PTH with --llm-dir and --esm-dir (checked when the command runs)."""
    group.add_argument("--model", metavar="DIR", help="folder written by `biomedgpt convert`")
    group.add_argument("--official", metavar="PTH", help="the official biomedgpt_10b.pth")
    group.add_argument(
        "--llm-dir", metavar="DIR", help="BioMedGPT-LM-7B folder (config.json, tokenizer.model)"
    )
    group.add_argument("--esm-dir", metavar="DIR", help="ESM-2 3B folder (config.json, vocab.txt)")


def check_official_files(official: str, llm_dir: str, esm_dir: str) -> None:
    """Fail before the long load when one of the released files is not where it was said."""
    from biomedgpt_tools.model.official_checkpoint import OfficialCheckpointError
    from biomedgpt_tools.model.official_checkpoint import check_official_files as check

    try:
        check(official, llm_dir, esm_dir)
    except OfficialCheckpointError as error:
        raise CommandError(str(error)) from error


# ---------------------------------------------------------------------------------------------
# The model


def load_biomedgpt(args: argparse.Namespace):
    """The `BioMedGPT` facade from --model or --official; --device and --dtype are decided by
    model/placement.py, as for every load (unset: this process's GPU in fp16, else CPU fp32)."""
    from biomedgpt_tools.model.api import BioMedGPT

    try:
        if args.model:
            return BioMedGPT.from_pretrained(args.model, dtype=args.dtype, device=args.device)
        return BioMedGPT.from_official(
            args.official, args.llm_dir, args.esm_dir, dtype=args.dtype, device=args.device
        )
    except (ValueError, OSError, RuntimeError) as error:  # bad device, damaged files, out of memory
        raise CommandError(_first_line(error)) from error


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
