"""`prepare-pubchemqa`: PubChemQA-style molecule/description pairs -> stage-2 QA records.

Input: JSON lines with `smiles` (or `SMILES`) and `description` (optionally `cid`), or a
TSV with header `CID SMILES description`. Kept as the paper did: molecules RDKit parses,
descriptions of 4+ words, cropped at 256 words; one question, "Please describe the molecule."
"""

from __future__ import annotations

import argparse
import csv
import itertools
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from training.data.input_files import DataFormatError, open_text, read_json_lines
from training.data.molecule_text import (
    MAX_DESCRIPTION_WORDS,
    MIN_DESCRIPTION_WORDS,
    crop_words,
    featurizes,
    parses,
    word_count,
)
from training.data.qa_output import already_done, report, write_records
from training.data.qa_records import MOLECULE_SYSTEM, QARecord

DESCRIBE_QUESTION = "Please describe the molecule."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "input", type=Path, help="pairs as JSON lines (.jsonl) or TSV (CID, SMILES, description)"
    )
    parser.add_argument("--out", type=Path, required=True, help="QA records to write (.jsonl)")


def read_pairs(path: Path) -> Iterator[tuple[str, str, str]]:
    """(id, smiles, description) from either supported layout."""
    if path.suffix in (".tsv", ".txt"):
        with open_text(path) as handle:
            reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            missing = {"SMILES", "description"} - set(reader.fieldnames or [])
            if missing:
                raise DataFormatError(
                    f"{path}: header lacks {sorted(missing)}; expected CID, SMILES, description"
                )
            for row_number, row in enumerate(reader, start=2):
                yield (
                    str(row.get("CID") or row_number),
                    row["SMILES"] or "",
                    row["description"] or "",
                )
        return
    for line_number, record in read_json_lines(path):
        smiles = record.get("smiles", record.get("SMILES"))
        description = record.get("description")
        if not isinstance(smiles, str) or not isinstance(description, str):
            raise DataFormatError(
                f"{path}:{line_number}: needs string fields `smiles` and `description`"
            )
        yield str(record.get("cid", record.get("CID", line_number))), smiles, description


def molecule_records(pairs, counts: Counter, id_prefix: str, question: str) -> Iterator[QARecord]:
    for pair_id, smiles, description in pairs:
        counts["read"] += 1
        smiles = smiles.strip()
        if not parses(smiles):
            counts["dropped_unparsable_smiles"] += 1
            continue
        if not featurizes(smiles):
            counts["dropped_not_featurizable"] += 1
            continue
        if word_count(description) < MIN_DESCRIPTION_WORDS:
            counts["dropped_short_description"] += 1
            continue
        if word_count(description) > MAX_DESCRIPTION_WORDS:
            counts["cropped_long_description"] += 1
        yield QARecord(
            id=f"{id_prefix}:{pair_id}",
            question=question,
            answer=crop_words(description),
            system=MOLECULE_SYSTEM,
            molecules=[smiles],
        )


def run(args: argparse.Namespace) -> int:
    if already_done([args.out]):
        return 0
    counts: Counter = Counter()
    pairs = read_pairs(args.input)
    first = next(pairs, None)
    if first is None:  # nothing would be written, and an empty output would look done
        raise DataFormatError(f"{args.input}: no molecule/description pairs (the file is empty)")
    records = molecule_records(
        itertools.chain([first], pairs), counts, "pubchem", DESCRIBE_QUESTION
    )
    write_records(records, args.out, counts, desc=args.input.name)
    report(str(args.out), counts)
    return 0
