"""MedQA-USMLE, 4 options (test 1,273): JSON lines `question, answer, options{A..D}, answer_idx`."""

from __future__ import annotations

from pathlib import Path

from evals.loaders.errors import DataFormatError
from evals.loaders.jsonl import read_jsonl_lines, require_fields
from evals.tasks.items import ChoiceItem
from evals.tasks.line_errors import LineError

OPTION_LABELS = ("A", "B", "C", "D")


def medqa_items(path: str | Path, line_errors: list[LineError] | None = None) -> list[ChoiceItem]:
    """Items in file order; with `line_errors`, bad records are collected there, not raised.

    An item without an `id` is named by its line in the file, not by its place among the
    records that parsed: fixing a bad line then leaves every other item's id (and its cached
    prediction) where it was."""
    path = Path(path)
    items = []
    for index, (line, record) in enumerate(read_jsonl_lines(path, line_errors), start=1):
        try:
            items.append(_item(record, f"{path} record {index}", line))
        except DataFormatError as error:
            if line_errors is None:
                raise
            line_errors.append(LineError(line, str(error).removeprefix(f"{path} record {index}: ")))
    if line_errors is not None:
        line_errors.sort(key=lambda error: error.line)  # file order, whatever found them
    if not items:
        raise DataFormatError(f"{path}: no usable records (every line is bad)")
    return items


def _item(record: dict, where: str, line_number: int) -> ChoiceItem:
    require_fields(record, ("question", "options", "answer_idx"), where)
    options = record["options"]
    if not isinstance(options, dict) or sorted(options) != list(OPTION_LABELS):
        found = sorted(options) if isinstance(options, dict) else type(options).__name__
        raise DataFormatError(
            f"{where}: options must be exactly A-D, found {found}; use the 4-option "
            "release (US/4_options)"
        )
    answer = str(record["answer_idx"]).strip().upper()
    if answer not in OPTION_LABELS:
        raise DataFormatError(f"{where}: answer_idx {record['answer_idx']!r} is not A-D")
    if "answer" in record and str(record["answer"]).strip() != str(options[answer]).strip():
        raise DataFormatError(
            f"{where}: answer text {record['answer']!r} differs from option {answer} "
            f"({options[answer]!r})"
        )
    return ChoiceItem(
        item_id=str(record.get("id", line_number)),
        question=str(record["question"]).strip(),
        options={label: str(options[label]) for label in OPTION_LABELS},
        answer=answer,
        meta={"meta_info": str(record["meta_info"])} if record.get("meta_info") else {},
    )
