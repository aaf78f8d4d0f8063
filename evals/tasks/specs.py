"""The evaluation tasks: which loader reads the data and how the answers are scored."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from evals.loaders.chebi20 import chebi20_items
from evals.loaders.medmcqa import medmcqa_items
from evals.loaders.medqa import medqa_items
from evals.loaders.pubmedqa import PUBMEDQA_LABELS, pubmedqa_items
from evals.loaders.uniprotqa import uniprotqa_items
from evals.metrics.answer_extraction import AnswerKind
from evals.tasks.items import CaptionItem, ChoiceItem
from evals.tasks.line_errors import LineError


@dataclass
class LoadedTask:
    items: list[CaptionItem] | list[ChoiceItem]
    notes: dict[str, str] = field(default_factory=dict)  # facts the run should record
    # data lines that could not become items (JSON-lines tasks); the others still run
    line_errors: list[LineError] = field(default_factory=list)


@dataclass(frozen=True)
class TaskSpec:
    name: str
    kind: Literal["caption", "choice"]
    description: str
    load: Callable[[Path, Path | None], LoadedTask]  # (data, sequences map) -> items
    answer_kind: AnswerKind | None = None
    labels: tuple[str, ...] = ()


def _medmcqa(data: Path, _: Path | None) -> LoadedTask:
    line_errors: list[LineError] = []
    items, base = medmcqa_items(data, line_errors)
    return LoadedTask(items, {"cop_base": str(base)}, line_errors)


def _chebi20(data: Path, _: Path | None) -> LoadedTask:
    line_errors: list[LineError] = []
    return LoadedTask(chebi20_items(data, line_errors), line_errors=line_errors)


def _medqa(data: Path, _: Path | None) -> LoadedTask:
    line_errors: list[LineError] = []
    return LoadedTask(medqa_items(data, line_errors), line_errors=line_errors)


TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        TaskSpec(
            "chebi20", "caption", "ChEBI-20 molecule QA (paper Table 3); --data a ChEBI-20 split TSV",
            _chebi20,
        ),
        TaskSpec(
            "uniprotqa", "caption",
            "UniProtQA protein QA (paper Table 4); --data records, --sequences accession map",
            lambda data, sequences: LoadedTask(uniprotqa_items(data, sequences)),
        ),
        TaskSpec(
            "pubmedqa", "choice", "PubMedQA PQA-L test (paper Table 2); --data the pubmedqa folder",
            lambda data, _: LoadedTask(pubmedqa_items(data)),
            answer_kind="yes_no_maybe", labels=PUBMEDQA_LABELS,
        ),
        TaskSpec(
            "medmcqa", "choice", "MedMCQA dev (paper Table 2); --data dev.json (JSON lines)",
            _medmcqa, answer_kind="medmcqa", labels=("A", "B", "C", "D"),
        ),
        TaskSpec(
            "medqa", "choice", "MedQA-USMLE 4 options test (paper Table 2, USMLE); --data JSON lines",
            _medqa,
            answer_kind="usmle", labels=("A", "B", "C", "D"),
        ),
    )
}  # fmt: skip
TASK_ALIASES = {"usmle": "medqa", "chebi": "chebi20", "pqal": "pubmedqa"}


def task_spec(name: str) -> TaskSpec:
    key = TASK_ALIASES.get(name.lower(), name.lower())
    if key not in TASKS:
        raise KeyError(f"unknown task {name!r}; choose one of {', '.join(TASKS)}")
    return TASKS[key]
