"""Where a command's model comes from: a converted folder (--model) or the official files
(--official, --llm-dir, --esm-dir), shared by `generate`, `serve` and `convert` so the flags,
checks and loading are written once."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import CommandError

DTYPE_CHOICES = ("fp32", "bf16", "fp16", "float32", "bfloat16", "float16")  # short and torch names


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
    if not Path(official).is_file():
        raise CommandError(
            f"checkpoint {official} does not exist; give the path of biomedgpt_10b.pth"
        )
    for flag, folder in (("--llm-dir", llm_dir), ("--esm-dir", esm_dir)):
        if not Path(folder).is_dir():
            raise CommandError(f"{flag} {folder} is not a folder")


# ---------------------------------------------------------------------------------------------
# The model


def load_biomedgpt(args: argparse.Namespace):
    """The `BioMedGPT` facade from --model or --official, in the requested dtype and device."""
    import torch

    from biomedgpt_tools.model.api import BioMedGPT, resolve_dtype
    from biomedgpt_tools.model.official_checkpoint import default_device, default_dtype

    device = args.device or default_device()
    device_map = None
    if device == "auto":
        device, device_map = None, "auto"
    else:
        try:
            kind = torch.device(device).type
        except RuntimeError as error:
            raise CommandError(
                f"unknown --device {device!r}: use cpu, cuda, cuda:N or auto"
            ) from error
        if kind == "cuda" and not torch.cuda.is_available():
            raise CommandError(
                f"--device {device} asked for CUDA but torch sees no GPU; use --device cpu"
            )
    main_device = device or default_device()  # device_map="auto"
    dtype = resolve_dtype(args.dtype) if args.dtype else default_dtype(main_device)
    try:
        if args.model:
            return BioMedGPT.from_pretrained(
                args.model, dtype=dtype, device=device, device_map=device_map
            )
        return load_official_biomedgpt(
            args.official,
            args.llm_dir,
            args.esm_dir,
            dtype=dtype,
            device=device,
            device_map=device_map,
        )
    except (ValueError, OSError, RuntimeError) as error:  # damaged files, out of memory, ...
        raise CommandError(_first_line(error)) from error


def load_official_biomedgpt(
    checkpoint, llm_dir, esm_dir, *, dtype=None, device=None, device_map=None
):
    """`BioMedGPT` from the official .pth and its side folders (device_map supported)."""
    from biomedgpt_tools.model.api import BioMedGPT
    from biomedgpt_tools.model.official_checkpoint import load_official_model

    model = load_official_model(
        checkpoint,
        llm_dir=llm_dir,
        esm_dir=esm_dir,
        dtype=dtype,
        device=device,
        device_map=device_map,
    )
    return BioMedGPT.from_components(model, llm_dir, esm_dir, model_id=Path(checkpoint).stem)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
