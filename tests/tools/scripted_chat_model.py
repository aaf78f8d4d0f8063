"""A scripted tool-calling chat model: plays back AIMessages and records what it was shown.

langchain's fake chat models cannot `bind_tools`, which `create_agent` needs; this one accepts
the tools (keeping their names so a script that calls an unbound tool fails loudly) and
answers each call with the next scripted message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import BaseTool
from pydantic import Field


class ScriptedToolCallingModel(BaseChatModel):
    """Returns `script[i]` on the i-th call; `seen[i]` holds the messages of that call."""

    script: list[AIMessage]
    bound_tool_names: list[str] = Field(default_factory=list)
    seen: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted-tool-calling"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedToolCallingModel:
        names = [tool.name if isinstance(tool, BaseTool) else tool["name"] for tool in tools]
        for message in self.script:
            for call in message.tool_calls:
                if call["name"] not in names:
                    raise AssertionError(f"script calls {call['name']!r}, bound tools are {names}")
        self.bound_tool_names = names
        return self

    def _generate(
        self, messages: list[BaseMessage], stop=None, run_manager=None, **kwargs
    ) -> ChatResult:
        index = len(self.seen)
        self.seen.append(list(messages))
        if index >= len(self.script):
            raise AssertionError(
                f"the agent called the model {index + 1} times; the script has {len(self.script)}"
            )
        return ChatResult(generations=[ChatGeneration(message=self.script[index])])
