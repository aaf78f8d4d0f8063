"""The conversations kept by the checkpointer: list them, and replay one for the page."""

from __future__ import annotations

import re
import uuid
from typing import Any

from agents.records import resolved_from_saved
from agents.web.turns import answer_data, interrupt_data

THREAD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$")
MAX_LISTED = 50


class InvalidThreadIdError(ValueError):
    """A thread id the page would not have made (letters, digits, `_.:-`, at most 80)."""


def check_thread_id(thread_id: str) -> str:
    if not THREAD_ID.match(thread_id or ""):
        raise InvalidThreadIdError(
            f"{thread_id[:80]!r} is not a thread id; use letters, digits and _.:- (at most 80), "
            "or start a new thread"
        )
    return thread_id


def new_thread_id() -> str:
    return f"thread-{uuid.uuid4().hex[:12]}"


def _config(thread_id: str) -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id}}


def list_threads(graph) -> list[dict[str, Any]]:
    """The newest threads first: id and title (the first question)."""
    threads = []
    for thread_id in newest_thread_ids(graph.checkpointer, MAX_LISTED):
        values = graph.get_state(_config(thread_id)).values
        turns = values.get("turns") or []
        title = turns[0]["question"] if turns else values.get("question") or "(empty)"
        threads.append({"id": thread_id, "title": title[:120], "turns": len(turns)})
    return threads


def newest_thread_ids(checkpointer, limit: int) -> list[str]:
    """Thread ids by their latest checkpoint, newest first (checkpoint ids sort by time).

    One query on a SqliteSaver; any other checkpointer is walked through `list()`.
    """
    connection = getattr(checkpointer, "conn", None)
    lock = getattr(checkpointer, "lock", None)
    if connection is not None and lock is not None:
        checkpointer.setup()  # creates the tables of a new database (a no-op afterwards)
        with lock:
            rows = connection.execute(
                "SELECT thread_id FROM checkpoints WHERE checkpoint_ns = '' GROUP BY thread_id "
                "ORDER BY MAX(checkpoint_id) DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [row[0] for row in rows]
    seen: list[str] = []
    for checkpoint in checkpointer.list(None):
        thread_id = checkpoint.config["configurable"]["thread_id"]
        if thread_id not in seen:
            seen.append(thread_id)
            if len(seen) >= limit:
                break
    return seen


def thread_history(graph, thread_id: str, resolvers=None) -> dict[str, Any]:
    """What the page needs to show a thread again: its turns, the last answer in full, a
    pending choice."""
    snapshot = graph.get_state(_config(thread_id))
    values = snapshot.values or {}
    turns = [{"question": t["question"], "answer": t["answer"]} for t in values.get("turns") or []]
    pending = next((i.value for task in snapshot.tasks for i in task.interrupts), None)
    history: dict[str, Any] = {"id": thread_id, "turns": turns, "interrupt": None, "last": None}
    if pending is not None:
        history["pending_question"] = values.get("question", "")
        history["interrupt"] = interrupt_data(pending, resolvers)
    elif turns:
        saved = [resolved_from_saved(entry) for entry in values.get("resolved") or []]
        history["last"] = answer_data({**values, "resolved": saved})
    return history
