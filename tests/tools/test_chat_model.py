"""ChatBioMedGPT: BioMedGPT-LM behind LangChain's chat-model interface."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from biomedgpt_tools.inference.backend import NoModelBackend
from biomedgpt_tools.inference.in_process import InProcessBackend
from biomedgpt_tools.model.requests import GenerationRequest, GenerationResult, ModelIdentity
from biomedgpt_tools.tools.chat_model import ChatBioMedGPT, conversation_from_messages

CONVERSATION = [
    SystemMessage("You are a careful biochemist."),
    HumanMessage("What is ATP?"),
    AIMessage("An energy carrier."),
    HumanMessage("What is ATP?"),
]


def test_messages_become_the_spec_conversation_template(tiny_model):
    chat = ChatBioMedGPT(backend=InProcessBackend(model=tiny_model))
    prompt = chat.backend.render_prompt(chat._question(CONVERSATION))
    assert prompt == (
        "You are a careful biochemist. ### Human: What is ATP? ### Assistant: An energy carrier. "
        "### Human: What is ATP? ### Assistant: "
    )
    # no system message: the released weights' system text
    default = chat.backend.render_prompt(chat._question([HumanMessage("What is ATP?")]))
    assert default.startswith(
        "You are working as an excellent assistant in chemistry and molecule discovery."
    )
    assert default.endswith("### Human: What is ATP? ### Assistant: ")


def test_invoke_is_the_model_answer_to_that_prompt(tiny_model):
    from biomedgpt_tools.model.prompt import Turn

    chat = ChatBioMedGPT(backend=InProcessBackend(model=tiny_model), max_new_tokens=10)
    reply = chat.invoke(CONVERSATION)
    expected = tiny_model.generate(
        [
            GenerationRequest(
                question="What is ATP?",
                system="You are a careful biochemist. ",
                history=[Turn(question="What is ATP?", answer="An energy carrier.")],
            )
        ],
        max_new_tokens=10,
    )[0]
    assert reply.content == expected.text
    assert reply.response_metadata["model_name"] == tiny_model.model_id
    assert reply.response_metadata["model_revision"] == tiny_model.revision


class _CollectTokens(BaseCallbackHandler):
    def __init__(self):
        self.tokens: list[str] = []

    def on_llm_new_token(self, token: str, **kwargs) -> None:
        self.tokens.append(token)


def test_streaming_yields_the_same_text_piece_by_piece(tiny_model):
    chat = ChatBioMedGPT(backend=InProcessBackend(model=tiny_model), max_new_tokens=12)
    question = [HumanMessage("What is ATP?")]
    collector = _CollectTokens()
    chunks = list(chat.stream(question, config={"callbacks": [collector]}))
    texts = [chunk.content for chunk in chunks if chunk.content]
    assert len(texts) > 1
    assert "".join(texts).strip() == chat.invoke(question).content
    assert [token for token in collector.tokens if token] == texts
    assert chunks[-1].response_metadata["model_name"] == tiny_model.model_id


def test_streaming_matches_invoke_even_with_byte_fallback_tokens(tiny_model):
    chat = ChatBioMedGPT(backend=InProcessBackend(model=tiny_model), max_new_tokens=12)
    question = [HumanMessage("Name a kinase.")]
    assert (
        "".join(c.content for c in chat.stream(question)).strip() == chat.invoke(question).content
    )


async def test_async_invoke_and_stream(tiny_model):
    chat = ChatBioMedGPT(backend=InProcessBackend(model=tiny_model), max_new_tokens=8)
    question = [HumanMessage("What is ATP?")]
    reply = await chat.ainvoke(question)
    streamed = "".join([chunk.content async for chunk in chat.astream(question)])
    assert streamed.strip() == reply.content


class ScriptedTextBackend(NoModelBackend):
    """Streams fixed pieces, to test the chat model's own stop-sequence handling."""

    kind = "scripted"

    def __init__(self, pieces: Sequence[str]):
        super().__init__()
        self.pieces = list(pieces)
        self.pieces_sent = 0

    def identity(self) -> ModelIdentity:
        return ModelIdentity("scripted", "r0")

    def answer(self, questions):
        text = "".join(self.pieces)
        return [
            GenerationResult("prompt", text, [], True, identity=self.identity()) for _ in questions
        ]

    def stream(self, question: GenerationRequest) -> Iterator[str]:
        for piece in self.pieces:
            self.pieces_sent += 1
            yield piece


def test_stop_sequences_cut_invoke_and_stream_alike_and_stop_generation():
    backend = ScriptedTextBackend(
        ["Hello wor", "ld. #", "## Hu", "man: more", " and more", " and more"]
    )
    chat = ChatBioMedGPT(backend=backend)
    question = [HumanMessage("hi")]
    assert chat.invoke(question, stop=["###"]).content == "Hello world. "
    streamed = [chunk.content for chunk in chat.stream(question, stop=["###"])]
    assert "".join(streamed) == "Hello world. "
    assert not any(
        "#" in piece for piece in streamed
    )  # a stop sequence split over pieces never leaks
    assert backend.pieces_sent == 3  # generation stopped at the stop sequence
    assert chat.invoke(question, stop=["###"]).response_metadata["finish_reason"] == "stop_sequence"
    assert "".join(c.content for c in chat.stream(question)) == "".join(backend.pieces)


@pytest.mark.parametrize(
    "messages, fragment",
    [
        ([HumanMessage("hi"), AIMessage("hello")], "last message must be a human message"),
        ([HumanMessage("hi"), ToolMessage("x", tool_call_id="1")], "got a 'tool' message"),
        (
            [HumanMessage(content=[{"type": "image_url", "image_url": {"url": "x"}}])],
            "takes text only",
        ),
    ],
)
def test_messages_it_cannot_read_are_refused_by_name(messages, fragment):
    with pytest.raises(ValueError, match=fragment):
        conversation_from_messages(messages, None)


def test_consecutive_messages_of_one_role_are_joined():
    system, history, question = conversation_from_messages(
        [SystemMessage("A."), SystemMessage("B."), HumanMessage("one"), HumanMessage("two")], None
    )
    assert system == "A. B. "
    assert history == () and question == "one\ntwo"


def test_without_a_model_the_chat_model_says_how_to_configure_one(monkeypatch):
    monkeypatch.delenv("BIOMEDGPT_MODEL", raising=False)
    chat = ChatBioMedGPT()
    with pytest.raises(Exception, match="BIOMEDGPT_MODEL"):
        chat.invoke("hi")
