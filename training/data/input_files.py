"""Reading raw inputs line by line, with the file and line named in every error."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path


class DataFormatError(ValueError):
    """An input record that does not have the documented shape; the message says where."""


def open_text(path: Path):
    """Plain or gzip-compressed text (S2ORC shards ship as .jsonl.gz)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"input file {path} does not exist; check the path")
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def read_json_lines(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, record) for each non-empty line; a malformed line raises DataFormatError."""
    with open_text(path) as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataFormatError(
                    f"{path}:{line_number}: not valid JSON ({error.msg})"
                ) from None
            if not isinstance(record, dict):
                raise DataFormatError(f"{path}:{line_number}: expected a JSON object per line")
            yield line_number, record


def read_json_document(path: Path, what: str = "a JSON document"):
    """A whole-file JSON input (PubMedQA's ori_pqal.json, a sequence map); a file that is not
    JSON (empty, binary, truncated) is a DataFormatError naming it, not a decoder traceback."""
    with open_text(path) as handle:
        try:
            return json.load(handle)
        except json.JSONDecodeError as error:
            raise DataFormatError(
                f"{path}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}); "
                f"expected {what}"
            ) from None


def count_lines(path: Path) -> int:
    """For tqdm totals; cheap compared with the parsing that follows."""
    with open_text(path) as handle:
        return sum(1 for _ in handle)
