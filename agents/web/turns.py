"""One turn of the assistant as the page's events: steps, model text, cards, answer.

The graph runs synchronously (its nodes use threads of their own); `page_events` is a
plain generator the web server drives from a worker thread. Every event is
`(name, JSON-able dict)`; the names are the SSE event names the page listens for:

| event | data |
|---|---|
| `thread` | `{"id"}`: the turn runs on this thread |
| `step` | `{"name", "label", "status": "running"/"done"/"failed", "detail"}` per graph step, and per tool call (`tool-0`, ...) |
| `cards` | `{"cards": [...]}`: molecules (with drawing) and proteins the question names |
| `token` | `{"call", "tool", "label", "text"}`: the model's answer text as it is generated, in deltas |
| `interrupt` | `{"message", "query", "choices": [{"number", "choice", "card"}]}`: pick one |
| `answer` | `{"text", "sources", "cards", "router", "answered_by"}` |
| `error` | `{"message"}`: a readable failure (bad input, a service down, a bug) |
| `done` | `{}`: the stream ends |
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from langgraph.types import Command

from agents.errors import InvalidQuestionError
from agents.graph import STEPS
from agents.records import ResolvedRecord, SourceRecord
from agents.resolution import InvalidChoiceError, chosen_candidate
from agents.state import AssistantState
from agents.web.cards import candidate_cards, cards_for_resolved

log = logging.getLogger(__name__)

PageEvent = tuple[str, dict[str, Any]]
SOURCES_HEADING = "\n\nSources:\n"
STEP_LABELS = {
    "understand": "Understand the question",
    "route": "Route to tools",
    "resolve": "Resolve names (PubChem / UniProt)",
    "recall": "Recall earlier answers",
    "run_tools": "Run tools",
    "compose": "Compose the cited answer",
    "remember": "Remember the thread's focus",
}


def split_answer(text: str) -> str:
    """The answer without its trailing "Sources:" block (the page lists sources as links)."""
    head, heading, _ = text.rpartition(SOURCES_HEADING)
    return head if heading else text


def step_detail(payload: dict[str, Any]) -> str:
    """A one-line description of a step's custom event."""
    step = payload["step"]
    if step == "understand":
        found = [f"{e['text']} ({e['kind']})" for e in payload.get("entities", [])]
        return "entities: " + (", ".join(found) if found else "none named")
    if step == "route":
        calls = [
            f"{c['name']}({', '.join(str(v) for v in c['args'].values())})"
            for c in payload.get("tool_calls", [])
        ]
        return f"router {payload.get('router')}: " + ("; ".join(calls) or "no tool")
    if step == "resolve":
        return "resolved: " + (
            ", ".join(str(r) for r in payload.get("resolved", []) if r) or "nothing to look up"
        )
    if step == "recall":
        return f"{payload.get('memories', 0)} earlier answer(s) in memory"
    if step == "tool":
        by = payload.get("answered_by")
        outcome = (
            "failed"
            if payload.get("status") == "error"
            else f"answered by {by or 'the record (no model)'}"
        )
        return outcome
    if step == "remember":
        saved = len(payload.get("saved_annotations") or [])
        return f"focus: {', '.join(payload.get('focus') or []) or 'unchanged'}; {saved} answer(s) saved"
    return ""


def source_links(sources: list[SourceRecord]) -> list[dict[str, Any]]:
    """Sources as the page lists them; only https links built by the composer pass."""
    listed = []
    for source in sources:
        url = source.get("url")
        listed.append(
            {
                "n": source["n"],
                "type": source["type"],
                "label": source["label"],
                "url": url if isinstance(url, str) and url.startswith("https://") else None,
            }
        )
    return listed


