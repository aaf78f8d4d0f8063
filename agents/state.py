"""The assistant's state: what one turn works on, and what a thread keeps between turns.

Per-turn fields are overwritten by the `understand` node at the start of every turn.
`focus` and `turns` survive in the checkpointer, which is how "and what is its molecular
weight?" finds the molecule of the previous turn. Everything is plain JSON-able data, so the
SQLite checkpointer can store it and LangGraph Studio can show it.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any

from typing_extensions import NotRequired, TypedDict


class InputState(TypedDict):
    """What a caller passes: the question."""

    question: str


class OutputState(TypedDict):
    answer: str
    sources: list[dict[str, Any]]
    tool_calls: list[dict[str, Any]]
    entities: list[dict[str, Any]]
    notes: NotRequired[list[str]]  # names that could not be checked (offline, outage, budget)


class AssistantState(TypedDict):
    question: str
    # -- this turn ---------------------------------------------------------------------------
    entities: NotRequired[list[dict[str, Any]]]  # Entity.as_dict() of what the question names
    tool_calls: NotRequired[list[dict[str, Any]]]  # [{"name", "args"}], in question order
    notes: NotRequired[
        list[str]
    ]  # names that could not be checked against PubChem/UniProt, and why
    router: NotRequired[str]  # "rules", "llm", "follow-up" or "rules (llm failed: ...)"
    follow_up: NotRequired[bool]  # the turn reused the previous turn's entities
    resolved: NotRequired[list[dict[str, Any]]]  # per tool call: kind, key, display name, record
    memories: NotRequired[list[dict[str, Any]]]  # earlier stored answers about those entities
    results: NotRequired[list[dict[str, Any]]]  # per tool call: content, artifact (JSON), error
    answer: NotRequired[str]
    sources: NotRequired[list[dict[str, Any]]]
    # -- the thread ----------------------------------------------------------------------------
    focus: NotRequired[list[dict[str, Any]]]  # entities of the last turn that named any
    turns: NotRequired[Annotated[list[dict[str, Any]], operator.add]]  # question/answer log
