"""`prepare-uniprotqa`: UniProtQA-style protein QA -> stage-2 records, split 8:1:1 by protein.

Input: JSON lines `{"protein_accession": [acc, ...] | acc, "question", "answer"}` and a
sequence map (JSON `{accession: sequence}` or FASTA whose header starts with the accession).
Only the paper's four question types are kept (function, official name, protein family,
subcellular location). Proteins, keyed by sequence so that one protein under two accessions
is still one protein, are shuffled with a fixed seed and cut 8:1:1, so no protein appears in
two splits. Two passes: the first collects the proteins, the second writes the splits.
"""

from __future__ import annotations

import argparse
import random
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from biomedgpt_tools.model.protein_sequence import AMINO_ACID_LETTERS
from training.data.input_files import (
    DataFormatError,
    open_text,
    read_json_document,
    read_json_lines,
)
from training.data.qa_output import already_done, report, write_records
from training.data.qa_records import PROTEIN_SYSTEM, QARecord

SPLITS = ("train", "valid", "test")
# Checked in this order: "What is the protein family ... name" must not become "name".
QUESTION_TYPES = (
    ("subcellular_location", re.compile(r"subcellular|location|localiz", re.I)),
    ("protein_family", re.compile(r"\bfamil", re.I)),
    ("official_name", re.compile(r"\bname\b", re.I)),
    ("function", re.compile(r"\bfunction", re.I)),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="QA records as JSON lines")
    parser.add_argument(
        "--sequences", type=Path, required=True, help="accession -> sequence (JSON object or FASTA)"
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for train/valid/test.jsonl")
    parser.add_argument("--seed", type=int, default=42, help="seed of the protein shuffle")


def question_type(question: str) -> str | None:
    for name, pattern in QUESTION_TYPES:
        if pattern.search(question):
            return name
    return None


def read_sequences(path: Path) -> dict[str, str]:
    with open_text(path) as handle:
        first_character = handle.read(1)
    if first_character == ">":
        sequences: dict[str, str] = {}
        accession = None
        with open_text(path) as handle:
            for line in handle:
                line = line.strip()
                if line.startswith(">"):
                    header = line[1:].split()[0] if line[1:].split() else ""
                    # UniProt headers look like sp|P69905|HBA_HUMAN
                    accession = header.split("|")[1] if header.count("|") >= 2 else header
                    sequences[accession] = ""
                elif accession is not None:
                    sequences[accession] += line
        return sequences
    mapping = read_json_document(path, "a JSON object accession -> sequence, or FASTA")
    if not isinstance(mapping, dict):
        raise DataFormatError(f"{path}: expected a JSON object accession -> sequence, or FASTA")
    return {str(k): str(v) for k, v in mapping.items()}


def _resolved(
    path: Path, sequences: dict[str, str], counts: Counter
) -> Iterator[tuple[str, str, dict]]:
    """(question type, sequence, record) for records that can be used."""
    for line_number, record in read_json_lines(path):
        counts["read"] += 1
        accessions = record.get("protein_accession", record.get("accession"))
        if isinstance(accessions, str):
            accessions = [accessions]
        if (
            not isinstance(accessions, list)
            or not isinstance(record.get("question"), str)
            or not isinstance(record.get("answer"), str)
        ):
            raise DataFormatError(
                f"{path}:{line_number}: needs `protein_accession` (list or string), `question`, `answer`"
            )
        kind = question_type(record["question"])
        if kind is None:
            counts["dropped_other_question_type"] += 1
            continue
        sequence = next((sequences[a] for a in accessions if a in sequences), None)
        if sequence is None:
            counts["dropped_no_sequence"] += 1
            continue
        sequence = "".join(sequence.split()).upper()
        if not sequence or not set(sequence) <= AMINO_ACID_LETTERS:
            counts["dropped_invalid_sequence"] += 1
            continue
        if not record["answer"].strip():
            counts["dropped_empty_answer"] += 1
            continue
        yield kind, sequence, {**record, "_line": line_number, "_accession": accessions[0]}


def assign_splits(proteins: list[str], seed: int) -> dict[str, str]:
    """Shuffle the distinct proteins with `seed` and cut 8:1:1."""
    ordered = sorted(set(proteins))
    random.Random(seed).shuffle(ordered)
    n_train = round(len(ordered) * 0.8)
    n_valid = round(len(ordered) * 0.1)
    return {
        protein: "train" if i < n_train else "valid" if i < n_train + n_valid else "test"
        for i, protein in enumerate(ordered)
    }


def run(args: argparse.Namespace) -> int:
    outputs = [args.out / f"{split}.jsonl" for split in SPLITS]
    if already_done(outputs):
        return 0
    sequences = read_sequences(args.sequences)
    first_pass: Counter = Counter()
    split_of = assign_splits(
        [seq for _, seq, _ in _resolved(args.input, sequences, first_pass)], args.seed
    )
    for split, path in zip(SPLITS, outputs, strict=True):
        counts: Counter = Counter()

        def records(split=split, counts=counts):
            for kind, sequence, raw in _resolved(args.input, sequences, Counter()):
                if split_of[sequence] != split:
                    continue
                counts[kind] += 1
                yield QARecord(
                    id=f"uniprot:{raw['_accession']}:{raw['_line']}",
                    question=raw["question"],
                    answer=raw["answer"].strip(),
                    system=PROTEIN_SYSTEM,
                    proteins=[sequence],
                )

        write_records(records(), path, counts, desc=split)
        counts["proteins"] = sum(1 for s in split_of.values() if s == split)
        report(str(path), counts)
    report("dropped", Counter({k: v for k, v in first_pass.items() if k.startswith("dropped")}))
    return 0