class TurnStreamer:
    """Runs a session's turn and translates the graph's stream into page events."""

    def __init__(self, session, resolvers=None):
        self.session = session
        self.resolvers = resolvers
        self.labels: list[str] = []  # per tool call: the entity's display name
        self.tools: list[str] = []  # per tool call: the tool's name

    # -- entry points ---------------------------------------------------------------------------
    def ask(self, question: str) -> Iterator[PageEvent]:
        if not (question or "").strip():
            yield from self._failed(
                "The question is empty; ask something, e.g. 'Describe aspirin'."
            )
            return
        if self.session.pending_interrupt() is not None:
            yield ("thread", {"id": self.session.thread_id})
            yield from self._paused()
            yield (
                "error",
                {
                    "message": "This thread waits for a choice first: pick one of the candidates above."
                },
            )
            yield ("done", {})
            return
        yield from self._run({"question": question})

    def resume(self, choice: Any) -> Iterator[PageEvent]:
        payload = self.session.pending_interrupt()
        if payload is None:
            yield from self._failed(
                "This thread is not waiting for a choice; ask a question instead."
            )
            return
        try:
            chosen = chosen_candidate(payload, choice)
        except InvalidChoiceError as error:
            yield from self._failed(str(error))
            return
        yield from self._run(Command(resume=chosen))

    # -- the run --------------------------------------------------------------------------------
    def _run(self, graph_input: Any) -> Iterator[PageEvent]:
        yield ("thread", {"id": self.session.thread_id})
        yield (
            "step",
            {"name": STEPS[0], "label": STEP_LABELS[STEPS[0]], "status": "running", "detail": ""},
        )
        try:
            for mode, payload in self.session.events(graph_input):
                yield from self._translate(mode, payload)
            outcome = self.session.outcome()
        except (InvalidQuestionError, InvalidChoiceError) as error:
            yield ("error", {"message": str(error)})
            yield ("done", {})
            return
        except Exception as error:  # shown in the conversation, never as a traceback
            log.exception("turn failed on thread %s", self.session.thread_id)
            yield ("error", {"message": readable_failure(error)})
            yield ("done", {})
            return
        if outcome.interrupt is not None:
            yield from self._paused()
        else:
            yield ("answer", self.answer_data())
        yield ("done", {})

    def _translate(self, mode: str, payload: Any) -> Iterator[PageEvent]:
        if mode == "custom" and isinstance(payload, dict):
            if payload.get("type") == "token":
                call = payload.get("call", 0)
                label = self.labels[call] if call < len(self.labels) else payload.get("tool")
                yield (
                    "token",
                    {
                        "call": call,
                        "tool": payload.get("tool"),
                        "label": label,
                        "text": payload.get("text", ""),
                    },
                )
            elif payload.get("step") == "tool":
                call = payload.get("call", 0)
                status = "failed" if payload.get("status") == "error" else "done"
                yield (
                    "step",
                    {
                        "name": f"tool-{call}",
                        "label": self._tool_label(call, payload.get("name")),
                        "status": status,
                        "detail": step_detail(payload),
                    },
                )
            elif payload.get("step") in STEP_LABELS:
                name = payload["step"]
                yield (
                    "step",
                    {
                        "name": name,
                        "label": STEP_LABELS[name],
                        "status": "done",
                        "detail": step_detail(payload),
                    },
                )
        elif mode == "updates" and isinstance(payload, dict):
            for name, update in payload.items():
                if name not in STEPS:
                    continue  # __interrupt__: the outcome reports it
                if name == "resolve" and isinstance(update, dict):
                    # the resolve step's update: its tool_calls and resolved records
                    self.tools = [c["name"] for c in update["tool_calls"]]
                    resolved: list[ResolvedRecord] = update["resolved"]
                    self.labels = [r["display"] or r["query"] or r["tool"] for r in resolved]
                    cards = cards_for_resolved(resolved)
                    if cards:
                        yield ("cards", {"cards": cards})
                if name in ("run_tools", "compose"):
                    detail = "all tool calls finished" if name == "run_tools" else "answer written"
                    yield (
                        "step",
                        {
                            "name": name,
                            "label": STEP_LABELS[name],
                            "status": "done",
                            "detail": detail,
                        },
                    )
                following = STEPS.index(name) + 1
                if following < len(STEPS):
                    upcoming = STEPS[following]
                    yield (
                        "step",
                        {
                            "name": upcoming,
                            "label": STEP_LABELS[upcoming],
                            "status": "running",
                            "detail": "",
                        },
                    )
                    if upcoming == "run_tools":
                        for call, tool in enumerate(self.tools):
                            yield (
                                "step",
                                {
                                    "name": f"tool-{call}",
                                    "label": self._tool_label(call, tool),
                                    "status": "running",
                                    "detail": "",
                                },
                            )

    def _tool_label(self, call: int, tool: str | None) -> str:
        """ "MoleculeQA call 1 (Aspirin)": the tool's name and what it was asked about."""
        about = self.labels[call] if call < len(self.labels) else None
        return f"{tool} call {call + 1}" + (f" ({about})" if about and about != tool else "")

    def _paused(self) -> Iterator[PageEvent]:
        payload = self.session.pending_interrupt() or {}
        yield ("interrupt", interrupt_data(payload, self.resolvers))

    def _failed(self, message: str) -> Iterator[PageEvent]:
        yield ("thread", {"id": self.session.thread_id})
        yield ("error", {"message": message})
        yield ("done", {})

    def answer_data(self) -> dict[str, Any]:
        values = self.session.graph.get_state(self.session.config).values
        return answer_data(values)


def interrupt_data(payload: dict[str, Any], resolvers) -> dict[str, Any]:
    return {
        "message": payload.get("message", "Which one did you mean?"),
        "query": payload.get("query"),
        "tool": payload.get("tool"),
        "choices": candidate_cards(payload, resolvers),
    }


def answer_data(values: AssistantState) -> dict[str, Any]:
    """The finished turn as the page shows it, from the thread's state (after a turn's
    `understand`, every per-turn field is there)."""
    return {
        "text": split_answer(values["answer"]),
        "sources": source_links(values["sources"]),
        "cards": cards_for_resolved(values["resolved"]),
        "router": values["router"],
        "answered_by": [
            r["artifact"]["answered_by"] if r["artifact"] is not None else None
            for r in values["results"]
        ],
    }


def readable_failure(error: Exception) -> str:
    text = str(error).strip() or type(error).__name__
    return f"The assistant could not finish this turn: {text}"
