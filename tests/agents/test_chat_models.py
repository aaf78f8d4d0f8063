"""`--chat-model` (issue 16): provider:model strings and MODULE:ATTR targets, and one-line
errors for every target that does not give a tool-calling chat model."""

from __future__ import annotations

import importlib.util

import pytest

from agents.__main__ import main
from agents.chat_models import ChatModelLoadError, load_chat_model
from biomedgpt_tools.testing.scripted_chat_model import ScriptedChatModel

T = "tests.agents.chat_model_targets"


@pytest.fixture
def offline_cli(resolver_env, monkeypatch):
    monkeypatch.setenv("BIOMEDGPT_MEMORY", "0")
    return resolver_env


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "nonexistent_pkg.models:make",
            "module 'nonexistent_pkg.models' cannot be imported (ModuleNotFoundError",
        ),
        (
            "tests.agents.chat_model_broken_module:x",
            "cannot be imported (RuntimeError: this module is broken",
        ),
        (f"{T}:absent", f"module '{T}' has no attribute 'absent'"),
        (f"{T}:NOT_A_MODEL", "is a int, neither a chat model nor a factory"),
        (f"{T}:returns_a_string", "gave a str, not a chat model with tool calling"),
        (f"{T}:needs_an_argument", "calling it failed (TypeError"),
        (f"{T}:raises", "calling it failed (RuntimeError: OPENAI_API_KEY is not set)"),
        (
            "biomedgpt_tools.testing.scripted_chat_model:ScriptedChatModel",
            "calling it failed (ValidationError",
        ),
        ("justaword", "expected provider:model"),
        # langchain-openai is a dev dependency (tests/serving): without a key it cannot build
        (
            "openai:gpt-4o-mini",
            "requires the langchain-openai package"
            if importlib.util.find_spec("langchain_openai") is None
            else "OPENAI_API_KEY",
        ),
        ("ollama:llama3.1", "langchain-ollama"),
    ],
)
def test_a_bad_chat_model_is_one_line_naming_it(offline_cli, capsys, spec, message):
    assert main(["ask", "Describe aspirin.", "--router", "llm", "--chat-model", spec]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --chat-model") and message in err, err
    assert spec in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_targets_that_give_a_chat_model(offline_cli, capsys):
    assert isinstance(load_chat_model(f"{T}:a_model"), ScriptedChatModel)
    assert main(["ask", "What is it?", "--router", "llm", "--chat-model", f"{T}:scripted_aspirin",
                 "--json"]) == 0  # fmt: skip
    import json

    output = json.loads(capsys.readouterr().out)
    assert output["router"] == "llm"
    assert [c["args"]["molecule"] for c in output["tool_calls"]] == ["aspirin"]


def test_provider_strings_go_to_init_chat_model_with_the_base_url(monkeypatch):
    # langchain-openai is not installed here, so init_chat_model stands in for its constructor
    import langchain.chat_models

    calls = []

    def init_chat_model(model, **kwargs):
        calls.append((model, kwargs))
        return ScriptedChatModel(script=[])

    monkeypatch.setattr(langchain.chat_models, "init_chat_model", init_chat_model)
    load_chat_model("openai:local-llama", base_url="http://127.0.0.1:8000/v1")
    load_chat_model("anthropic:claude-x")
    assert calls == [
        ("openai:local-llama", {"base_url": "http://127.0.0.1:8000/v1"}),
        ("anthropic:claude-x", {}),
    ]
    with pytest.raises(ChatModelLoadError, match="--base-url applies to provider:model"):
        load_chat_model(f"{T}:a_model", base_url="http://127.0.0.1:8000/v1")


def test_base_url_alone_is_a_usage_error(offline_cli, capsys):
    assert main(["ask", "hi", "--base-url", "http://127.0.0.1:8000/v1"]) == 2
    assert "--base-url needs --chat-model" in capsys.readouterr().err


def test_a_context_string_that_does_not_load_falls_back_to_rules(no_model_toolkit):
    from langgraph.checkpoint.memory import InMemorySaver

    from agents.context import AssistantContext
    from agents.graph import open_assistant
    from agents.session import AssistantSession

    context = AssistantContext(
        toolkit=no_model_toolkit, router="llm", chat_model="openai:gpt-4o-mini"
    )
    outcome = AssistantSession("t", context, graph=open_assistant(InMemorySaver())).ask(
        "Describe aspirin."
    )
    assert outcome.router.startswith(
        "rules (the chat model could not be loaded: --chat-model 'openai:gpt-4o-mini'"
    )
    assert [c["args"]["molecule"] for c in outcome.tool_calls] == ["aspirin"]


def test_a_context_string_cannot_import_code_or_send_the_key_away(monkeypatch):
    """A run's context comes from any LangGraph API client: only provider:model, loopback URLs."""
    import langchain.chat_models

    from agents.chat_models import resolve_chat_model

    calls = []
    monkeypatch.setattr(
        langchain.chat_models,
        "init_chat_model",
        lambda model, **kw: calls.append(model) or ScriptedChatModel(script=[]),
    )
    for target in ("os:abort", "builtins:breakpoint", f"{T}:a_model"):
        with pytest.raises(ChatModelLoadError, match="must be provider:model"):
            resolve_chat_model(target)
    for url in (
        "http://attacker.example/v1",
        "http://10.0.0.5:8000/v1",
        "http://127.0.0.1.example/v1",
    ):
        with pytest.raises(ChatModelLoadError, match="must be a loopback server"):
            resolve_chat_model("openai:local", url)
    assert calls == []
    resolve_chat_model("openai:local", "http://127.0.0.1:8000/v1")
    resolve_chat_model("openai:local", "http://localhost:8000/v1")
    resolve_chat_model("openai:local", "http://[::1]:8000/v1")
    assert calls == ["openai:local"] * 3


def test_a_context_string_is_loaded_once_not_per_question(monkeypatch, no_model_toolkit):
    import langchain.chat_models
    from langgraph.checkpoint.memory import InMemorySaver

    from agents.context import AssistantContext
    from agents.graph import open_assistant
    from agents.session import AssistantSession

    loads = []

    def init_chat_model(model, **kwargs):
        loads.append(model)
        return ScriptedChatModel(script=[])  # no tool calls: the rules then route

    monkeypatch.setattr(langchain.chat_models, "init_chat_model", init_chat_model)
    context = AssistantContext(
        toolkit=no_model_toolkit, router="llm", chat_model="openai:once-only"
    )
    session = AssistantSession("t-once", context, graph=open_assistant(InMemorySaver()))
    for question in ("Describe aspirin.", "Describe caffeine.", "Describe ibuprofen."):
        session.ask(question)
    assert loads == ["openai:once-only"]
