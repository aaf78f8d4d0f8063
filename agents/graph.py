"""The research assistant as a LangGraph StateGraph.

    understand -> route -> resolve -> recall -> run_tools -> compose -> remember

`graph` (no checkpointer) is what langgraph.json exposes to the LangGraph CLI and Studio,
which bring their own persistence. `open_assistant()` compiles the same graph with a SQLite
checkpointer, which conversation memory and interrupts need in this process.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from langgraph.graph import END, START, StateGraph

from agents import nodes
from agents.context import AssistantContext
from agents.state import AssistantState, InputState, OutputState

STEPS = ("understand", "route", "resolve", "recall", "run_tools", "compose", "remember")


def build_graph() -> StateGraph:
    builder = StateGraph(
        AssistantState,
        context_schema=AssistantContext,
        input_schema=InputState,
        output_schema=OutputState,
    )
    for name in STEPS:
        builder.add_node(name, getattr(nodes, name))
    builder.add_edge(START, STEPS[0])
    for before, after in zip(STEPS, STEPS[1:], strict=False):
        builder.add_edge(before, after)
    builder.add_edge(STEPS[-1], END)
    return builder


def default_threads_path() -> Path:
    """$BIOMEDGPT_HOME/agent/threads.sqlite (the toolkit's home, next to the annotation store)."""
    from biomedgpt_tools.environment import biomedgpt_home

    return biomedgpt_home() / "agent" / "threads.sqlite"


def sqlite_checkpointer(path: str | os.PathLike[str] | None = None):
    """A SqliteSaver on `path` (default: default_threads_path()), creating its folder."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    path = Path(path) if path is not None else default_threads_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(str(path), check_same_thread=False)
    return SqliteSaver(connection)


def open_assistant(checkpointer=None, threads_path: str | os.PathLike[str] | None = None):
    """The compiled assistant with conversation memory (SQLite unless a checkpointer is given)."""
    if checkpointer is None:
        checkpointer = sqlite_checkpointer(threads_path)
    return build_graph().compile(checkpointer=checkpointer, name="biomedgpt-assistant")


graph = build_graph().compile(name="biomedgpt-assistant")
