"""The model's text reaches the tool's callbacks as it is generated, and joins to the answer."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import BaseCallbackHandler

from biomedgpt_tools.inference.backend import NoModelBackend
from biomedgpt_tools.model.requests import GenerationResult, ModelIdentity
from biomedgpt_tools.tools.qa_tool import TOKEN_EVENT
from tests.scripted_decoding import ANSWER_OF_TWO_MORE_MARKERS, script_decoding


class CollectModelText(BaseCallbackHandler):
    """The tools' token events, and whether the model was still generating at each."""

    def __init__(self, backend=None):
        self.events: list[dict[str, Any]] = []
        self.while_generating: list[bool] = []
        self.backend = backend

    def on_custom_event(self, name: str, data: Any, *, run_id, **kwargs: Any) -> None:
        if name == TOKEN_EVENT:
            self.events.append(data)
            if self.backend is not None:
                self.while_generating.append(self.backend._generate_lock.locked())

    @property
    def text(self) -> str:
        return joined(self.events)


def joined(events: list[dict[str, Any]]) -> str:
    """The answer the events carry: each is a delta (`{"text", "tool"}`, nothing to undo)."""
    assert all(set(event) == {"text", "tool"} for event in events), events
    return "".join(event["text"] for event in events)


def _call(tool, callbacks=None, **args):
    config = {"callbacks": callbacks} if callbacks else None
    message = tool.invoke(
        {"type": "tool_call", "id": "call-1", "name": tool.name, "args": args}, config
    )
    assert message.status == "success", message.content
    return message.artifact


def test_each_tool_streams_the_model_text_that_it_stores(toolkit):
    molecule_qa, protein_qa, biomed_qa = toolkit.get_tools()
    for tool, args in [
        (molecule_qa, {"molecule": "aspirin"}),
        (protein_qa, {"protein": "P04637"}),
        (biomed_qa, {"question": "What is COPD?"}),
    ]:
        collector = CollectModelText(toolkit.backend)
        artifact = _call(tool, [collector], **args)
        assert artifact.answered_by == "model"
        assert len(collector.events) > 1, tool.name  # piece by piece, not the answer whole
        assert collector.text == artifact.answer and artifact.answer
        assert {event["tool"] for event in collector.events} == {tool.name}
        assert any(collector.while_generating)  # pieces arrive while the model still generates


def test_streaming_changes_no_answer_and_a_memory_hit_streams_nothing(toolkit):
    molecule_qa = toolkit.get_tools()[0]
    whole = _call(molecule_qa, molecule="caffeine", question="What is it?")  # no listener: batched
    collector = CollectModelText()
    streamed = _call(
        molecule_qa, [collector], molecule="caffeine", question="What is it?", fresh=True
    )
    assert streamed.answered_by == "model" and streamed.answer == whole.answer == collector.text

    remembered = CollectModelText()
    again = _call(molecule_qa, [remembered], molecule="caffeine", question="What is it?")
    assert again.answered_by == "memory" and remembered.events == []


def test_multiple_choice_stores_the_streamed_model_output_after_the_chosen_option(toolkit):
    biomed_qa = toolkit.get_tools()[2]
    collector = CollectModelText()
    artifact = _call(
        biomed_qa, [collector], question="Which is an NSAID?", options=["aspirin", "insulin"]
    )
    assert collector.text
    assert artifact.answer.endswith(
        f"Model output: {collector.text}"
    ) or artifact.answer.startswith(f"{collector.text}\n(The answer names none")


def test_no_model_streams_nothing(no_model_toolkit):
    collector = CollectModelText()
    artifact = _call(no_model_toolkit.get_tools()[0], [collector], molecule="aspirin")
    assert artifact.answered_by == "record" and collector.events == []


async def test_astream_events_carries_the_model_text(toolkit):
    molecule_qa = toolkit.get_tools()[0]
    call = {
        "type": "tool_call",
        "id": "call-2",
        "name": "MoleculeQA",
        "args": {"molecule": "ibuprofen"},
    }
    pieces, message = [], None
    async for event in molecule_qa.astream_events(call, version="v2"):
        if event["event"] == "on_custom_event" and event["name"] == TOKEN_EVENT:
            pieces.append(event["data"])
        elif event["event"] == "on_tool_end":
            message = event["data"]["output"]
    assert message is not None and message.artifact.answered_by == "model"
    assert len(pieces) > 1 and joined(pieces) == message.artifact.answer


def test_a_second_turn_in_the_model_text_streams_only_the_answer(toolkit, monkeypatch):
    """The model opens with `Assistant:` again and later begins a turn of its own: the events
    carry the answer alone, as deltas, and join to what the tool stores."""
    script_decoding(monkeypatch, toolkit.backend.model())
    collector = CollectModelText()
    artifact = _call(toolkit.get_tools()[0], [collector], molecule="aspirin")
    assert artifact.answered_by == "model" and artifact.answer == ANSWER_OF_TWO_MORE_MARKERS
    assert len(collector.events) > 1 and collector.text == artifact.answer
    assert not any("#" in event["text"] or "Assis" in event["text"] for event in collector.events)


def test_a_backend_that_cannot_stream_sends_its_answer_as_one_piece():
    class WholeAnswers(NoModelBackend):
        def identity(self) -> ModelIdentity:
            return ModelIdentity("whole", "r1")

        def answer(self, questions):
            return [
                GenerationResult("prompt", "all at once", [], True, identity=self.identity())
                for _ in questions
            ]

    pieces: list[str] = []
    answer = WholeAnswers().answer_streaming(None, pieces.append)
    assert answer.text == "all at once" and pieces == ["all at once"]
