"""The JSON-lines reader every assistant gold set shares: rows with where they stand, so a
loader's own checks name the file and line of a bad row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from evals.loaders.errors import DataFormatError


def gold_rows(path: str | Path, what: str) -> Iterator[tuple[str, Any]]:
    """Yield ("FILE:LINE", parsed row) for each non-blank line; `what` names the set in errors."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"{path}: {what} not found")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as error:
            raise DataFormatError(f"{where}: not valid JSON ({error.msg})") from None
