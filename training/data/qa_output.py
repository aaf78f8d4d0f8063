"""Writing QA records to a finished-or-absent JSON-lines file, with progress and counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from tqdm import tqdm

from training.data.finished_outputs import is_finished, writing
from training.data.qa_records import QARecord


def already_done(paths: Iterable[Path]) -> bool:
    """True (and says so) when every output exists: a rerun resumes by skipping them."""
    paths = list(paths)
    if all(is_finished(p) for p in paths):
        print(f"already done, skipped: {', '.join(str(p) for p in paths)}")
        return True
    return False


def write_records(records: Iterable[QARecord], path: Path, counts: Counter, desc: str) -> None:
    with writing(path) as handle:
        for record in tqdm(records, desc=desc, unit="record"):
            handle.write(record.to_json_line())
            counts["written"] += 1


def report(name: str, counts: Counter) -> None:
    details = ", ".join(f"{key} {value}" for key, value in sorted(counts.items()))
    print(f"{name}: {details}")
