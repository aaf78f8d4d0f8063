"""A scripted tool-calling chat model for offline agent and router tests.

langchain's fake chat models cannot `bind_tools`, which `create_agent` and the LLM router
need. This one accepts tools (recording their names), answers the i-th call with
`script[i]`, raises a script entry that is an exception (a failing provider), and keeps in
`seen[i]` the messages of the i-th call. With `strict_tools=True` a script that calls a tool
that was not bound fails at `bind_tools`; leave it off to script a model that calls an
unknown tool on purpose.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import BaseTool
from pydantic import Field


class ScriptedChatModel(BaseChatModel):
    script: list[Any]  # AIMessage, or an Exception to raise
    strict_tools: bool = False
    bound_tool_names: list[str] = Field(default_factory=list)
    seen: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-tool-calling"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        names = [tool.name if isinstance(tool, BaseTool) else tool["name"] for tool in tools]
        if self.strict_tools:
            for message in self.script:
                for call in getattr(message, "tool_calls", []):
                    if call["name"] not in names:
                        raise AssertionError(
                            f"script calls {call['name']!r}, bound tools are {names}"
                        )
        self.bound_tool_names = names
        return self

    def _generate(
        self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs
    ) -> ChatResult:
        index = len(self.seen)
        self.seen.append(list(messages))
        if index >= len(self.script):
            raise AssertionError(
                f"called {index + 1} times; the script has {len(self.script)} entries"
            )
        entry = self.script[index]
        if isinstance(entry, Exception):
            raise entry
        return ChatResult(generations=[ChatGeneration(message=entry)])


def tool_call(name: str, call_id: str = "c1", **args: Any) -> dict:
    return {"name": name, "args": args, "id": call_id, "type": "tool_call"}


def calling(*calls: dict) -> AIMessage:
    return AIMessage(content="", tool_calls=list(calls))
