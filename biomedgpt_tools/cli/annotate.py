"""`biomedgpt annotate ACCESSIONS_FILE --out results.jsonl [--questions function,name,family,location]`.

Annotates UniProt accessions with BioMedGPT: batch resolution, batched generation, a
progress bar with rate and ETA, one JSON line per accession appended as batches complete,
resumable (accessions finished in --out are skipped; failed ones are tried again), every answer stored in the annotation
store, and a summary at the end. Under `torchrun --nproc-per-node N -m biomedgpt_tools
annotate ...` the accessions are sharded across the N processes and merged into --out.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from biomedgpt_tools.cli import CommandError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "annotate",
        help="annotate UniProt accessions in bulk (resumable; torchrun shards across processes)",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument(
        "accessions_file",
        type=Path,
        help="text file: UniProt accessions, one per line (# comments ok)",
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="results as JSON lines (appended; reruns resume)"
    )
    parser.add_argument(
        "--questions",
        default=None,
        help="comma-separated question types (default: function,name,family,location)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=32, help="accessions per batch (default 32)"
    )
    parser.add_argument("--model", help="model folder (default: $BIOMEDGPT_MODEL)")
    parser.add_argument(
        "--server",
        metavar="URL",
        help="a `biomedgpt serve` server instead of a model in this process "
        "(default: $BIOMEDGPT_SERVER_URL unless --model is given)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=32,
        help="with a server: requests kept in flight so its engine batches them (default 32)",
    )
    parser.add_argument(
        "--device",
        help="torch device (default: $BIOMEDGPT_DEVICE; under torchrun cuda:LOCAL_RANK when available)",
    )
    parser.add_argument(
        "--max-new-tokens", type=int, default=None, help="answer length cap (default 255)"
    )
    parser.add_argument(
        "--on-too-long",
        choices=("error", "truncate"),
        default=None,
        help="proteins past the 1022 residues ESM-2 reads: read the first 1022 as the released "
        "model did, noted in the result (truncate, default: $BIOMEDGPT_ON_TOO_LONG or truncate), "
        "or fail them (error)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def _device(args: argparse.Namespace) -> str | None:
    """--device, else $BIOMEDGPT_DEVICE; None leaves it to model/placement.py (under torchrun
    that is cuda:LOCAL_RANK when torch sees GPUs)."""
    return args.device or os.environ.get("BIOMEDGPT_DEVICE") or None


def run(args: argparse.Namespace) -> int:
    from biomedgpt_tools.annotation.bulk import BulkAnnotator
    from biomedgpt_tools.annotation.distributed import (
        PartsNotMergedError,
        run_distributed,
        torchrun_shard,
    )
    from biomedgpt_tools.annotation.questions import parse_question_types
    from biomedgpt_tools.annotation.results import (
        AnnotationResult,
        append_results,
        finished_accessions,
        read_accessions,
        repair_tail,
    )
    from biomedgpt_tools.inference.backend import ModelUnavailableError
    from biomedgpt_tools.services.biomedgpt_services import BioMedGPTServices

    try:
        question_types = parse_question_types(args.questions)
        accessions, invalid = read_accessions(args.accessions_file)
    except (ValueError, FileNotFoundError) as error:
        raise CommandError(str(error)) from error
    if args.batch_size < 1:
        raise CommandError(f"--batch-size must be at least 1, not {args.batch_size}")
    if not accessions and not invalid:
        raise CommandError(
            f"{args.accessions_file} holds no accessions; put one UniProt accession per line"
        )
    if args.concurrency < 1:
        raise CommandError(f"--concurrency must be at least 1, not {args.concurrency}")
    if args.server and args.model:
        raise CommandError("give --server URL or --model DIR, not both")
    overrides = {
        "model_path": args.model,
        "device": _device(args),
        "max_new_tokens": args.max_new_tokens,
        "on_too_long": args.on_too_long,
        "server_concurrency": args.concurrency,
        # --model means this process's model even when BIOMEDGPT_SERVER_URL is set
        "server_url": args.server or ("" if args.model else None),
    }
    try:
        services = BioMedGPTServices.from_env(**overrides)
    except ValueError as error:  # e.g. BIOMEDGPT_ON_TOO_LONG=cut
        raise CommandError(str(error)) from error
    if not services.backend.configured:
        raise CommandError(
            "bulk annotation needs a model: set BIOMEDGPT_MODEL to a model folder or pass --model, "
            "or give a server with --server URL / BIOMEDGPT_SERVER_URL"
        )
    shard = torchrun_shard()
    rejected: list = []
    annotator = BulkAnnotator(services, question_types, batch_size=args.batch_size)
    try:
        if (
            shard is None or shard.rank == 0
        ):  # tokens that are no accession: reported once, "invalid" (final)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            repair_tail(
                args.out
            )  # before appending: a torn last line must not swallow the first new one
            seen = finished_accessions(args.out)
            rejected = [
                AnnotationResult(
                    token, "invalid", message=f"{token!r} is not a UniProt accession (e.g. P04637)"
                )
                for token in invalid
                if token not in seen
            ]
            append_results(args.out, rejected)
        if shard is None:
            summary = annotator.run(accessions, args.out, progress=not args.no_progress)
        else:
            summary = run_distributed(
                annotator, accessions, args.out, shard, progress=not args.no_progress
            )
    except (ModelUnavailableError, PartsNotMergedError) as error:
        raise CommandError(str(error)) from error
    finally:
        services.close()
    if summary is not None:
        summary.counts["invalid"] += len(rejected)  # the invalid tokens written by this run
        summary.skipped += len(invalid) - len(rejected)  # and those an earlier run wrote
        print(f"annotate: {summary.line()}", file=sys.stderr)
        print(f"results: {args.out}", file=sys.stderr)
    return 0
