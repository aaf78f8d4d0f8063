"""A scripted tool-calling chat model for offline router tests.

It accepts `bind_tools` (recording the tool names), answers the i-th call with `script[i]`,
and raises a script entry that is an exception, to play a failing provider.
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
    script: list[Any]  # AIMessage or an Exception to raise
    bound_tool_names: list[str] = Field(default_factory=list)
    seen: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-tool-calling"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedChatModel:
        self.bound_tool_names = [t.name if isinstance(t, BaseTool) else t["name"] for t in tools]
        return self

    def _generate(self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs) -> ChatResult:
        index = len(self.seen)
        self.seen.append(list(messages))
        if index >= len(self.script):
            raise AssertionError(f"called {index + 1} times; the script has {len(self.script)} entries")
        entry = self.script[index]
        if isinstance(entry, Exception):
            raise entry
        return ChatResult(generations=[ChatGeneration(message=entry)])


def tool_call(name: str, call_id: str = "c1", **args: Any) -> dict:
    return {"name": name, "args": args, "id": call_id, "type": "tool_call"}


def calling(*calls: dict) -> AIMessage:
    return AIMessage(content="", tool_calls=list(calls))
