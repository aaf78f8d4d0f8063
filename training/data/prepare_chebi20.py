"""`prepare-chebi20`: ChEBI-20 TSV splits -> stage-3a molecule QA records.

The files (MolT5's `train.txt`, `validation.txt`, `test.txt`) have the header
`CID SMILES description`, no quoting (read with QUOTE_NONE: descriptions contain quotes),
and some SMILES carry an escaped `\\\\` where the molecule has one `\\`; it is unescaped here.
The same filters as PubChemQA apply (the paper uses the same prompts).
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from training.data.input_files import DataFormatError, open_text
from training.data.prepare_pubchemqa import DESCRIBE_QUESTION, molecule_records
from training.data.qa_output import already_done, report, write_records


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs", nargs="+", type=Path, help="ChEBI-20 split files (train.txt, validation.txt, ...)"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="folder for one <split>.jsonl per input"
    )


def unescape_smiles(smiles: str) -> str:
    """`\\\\` -> `\\` (the MolT5 TSVs double the backslash of trans/cis bond marks)."""
    return smiles.replace("\\\\", "\\")


def read_chebi20(path: Path) -> Iterator[tuple[str, str, str]]:
    with open_text(path) as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header != ["CID", "SMILES", "description"]:
            raise DataFormatError(
                f"{path}: header is {header}, expected CID, SMILES, description (tab-separated)"
            )
        for row_number, row in enumerate(reader, start=2):
            if len(row) != 3:
                raise DataFormatError(
                    f"{path}:{row_number}: expected 3 tab-separated fields, got {len(row)}"
                )
            yield row[0], unescape_smiles(row[1]), row[2]


def run(args: argparse.Namespace) -> int:
    outputs = [args.out / f"{path.name.split('.')[0]}.jsonl" for path in args.inputs]
    for source, target in zip(args.inputs, outputs, strict=True):
        if already_done([target]):
            continue
        counts: Counter = Counter()
        records = molecule_records(read_chebi20(source), counts, "chebi20", DESCRIBE_QUESTION)
        write_records(records, target, counts, desc=source.name)
        report(str(target), counts)
    return 0
