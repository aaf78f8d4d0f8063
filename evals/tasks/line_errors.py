"""A data line that could not become an item: reported in its place, the rest still run.

`python -m evals run` must not lose an evaluation to one malformed record: loaders that read
line by line (JSON lines: MedQA, MedMCQA; ChEBI-20's TSV rows) collect a `LineError` for each bad line and go on;
the run prints them, records them in metrics.json, and exits with status 1.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LineError:
    line: int  # 1-based line number in the data file
    message: str

    def to_json(self) -> dict:
        return {"error": {"line": self.line, "message": self.message}}
