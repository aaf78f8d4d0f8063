"""JSON-lines reading with errors that name the file and the line."""

from __future__ import annotations

import json
from pathlib import Path

from evals.loaders.errors import DataFormatError


def read_jsonl(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"{path}: file not found")
    records = []
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataFormatError(f"{path}:{line_number}: not valid JSON ({error.msg})") from None
            if not isinstance(record, dict):
                raise DataFormatError(f"{path}:{line_number}: expected a JSON object per line")
            records.append(record)
    if not records:
        raise DataFormatError(f"{path}: no records")
    return records


def require_fields(record: dict, fields: tuple[str, ...], where: str) -> None:
    missing = [name for name in fields if name not in record]
    if missing:
        raise DataFormatError(f"{where}: missing field(s) {', '.join(missing)}")
