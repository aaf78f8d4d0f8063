"""Memory hit rate and staleness on a realistic workload, through the real tools (not measured by the paper).

The workload (evals/data/memory_workload.jsonl) is what users ask about the bundled
snapshot's entities: first questions and their repeats, each repeat marked as `exact` (the
same text), `normalised` (differs only in case, whitespace or trailing punctuation, which
the store normalises away) or `alias` (the same entity by another identifier: a synonym,
CID, SMILES or entry name, which resolves to the same InChIKey or accession).

`evaluate_memory` runs it through MoleculeQA / ProteinQA / BiomedQA of one offline toolkit
(snapshot resolvers, a fresh embedded store), three times:

1. model A, empty store: repeats should be answered from memory within the pass;
2. model A again: every question should be a hit and the model never called;
3. model B (another checkpoint, so another revision) on the same store: A's answers must
   not be served as B's. Before the pass, the whole workload is replayed against the store
   with B's identity (`score_memory`): the hit rate is the share of lookups that would get a
   stale (other-revision) answer if recall ignored revisions; it must be 0.

Hits are read from the tools' artifacts (`answered_by == "memory"`) and cross-checked by a
replay of the same lookups against the store (`evals.assistant.memory_metrics.score_memory`).
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from evals.assistant.gold_rows import gold_rows
from evals.assistant.memory_metrics import MemoryLookup, score_memory, store_recall
from evals.loaders.errors import DataFormatError

MEMORY_WORKLOAD = Path(__file__).resolve().parents[1] / "data" / "memory_workload.jsonl"
RELATIONS = ("first", "exact", "normalised", "alias")
TOOLS = {
    "MoleculeQA": ("molecule", "molecule"),
    "ProteinQA": ("protein", "protein"),
    "BiomedQA": ("text", None),
}
STALE_AFTER = timedelta(days=180)  # age staleness for score_memory; a fresh run is never this old


@dataclass(frozen=True)
class WorkloadItem:
    id: str
    tool: str
    entity: str | None  # None for BiomedQA (no entity)
    question: str
    relation: str
    repeat_of: str | None = None

    def tool_args(self) -> dict[str, Any]:
        argument = TOOLS[self.tool][1]
        args: dict[str, Any] = {"question": self.question}
        if argument is not None:
            args[argument] = self.entity
        return args


def load_memory_workload(path: str | Path = MEMORY_WORKLOAD) -> list[WorkloadItem]:
    """The workload, checked: known tools and relations, repeats pointing back to a first question."""
    items: list[WorkloadItem] = []
    by_id: dict[str, WorkloadItem] = {}
    for where, row in gold_rows(path, "memory workload"):
        try:
            item = WorkloadItem(
                id=str(row["id"]), tool=row["tool"], entity=row.get("entity"), question=row["question"],
                relation=row["relation"], repeat_of=row.get("repeat_of"),
            )  # fmt: skip
        except (KeyError, TypeError) as error:
            raise DataFormatError(
                f'{where}: expected {{"id", "tool", "entity", "question", "relation", "repeat_of"}} ({error})'
            ) from None
        if item.tool not in TOOLS:
            raise DataFormatError(f"{where}: tool {item.tool!r} is not one of {sorted(TOOLS)}")
        if (item.entity is None) != (TOOLS[item.tool][1] is None):
            raise DataFormatError(
                f"{where}: {item.tool} needs {'no' if item.entity else 'an'} entity"
            )
        if item.relation not in RELATIONS:
            raise DataFormatError(f"{where}: relation {item.relation!r} is not one of {RELATIONS}")
        if item.id in by_id:
            raise DataFormatError(f"{where}: id {item.id!r} is used twice")
        if item.relation == "first":
            if item.repeat_of is not None:
                raise DataFormatError(f"{where}: a first question has no repeat_of")
        else:
            original = by_id.get(item.repeat_of or "")
            if original is None or original.relation != "first":
                raise DataFormatError(
                    f"{where}: repeat_of {item.repeat_of!r} must name an earlier first question"
                )
            if original.tool != item.tool:
                raise DataFormatError(f"{where}: a repeat must use the same tool as {original.id}")
        by_id[item.id] = item
        items.append(item)
    if not items:
        raise DataFormatError(f"{path}: no questions")
    return items


@dataclass
class Lookup:
    """What one tool call did: answered from memory or by the model, under which identity."""

    item: WorkloadItem
    answered_by: str  # model | memory | record | error
    kind: str
    key: str | None
    model_id: str | None
    revision: str | None
    seconds: float
    error: str | None = None


def run_workload_pass(toolkit, items: list[WorkloadItem]) -> list[Lookup]:
    """Every workload question through the toolkit's tools, in order, one call each."""
    tools = {tool.name: tool for tool in toolkit.get_tools()}
    lookups = []
    for item in items:
        started = time.perf_counter()
        message = tools[item.tool].invoke(
            {
                "type": "tool_call",
                "id": f"call_{uuid.uuid4().hex[:12]}",
                "name": item.tool,
                "args": item.tool_args(),
            }
        )
        seconds = time.perf_counter() - started
        artifact = getattr(message, "artifact", None)
        kind = TOOLS[item.tool][0]
        if getattr(message, "status", "success") == "error" or artifact is None:
            lookups.append(
                Lookup(item, "error", kind, None, None, None, seconds, error=str(message.content))
            )
            continue
        lookups.append(Lookup(
            item, artifact.answered_by, kind, artifact.entity_key or "", artifact.model_id, artifact.revision, seconds
        ))  # fmt: skip
    return lookups


