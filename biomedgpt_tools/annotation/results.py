"""The results file: one JSON line per accession, appended as batches complete.

Resuming skips the accessions whose line holds a finished outcome (done, from memory, not
found, obsolete, invalid); a "failed" line (UniProt down after its retries, generation out
of memory) is a temporary outcome: the next run tries that accession again and its new line
replaces the failed one. A line cut short by a kill is ignored (and rewritten by the next
run), so an interrupted run never leaves a half answer counted as done.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from biomedgpt_tools.resolvers.identifiers import ACCESSION_RE

STATUSES = ("done", "from_memory", "not_found", "obsolete", "invalid", "failed")
# Outcomes a rerun keeps; "failed" is retried. "invalid" (a token that is no accession) is
# final: the same text can never become an accession, so retrying it would only repeat it.
FINISHED_STATUSES = frozenset({"done", "from_memory", "not_found", "obsolete", "invalid"})


@dataclass
class AnnotationResult:
    """What happened to one accession; `answers` maps question type -> answer text."""

    accession: str
    status: str
    answers: dict[str, str] = field(default_factory=dict)
    entry: str | None = None  # the UniProt entry answered about (differs for merged accessions)
    entry_name: str | None = None
    protein_name: str | None = None
    model_id: str | None = None
    revision: str | None = None
    message: str | None = None

    def to_json(self) -> str:
        return json.dumps(
            {k: v for k, v in asdict(self).items() if v not in (None, {})}, sort_keys=True
        )

    @classmethod
    def from_dict(cls, data: dict) -> AnnotationResult:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class RunSummary:
    """Counts per status for this run (skipped: already in the results file)."""

    counts: Counter = field(default_factory=Counter)
    skipped: int = 0
    seconds: float = 0.0

    def add(self, results: Iterable[AnnotationResult]) -> None:
        for result in results:
            self.counts[result.status] += 1

    def merge(self, other: RunSummary) -> None:
        self.counts.update(other.counts)
        self.skipped = max(self.skipped, other.skipped)
        self.seconds = max(self.seconds, other.seconds)

    @property
    def processed(self) -> int:
        return sum(self.counts.values())

    def line(self) -> str:
        parts = [f"{self.counts.get(status, 0)} {status.replace('_', ' ')}" for status in STATUSES]
        rate = self.processed / self.seconds if self.seconds > 0 else 0.0
        return (
            f"{', '.join(parts)}; {self.skipped} already in the results file (skipped); "
            f"{self.seconds:.1f} s, {rate:.2f} accessions/s"
        )


def read_accessions(path: Path) -> tuple[list[str], list[str]]:
    """(accessions, invalid lines) from a file: one or more per line, blank lines and # comments skipped.

    Accessions are upper-cased and de-duplicated in first-seen order.
    """
    if not path.is_file():
        raise FileNotFoundError(
            f"accessions file {path} does not exist; give a text file with one UniProt accession per line"
        )
    accessions, invalid = [], []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0]
        for token in line.replace(",", " ").split():
            upper = token.strip().upper()
            if ACCESSION_RE.match(upper):
                accessions.append(upper)
            else:
                invalid.append(token)
    return list(dict.fromkeys(accessions)), list(dict.fromkeys(invalid))


def read_results(path: Path) -> dict[str, AnnotationResult]:
    """Complete lines of a results file by accession; torn lines skipped.

    A finished line stays (the first one wins); a failed line is replaced by any later line
    for the same accession, so a retried accession shows once, with its latest outcome.
    """
    found: dict[str, AnnotationResult] = {}
    if not path.is_file():
        return found
    with path.open() as handle:
        for line in handle:
            if not line.endswith("\n"):
                break  # the tail of a killed write
            try:
                result = AnnotationResult.from_dict(json.loads(line))
            except (json.JSONDecodeError, TypeError):
                continue
            keep_result(found, result)
    return found


def keep_result(found: dict[str, AnnotationResult], result: AnnotationResult) -> bool:
    """Put `result` into `found` unless a finished one is there already; True when it went in."""
    present = found.get(result.accession)
    if present is not None and present.status in FINISHED_STATUSES:
        return False
    found[result.accession] = result
    return True


def finished_accessions(path: Path) -> set[str]:
    """Accessions a rerun skips: those whose line in `path` holds a finished outcome."""
    return {a for a, result in read_results(path).items() if result.status in FINISHED_STATUSES}


def compact_results(path: Path) -> None:
    """Rewrite `path` with one line per accession when retries left replaced lines in it.

    Written to a temporary file and renamed over `path`: a kill mid-way leaves the old file.
    """
    if not path.is_file():
        return
    lines = [line for line in path.read_text().splitlines(keepends=True) if line.endswith("\n")]
    latest = read_results(path)
    if len(lines) == len(latest):
        return
    temporary = path.with_name(path.name + ".compacting")
    with temporary.open("w") as handle:
        handle.write("".join(result.to_json() + "\n" for result in latest.values()))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def repair_tail(path: Path) -> None:
    """Cut a last line that a killed process left without its newline."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    keep = data.rfind(b"\n") + 1
    with path.open("r+b") as handle:
        handle.truncate(keep)


def append_results(path: Path, results: Iterable[AnnotationResult]) -> None:
    """Append lines and make them durable before returning (a kill after this loses nothing)."""
    text = "".join(result.to_json() + "\n" for result in results)
    if not text:
        return
    with path.open("a") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
