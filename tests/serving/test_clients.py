"""Tools, the assistant, `biomedgpt generate --server` and `biomedgpt annotate` through the server."""

from __future__ import annotations

import json

import pytest

from biomedgpt_tools.cli import main
from tests.local_services import make_toolkit

CHAT_200 = 'biomedgpt_requests_total{endpoint="chat_completions",status="200"}'


def ask(tool, **args):
    message = tool.invoke({"type": "tool_call", "id": "call-1", "name": tool.name, "args": args})
    return message


@pytest.fixture
def remote_env(resolver_env, model_server, monkeypatch):
    monkeypatch.setenv("BIOMEDGPT_SERVER_URL", model_server.url)
    return model_server


def test_tools_answer_through_the_server_and_a_memory_hit_needs_no_server_call(
    remote_env, serving_model_dir
):
    server = remote_env
    toolkit = make_toolkit()
    try:
        assert toolkit.backend.kind == "remote"
        molecule_qa, protein_qa, _ = toolkit.get_tools()
        before = server.metric(CHAT_200)
        first = ask(molecule_qa, molecule="aspirin", question="Is it an NSAID?")
        assert first.status == "success", first.content
        assert first.artifact.answered_by == "model"
        assert server.metric(CHAT_200) == before + 1
        again = ask(molecule_qa, molecule="CC(=O)OC1=CC=CC=C1C(=O)O", question="is it an NSAID")
        assert again.artifact.from_memory and again.artifact.answer == first.artifact.answer
        assert (
            server.metric(CHAT_200) == before + 1
        )  # the memory answered; the server was not asked
        protein = ask(protein_qa, protein="P04637")
        assert protein.status == "success" and protein.artifact.answered_by == "model"
        assert server.metric(CHAT_200) == before + 2
    finally:
        toolkit.close()

    # the same weights in process find what was remembered through the server: one memory
    in_process = make_toolkit(server_url="", model_path=serving_model_dir)
    try:
        assert in_process.backend.kind == "in-process"
        recalled = ask(in_process.get_tools()[0], molecule="aspirin", question="Is it an NSAID?")
        assert recalled.artifact.from_memory
        assert (recalled.artifact.model_id, recalled.artifact.revision) == (
            first.artifact.model_id,
            first.artifact.revision,
        )
        assert in_process.backend.answer_calls == 0 and not in_process.backend.loaded
    finally:
        in_process.close()


def test_remote_tool_answer_equals_the_in_process_one(
    remote_env, serving_biomedgpt, tmp_path, monkeypatch
):
    remote = make_toolkit()
    local = make_toolkit(serving_biomedgpt, memory=False)
    try:
        got = ask(
            remote.get_tools()[1],
            protein="P69905",
            question="What is the function of this protein?",
        )
        want = ask(
            local.get_tools()[1], protein="P69905", question="What is the function of this protein?"
        )
        assert got.artifact.answer == want.artifact.answer
        assert got.artifact.prompt == want.artifact.prompt
    finally:
        remote.close()
        local.close()


def test_chat_model_streams_through_the_server(remote_env, serving_biomedgpt):
    from biomedgpt_tools.model.requests import GenerationRequest
    from biomedgpt_tools.tools.chat_model import ChatBioMedGPT

    chat = ChatBioMedGPT(max_new_tokens=10)
    assert chat.backend.kind == "remote"
    want = serving_biomedgpt.generate([GenerationRequest("What is caffeine?")], max_new_tokens=10)[
        0
    ]
    assert chat.invoke("What is caffeine?").content == want.text
    assert "".join(chunk.content for chunk in chat.stream("What is caffeine?")) == want.text


