"""`prepare-medmcqa`: MedMCQA JSON lines -> stage-3b records.

Fields: `question, opa, opb, opc, opd, cop, ...`. `cop` is 1-based in the original release
and 0-based on Hugging Face; `--cop-base auto` decides from the file (a 0 means 0-based, a
4 means 1-based) and refuses to guess when neither appears. The answer starts
`answer: <letter>`, the form the evaluation's regex extracts.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from training.data.input_files import DataFormatError, read_json_lines
from training.data.qa_output import already_done, report, write_records
from training.data.qa_records import BIOMEDICAL_SYSTEM, QARecord

OPTION_KEYS = ("opa", "opb", "opc", "opd")
LETTERS = "ABCD"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="MedMCQA JSON lines (e.g. train.json)")
    parser.add_argument("--out", type=Path, required=True, help="QA records to write (.jsonl)")
    parser.add_argument(
        "--cop-base",
        choices=("auto", "0", "1"),
        default="auto",
        help="is `cop` 0-based (Hugging Face) or 1-based (original release)",
    )


def detect_cop_base(path: Path) -> int:
    values = {record.get("cop") for _, record in read_json_lines(path)}
    if 0 in values and 4 in values:
        raise DataFormatError(f"{path}: `cop` takes both 0 and 4; the file mixes conventions")
    if 0 in values:
        return 0
    if 4 in values:
        return 1
    raise DataFormatError(
        f"{path}: `cop` never takes 0 or 4, so its base is ambiguous; pass --cop-base 0 or --cop-base 1"
    )


def medmcqa_question(record: dict) -> str:
    options = "\n".join(
        f"{letter}. {record[key]}" for letter, key in zip(LETTERS, OPTION_KEYS, strict=True)
    )
    return f"Question: {str(record['question']).strip()}\nOptions:\n{options}\nAnswer with the option's letter."


def medmcqa_records(path: Path, cop_base: int, counts: Counter) -> Iterator[QARecord]:
    for line_number, record in read_json_lines(path):
        counts["read"] += 1
        missing = [key for key in ("question", "cop", *OPTION_KEYS) if key not in record]
        if missing:
            raise DataFormatError(f"{path}:{line_number}: missing {missing}")
        try:
            index = int(record["cop"]) - cop_base
        except (TypeError, ValueError):
            index = -1
        if not 0 <= index < 4:
            counts["dropped_bad_cop"] += 1
            continue
        letter = LETTERS[index]
        yield QARecord(
            id=f"medmcqa:{record.get('id', line_number)}",
            question=medmcqa_question(record),
            answer=f"answer: {letter}. {str(record[OPTION_KEYS[index]]).strip()}",
            system=BIOMEDICAL_SYSTEM,
        )


def run(args: argparse.Namespace) -> int:
    if already_done([args.out]):
        return 0
    cop_base = detect_cop_base(args.input) if args.cop_base == "auto" else int(args.cop_base)
    counts: Counter = Counter()
    write_records(
        medmcqa_records(args.input, cop_base, counts), args.out, counts, desc=args.input.name
    )
    report(f"{args.out} (cop {cop_base}-based)", counts)
    return 0
