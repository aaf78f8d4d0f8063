"""The assistant graph end to end on the resolvers' test server (tiny model or none)."""

from __future__ import annotations

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agents.context import AssistantContext
from agents.graph import open_assistant
from agents.resolution import InvalidChoiceError
from agents.session import AssistantSession
from biomedgpt_tools.testing.scripted_chat_model import ScriptedChatModel, calling, tool_call


def session_for(toolkit, thread="t", checkpointer=None, **context) -> AssistantSession:
    graph = open_assistant(checkpointer or InMemorySaver())
    return AssistantSession(thread, AssistantContext(toolkit=toolkit, **context), graph=graph)


def test_rules_route_two_molecules_and_cite_model_and_pubchem(toolkit):
    session = session_for(toolkit)
    outcome = session.ask("Compare aspirin and ibuprofen")

    assert [(c["name"], c["args"]["molecule"]) for c in outcome.tool_calls] == [
        ("MoleculeQA", "aspirin"),
        ("MoleculeQA", "ibuprofen"),
    ]
    assert [s["type"] for s in outcome.sources] == ["model", "pubchem", "model", "pubchem"]
    answers = [s for s in outcome.sources if s["type"] == "model"]
    assert len({s["annotation_id"] for s in answers}) == 2  # each stored answer cited by its id
    assert {s["model_id"] for s in answers} == {toolkit.backend.identity().model_id}
    assert {s.get("cid") for s in outcome.sources} >= {2244, 3672}
    assert "Aspirin (MoleculeQA)" in outcome.answer and "Ibuprofen (MoleculeQA)" in outcome.answer
    for source in outcome.sources:
        assert f"[{source['n']}]" in outcome.answer
    assert toolkit.backend.answer_calls == 2


def test_second_ask_comes_from_memory_and_says_so(toolkit):
    first = session_for(toolkit, "a").ask("What does P04637 do?")
    assert [s["type"] for s in first.sources] == ["model", "uniprot"]
    saved_id = first.sources[0]["annotation_id"]
    assert saved_id

    second = session_for(toolkit, "b").ask("What does P04637 do?")
    memory = [s for s in second.sources if s["type"] == "memory"]
    assert memory and memory[0]["annotation_id"] == saved_id
    assert toolkit.backend.answer_calls == 1  # the second turn did not reach the model


def test_recall_lists_earlier_answers_about_the_entity(toolkit):
    session = session_for(toolkit)
    session.ask("What does P04637 do?")
    outcome = session.ask("Where is P04637 located in the cell?")
    assert "Earlier answers in memory about these entities" in outcome.answer
    assert "What does P04637 do?" in outcome.answer


def test_the_assistant_recalls_by_the_keys_the_tools_store_under(toolkit):
    """One memory key per entity (services.entity_names): the resolve step's records carry the
    key each tool then stores its answer under, a sequence given as is included."""
    sequence = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ"
    session = session_for(toolkit)
    session.ask(f"Does aspirin bind P04637 or {sequence}?")
    values = session.graph.get_state(session.config).values
    keys = [entry["key"] for entry in values["resolved"]]
    assert keys == [result["artifact"]["entity_key"] for result in values["results"]]
    assert keys[1] == "P04637" and keys[2].startswith("SEQ-")

    outcome = session.ask(f"Where is the protein {sequence} located?")
    assert "Earlier answers in memory about these entities" in outcome.answer


def test_without_model_the_answer_says_so_and_shows_the_record(no_model_toolkit):
    outcome = session_for(no_model_toolkit).ask("What is the molecular weight of aspirin?")
    assert outcome.answer.startswith("No BioMedGPT model is configured")
    assert "Molecular weight: 180.16 g/mol" in outcome.answer
    assert [s["type"] for s in outcome.sources] == ["pubchem"]


def test_text_question_goes_to_biomedqa(toolkit):
    outcome = session_for(toolkit).ask("Does smoking raise the risk of COPD?")
    assert [c["name"] for c in outcome.tool_calls] == ["BiomedQA"]
    assert outcome.entities == []


# -- routers -------------------------------------------------------------------------------------
def test_llm_router_plans_the_calls(toolkit):
    model = ScriptedChatModel(
        script=[
            calling(
                tool_call("ProteinQA", "c1", protein="P04637", question="What does p53 do?"),
                tool_call("MoleculeQA", "c2", molecule="CID 2244", question="What does p53 do?"),
            )
        ]
    )
    outcome = session_for(toolkit, router="llm", chat_model=model).ask(
        "What does p53 do, and aspirin?"
    )

    assert outcome.router == "llm"
    assert [(c["name"], c["args"]) for c in outcome.tool_calls] == [
        ("ProteinQA", {"protein": "P04637", "question": "What does p53 do?"}),
        ("MoleculeQA", {"molecule": "CID 2244", "question": "What does p53 do?"}),
    ]
    assert set(model.bound_tool_names) == {"MoleculeQA", "ProteinQA", "BiomedQA"}
    assert "Do not answer the question yourself" in model.seen[0][0].content
    assert {s["type"] for s in outcome.sources} == {"model", "uniprot", "pubchem"}


