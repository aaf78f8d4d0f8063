"""JSON-lines reading with errors that name the file and the line."""

from __future__ import annotations

import json
from pathlib import Path

from evals.loaders.errors import DataFormatError
from evals.tasks.line_errors import LineError


def read_jsonl(path: str | Path) -> list[dict]:
    """Every record; the first bad line is a DataFormatError naming it."""
    return [record for _, record in read_jsonl_lines(path)]


def read_jsonl_lines(
    path: str | Path, line_errors: list[LineError] | None = None
) -> list[tuple[int, dict]]:
    """(line number, record) for each record. With `line_errors`, a bad line (not JSON, not an
    object, not UTF-8) is appended there and skipped instead of failing the file."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"{path}: file not found")
    records = []
    try:
        with path.open("rb") as handle:
            for line_number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    record = _parse(raw)
                except DataFormatError as error:
                    if line_errors is None:
                        raise DataFormatError(f"{path}:{line_number}: {error}") from None
                    line_errors.append(LineError(line_number, str(error)))
                    continue
                records.append((line_number, record))
    except OSError as error:
        raise DataFormatError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not records:
        raise DataFormatError(
            f"{path}: no records" + (" (every line is bad)" if line_errors else "")
        )
    return records


def _parse(raw: bytes) -> dict:
    try:
        record = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise DataFormatError("not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise DataFormatError(f"not valid JSON ({error.msg})") from None
    if not isinstance(record, dict):
        raise DataFormatError("expected a JSON object per line")
    return record


def require_fields(record: dict, fields: tuple[str, ...], where: str) -> None:
    missing = [name for name in fields if name not in record]
    if missing:
        raise DataFormatError(f"{where}: missing field(s) {', '.join(missing)}")
