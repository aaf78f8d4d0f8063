"""ChEBI-20 (MolT5 split): `CID<TAB>SMILES<TAB>description`, no quoting.

484 test SMILES carry an escaped `\\\\` where prediction files (and RDKit) have `\\`; we
unescape on load so that predictions join to references by SMILES.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from evals.loaders.errors import DataFormatError
from evals.tasks.items import CaptionItem, ModalityInput
from evals.tasks.line_errors import LineError

CHEBI20_HEADER = ["CID", "SMILES", "description"]
MOLECULE_QUESTION = "Please describe the molecule."


@dataclass(frozen=True)
class ChEBIRecord:
    cid: str
    smiles: str
    description: str


def unescape_smiles(smiles: str) -> str:
    """Undo ChEBI-20's doubled backslash (`C\\\\C=C` in the file is `C\\C=C`)."""
    return smiles.replace("\\\\", "\\")


def read_tsv_rows(
    path: Path, header: list[str], line_errors: list[LineError] | None = None
) -> list[list[str]]:
    """Rows of a header-checked, unquoted TSV; errors name the file and the line. With
    `line_errors`, a row with the wrong number of fields is collected there and skipped."""
    if not path.is_file():
        raise DataFormatError(f"{path}: file not found")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        first = next(reader, None)
        if first != header:
            raise DataFormatError(
                f"{path}: expected the header {'<TAB>'.join(header)}, found "
                f"{'<TAB>'.join(first) if first else 'an empty file'}"
            )
        rows = []
        for line_number, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != len(header):
                message = f"expected {len(header)} tab-separated fields, found {len(row)}"
                if line_errors is None:
                    raise DataFormatError(f"{path}:{line_number}: {message}")
                line_errors.append(LineError(line_number, message))
                continue
            rows.append(row)
    if not rows and line_errors:
        raise DataFormatError(f"{path}: no usable rows (every line is bad)")
    return rows


def load_chebi20(path: str | Path, line_errors: list[LineError] | None = None) -> list[ChEBIRecord]:
    """All records of a ChEBI-20 split file, SMILES unescaped (bad rows: see read_tsv_rows)."""
    path = Path(path)
    records = [
        ChEBIRecord(cid=cid, smiles=unescape_smiles(smiles), description=description)
        for cid, smiles, description in read_tsv_rows(path, CHEBI20_HEADER, line_errors)
    ]
    seen: set[str] = set()
    for record in records:
        if record.smiles in seen:
            raise DataFormatError(
                f"{path}: SMILES {record.smiles} appears twice; cannot join by it"
            )
        seen.add(record.smiles)
    return records


def chebi20_items(
    path: str | Path, line_errors: list[LineError] | None = None
) -> list[CaptionItem]:
    """ChEBI-20 as molecule-QA items: describe the molecule, score against the description."""
    return [
        CaptionItem(
            item_id=record.cid,
            question=MOLECULE_QUESTION,
            reference=record.description,
            inputs=(ModalityInput("molecule", record.smiles),),
        )
        for record in load_chebi20(path, line_errors)
    ]
