"""`biomedgpt generate --server URL`: the same requests and the same output, answered by `biomedgpt serve`.

Requests are read and validated as in process (batch_lines.py), sent as chat completions
(inference/wire.py), and printed as the in-process command prints them: with --json the same
`{"prompt", "text", "token_ids"}` objects (the server returns the prompt and the token ids in
its "biomedgpt" extension). A batch keeps --batch-size requests in flight, so the server's
engine batches them, and prints the answers in file order.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from . import CommandError
from .batch_lines import read_batch_lines


def run_remote_generate(args: argparse.Namespace, read_request) -> int:
    """`read_request(args)` is generate.py's own reader (request, notes)."""
    if args.model or args.official or args.llm_dir or args.esm_dir:
        raise CommandError("give --server URL or a model (--model / --official), not both")
    if args.num_beams != 1:
        raise CommandError("--num-beams > 1 needs the model in this process; drop --server")
    if args.top_k:
        raise CommandError("--top-k needs the model in this process; drop --server")
    from biomedgpt_tools.inference.backend import ModelUnavailableError
    from biomedgpt_tools.inference.remote import RemoteBackend

    try:
        backend = RemoteBackend(args.server, concurrency=args.batch_size)
    except ValueError as error:
        raise CommandError(str(error)) from error
    try:
        if args.batch:
            return _run_batch(args, backend)
        request, notes = read_request(args)
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        try:
            data = _ask(backend, request, args)
        except ValueError as error:
            raise CommandError(str(error)) from error
        print(json.dumps(_json(data, notes), ensure_ascii=False) if args.json else data["text"])
        return 0
    except ModelUnavailableError as error:
        raise CommandError(str(error)) from error
    finally:
        backend.close()


def _run_batch(args: argparse.Namespace, backend) -> int:
    if args.inputs or args.question is not None:
        raise CommandError(
            "--batch reads every request from the file; drop --question/--molecule/--protein"
        )
    lines = read_batch_lines(Path(args.batch), system=args.system, on_too_long=args.on_too_long)
    good = [line for line in lines if line.request is not None]

    def ask(line):
        try:
            return line.number, _ask(backend, line.request, args)
        except ValueError as error:  # the server's 400, e.g. a prompt past the context
            line.fail(str(error))
            return line.number, None

    with ThreadPoolExecutor(max_workers=max(1, min(args.batch_size, len(good) or 1))) as pool:
        answers = {number: data for number, data in pool.map(ask, good) if data is not None}
    for line in lines:
        data = answers.get(line.number)
        if data is None:
            if args.json:
                print(json.dumps(line.error_json(), ensure_ascii=False))
            print(f"error: {args.batch} line {line.number}: {line.error}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(_json(data, line.notes), ensure_ascii=False))
        else:
            for note in line.notes:
                print(f"note: {args.batch} line {line.number}: {note}", file=sys.stderr)
            print(f"[{line.number}] {data['text']}")
    sys.stdout.flush()
    return 1 if any(line.number not in answers for line in lines) else 0


def _ask(backend, request, args: argparse.Namespace) -> dict:
    """{"prompt", "text", "token_ids"} of one request, decoded as the flags say."""
    from biomedgpt_tools.inference.wire import chat_request_body

    body = chat_request_body(replace(request, max_new_tokens=args.max_new_tokens))
    if args.sample:
        body.update(temperature=args.temperature, top_p=args.top_p)
    if args.seed is not None:
        body["seed"] = args.seed
    data = backend.chat(body)
    extension = data.get("biomedgpt") or {}
    return {
        "prompt": extension.get("prompt", ""),
        "text": data["choices"][0]["message"]["content"] or "",
        "token_ids": list(extension.get("token_ids") or []),
    }


def _json(data: dict, notes: list[str]) -> dict:
    return {**data, "notes": list(notes)} if notes else dict(data)
