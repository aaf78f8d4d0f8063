"""The tools inside an agent built with LangChain's own `create_agent`, driven by a scripted model."""

from __future__ import annotations

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from biomedgpt_tools.resolvers.records import MoleculeRecord, ProteinRecord
from biomedgpt_tools.testing.scripted_chat_model import ScriptedChatModel
from biomedgpt_tools.tools.artifacts import QAArtifact


def _call(name: str, call_id: str, **args) -> dict:
    return {"name": name, "args": args, "id": call_id, "type": "tool_call"}


def test_agent_calls_each_tool_and_gets_content_and_artifact(toolkit):
    script = [
        AIMessage(content="", tool_calls=[_call("MoleculeQA", "m1", molecule="aspirin")]),
        AIMessage(content="", tool_calls=[_call("ProteinQA", "p1", protein="P53_HUMAN")]),
        AIMessage(
            content="",
            tool_calls=[
                _call("BiomedQA", "b1", question="Is aspirin an NSAID?", options=["yes", "no"])
            ],
        ),
        AIMessage(content="Done: all three tools answered."),
    ]
    model = ScriptedChatModel(script=script, strict_tools=True)
    agent = create_agent(model, toolkit.get_tools())

    result = agent.invoke({"messages": [HumanMessage("Tell me about aspirin, p53 and NSAIDs.")]})

    assert model.bound_tool_names == ["MoleculeQA", "ProteinQA", "BiomedQA"]
    tool_messages = {m.tool_call_id: m for m in result["messages"] if isinstance(m, ToolMessage)}
    assert set(tool_messages) == {"m1", "p1", "b1"}
    for message in tool_messages.values():
        assert message.status == "success"
        assert isinstance(message.artifact, QAArtifact)
        assert message.artifact.answered_by == "model"
        assert message.artifact.answer and message.artifact.answer in message.content
    molecule = tool_messages["m1"].artifact
    assert isinstance(molecule.record, MoleculeRecord) and molecule.record.cid == 2244
    assert "CID 2244" in tool_messages["m1"].content
    protein = tool_messages["p1"].artifact
    assert isinstance(protein.record, ProteinRecord) and protein.record.accession == "P04637"
    assert "P04637" in tool_messages["p1"].content
    assert tool_messages["b1"].artifact.options == ["yes", "no"]
    # each tool result reached the model on its next turn
    assert isinstance(model.seen[1][-1], ToolMessage) and model.seen[1][-1].tool_call_id == "m1"
    assert isinstance(model.seen[3][-1], ToolMessage) and model.seen[3][-1].tool_call_id == "b1"
    assert result["messages"][-1].content == "Done: all three tools answered."


def test_unknown_molecule_reaches_the_agent_as_a_readable_error(toolkit):
    script = [
        AIMessage(
            content="", tool_calls=[_call("MoleculeQA", "x1", molecule="unobtainium tartrate")]
        ),
        AIMessage(content="", tool_calls=[_call("ProteinQA", "x2", protein="Q9ZZZ0")]),
        AIMessage(content="", tool_calls=[_call("MoleculeQA", "x3", molecule="alanine")]),
        AIMessage(content="I could not find it."),
    ]
    model = ScriptedChatModel(script=script, strict_tools=True)
    agent = create_agent(model, toolkit.get_tools())

    result = agent.invoke({"messages": [HumanMessage("What is unobtainium tartrate?")]})

    errors = {m.tool_call_id: m for m in result["messages"] if isinstance(m, ToolMessage)}
    not_found = errors["x1"]
    assert not_found.status == "error"
    assert "unobtainium tartrate" in not_found.content
    assert "SMILES" in not_found.content  # the way out
    assert "Traceback" not in not_found.content
    obsolete = errors["x2"]
    assert obsolete.status == "error"
    assert "P69905" in obsolete.content and "P68871" in obsolete.content  # demerged into these
    ambiguous = errors["x3"]
    assert ambiguous.status == "error"
    assert "5950" in ambiguous.content and "602" in ambiguous.content  # candidates by CID
    # the agent saw the error text and could answer after it
    assert model.seen[1][-1].content == not_found.content
    assert result["messages"][-1].content == "I could not find it."


async def test_async_agent_runs_the_tools_async_path(toolkit):
    script = [
        AIMessage(
            content="",
            tool_calls=[
                _call("MoleculeQA", "a1", molecule="caffeine"),
                _call("ProteinQA", "a2", protein="P69905"),
            ],
        ),
        AIMessage(content="Both answered."),
    ]
    agent = create_agent(ScriptedChatModel(script=script, strict_tools=True), toolkit.get_tools())

    result = await agent.ainvoke({"messages": [HumanMessage("caffeine and hemoglobin alpha?")]})

    tool_messages = {m.tool_call_id: m for m in result["messages"] if isinstance(m, ToolMessage)}
    assert tool_messages["a1"].artifact.record.cid == 2519
    assert tool_messages["a2"].artifact.record.accession == "P69905"
    assert all(m.artifact.answered_by == "model" for m in tool_messages.values())
    assert toolkit.backend.answer_calls == 2