def hit_rates(lookups: list[Lookup]) -> dict[str, Any]:
    """Share answered from memory, overall and per relation (errors count as misses)."""
    by_relation = {}
    for relation in RELATIONS:
        chosen = [lookup for lookup in lookups if lookup.item.relation == relation]
        if chosen:
            by_relation[relation] = sum(lookup.answered_by == "memory" for lookup in chosen) / len(
                chosen
            )
    repeats = [lookup for lookup in lookups if lookup.item.relation != "first"]
    return {
        "n": len(lookups),
        "hit_rate": sum(lookup.answered_by == "memory" for lookup in lookups) / len(lookups),
        "repeat_hit_rate": sum(r.answered_by == "memory" for r in repeats) / len(repeats)
        if repeats
        else None,
        "by_relation": by_relation,
        "errors": [f"{lookup.item.id}: {lookup.error}" for lookup in lookups if lookup.error],
    }


def replay_lookups(
    lookups: list[Lookup], model_id: str, revision: str, at: datetime
) -> list[MemoryLookup]:
    """The pass's lookups as `score_memory` input, asked by the given model at `at`."""
    return [
        MemoryLookup(lookup.kind, lookup.key, lookup.item.question, model_id, revision, at)
        for lookup in lookups
        if lookup.key is not None
    ]


def _identity(toolkit) -> dict[str, str]:
    identity = toolkit.backend.identity()
    return {"id": identity.model_id, "revision": identity.revision}


