"""The openai client and LangChain's ChatOpenAI work against the server unchanged."""

from __future__ import annotations

from biomedgpt_tools.model.prompt import Molecule, Protein
from biomedgpt_tools.model.requests import GenerationRequest

PROTEIN = "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"


def test_openai_client_text_only_and_with_parts_streaming_and_not(model_server, serving_biomedgpt):
    from openai import OpenAI

    client = OpenAI(base_url=f"{model_server.url}/v1", api_key="unused", max_retries=0)
    want_text = serving_biomedgpt.generate(
        [GenerationRequest("What is aspirin?")], max_new_tokens=10
    )[0]
    reply = client.chat.completions.create(
        model="biomedgpt", messages=[{"role": "user", "content": "What is aspirin?"}], max_tokens=10
    )
    assert reply.choices[0].message.content == want_text.text
    assert reply.usage.completion_tokens == len(want_text.token_ids)

    parts = [{"type": "molecule", "smiles": "CCO"}, {"type": "protein", "sequence": PROTEIN},
             {"type": "text", "text": "Does this molecule bind to this protein?"}]  # fmt: skip
    want_parts = serving_biomedgpt.generate(
        [
            GenerationRequest(
                "Does this molecule bind to this protein?", [Molecule("CCO"), Protein(PROTEIN)]
            )
        ],
        max_new_tokens=10,
    )[0]
    stream = client.chat.completions.create(
        model="biomedgpt", messages=[{"role": "user", "content": parts}], max_tokens=10, stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    pieces, usage = [], None
    for chunk in stream:
        pieces += [choice.delta.content or "" for choice in chunk.choices]
        usage = chunk.usage or usage
    assert "".join(pieces) == want_parts.text
    assert usage.completion_tokens == len(want_parts.token_ids)
    assert [model.id for model in client.models.list()] == [serving_biomedgpt.model_id]


def test_chat_openai_invoke_and_stream(model_server, serving_biomedgpt):
    from langchain_core.messages import HumanMessage
    from langchain_openai import ChatOpenAI

    chat = ChatOpenAI(base_url=f"{model_server.url}/v1", api_key="unused", model="biomedgpt",
                      max_tokens=8, max_retries=0)  # fmt: skip
    want = serving_biomedgpt.generate([GenerationRequest("Describe caffeine.")], max_new_tokens=8)[
        0
    ]
    assert chat.invoke("Describe caffeine.").content == want.text
    assert "".join(chunk.content for chunk in chat.stream("Describe caffeine.")) == want.text

    message = HumanMessage(
        content=[{"type": "molecule", "smiles": "CCO"}, {"type": "text", "text": "What is it?"}]
    )
    want_parts = serving_biomedgpt.generate(
        [GenerationRequest("What is it?", [Molecule("CCO")])], max_new_tokens=8
    )[0]
    assert chat.invoke([message]).content == want_parts.text
