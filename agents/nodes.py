"""The steps of one turn: understand -> route -> resolve -> recall -> run tools -> compose -> remember.

Each node reads the state, returns only the fields it changes, and reports progress on the
"custom" stream (`graph.stream(..., stream_mode=["updates", "custom"])`): steps as
`{"step": ...}`; the model's text as it generates, per tool call, as
`{"type": "token", "call": i, "tool": name, "text": delta}` (deltas of the tool's answer: joined,
they are the answer it returns); the composed answer as
`{"type": "answer", "text": ...}`.
"""

from __future__ import annotations

import contextvars
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agents.composition import compose_answer
from agents.context import AssistantContext
from agents.entities import Entity
from agents.errors import InvalidQuestionError
from agents.known_names import known_molecule_names
from agents.prompts import FOLLOW_UP_HINT, ROUTER_SYSTEM_PROMPT
from agents.records import (
    FocusRecord,
    MemoryRecord,
    ResolvedRecord,
    ToolCallRecord,
    ToolResultRecord,
    TurnLogRecord,
)
from agents.resolution import (
    ENTITY_ARGUMENT,
    candidate_payload,
    chosen_candidate,
    describe_record,
    failed_lookup,
    resolve_call,
    text_call,
)
from agents.routing import (
    LLMRouterError,
    route_by_llm,
    route_entities,
    route_follow_up,
    understand_question,
)
from agents.state import AssistantState


def settings_of(runtime: Runtime | None) -> AssistantContext:
    """The run's settings: the context object, or the JSON a LangGraph server passes as the
    run's `context` (or, from older clients, as `config["configurable"]`)."""
    context = getattr(runtime, "context", None)
    if not context:
        context = _configurable_settings()
    if context is None:
        return AssistantContext()
    if isinstance(context, dict):  # LangGraph Studio / the server pass plain JSON
        return AssistantContext(
            **{k: v for k, v in context.items() if k in AssistantContext.__dataclass_fields__}
        )
    return context


def _configurable_settings() -> dict[str, Any] | None:
    from langgraph.config import get_config

    try:
        configurable = get_config().get("configurable") or {}
    except RuntimeError:  # outside a run
        return None
    chosen = {k: v for k, v in configurable.items() if k in JSON_SETTINGS}
    return chosen or None


JSON_SETTINGS = ("router", "model", "offline", "max_parallel_tools", "recall_limit")


def _writer() -> Callable[[dict[str, Any]], None]:
    """The run's "custom" stream writer; a no-op outside a graph run (unit use of a node)."""
    try:
        return get_stream_writer()
    except RuntimeError:
        return lambda event: None


def _emit(event: dict[str, Any]) -> None:
    _writer()(event)


def _writer_for_threads() -> Callable[[dict[str, Any]], None]:
    """The writer, usable from worker threads: LangGraph's reads the node's context (its
    config), so each write runs in a copy of it; one at a time, as a context admits one
    thread."""
    write, context, lock = _writer(), contextvars.copy_context(), threading.Lock()

    def write_from_any_thread(event: dict[str, Any]) -> None:
        with lock:
            context.run(write, event)

    return write_from_any_thread


def _verifier(settings: AssistantContext):
    """The entity verifier on the run's resolvers (their cache, snapshot and rate budget)."""
    from agents.verification import verifier_for

    toolkit = settings.resolved_toolkit()
    return verifier_for(toolkit.services.resolver.settings, known_molecule_names())


def understand(state: AssistantState, runtime: Runtime[AssistantContext]) -> dict[str, Any]:
    """Find the entities the question names, names confirmed by PubChem/UniProt (the only place
    a turn looks for them: later steps read them from the state); clear the previous turn's
    working fields."""
    question = (state.get("question") or "").strip()  # a caller may send none
    if not question:
        raise InvalidQuestionError("the question is empty; ask something, e.g. 'Describe aspirin'")
    found, notes = understand_question(
        question, known_molecule_names(), _verifier(settings_of(runtime))
    )
    entities = [e.as_dict() for e in found]
    _emit({"step": "understand", "entities": entities, "notes": notes})
    return {
        "question": question,
        "notes": notes,
        "entities": entities,
        "tool_calls": [],
        "resolved": [],
        "memories": [],
        "results": [],
        "answer": "",
        "sources": [],
        "follow_up": False,
    }