def evaluate_memory(
    model_dir: str | Path | None = None,
    workload: list[WorkloadItem] | None = None,
    *,
    work_dir: str | Path | None = None,
    max_new_tokens: int = 16,
    embedder: Any = None,
    second_model_seed: int = 1,
) -> dict[str, Any]:
    """Run the three passes (see the module docstring) and return every number as JSON data.

    `model_dir` is model A (None: the tiny model, seed 0, built here); model B is always the
    tiny model with `second_model_seed`. `work_dir` holds the models, the store and the
    resolver cache (None: a temporary folder removed afterwards).
    """
    from evals.assistant.offline_toolkit import (
        check_model_folder,
        open_offline_toolkit,
        save_tiny_model,
    )

    items = workload if workload is not None else load_memory_workload()
    given = check_model_folder(model_dir)
    with tempfile.TemporaryDirectory(prefix="evals-memory-") as scratch:
        root = Path(work_dir) if work_dir is not None else Path(scratch)
        started = time.perf_counter()
        model_a = given or save_tiny_model(root / "models", seed=0)
        model_b = save_tiny_model(root / "models", seed=second_model_seed)
        home = root / f"home-{uuid.uuid4().hex[:8]}"  # a fresh store every run

        toolkit_a, store = open_offline_toolkit(
            home, model_a, max_new_tokens=max_new_tokens, embedder=embedder
        )
        try:
            identity_a = _identity(toolkit_a)
            first = run_workload_pass(toolkit_a, items)
            calls_first = toolkit_a.backend.answer_calls
            second = run_workload_pass(toolkit_a, items)
            calls_second = toolkit_a.backend.answer_calls - calls_first
            now = datetime.now(timezone.utc)
            replay_a = score_memory(
                replay_lookups(second, identity_a["id"], identity_a["revision"], now),
                store_recall(store),
                STALE_AFTER,
            )
            toolkit_a.close()

            toolkit_b, _ = open_offline_toolkit(
                home, model_b, max_new_tokens=max_new_tokens, store=store
            )
            try:
                identity_b = _identity(toolkit_b)
                if identity_b["revision"] == identity_a["revision"]:
                    raise ValueError(
                        f"the second model ({model_b}) has the same revision as {model_a}; "
                        "pass another --model or seed"
                    )
                replay_b = score_memory(
                    replay_lookups(second, identity_b["id"], identity_b["revision"], now),
                    store_recall(store), STALE_AFTER,
                )  # fmt: skip
                third = run_workload_pass(toolkit_b, items)
                calls_third = toolkit_b.backend.answer_calls
                listed = _listed_staleness(store, third, identity_b["revision"])
            finally:
                toolkit_b.close()
        finally:
            toolkit_a.close()
            store.close()
        seconds = time.perf_counter() - started

    unique = len(
        {
            (lookup.kind, lookup.key, _normal(lookup.item.question))
            for lookup in first
            if lookup.key is not None
        }
    )
    recalled_b = [lookup for lookup in third if lookup.answered_by == "memory"]
    stale_recalled = [lookup for lookup in recalled_b if lookup.revision != identity_b["revision"]]
    return {
        "n_questions": len(items),
        "n_unique": unique,
        "relations": dict(Counter(item.relation for item in items)),
        "model": {
            **identity_a,
            "folder": str(model_a) if given else "tiny, seed 0, built on the fly",
        },
        "second_model": {
            **identity_b,
            "folder": f"tiny, seed {second_model_seed}, built on the fly",
        },
        "max_new_tokens": max_new_tokens,
        "first_pass": {**hit_rates(first), "model_calls": calls_first},
        "second_pass": {
            **hit_rates(second),
            "model_calls": calls_second,
            "store_replay": replay_a.as_dict(),
        },
        "revision_switch": {
            "replay_hit_rate": replay_b.hit_rate,
            **hit_rates(third),
            "model_calls": calls_third,
            "recalled": len(recalled_b),
            "stale_recalled_share": len(stale_recalled) / len(recalled_b) if recalled_b else 0.0,
            **listed,
        },
        "seconds": round(seconds, 3),
    }


def _normal(question: str) -> str:
    from biomedgpt_tools.store.record import normalize_question

    return normalize_question(question)


def _listed_staleness(store, lookups: list[Lookup], revision: str) -> dict[str, Any]:
    """Stored model answers about the workload's entities, and the share from another revision.

    These are what the assistant's recall step lists as "earlier answers" (any model); the
    share tells how much of that list a model switch turned stale.
    """
    records = []
    for kind, key in sorted({(lookup.kind, lookup.key) for lookup in lookups if lookup.key}):
        records.extend(
            record for record in store.find(kind, key, limit=100) if record.source == "model"
        )
    other = [record for record in records if record.model_revision != revision]
    return {
        "listed_answers": len(records),
        "listed_stale_share": len(other) / len(records) if records else 0.0,
    }
