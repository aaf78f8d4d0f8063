"""The server streams answer deltas in OpenAI's chunk shape, even when the model writes a second turn.

The model server runs in this process (uvicorn on a loopback port, transformers engine) so the
test can script what the generated tokens decode to (tests/scripted_decoding.py): the model
opens with `Assistant:` again and, having answered, begins a turn of its own. The server cuts
the answer out as tokens arrive; the SSE deltas, a `RemoteBackend`'s sink and its `stream`
must each join to exactly the non-streaming answer, with nothing to take back.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest

from biomedgpt_tools.inference.remote import RemoteBackend
from biomedgpt_tools.inference.wire import chat_request_body
from biomedgpt_tools.model.prompt import Molecule
from biomedgpt_tools.model.requests import GenerationRequest
from tests.scripted_decoding import ANSWER_OF_TWO_MORE_MARKERS, TWO_MORE_MARKERS, script_decoding
from tests.serving.models import build_serving_biomedgpt

QUESTION = GenerationRequest(
    "Describe it.", [Molecule("CCO")], max_new_tokens=len(TWO_MORE_MARKERS)
)
CHUNK_KEYS = {"id", "object", "created", "model", "choices"}
HANG_GUARD_S = 120.0  # against a hang only: the waits below are for events


@pytest.fixture(scope="module")
def scripted_server_url(tmp_path_factory):
    """`biomedgpt serve`'s app on a real socket; its model's new tokens decode to TWO_MORE_MARKERS."""
    import uvicorn

    from biomedgpt_tools.serving.app import build_app
    from biomedgpt_tools.serving.server import ModelServer
    from biomedgpt_tools.serving.transformers_engine import TransformersEngine

    biomedgpt = build_serving_biomedgpt(tmp_path_factory.mktemp("scripted-serving"))
    with pytest.MonkeyPatch.context() as patch:
        script_decoding(patch, biomedgpt)
        server = ModelServer(lambda: biomedgpt, lambda model: TransformersEngine(model.model.llm),
                             engine_name="transformers")  # fmt: skip
        listening = socket.socket()
        listening.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{listening.getsockname()[1]}"
        uvicorn_server = uvicorn.Server(uvicorn.Config(build_app(server), log_level="warning"))
        thread = threading.Thread(
            target=uvicorn_server.run, kwargs={"sockets": [listening]}, daemon=True
        )
        thread.start()
        deadline = time.monotonic() + HANG_GUARD_S
        while not _healthy(url):
            assert thread.is_alive() and time.monotonic() < deadline, (
                "the scripted server did not start"
            )
            time.sleep(0.1)
        try:
            yield url
        finally:
            uvicorn_server.should_exit = True
            thread.join(timeout=30)
            listening.close()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_sse_chunks_are_openai_deltas_of_the_answer_alone(scripted_server_url):
    url = f"{scripted_server_url}/v1/chat/completions"
    whole = httpx.post(url, json=chat_request_body(QUESTION), timeout=60).json()
    assert whole["choices"][0]["message"]["content"] == ANSWER_OF_TWO_MORE_MARKERS

    with httpx.stream(
        "POST", url, json=chat_request_body(QUESTION, stream=True), timeout=60
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert all(line.startswith("data: ") for line in lines) and lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[len("data: ") :]) for line in lines[:-1]]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk["id"] for chunk in chunks}) == 1
    first, *deltas, last, usage = chunks  # chat_request_body asks for the usage chunk
    assert set(first) == CHUNK_KEYS
    assert first["choices"] == [
        {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
    ]
    for chunk in deltas:  # nothing but OpenAI's fields: no side channel to undo text
        assert set(chunk) == CHUNK_KEYS, chunk
        [choice] = chunk["choices"]
        assert (
            set(choice) == {"index", "delta", "finish_reason"} and choice["finish_reason"] is None
        )
        assert set(choice["delta"]) == {"content"} and choice["delta"]["content"]
    assert last["choices"] == [{"index": 0, "delta": {}, "finish_reason": "length"}]
    assert (
        last["biomedgpt"]["token_ids"] == whole["biomedgpt"]["token_ids"]
    )  # the extension, at the end
    assert usage["choices"] == [] and usage["usage"]["completion_tokens"] == len(TWO_MORE_MARKERS)
    assert len(last["biomedgpt"]["token_ids"]) == len(
        TWO_MORE_MARKERS
    )  # the whole script was generated
    texts = [chunk["choices"][0]["delta"]["content"] for chunk in deltas]
    assert len(texts) > 1 and "".join(texts) == ANSWER_OF_TWO_MORE_MARKERS
    assert not any("#" in text or "Assis" in text for text in texts)


def test_a_remote_backend_passes_the_deltas_on_and_they_join_to_its_answer(scripted_server_url):
    remote = RemoteBackend(scripted_server_url)
    try:
        deltas: list[str] = []
        answer = remote.answer_streaming(QUESTION, deltas.append)
        assert len(deltas) > 1 and "".join(deltas) == answer.text == ANSWER_OF_TWO_MORE_MARKERS
        assert "".join(remote.stream(QUESTION)) == ANSWER_OF_TWO_MORE_MARKERS
        assert remote.answer([QUESTION])[0].text == ANSWER_OF_TWO_MORE_MARKERS
    finally:
        remote.close()
