"""The lines of a `biomedgpt generate --batch` file, each parsed and checked on its own.

One bad line (broken JSON, an unknown key, a SMILES RDKit rejects, letters that are not
residues, a protein longer than the encoder reads, a prompt past the context) must not cost
the good ones their answers: every line becomes a `BatchLine` holding either a request or
the reason it failed, and the command answers the good ones and reports the others in place,
as `{"error": {"line": N, "message": ...}}` with --json. Answers are printed chunk by chunk
(`--batch-size` good lines each) as the model finishes them, so a long batch shows progress and
an interrupted one keeps what was printed.

A line may set `"on_too_long": "error" | "truncate"` for its proteins (default: the command's
--on-too-long). "truncate" keeps the first 1022 residues, as the released model's ESM
tokenizer did (max_length 1024 with <cls> and <eos>), and the answer says so.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import CommandError

ON_TOO_LONG_CHOICES = ("error", "truncate")
MAX_LINE_BYTES = 64 * 2**20  # a line past this is refused, not read into memory whole
_BINARY_SNIFF_BYTES = 8192


@dataclass
class BatchLine:
    """One non-blank line: a validated request, or the message saying why it has none."""

    number: int
    request: Any = None  # GenerationRequest
    error: str | None = None
    notes: list[str] = field(default_factory=list)  # e.g. "protein 1 was truncated ..."
    row: Any = None  # MultimodalRow: the request laid out once the model checked it

    def fail(self, message: str) -> None:
        self.request, self.row, self.error = None, None, message

    @property
    def model_input(self) -> Any:
        """What `BioMedGPT.generate` takes for this line: its row when built, else the request."""
        return self.row if self.row is not None else self.request

    def error_json(self) -> dict:
        return {"error": {"line": self.number, "message": self.error}}


def read_batch_lines(path: Path, *, system: str | None, on_too_long: str) -> list[BatchLine]:
    """Every non-blank line of a JSONL batch file, parsed and validated without the model.

    Whole-file problems (missing, a folder, unreadable, binary, no requests) are a
    CommandError; everything about one line stays on that line.
    """
    lines = [
        _parse_line(number, raw, system=system, on_too_long=on_too_long)
        for number, raw in _raw_lines(path)
    ]
    if not lines:
        raise CommandError(
            f"batch file {path} has no requests (it is empty or every line is blank)"
        )
    return lines


def _raw_lines(path: Path):
    """(line number, bytes) of each non-blank line, read as a stream (a huge file is fine)."""
    if not path.exists():
        raise CommandError(f"batch file {path} does not exist")
    if path.is_dir():
        raise CommandError(f"batch file {path} is a folder; give a JSONL file")
    try:
        handle = path.open("rb")
    except OSError as error:
        raise CommandError(f"cannot read batch file {path}: {error.strerror or error}") from error
    with handle:
        try:
            head = handle.read(_BINARY_SNIFF_BYTES)
        except OSError as error:
            raise CommandError(
                f"cannot read batch file {path}: {error.strerror or error}"
            ) from error
        if b"\0" in head:
            raise CommandError(
                f"batch file {path} is binary (it holds NUL bytes), not JSON lines; give one "
                "JSON request per line"
            )
        handle.seek(0)
        number = 0
        while True:
            raw = handle.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # skip the rest of the giant line
                    raw = handle.readline(MAX_LINE_BYTES)
                yield number, None
                continue
            if raw.strip():
                yield number, raw


def _parse_line(
    number: int, raw: bytes | None, *, system: str | None, on_too_long: str
) -> BatchLine:
    from biomedgpt_tools.model.requests import GenerationRequest

    line = BatchLine(number)
    if raw is None:
        line.fail(f"the line is longer than {MAX_LINE_BYTES // 2**20} MiB; split the request")
        return line
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line.fail(f"not UTF-8 text (byte {error.start + 1} of the line); save the file as UTF-8")
        return line
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        line.fail(f"not valid JSON: {error.msg} (column {error.colno})")
        return line
    if isinstance(data, dict):
        data = dict(data)
        mode = data.pop("on_too_long", on_too_long)
        if mode not in ON_TOO_LONG_CHOICES:
            line.fail(f'\'on_too_long\' must be "error" or "truncate", not {mode!r}')
            return line
        if system is not None and "system" not in data:
            data["system"] = system
    else:
        mode = on_too_long
    try:
        request = GenerationRequest.from_mapping(data)
        line.notes = apply_on_too_long(request, mode)
        validate_request(request)
    except ValueError as error:
        line.fail(
            str(error).replace(
                "Pass on_too_long='truncate'",
                'Set "on_too_long": "truncate" on the line (or pass --on-too-long truncate)',
            )
        )
        return line
    line.request = request
    return line


def apply_on_too_long(request, on_too_long: str) -> list[str]:
    """With "truncate", cut each protein longer than the encoder reads to its first 1022
    residues (the released model's behaviour) and return a note per cut; "error" changes
    nothing (validation then refuses the protein)."""
    from biomedgpt_tools.model.prompt import Protein
    from biomedgpt_tools.model.protein_sequence import (
        ESM_MAX_RESIDUES,
        normalize_protein_sequence,
        truncation_note,
    )

    if on_too_long != "truncate":
        return []
    notes = []
    proteins = 0
    for position, item in enumerate(request.inputs):
        if not isinstance(item, Protein):
            continue
        proteins += 1
        residues = normalize_protein_sequence(item.sequence, max_residues=sys.maxsize)
        if len(residues) > ESM_MAX_RESIDUES:
            request.inputs[position] = Protein(residues[:ESM_MAX_RESIDUES])
            notes.append(truncation_note(len(residues), f"protein {proteins}"))
    return notes


def validate_request(request) -> None:
    """Everything the model would reject, checked without the model: prompt, SMILES, sequences."""
    from biomedgpt_tools.model.molecule_graph import parse_smiles
    from biomedgpt_tools.model.prompt import Molecule, render_prompt
    from biomedgpt_tools.model.protein_sequence import normalize_protein_sequence

    conversation = request.conversation()
    render_prompt(conversation)  # no question, placeholders typed into text, ...
    for item in conversation.inputs:
        if isinstance(item, Molecule):
            parse_smiles(item.smiles)
        else:
            normalize_protein_sequence(item.sequence)


def check_against_model(lines: list[BatchLine], biomedgpt, max_new_tokens: int) -> None:
    """What only the loaded model can tell (a prompt past its context): failed lines in place.
    Each good line keeps the row the check built, so generating does not build it again."""
    for line in lines:
        if line.request is None:
            continue
        try:
            line.row = biomedgpt.check_request(line.request, max_new_tokens)
        except ValueError as error:
            line.fail(str(error).removeprefix("request 0: "))


def answer_lines(lines: list[BatchLine], biomedgpt, batch_size: int, options: dict):
    """(line, GenerationResult | None) for every line, in file order, one chunk of
    `batch_size` good lines at a time, so the caller can print each chunk as soon as it is
    answered. A chunk the model refuses (ValueError) is retried line by line, so only the line
    at fault fails (its error set on the line) and no other chunk is generated twice."""
    pending: list[BatchLine] = []  # lines waiting for the next chunk, bad ones included

    def answer(chunk_lines: list[BatchLine]):
        good = [line for line in chunk_lines if line.request is not None]
        results: dict[int, Any] = {}
        if good:
            try:
                answers = biomedgpt.generate(
                    [line.model_input for line in good], batch_size=batch_size, **options
                )
                results = {line.number: result for line, result in zip(good, answers, strict=True)}
            except ValueError:
                for line in good:
                    try:
                        results[line.number] = biomedgpt.generate(
                            [line.model_input], batch_size=1, **options
                        )[0]
                    except ValueError as error:
                        line.fail(str(error).removeprefix("request 0: "))
            for line in good:
                line.row = None  # answered: a large batch file need not keep every row
        for line in chunk_lines:
            yield line, results.get(line.number)

    good_pending = 0
    for line in lines:
        if line.request is None and not pending:
            yield line, None  # nothing before it waits for the model: report it now
            continue
        pending.append(line)
        good_pending += line.request is not None
        if good_pending == batch_size:
            yield from answer(pending)
            pending, good_pending = [], 0
    yield from answer(pending)