def _chat_model_of(settings: AssistantContext) -> tuple[Any, str | None]:
    """The context's chat model, a string loaded (Studio passes strings); the error if it fails."""
    from agents.chat_models import ChatModelLoadError, resolve_chat_model

    try:
        return resolve_chat_model(settings.chat_model, settings.chat_model_base_url), None
    except ChatModelLoadError as error:
        return None, str(error)


def route(state: AssistantState, runtime: Runtime[AssistantContext]) -> dict[str, Any]:
    """Plan the tool calls: a follow-up reuses the last entities; else the LLM or the rules."""
    settings = settings_of(runtime)
    question = state["question"]
    found = [Entity.from_dict(e) for e in state["entities"]]  # found once, in `understand`
    notes = list(state["notes"])
    focus = state.get("focus", [])  # none before a turn that named an entity

    def by_rules():
        return route_entities(question, found, notes)

    decision = None
    if not found:
        decision = route_follow_up(question, focus)
    if decision is None and settings.router == "llm":
        chat_model, load_error = _chat_model_of(settings)
        if load_error is not None:
            decision = by_rules()
            decision.router = f"rules (the chat model could not be loaded: {load_error})"
        elif chat_model is None:
            decision = by_rules()
            decision.router = "rules (no chat model given for the llm router)"
        else:
            hint = (
                FOLLOW_UP_HINT.format(entities=", ".join(f["query"] for f in focus))
                if focus
                else ""
            )
            tools = settings.resolved_toolkit().get_tools()
            try:
                decision = route_by_llm(
                    question,
                    chat_model,
                    tools,
                    ROUTER_SYSTEM_PROMPT.format(follow_up=hint),
                    entities=found,
                )
            except LLMRouterError as error:
                decision = by_rules()
                decision.router = f"rules (llm router failed: {error})"
    if decision is None:
        decision = by_rules()
    calls = [call.as_dict() for call in decision.tool_calls]
    _emit({"step": "route", "router": decision.router, "tool_calls": calls})
    return {
        "tool_calls": calls,
        "entities": [e.as_dict() for e in decision.entities] or state["entities"],
        "router": decision.router,
        "follow_up": decision.router == "follow-up",
    }


def resolve(state: AssistantState, runtime: Runtime[AssistantContext]) -> dict[str, Any]:
    """Look up each call's entity; an ambiguous name pauses the graph until a person chooses."""
    from biomedgpt_tools.resolvers.outcomes import AmbiguousError, ResolverError

    toolkit = settings_of(runtime).resolved_toolkit()
    calls = [
        ToolCallRecord(name=call["name"], args=dict(call["args"])) for call in state["tool_calls"]
    ]
    resolved: list[ResolvedRecord] = []
    for call in calls:
        argument = ENTITY_ARGUMENT.get(call["name"])
        if argument is None:
            resolved.append(text_call(call["name"]))
            continue
        query = call["args"][argument]
        try:
            record = resolve_call(toolkit.services.resolver, call["name"], query)
        except AmbiguousError as error:
            payload = candidate_payload(error, call["name"], query, state["question"])
            choice = chosen_candidate(payload, interrupt(payload))  # pauses here on first run
            call["args"][argument] = choice
            query = choice
            try:
                record = resolve_call(toolkit.services.resolver, call["name"], choice)
            except ResolverError as again:
                resolved.append(failed_lookup(call["name"], argument, query, again.message))
                continue
        except ResolverError as error:  # not found, obsolete, offline: the tool explains it
            resolved.append(failed_lookup(call["name"], argument, query, error.message))
            continue
        resolved.append(describe_record(call["name"], argument, query, record))
    _emit({"step": "resolve", "resolved": [r["display"] or r["error"] for r in resolved]})
    return {"tool_calls": calls, "resolved": resolved}


def recall(state: AssistantState, runtime: Runtime[AssistantContext]) -> dict[str, Any]:
    """Earlier stored answers about the same entities (other questions than this one)."""
    from biomedgpt_tools.store.errors import StoreError
    from biomedgpt_tools.store.record import normalize_question

    settings = settings_of(runtime)
    store = settings.resolved_toolkit().services.memory.open()
    if store is None:
        return {"memories": []}
    asked = normalize_question(state["question"]) if state["question"].strip() else ""
    memories: list[MemoryRecord] = []
    seen: set[tuple[str, str]] = set()
    for entity in state["resolved"]:
        kind, key = entity["kind"], entity["key"]
        if kind is None or not key or (kind, key) in seen:
            continue
        seen.add((kind, key))
        try:
            records = store.find(kind, key, limit=settings.recall_limit + 1)
        except StoreError:
            continue
        kept = [r for r in records if r.normalized_question != asked][: settings.recall_limit]
        memories.extend(
            MemoryRecord(
                display=entity["display"] or key,
                key=r.key,
                question=r.question,
                answer=r.answer,
                model_id=r.model_id,
                model_revision=r.model_revision,
                created_at=r.created_at.isoformat(),
                id=r.id,
            )
            for r in kept
        )
    _emit({"step": "recall", "memories": len(memories)})
    return {"memories": memories}


