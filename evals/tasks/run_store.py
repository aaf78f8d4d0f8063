"""A run directory: its identity (run.json) and append-only caches of model outputs.

Generation is the slow part, so every finished batch is appended to a JSON-lines cache and
flushed; a restarted run reads the cache and only asks the model about the items left.
A run directory belongs to one configuration: reusing it with another task, data file,
model, prompt version or scoring mode is refused rather than mixing outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

RUN_FILE = "run.json"
METRICS_FILE = "metrics.json"


class RunDirectoryError(ValueError):
    """The run directory belongs to a different configuration or is damaged."""


def open_run(run_dir: Path, identity: dict) -> None:
    """Create the run directory, or check that it holds a run with the same identity."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / RUN_FILE
    if path.is_file():
        stored = json.loads(path.read_text())
        different = {k: (stored.get(k), v) for k, v in identity.items() if stored.get(k) != v}
        if different:
            details = "; ".join(f"{k}: {a!r} there, {b!r} now" for k, (a, b) in different.items())
            raise RunDirectoryError(
                f"{run_dir} holds another run ({details}); pass a new --out or delete it"
            )
    else:
        path.write_text(json.dumps(identity, indent=2) + "\n")


def read_cache(path: Path) -> dict[str, dict]:
    """item_id -> cached record; a torn last line (an interrupted write) is ignored."""
    cached: dict[str, dict] = {}
    if not path.is_file():
        return cached
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):
                break
            raise RunDirectoryError(
                f"{path}:{number} is not JSON; delete the file to regenerate"
            ) from None
        cached[str(record["item_id"])] = record
    return cached


def append_records(path: Path, records: list[dict]) -> None:
    with path.open("a", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        handle.flush()


def write_json(path: Path, data) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(path)
