"""An end-to-end offline run of the assistant over the gold set (not measured by the paper).

Every gold turn goes through the real graph (`agents.session.AssistantSession`): entity
detection, the rule router, resolution on the bundled snapshot, memory, the tools, the
composed answer with its sources. Turns of one gold `thread` share a conversation (so
follow-ups see the previous turn). The store and resolver cache are in a fresh temporary
home; the model is the folder given, or none (the default, fast: the answers must then say
that no model answered).
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from evals.assistant.scoring import (
    ENTITY_TOOLS,
    GoldTurn,
    TurnRecord,
    cited_sources,
    load_assistant_set,
    score_assistant,
)


def ask_turn(session, gold: GoldTurn) -> TurnRecord:
    """One gold turn through the session; the turn's tool results are read from the graph state."""
    record = TurnRecord(gold=gold)
    started = time.perf_counter()
    try:
        outcome = session.ask(gold.question)
    except Exception as error:  # a failed turn is a measured outcome, not a crash of the evaluation
        record.seconds = time.perf_counter() - started
        record.error = f"{type(error).__name__}: {error}"
        return record
    record.seconds = time.perf_counter() - started
    if outcome.interrupt is not None:
        record.error = f"paused for a choice: {outcome.interrupt.get('message', '')}"
        return record
    record.answer = outcome.answer
    record.tool_calls = [
        (
            call["name"],
            call["args"].get(ENTITY_TOOLS[call["name"]]) if call["name"] in ENTITY_TOOLS else None,
        )
        for call in outcome.tool_calls
    ]
    record.sources, record.answer_sources = cited_sources(outcome.sources)
    results = session.graph.get_state(session.config).values.get("results", [])
    record.tool_errors = [
        f"{r['name']}: {r['content'][:200]}" for r in results if r["status"] == "error"
    ]
    return record


def warm_up(toolkit, store) -> float:
    """Load the model and the store's text embedder before the first turn; returns the seconds.

    Per-turn latency is what a user waits once the assistant is running; the one-time load
    (reported separately) would otherwise land on the first turn and dominate p95.
    """
    started = time.perf_counter()
    if toolkit.backend.configured:  # with no model nothing is saved, so nothing is embedded
        load = getattr(toolkit.backend, "model", None)
        if callable(load):
            load()
        store.embedder.embed(["warm-up"])
    return time.perf_counter() - started


def evaluate_assistant(
    model_dir: str | Path | None = None,
    gold: list[GoldTurn] | None = None,
    *,
    work_dir: str | Path | None = None,
    max_new_tokens: int = 32,
    embedder: Any = None,
) -> dict[str, Any]:
    """Ask every gold turn (threads in order of first appearance) and score the run."""
    from langgraph.checkpoint.memory import InMemorySaver

    from agents.context import AssistantContext
    from agents.graph import open_assistant
    from agents.session import AssistantSession
    from evals.assistant.offline_toolkit import check_model_folder, open_offline_toolkit

    turns = gold if gold is not None else load_assistant_set()
    folder = check_model_folder(model_dir)
    with tempfile.TemporaryDirectory(prefix="evals-assistant-") as scratch:
        root = Path(work_dir) if work_dir is not None else Path(scratch)
        home = root / f"home-{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        toolkit, store = open_offline_toolkit(
            home, folder, max_new_tokens=max_new_tokens, embedder=embedder
        )
        try:
            warmup_s = warm_up(toolkit, store)
            graph = open_assistant(InMemorySaver())
            context = AssistantContext(toolkit=toolkit, router="rules")
            sessions: dict[str, AssistantSession] = {}
            records = []
            for turn in turns:
                session = sessions.get(turn.thread)
                if session is None:
                    session = sessions[turn.thread] = AssistantSession(
                        f"eval-{turn.thread}", context=context, graph=graph
                    )
                records.append(ask_turn(session, turn))
            model_calls = toolkit.backend.answer_calls
            identity = None
            if toolkit.backend.configured:
                found = toolkit.backend.identity()
                identity = {"id": found.model_id, "revision": found.revision}
        finally:
            toolkit.close()
            store.close()
        seconds = time.perf_counter() - started
    scores = score_assistant(records, model_configured=folder is not None)
    return {
        **scores.as_dict(),
        "model": identity,
        "router": "rules",
        "model_calls": model_calls,
        "max_new_tokens": max_new_tokens,
        "turns": [
            {
                "id": r.gold.id,
                "seconds": round(r.seconds, 4),
                "tool_calls": [list(c) for c in r.tool_calls],
                "sources": r.sources,
                "answered_by": r.answer_sources,
                "tool_errors": r.tool_errors,
                "error": r.error,
            }
            for r in records
        ],  # fmt: skip
        "warmup_s": round(warmup_s, 3),
        "seconds": round(seconds, 3),
    }
