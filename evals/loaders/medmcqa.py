"""MedMCQA (dev set, 4,183 questions): JSON lines with `question, opa..opd, cop, ...`.

`cop` is 1-based in the original release and 0-based on Hugging Face. The base is read off
the file: a 0 means 0-based, a 4 means 1-based, both is an error, and a file with only 1-3
(tiny samples) is taken as the original release's 1-based; the choice is returned so the
run records it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from evals.loaders.errors import DataFormatError
from evals.loaders.jsonl import read_jsonl_lines, require_fields
from evals.tasks.items import ChoiceItem
from evals.tasks.line_errors import LineError

OPTION_LABELS = ("A", "B", "C", "D")
OPTION_FIELDS = ("opa", "opb", "opc", "opd")


def _cop_value(record: dict, where: str) -> int:
    value = record["cop"]
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 4:
        raise DataFormatError(f"{where}: cop {record['cop']!r} is not an option index 0-4")
    return value


def detect_cop_base(values: list[int], path: Path) -> int:
    """0 or 1; see the module docstring for the rule."""
    has_zero, has_four = 0 in values, 4 in values
    if has_zero and has_four:
        raise DataFormatError(
            f"{path}: cop takes both 0 and 4, so it is neither 0-based nor 1-based; "
            "is the file a mix of two releases?"
        )
    if has_zero:
        return 0
    if not has_four:
        warnings.warn(
            f"{path}: cop only takes values 1-3, so its base cannot be told; "
            "assuming the original release's 1-based cop",
            stacklevel=2,
        )
    return 1


def medmcqa_items(
    path: str | Path, line_errors: list[LineError] | None = None
) -> tuple[list[ChoiceItem], int]:
    """Items and the detected cop base (0 or 1); with `line_errors`, bad records are collected
    there instead of raised. An item without an `id` is named by its line in the file (see
    medqa_items: fixing a bad line must not shift the others' ids)."""
    path = Path(path)
    fields = ("question", *OPTION_FIELDS, "cop")
    records, cops, line_numbers = [], [], []
    for index, (line, record) in enumerate(read_jsonl_lines(path, line_errors), start=1):
        where = f"{path} record {index}"
        try:
            require_fields(record, fields, where)
            cop = _cop_value(record, where)
        except DataFormatError as error:
            if line_errors is None:
                raise
            line_errors.append(LineError(line, str(error).removeprefix(f"{where}: ")))
            continue
        records.append(record)
        cops.append(cop)
        line_numbers.append(line)
    if line_errors is not None:
        line_errors.sort(key=lambda error: error.line)  # file order, whatever found them
    if not records:
        raise DataFormatError(f"{path}: no usable records (every line is bad)")
    base = detect_cop_base(cops, path)
    items = []
    for line_number, record, cop in zip(line_numbers, records, cops, strict=True):
        items.append(
            ChoiceItem(
                item_id=str(record.get("id", line_number)),
                question=str(record["question"]).strip(),
                options={
                    label: str(record[f])
                    for label, f in zip(OPTION_LABELS, OPTION_FIELDS, strict=True)
                },
                answer=OPTION_LABELS[cop - base],
                meta={k: str(record[k]) for k in ("subject_name", "choice_type") if record.get(k)},
            )
        )
    return items, base
