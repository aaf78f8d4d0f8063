"""One conversation with the assistant: ask, stream, resume after an interrupt.

The CLI, `make demo` and tests drive the graph through this class so that thread ids,
streaming and the interrupt/resume protocol are handled in one place.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from langgraph.types import Command

from agents.context import AssistantContext
from agents.errors import InvalidQuestionError
from agents.graph import open_assistant
from agents.records import EntityRecord, SourceRecord, ToolCallRecord
from agents.resolution import chosen_candidate


@dataclass
class TurnOutcome:
    """An answered turn, or a paused one (`interrupt` set) waiting for a choice."""

    thread_id: str
    answer: str = ""
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    entities: list[EntityRecord] = field(default_factory=list)
    sources: list[SourceRecord] = field(default_factory=list)
    router: str = ""
    interrupt: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        if self.interrupt is not None:
            return {"thread": self.thread_id, "interrupt": self.interrupt}
        return {
            "answer": self.answer,
            "tool_calls": [{"name": c["name"], "args": c["args"]} for c in self.tool_calls],
            "entities": self.entities,
            "sources": self.sources,
            "router": self.router,
            "thread": self.thread_id,
        }


class AssistantSession:
    """A thread of the assistant: `ask()` a question, `resume()` a paused turn."""

    def __init__(
        self,
        thread_id: str | None = None,
        context: AssistantContext | None = None,
        graph=None,
        checkpointer=None,
    ):
        self.thread_id = thread_id or f"thread-{uuid.uuid4().hex[:8]}"
        self.context = context or AssistantContext()
        self.graph = graph if graph is not None else open_assistant(checkpointer)

    @property
    def config(self) -> dict[str, Any]:
        return {"configurable": {"thread_id": self.thread_id}}

    def ask(
        self, question: str, on_event: Callable[[dict[str, Any]], None] | None = None
    ) -> TurnOutcome:
        return self._run({"question": question}, on_event)

    def resume(
        self, choice: Any, on_event: Callable[[dict[str, Any]], None] | None = None
    ) -> TurnOutcome:
        """Continue a paused turn with the chosen candidate (its `choice` text or number)."""
        payload = self.pending_interrupt()
        if payload is None:
            raise InvalidQuestionError(
                f"thread {self.thread_id!r} is not waiting for a choice; ask a question instead"
            )
        # Checked here, before the graph sees it: a resume value is replayed when a node re-runs.
        return self._run(Command(resume=chosen_candidate(payload, choice)), on_event)

    def pending_interrupt(self) -> dict[str, Any] | None:
        snapshot = self.graph.get_state(self.config)
        for task in snapshot.tasks:
            for pending in task.interrupts:
                return pending.value
        return None

    def events(self, graph_input: Any) -> Iterator[tuple[str, Any]]:
        """(mode, payload) as the graph runs: "updates" per finished step; "custom" for steps'
        details, the model's text per tool call as it is generated, and the composed answer."""
        yield from self.graph.stream(
            graph_input, self.config, context=self.context, stream_mode=["updates", "custom"]
        )

    def stream(self, question: str) -> Iterator[dict[str, Any]]:
        """Ask, receiving `{"mode", "payload"}` events as they happen; then `outcome()`.

        Model text arrives as custom payloads `{"type": "token", "call": i, "tool", "text"}`
        while the model generates (see `model_text`); answers from memory or with no model
        send none.
        """
        for mode, payload in self.events({"question": question}):
            yield {"mode": mode, "payload": payload}

    def _run(self, graph_input: Any, on_event) -> TurnOutcome:
        for mode, payload in self.events(graph_input):
            if on_event is not None:
                on_event({"mode": mode, "payload": payload})
        return self.outcome()

    def outcome(self) -> TurnOutcome:
        """The thread's last turn: answered, or paused on a choice."""
        paused = self.pending_interrupt()
        if paused is not None:
            return TurnOutcome(thread_id=self.thread_id, interrupt=paused)
        values = self.graph.get_state(self.config).values  # empty on a thread never asked
        return TurnOutcome(
            thread_id=self.thread_id,
            answer=values.get("answer", ""),
            tool_calls=values.get("tool_calls", []),
            entities=values.get("entities", []),
            sources=values.get("sources", []),
            router=values.get("router", ""),
        )


def model_text(events: Iterable[dict[str, Any]]) -> dict[int, str]:
    """Each tool call's streamed model text, by call index (its deltas joined)."""
    texts: dict[int, str] = {}
    for event in events:
        payload = event.get("payload")
        if (
            event.get("mode") != "custom"
            or not isinstance(payload, dict)
            or payload.get("type") != "token"
        ):
            continue
        texts[payload["call"]] = texts.get(payload["call"], "") + payload["text"]
    return texts
