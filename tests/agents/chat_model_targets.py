"""Targets for `--chat-model MODULE:ATTR` in test_chat_models.py: good ones and bad ones."""

from __future__ import annotations

from langchain_core.messages import AIMessage

from biomedgpt_tools.testing.scripted_chat_model import ScriptedChatModel, calling, tool_call

NOT_A_MODEL = 42


def scripted_aspirin() -> ScriptedChatModel:
    """A factory: the router asks MoleculeQA about aspirin."""
    return ScriptedChatModel(
        script=[calling(tool_call("MoleculeQA", molecule="aspirin", question="q"))]
    )


a_model = ScriptedChatModel(script=[AIMessage("no tools")])


def returns_a_string() -> str:
    return "not a chat model"


def needs_an_argument(name):
    return ScriptedChatModel(script=[])


def raises() -> None:
    raise RuntimeError("OPENAI_API_KEY is not set")
