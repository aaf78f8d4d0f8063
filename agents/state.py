"""The assistant's state: what one turn works on, and what a thread keeps between turns.

Per-turn fields are overwritten by the `understand` node at the start of every turn (so every
node after it reads them as `state["field"]`). `focus` and `turns` survive in the
checkpointer, which is how "and what is its molecular weight?" finds the molecule of the
previous turn. Every record is a TypedDict of plain JSON (records.py), so the SQLite
checkpointer can store it and LangGraph Studio can show it.
"""

from __future__ import annotations

import operator
from typing import Annotated

from typing_extensions import NotRequired, TypedDict

from agents.records import (
    EntityRecord,
    FocusRecord,
    MemoryRecord,
    ResolvedRecord,
    SourceRecord,
    ToolCallRecord,
    ToolResultRecord,
    TurnLogRecord,
)


class InputState(TypedDict):
    """What a caller passes: the question."""

    question: str


class OutputState(TypedDict):
    answer: str
    sources: list[SourceRecord]
    tool_calls: list[ToolCallRecord]
    entities: list[EntityRecord]
    notes: NotRequired[list[str]]  # names that could not be checked (offline, outage, budget)


class AssistantState(TypedDict):
    question: str
    # -- this turn (absent only before the first `understand`) -------------------------------
    entities: NotRequired[list[EntityRecord]]  # what the question names, found once per turn
    tool_calls: NotRequired[list[ToolCallRecord]]  # in question order
    notes: NotRequired[
        list[str]
    ]  # names that could not be checked against PubChem/UniProt, and why
    router: NotRequired[str]  # "rules", "llm", "follow-up" or "rules (llm failed: ...)"
    follow_up: NotRequired[bool]  # the turn reused the previous turn's entities
    resolved: NotRequired[list[ResolvedRecord]]  # per tool call: kind, key, display, record
    memories: NotRequired[list[MemoryRecord]]  # earlier stored answers about those entities
    results: NotRequired[list[ToolResultRecord]]  # per tool call: content, artifact, status
    answer: NotRequired[str]
    sources: NotRequired[list[SourceRecord]]
    # -- the thread ----------------------------------------------------------------------------
    focus: NotRequired[list[FocusRecord]]  # entities of the last turn that named any
    turns: NotRequired[Annotated[list[TurnLogRecord], operator.add]]  # question/answer log
