"""`biomedgpt generate`: ask BioMedGPT-10B about molecules and proteins, one request or a JSONL batch.

    biomedgpt generate --model DIR --molecule 'CC(=O)Oc1ccccc1C(=O)O' --question 'Please describe the molecule.'
    biomedgpt generate --official biomedgpt_10b.pth --llm-dir LM7B --esm-dir ESM2 --batch requests.jsonl --json

Every request is validated (SMILES parsed, sequences checked) before the model is loaded,
so a typo costs a second, not a 20 GB load. In a batch, each line stands alone (see
batch_lines.py): good lines are answered, bad ones reported in place, exit status 1. `--molecule` and `--protein` may be repeated
and keep their command-line order, which is the order they appear in the prompt.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from biomedgpt_tools.model.placement import DTYPE_CHOICES

from . import CommandError
from .batch_lines import (
    ON_TOO_LONG_CHOICES,
    answer_lines,
    apply_on_too_long,
    check_against_model,
    read_batch_lines,
    validate_request,
)
from .model_source import (
    add_model_source_arguments,
    check_official_files,
    load_biomedgpt,
)


class _AppendModalInput(argparse.Action):
    """Collects --molecule and --protein into one list of (kind, text), in command-line order."""

    def __call__(self, parser, namespace, values, option_string=None):
        items = list(getattr(namespace, self.dest, None) or [])
        items.append((self.const, values))
        setattr(namespace, self.dest, items)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="answer questions about molecules (SMILES) and proteins (sequences)",
        description=(
            "Answer questions about molecules and proteins with BioMedGPT-10B. Give the model as a "
            "converted folder (--model) or as the official files (--official, --llm-dir, --esm-dir)."
        ),
    )
    source = parser.add_argument_group("model")
    add_model_source_arguments(source)
    source.add_argument(
        "--server", metavar="URL",
        help="ask a `biomedgpt serve` server instead of loading the model (same output; --batch-size "
        "requests in flight)",
    )  # fmt: skip
    source.add_argument("--dtype", choices=DTYPE_CHOICES, help="default: fp16 on CUDA, fp32 on CPU")
    source.add_argument(
        "--device",
        help="cpu, cuda, cuda:N, or auto (spread over all GPUs); default: cuda if available, else cpu",
    )

    request = parser.add_argument_group("request")
    request.add_argument(
        "--molecule", metavar="SMILES", dest="inputs", action=_AppendModalInput, const="molecule",
        help="a molecule as SMILES (repeatable; order kept with --protein)",
    )  # fmt: skip
    request.add_argument(
        "--protein", metavar="SEQUENCE", dest="inputs", action=_AppendModalInput, const="protein",
        help="a protein as its amino-acid sequence (repeatable; order kept with --molecule)",
    )  # fmt: skip
    request.add_argument("--question", metavar="TEXT", help="the question to ask")
    request.add_argument(
        "--system", metavar="TEXT",
        help="system text (default: the one used with the released weights); with --batch, the "
        "default for lines without 'system'",
    )  # fmt: skip
    request.add_argument(
        "--batch", metavar="FILE.jsonl",
        help="one request per line: {\"question\": ..., \"system\"?: ..., \"on_too_long\"?: ..., and "
        "\"molecule\"/\"protein\" strings or \"inputs\": [{\"molecule\": SMILES} | {\"protein\": "
        "SEQUENCE}, ...]}; a bad line is reported in its place and the others are answered",
    )  # fmt: skip
    request.add_argument(
        "--on-too-long", choices=ON_TOO_LONG_CHOICES, default="error",
        help="a protein longer than the 1022 residues ESM-2 reads: refuse it (default), or keep "
        "its first 1022 residues as the released model did (the answer says so); a batch line's "
        "\"on_too_long\" overrides it",
    )  # fmt: skip

    decoding = parser.add_argument_group("decoding (default: greedy, as the reference)")
    decoding.add_argument(
        "--max-new-tokens", type=int, default=255, metavar="N", help="default 255"
    )
    decoding.add_argument(
        "--num-beams", type=int, default=1, metavar="N", help="beam search when > 1"
    )
    decoding.add_argument("--sample", action="store_true", help="sample instead of greedy decoding")
    decoding.add_argument("--temperature", type=float, default=1.0, help="with --sample")
    decoding.add_argument("--top-p", type=float, default=1.0, help="with --sample")
    decoding.add_argument("--top-k", type=int, default=0, help="with --sample; 0 disables it")
    decoding.add_argument("--seed", type=int, help="random seed for --sample")
    decoding.add_argument(
        "--batch-size", type=int, default=8, metavar="N", help="requests per forward batch"
    )

    parser.add_argument(
        "--json", action="store_true",
        help='print one JSON object per request: {"prompt", "text", "token_ids"} (+ "notes" when a '
        'protein was truncated), or {"error": {"line", "message"}} for a failed batch line',
    )  # fmt: skip
    parser.set_defaults(handler=run_generate, inputs=[])


def run_generate(args: argparse.Namespace) -> int:
    if args.server:
        from .generate_remote import run_remote_generate

        _check_decoding_arguments(args)
        return run_remote_generate(args, _read_request)
    _check_model_arguments(args)
    _check_decoding_arguments(args)
    options = {
        "max_new_tokens": args.max_new_tokens,
        "do_sample": args.sample,
        "temperature": args.temperature,
        "top_p": args.top_p,
        "top_k": args.top_k,
        "num_beams": args.num_beams,
        "seed": args.seed,
    }
    if args.batch:
        return _run_batch(args, options)
    request, notes = _read_request(args)  # validated before the (slow) model load
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    biomedgpt = load_biomedgpt(args)
    if not args.json and args.num_beams == 1 and sys.stdout.isatty():
        return _stream_one(biomedgpt, request, options)
    try:
        result = biomedgpt.generate([request], batch_size=1, **options)[0]
    except ValueError as error:
        raise CommandError(str(error).removeprefix("request 0: ")) from error
    print(json.dumps(_result_json(result, notes), ensure_ascii=False) if args.json else result.text)
    return 0


def _run_batch(args: argparse.Namespace, options: dict) -> int:
    """Every good line answered, every bad one reported in its place; 1 if any line failed."""
    if args.inputs or args.question is not None:
        raise CommandError(
            "--batch reads every request from the file; drop --question/--molecule/--protein"
        )
    lines = read_batch_lines(Path(args.batch), system=args.system, on_too_long=args.on_too_long)
    answered = ((line, None) for line in lines)
    if any(line.request is not None for line in lines):  # no model load for a hopeless file
        biomedgpt = load_biomedgpt(args)
        check_against_model(lines, biomedgpt, args.max_new_tokens)
        answered = answer_lines(lines, biomedgpt, args.batch_size, options)
    failed = 0
    for line, result in answered:  # each chunk printed as soon as it is answered
        if result is None:
            failed += 1
            if args.json:
                print(json.dumps(line.error_json(), ensure_ascii=False), flush=True)
            print(
                f"error: {args.batch} line {line.number}: {line.error}", file=sys.stderr, flush=True
            )
            continue
        if args.json:
            print(json.dumps(_result_json(result, line.notes), ensure_ascii=False), flush=True)
        else:
            for note in line.notes:
                print(f"note: {args.batch} line {line.number}: {note}", file=sys.stderr)
            print(f"[{line.number}] {result.text}", flush=True)
    return 1 if failed else 0


def _result_json(result, notes: list[str]) -> dict:
    data = result.to_json()
    if notes:
        data["notes"] = list(notes)
    return data


def _stream_one(biomedgpt, request, options: dict) -> int:
    """Print text as it is generated (an interactive terminal, one request)."""
    stream_options = {key: value for key, value in options.items() if key != "num_beams"}
    try:
        streamed = biomedgpt.stream(request, **stream_options)
        for piece in streamed:
            print(piece, end="", flush=True)
    except ValueError as error:
        raise CommandError(str(error)) from error
    print(flush=True)
    return 0


# ---------------------------------------------------------------------------------------------
# Arguments and requests


def _check_model_arguments(args: argparse.Namespace) -> None:
    official = (args.official, args.llm_dir, args.esm_dir)
    if args.model and any(official):
        raise CommandError(
            "give --model DIR or --official PTH --llm-dir DIR --esm-dir DIR, not both"
        )
    if not args.model and not any(official):
        raise CommandError(
            "no model: give --model DIR (see `biomedgpt convert`) or --official PTH --llm-dir DIR --esm-dir DIR"
        )
    if not args.model:
        absent = [
            flag
            for flag, value in zip(("--official", "--llm-dir", "--esm-dir"), official, strict=True)
            if not value
        ]
        if absent:
            raise CommandError(f"--official needs {' and '.join(absent)} as well")
        check_official_files(args.official, args.llm_dir, args.esm_dir)
    elif not Path(args.model).is_dir():
        raise CommandError(
            f"model folder {args.model} does not exist; convert the official checkpoint with `biomedgpt convert`"
        )
    elif not (Path(args.model) / "config.json").is_file():
        raise CommandError(
            f"model folder {args.model} has no config.json; it was not written by `biomedgpt convert`"
        )


def _check_decoding_arguments(args: argparse.Namespace) -> None:
    for flag, value in (
        ("--max-new-tokens", args.max_new_tokens),
        ("--num-beams", args.num_beams),
        ("--batch-size", args.batch_size),
    ):
        if value < 1:
            raise CommandError(f"{flag} must be at least 1, not {value}")
    if args.sample and args.num_beams > 1:
        raise CommandError("--sample and --num-beams > 1 cannot be combined")


def _read_request(args: argparse.Namespace):
    """The one request of --question/--molecule/--protein, validated, and its truncation notes."""
    from biomedgpt_tools.model.requests import GenerationRequest

    if args.question is None or not args.question.strip():
        raise CommandError("no question: give --question TEXT (or --batch FILE.jsonl)")
    data = {"question": args.question, "inputs": [{kind: text} for kind, text in args.inputs]}
    if args.system is not None:
        data["system"] = args.system
    try:
        request = GenerationRequest.from_mapping(data)
        notes = apply_on_too_long(request, args.on_too_long)
        validate_request(request)
    except ValueError as error:
        message = str(error)
        if "on_too_long='truncate'" in message:
            message = message.replace("Pass on_too_long='truncate'", "Pass --on-too-long truncate")
        raise CommandError(message) from error
    return request, notes
