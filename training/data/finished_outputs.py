"""Resumable outputs: a file counts as finished only once it was renamed into place.

Every preparation step writes to `NAME.partial` and renames it when complete, so a killed
run leaves no half-written file that a rerun would mistake for a finished one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def is_finished(path: Path) -> bool:
    """A finished output exists under its final name (partials never do)."""
    return Path(path).exists()


@contextmanager
def writing(path: Path, mode: str = "w") -> Iterator[IO]:
    """Open `path.partial` for writing; rename to `path` only if the block completes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    encoding = None if "b" in mode else "utf-8"
    with open(partial, mode, encoding=encoding) as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)


def write_json(path: Path, payload: dict) -> None:
    with writing(path) as handle:
        json.dump(payload, handle, indent=2, sort_keys=True)
        handle.write("\n")