def test_the_assistant_answers_through_the_server(remote_env):
    from langgraph.checkpoint.memory import InMemorySaver

    from agents.context import AssistantContext
    from agents.graph import open_assistant
    from agents.session import AssistantSession

    toolkit = make_toolkit()
    try:
        session = AssistantSession(
            "t", AssistantContext(toolkit=toolkit), graph=open_assistant(InMemorySaver())
        )
        outcome = session.ask("What does P04637 do?")
        assert [s["type"] for s in outcome.sources] == ["model", "uniprot"]
        assert outcome.sources[0]["model_id"] == toolkit.backend.identity().model_id
        assert toolkit.backend.answer_calls == 1
    finally:
        toolkit.close()


def test_generate_server_prints_the_in_process_json(
    model_server, serving_model_dir, tmp_path, capsys
):
    batch = tmp_path / "requests.jsonl"
    batch.write_text("\n".join([
        json.dumps({"question": "Please describe the molecule.", "molecule": "CCO"}),
        json.dumps({"question": "What is it?", "protein": "MKTAYIAKQR"}),
        "{broken",
        json.dumps({"question": "Both?", "inputs": [{"molecule": "C"}, {"protein": "MQIFVKTL"}]}),
    ]) + "\n")  # fmt: skip
    common = ["--batch", str(batch), "--json", "--max-new-tokens", "9"]
    assert main(["generate", "--model", str(serving_model_dir), "--dtype", "fp32", *common]) == 1
    local = capsys.readouterr().out
    assert main(["generate", "--server", model_server.url, *common]) == 1
    remote = capsys.readouterr().out
    assert remote == local
    assert len(remote.splitlines()) == 4 and '"error"' in remote.splitlines()[2]

    one = ["--question", "What is it?", "--molecule", "CCO", "--json", "--max-new-tokens", "6"]
    assert main(["generate", "--model", str(serving_model_dir), "--dtype", "fp32", *one]) == 0
    local_one = capsys.readouterr().out
    assert main(["generate", "--server", model_server.url, *one]) == 0
    assert capsys.readouterr().out == local_one


def test_annotate_through_the_server_equals_in_process(
    resolver_env, model_server, serving_model_dir, tmp_path, monkeypatch
):
    from biomedgpt_tools.annotation.results import read_results

    accessions = tmp_path / "accessions.txt"
    accessions.write_text("P04637\nP69905\nP01308\n")
    common = ["--questions", "function,name", "--max-new-tokens", "8", "--no-progress"]
    monkeypatch.setenv("BIOMEDGPT_MEMORY", "0")
    assert main(["annotate", str(accessions), "--out", str(tmp_path / "local.jsonl"),
                 "--model", str(serving_model_dir), *common]) == 0  # fmt: skip
    assert main(["annotate", str(accessions), "--out", str(tmp_path / "remote.jsonl"),
                 "--server", model_server.url, "--concurrency", "6", *common]) == 0  # fmt: skip
    local = read_results(tmp_path / "local.jsonl")
    remote = read_results(tmp_path / "remote.jsonl")
    assert set(remote) == set(local) == {"P04637", "P69905", "P01308"}
    for accession in local:
        assert remote[accession].status == local[accession].status == "done"
        assert remote[accession].answers == local[accession].answers
        assert (remote[accession].model_id, remote[accession].revision) == (
            local[accession].model_id,
            local[accession].revision,
        )


def test_tool_token_events_arrive_through_the_server_and_join_to_the_answer(
    remote_env, serving_biomedgpt
):
    from tests.tools.test_streaming import CollectModelText

    remote = make_toolkit(memory=False)
    local = make_toolkit(serving_biomedgpt, memory=False)
    try:
        collector = CollectModelText()
        call = {
            "type": "tool_call",
            "id": "c1",
            "name": "MoleculeQA",
            "args": {"molecule": "caffeine"},
        }
        message = remote.get_tools()[0].invoke(call, {"callbacks": [collector]})
        assert message.status == "success", message.content
        assert len(collector.events) > 1  # piece by piece, not whole
        assert collector.text == message.artifact.answer
        assert message.artifact.answer == local.get_tools()[0].invoke(call).artifact.answer
    finally:
        remote.close()
        local.close()