class ModelTextRelay(BaseCallbackHandler):
    """Forwards one tool call's model text (the tools' TOKEN_EVENT) to the custom stream,
    tagged with the call's index, so parallel calls stay apart."""

    def __init__(self, call: int, tool: str, write: Callable[[dict[str, Any]], None]):
        self.call, self.tool, self.write = call, tool, write

    def on_custom_event(self, name: str, data: Any, *, run_id, **kwargs: Any) -> None:
        from biomedgpt_tools.tools.qa_tool import TOKEN_EVENT

        if name != TOKEN_EVENT:
            return
        self.write({"type": "token", "call": self.call, "tool": self.tool, "text": data["text"]})


def _run_one(
    tool, call: ToolCallRecord, index: int, write: Callable[[dict[str, Any]], None]
) -> ToolResultRecord:
    message = tool.invoke(
        {
            "type": "tool_call",
            "id": f"call_{uuid.uuid4().hex[:12]}",
            "name": call["name"],
            "args": call["args"],
        },
        config={"callbacks": [ModelTextRelay(index, call["name"], write)]},
    )
    artifact = getattr(message, "artifact", None)
    result = ToolResultRecord(
        name=call["name"],
        args=call["args"],
        status=getattr(message, "status", "success"),
        content=str(message.content),
        artifact=artifact.model_dump(mode="json") if artifact is not None else None,
    )
    write(
        {
            "step": "tool",
            "call": index,
            "name": result["name"],
            "status": result["status"],
            "answered_by": artifact.answered_by if artifact is not None else None,
        }
    )
    return result


def run_tools(state: AssistantState, runtime: Runtime[AssistantContext]) -> dict[str, Any]:
    """Every planned call, independent ones in parallel threads; results in plan order.

    The model's text streams as it is generated, each piece tagged with its call's index;
    a `{"step": "tool", "call": i}` event marks each call's end (in the order they finish).
    """
    settings = settings_of(runtime)
    tools = {tool.name: tool for tool in settings.resolved_toolkit().get_tools()}
    calls = state["tool_calls"]
    write = _writer_for_threads()
    workers = max(1, min(settings.max_parallel_tools, len(calls)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tool") as pool:
        futures = [
            pool.submit(_run_one, tools[call["name"]], call, index, write)
            for index, call in enumerate(calls)
        ]
        results = [future.result() for future in futures]
    return {"results": results}


def compose(state: AssistantState) -> dict[str, Any]:
    """The answer, citing each source; sent whole to the "custom" stream."""
    answer, sources = compose_answer(state["results"], state["resolved"], state["memories"])
    if state["notes"]:
        answer += "\n\n" + "\n".join(f"Note: {note}" for note in state["notes"])
    _emit({"type": "answer", "text": answer})
    return {"answer": answer, "sources": sources}


def remember(state: AssistantState) -> dict[str, Any]:
    """Keep this turn's entities as the thread's focus (for follow-ups) and log the turn.

    The tools have already stored every model answer in the annotation store; the sources
    carry those annotation ids.
    """
    named = state["entities"]
    focus: list[FocusRecord] = []
    for entity in state["resolved"]:
        if entity["arg"] is None or entity["query"] is None or entity["error"]:
            continue
        # the mention the call came from (the LLM router names entities in its own words)
        mention = next((e for e in named if e["text"] and e["text"] in entity["query"]), None)
        focus.append(
            FocusRecord(
                tool=entity["tool"],
                arg=entity["arg"],
                query=entity["query"],
                display=entity["display"],
                kind=entity["kind"],
                key=entity["key"],
                entity=mention,
            )
        )
    turn = TurnLogRecord(question=state["question"], answer=state["answer"])
    update: dict[str, Any] = {"turns": [turn]}
    if focus:
        update["focus"] = focus
    saved = [
        s["annotation_id"]
        for s in state["sources"]
        if s["type"] == "model" and s.get("annotation_id")
    ]
    _emit({"step": "remember", "focus": [f["query"] for f in focus], "saved_annotations": saved})
    return update