@pytest.mark.parametrize(
    "reply, reason",
    [
        (ConnectionError("provider down"), "ConnectionError: provider down"),
        (calling(), "without calling a tool"),
        (calling(tool_call("WebSearch", query="x")), "unknown tool 'WebSearch'"),
        (
            calling(tool_call("MoleculeQA", question="no molecule given")),
            "bad arguments for MoleculeQA",
        ),
    ],
)
def test_llm_router_failures_fall_back_to_rules(no_model_toolkit, reply, reason):
    model = ScriptedChatModel(script=[reply])
    outcome = session_for(no_model_toolkit, router="llm", chat_model=model).ask("Describe aspirin.")
    assert outcome.router.startswith("rules (llm router failed:") and reason in outcome.router
    assert [(c["name"], c["args"]["molecule"]) for c in outcome.tool_calls] == [
        ("MoleculeQA", "aspirin")
    ]


def test_llm_router_without_a_chat_model_uses_rules(no_model_toolkit):
    outcome = session_for(no_model_toolkit, router="llm").ask("Describe aspirin.")
    assert outcome.router == "rules (no chat model given for the llm router)"


# -- interrupts and follow-ups -------------------------------------------------------------------
def test_ambiguous_name_interrupts_and_resumes_with_a_choice(no_model_toolkit):
    session = session_for(no_model_toolkit)
    paused = session.ask("Describe the molecule alanine.")

    assert paused.interrupt is not None and paused.answer == ""
    assert paused.interrupt["query"] == "alanine"
    choices = [c["choice"] for c in paused.interrupt["candidates"]]
    assert choices == ["CID 5950", "CID 602", "CID 71080"]
    assert session.pending_interrupt() == paused.interrupt

    with pytest.raises(InvalidChoiceError, match="not one of the candidates"):
        session.resume("CID 2244")
    outcome = session.resume("2")  # by number: the second candidate
    assert outcome.interrupt is None
    assert outcome.tool_calls[0]["args"]["molecule"] == "CID 602"
    assert [s.get("cid") for s in outcome.sources] == [602]
    assert session.pending_interrupt() is None


def test_follow_up_uses_the_previous_turns_molecule_across_processes(no_model_toolkit, tmp_path):
    from agents.graph import sqlite_checkpointer

    database = tmp_path / "threads.sqlite"
    first = session_for(no_model_toolkit, "chat-1", sqlite_checkpointer(database))
    first.ask("Describe the molecule CC(=O)OC1=CC=CC=C1C(=O)O")

    later = session_for(no_model_toolkit, "chat-1", sqlite_checkpointer(database))  # a new process
    outcome = later.ask("and what is its molecular weight?")
    assert outcome.router == "follow-up"
    assert outcome.tool_calls == [
        {
            "name": "MoleculeQA",
            "args": {
                "molecule": "CC(=O)OC1=CC=CC=C1C(=O)O",
                "question": "and what is its molecular weight?",
            },
        }
    ]
    assert [e["text"] for e in outcome.entities] == ["CC(=O)OC1=CC=CC=C1C(=O)O"]
    assert "Molecular weight: 180.16 g/mol" in outcome.answer

    other_thread = session_for(no_model_toolkit, "chat-2", sqlite_checkpointer(database))
    assert [
        c["name"] for c in other_thread.ask("and what is its molecular weight?").tool_calls
    ] == ["BiomedQA"]


def test_follow_up_about_the_protein_keeps_only_the_protein(no_model_toolkit):
    session = session_for(no_model_toolkit)
    session.ask("Does aspirin bind P04637?")
    outcome = session.ask("What family does this protein belong to?")
    assert [(c["name"], c["args"]["protein"]) for c in outcome.tool_calls] == [
        ("ProteinQA", "P04637")
    ]


# -- streaming -----------------------------------------------------------------------------------
def test_streams_every_step_and_the_answer_text(no_model_toolkit):
    session = session_for(no_model_toolkit)
    steps, answers, tokens = [], [], []

    def collect(event):
        if event["mode"] == "updates":
            steps.extend(event["payload"])
        elif event["payload"].get("type") == "answer":
            answers.append(event["payload"]["text"])
        elif event["payload"].get("type") == "token":
            tokens.append(event["payload"])

    outcome = session.ask("Describe caffeine.", collect)
    assert steps == ["understand", "route", "resolve", "recall", "run_tools", "compose", "remember"]
    assert answers == [outcome.answer] and outcome.answer
    assert tokens == []  # no model: nothing was generated (tests/agents/test_streaming.py streams)
