"""Scoring an end-to-end run of the assistant against a gold set (not measured by the paper).

The gold set (evals/data/assistant_set.jsonl) has one turn per line: `id`, `thread` (turns
of one thread are asked in file order in one conversation, so follow-ups work), `question`,
the expected `tool_calls` in order (`{"name", "entity"}`; BiomedQA has no entity) and the
expected cited `sources` (`pubchem:CID`, `uniprot:ACCESSION`).

Scores:
- tool-call match: the turn's calls equal the expected ones, in order, by tool name and
  entity argument (compared case-insensitively, spaces trimmed, a `CID ` prefix dropped:
  "CID 2519" and "2519" name the same compound to the resolver).
- source-citation recall: expected sources cited / expected sources (micro), plus the share
  of turns citing all of theirs. Extra citations are not penalised (the model or memory is
  always cited too).
- answered: the turn finished (no exception, no pause for a choice) with a non-empty answer
  and no tool reporting an error.
- model answered: a model or memory source is cited. With no model, every turn's answer must
  say that no model answered (`no_model_stated`).
- latency: seconds per turn, p50 and p95 by linear interpolation between order statistics
  (numpy's default percentile).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from evals.assistant.gold_rows import gold_rows
from evals.loaders.errors import DataFormatError

ASSISTANT_SET = Path(__file__).resolve().parents[1] / "data" / "assistant_set.jsonl"
ENTITY_TOOLS = {"MoleculeQA": "molecule", "ProteinQA": "protein"}
TOOL_NAMES = (*ENTITY_TOOLS, "BiomedQA")


@dataclass(frozen=True)
class GoldTurn:
    id: str
    thread: str
    question: str
    tool_calls: tuple[tuple[str, str | None], ...]  # (tool, entity or None)
    sources: tuple[str, ...]  # "pubchem:2244", "uniprot:P69905"
    kind: str = ""


@dataclass
class TurnRecord:
    """What the assistant did on one gold turn."""

    gold: GoldTurn
    tool_calls: list[tuple[str, str | None]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # cited database sources, same form as gold
    answer_sources: list[str] = field(default_factory=list)  # "model" / "memory" citations
    answer: str = ""
    tool_errors: list[str] = field(default_factory=list)
    error: str | None = None  # the turn itself failed (exception) or paused (interrupt)
    seconds: float = 0.0


def load_assistant_set(path: str | Path = ASSISTANT_SET) -> list[GoldTurn]:
    turns: list[GoldTurn] = []
    for where, row in gold_rows(path, "assistant gold set"):
        try:
            calls = tuple((call["name"], call.get("entity")) for call in row["tool_calls"])
            turn = GoldTurn(
                id=str(row["id"]), thread=str(row["thread"]), question=row["question"],
                tool_calls=calls, sources=tuple(row.get("sources", [])), kind=row.get("kind", ""),
            )  # fmt: skip
        except (KeyError, TypeError) as error:
            raise DataFormatError(
                f'{where}: expected {{"id", "thread", "question", "tool_calls": [{{"name", "entity"}}], '
                f'"sources": ["pubchem:CID" | "uniprot:ACCESSION"]}} ({error})'
            ) from None
        for name, entity in turn.tool_calls:
            if name not in TOOL_NAMES:
                raise DataFormatError(f"{where}: tool {name!r} is not one of {TOOL_NAMES}")
            if (name in ENTITY_TOOLS) != (entity is not None):
                raise DataFormatError(
                    f"{where}: {name} needs {'an' if name in ENTITY_TOOLS else 'no'} entity"
                )
        for source in turn.sources:
            kind, _, value = source.partition(":")
            if kind not in ("pubchem", "uniprot") or not value:
                raise DataFormatError(
                    f"{where}: source {source!r} is not pubchem:CID or uniprot:ACCESSION"
                )
        turns.append(turn)
    if not turns:
        raise DataFormatError(f"{path}: no turns")
    if len({turn.id for turn in turns}) != len(turns):
        raise DataFormatError(f"{path}: turn ids must be unique")
    return turns


def entity_form(entity: str | None) -> str | None:
    """The entity as compared: trimmed, case-folded, without a `CID` prefix."""
    if entity is None:
        return None
    text = entity.strip().casefold()
    for prefix in ("cid:", "cid "):
        if text.startswith(prefix):
            text = text[len(prefix) :].strip()
    return text


def calls_match(
    expected: tuple[tuple[str, str | None], ...], got: list[tuple[str, str | None]]
) -> bool:
    return [(name, entity_form(e)) for name, e in expected] == [
        (name, entity_form(e)) for name, e in got
    ]


def cited_sources(sources: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(database sources as "pubchem:CID"/"uniprot:ACC", answer sources "model"/"memory")."""
    database, answers = [], []
    for source in sources:
        if source.get("type") == "pubchem":
            database.append(f"pubchem:{source['cid']}")
        elif source.get("type") == "uniprot":
            database.append(f"uniprot:{source['accession']}")
        elif source.get("type") in ("model", "memory"):
            answers.append(source["type"])
    return database, answers


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear interpolation between order statistics."""
    if not values:
        raise ValueError("no values for a percentile")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class AssistantScores:
    n: int
    tool_call_match: float
    source_recall: float  # micro: cited expected sources / expected sources
    all_sources_cited: float  # turns citing every expected source
    answered_rate: float
    model_answered_rate: float  # turns citing a model or memory answer
    no_model_stated_rate: float | None  # with no model: turns whose answer says so
    latency_p50_s: float
    latency_p95_s: float
    by_kind: dict[str, float]  # tool-call match per gold `kind`
    misses: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


NO_MODEL_MARKERS = ("No BioMedGPT model is configured", "No model answered")


def says_no_model(answer: str) -> bool:
    return any(marker in answer for marker in NO_MODEL_MARKERS)


def score_assistant(records: list[TurnRecord], model_configured: bool) -> AssistantScores:
    if not records:
        raise ValueError("no turns to score")
    expected_total = sum(len(r.gold.sources) for r in records)
    cited_total = sum(sum(source in r.sources for source in r.gold.sources) for r in records)
    kinds: dict[str, list[bool]] = {}
    misses = []
    for record in records:
        match = record.error is None and calls_match(record.gold.tool_calls, record.tool_calls)
        kinds.setdefault(record.gold.kind or "other", []).append(match)
        missing = [s for s in record.gold.sources if s not in record.sources]
        if not match or missing or record.error or record.tool_errors:
            misses.append({
                "id": record.gold.id, "question": record.gold.question,
                "expected_calls": [list(c) for c in record.gold.tool_calls],
                "got_calls": [list(c) for c in record.tool_calls], "missing_sources": missing,
                "error": record.error, "tool_errors": record.tool_errors,
            })  # fmt: skip
    answered = [r for r in records if r.error is None and r.answer.strip() and not r.tool_errors]
    seconds = [r.seconds for r in records]
    n = len(records)
    return AssistantScores(
        n=n,
        tool_call_match=sum(m for ms in kinds.values() for m in ms) / n,
        source_recall=cited_total / expected_total if expected_total else 1.0,
        all_sources_cited=sum(all(s in r.sources for s in r.gold.sources) for r in records) / n,
        answered_rate=len(answered) / n,
        model_answered_rate=sum(bool(r.answer_sources) for r in records) / n,
        no_model_stated_rate=None
        if model_configured
        else sum(says_no_model(r.answer) for r in records) / n,
        latency_p50_s=percentile(seconds, 50),
        latency_p95_s=percentile(seconds, 95),
        by_kind={kind: sum(ms) / len(ms) for kind, ms in kinds.items()},
        misses=misses,
    )
