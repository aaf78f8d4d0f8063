"""`python -m agents ask/chat` and langgraph.json, in process (the test server, no model)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from agents.__main__ import main

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def offline_cli(resolver_env, monkeypatch):
    """The CLI builds its toolkit from the environment: point it at the test server."""
    monkeypatch.setenv("BIOMEDGPT_MEMORY", "0")  # no embedder load: these tests check the CLI
    return resolver_env


def test_ask_json_has_the_documented_keys(offline_cli, capsys):
    assert main(["ask", "Compare aspirin and ibuprofen", "--json", "--thread", "cli-1"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert {"answer", "tool_calls", "entities", "sources"} <= set(output)
    assert output["tool_calls"] == [
        {
            "name": "MoleculeQA",
            "args": {"molecule": "aspirin", "question": "Compare aspirin and ibuprofen"},
        },
        {
            "name": "MoleculeQA",
            "args": {"molecule": "ibuprofen", "question": "Compare aspirin and ibuprofen"},
        },
    ]
    assert [e["text"] for e in output["entities"]] == ["aspirin", "ibuprofen"]
    assert [s["cid"] for s in output["sources"]] == [2244, 3672]


def test_thread_continues_across_invocations(offline_cli, capsys):
    main(["ask", "Describe the molecule CC(=O)OC1=CC=CC=C1C(=O)O", "--thread", "cli-2"])
    capsys.readouterr()
    main(["ask", "and what is its molecular weight?", "--thread", "cli-2", "--json"])
    output = json.loads(capsys.readouterr().out)
    assert output["tool_calls"][0]["args"]["molecule"] == "CC(=O)OC1=CC=CC=C1C(=O)O"


def test_ambiguity_stops_with_candidates_and_choose_continues(offline_cli, capsys):
    assert main(["ask", "Describe the molecule alanine.", "--thread", "cli-3"]) == 0
    printed = capsys.readouterr().out
    assert "1. CID 5950" in printed and "--thread cli-3 --choose" in printed

    assert main(["ask", "Describe the molecule alanine.", "--thread", "cli-3"]) == 2
    assert "waits for a choice" in capsys.readouterr().err
    assert main(["ask", "--thread", "cli-3", "--choose", "CID 9999"]) == 2
    assert "not one of the candidates" in capsys.readouterr().err

    assert main(["ask", "--thread", "cli-3", "--choose", "CID 5950", "--json"]) == 0
    output = json.loads(capsys.readouterr().out)
    assert output["tool_calls"][0]["args"]["molecule"] == "CID 5950"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["ask"], "ask needs a QUESTION"),
        (["ask", "--choose", "1"], "pass its --thread ID too"),
        (["ask", "--thread", "new", "--choose", "1"], "is not waiting for a choice"),
        (
            ["ask", "hi", "--router", "llm", "--chat-model", "nonexistent_pkg:model"],
            "cannot be imported",
        ),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(offline_cli, capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_chat_answers_until_an_empty_line(offline_cli, capsys, monkeypatch):
    replies = iter(["Describe caffeine.", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(replies))
    assert main(["chat", "--thread", "cli-4"]) == 0
    assert "Caffeine (MoleculeQA)" in capsys.readouterr().out


def test_langgraph_json_points_at_the_compiled_graph():
    config = json.loads((REPO_ROOT / "langgraph.json").read_text())
    path, _, attribute = config["graphs"]["biomedgpt_assistant"].partition(":")
    module = importlib.import_module(path.removeprefix("./").removesuffix(".py").replace("/", "."))
    graph = getattr(module, attribute)
    assert set(graph.get_graph().nodes) >= {
        "understand",
        "route",
        "resolve",
        "recall",
        "run_tools",
        "compose",
        "remember",
    }


def test_chat_asks_which_candidate_and_retries_a_bad_choice(offline_cli, capsys, monkeypatch):
    replies = iter(["Describe the molecule alanine.", "CID 1", "3", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(replies))
    assert main(["chat", "--thread", "cli-5"]) == 0
    printed = capsys.readouterr().out
    assert "2. CID 602" in printed and "'CID 1' is not one of the candidates" in printed
    assert "PubChem CID 71080" in printed  # the third candidate answered


def test_ask_steps_prints_each_step(offline_cli, capsys):
    assert main(["ask", "Describe caffeine.", "--steps"]) == 0
    err = capsys.readouterr().err
    assert [line for line in err.splitlines() if line.startswith("[step]")] == [
        f"[step] {name}"
        for name in ("understand", "route", "resolve", "recall", "run_tools", "compose", "remember")
    ]
