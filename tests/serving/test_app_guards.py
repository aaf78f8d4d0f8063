"""The app's guards, in process: body size, embeddings admission and size, failures as JSON, auth scheme."""

from __future__ import annotations

import threading

import pytest

from tests.serving.models import build_serving_biomedgpt

CHAT = {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}
MAX_BODY_BYTES = 4096


@pytest.fixture(scope="module")
def app_client(tmp_path_factory):
    """A real ModelServer (transformers engine, one slot) behind the app; its engine fails on demand."""
    from starlette.testclient import TestClient

    from biomedgpt_tools.serving.app import build_app
    from biomedgpt_tools.serving.server import ModelServer
    from biomedgpt_tools.serving.transformers_engine import TransformersEngine

    class EngineThatCanFail(TransformersEngine):
        """Fault injection: the next stream raises a non-RuntimeError, as a bug in an engine would."""

        fail_next = threading.Event()

        async def stream(self, request):
            if self.fail_next.is_set():
                self.fail_next.clear()
                raise KeyError("injected engine fault")
            async for step in super().stream(request):
                yield step

    biomedgpt = build_serving_biomedgpt(tmp_path_factory.mktemp("guards-model"))
    server = ModelServer(lambda: biomedgpt, lambda model: EngineThatCanFail(model.model.llm),
                         engine_name="transformers", max_concurrency=1, api_key="s3cret")  # fmt: skip
    with TestClient(build_app(server, max_body_bytes=MAX_BODY_BYTES),
                    headers={"Authorization": "Bearer s3cret"}) as client:  # fmt: skip
        ready = threading.Event()
        for _ in range(1200):  # a hang guard (120 s), not a timing
            if client.get("/health").status_code == 200:
                ready.set()
                break
            threading.Event().wait(0.1)
        assert ready.is_set(), client.get("/health").json()
        yield client, server, EngineThatCanFail.fail_next


def test_a_body_past_the_cap_is_a_413_in_openai_shape_then_the_server_serves(app_client):
    client, _, _ = app_client
    big = {**CHAT, "messages": [{"role": "user", "content": "x" * (2 * MAX_BODY_BYTES)}]}
    refused = client.post("/v1/chat/completions", json=big)
    assert refused.status_code == 413
    error = refused.json()["error"]
    assert (
        error["code"] == 413 and error["param"] == "body" and "--max-body-mib" in error["message"]
    )

    def chunks():  # no Content-Length: the bounded read stops it
        for _ in range(4):
            yield b" " * MAX_BODY_BYTES

    streamed = client.post(
        "/v1/embeddings", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert client.post("/v1/chat/completions", json=CHAT).status_code == 200


def test_any_engine_failure_is_a_json_500_and_the_next_request_is_answered(app_client):
    client, server, fail_next = app_client
    fail_next.set()
    failed = client.post("/v1/chat/completions", json=CHAT)
    assert failed.status_code == 500
    error = failed.json()["error"]
    assert error["type"] == "server_error" and "KeyError" in error["message"]
    assert server.in_flight == 0  # the slot was given back
    good = client.post("/v1/chat/completions", json=CHAT)
    assert good.status_code == 200 and good.json()["usage"]["completion_tokens"] == 2


def test_embeddings_are_admitted_like_chat_and_their_input_is_capped(app_client):
    from biomedgpt_tools.serving.app import MAX_EMBEDDING_INPUTS

    client, server, _ = app_client
    too_many = client.post(
        "/v1/embeddings", json={"input": ["MKTAYI"] * (MAX_EMBEDDING_INPUTS + 1)}
    )
    assert too_many.status_code == 400
    assert too_many.json()["error"]["param"] == "input"
    assert str(MAX_EMBEDDING_INPUTS) in too_many.json()["error"]["message"]
    assert server.admit()  # the one slot taken, as a long chat request would
    try:
        busy = client.post("/v1/embeddings", json={"input": ["MKTAYI"]})
    finally:
        server.release()
    assert busy.status_code == 429 and busy.headers["retry-after"] == "1"
    good = client.post("/v1/embeddings", json={"input": ["MKTAYI"] * MAX_EMBEDDING_INPUTS})
    assert good.status_code == 200 and len(good.json()["data"]) == MAX_EMBEDDING_INPUTS
    assert server.in_flight == 0


@pytest.mark.parametrize("header, status", [
    ("Bearer s3cret", 200), ("bearer s3cret", 200), ("BEARER  s3cret", 200),
    ("Basic s3cret", 401), ("Bearer s3cre", 401), ("s3cret", 401),
])  # fmt: skip
def test_the_auth_scheme_is_case_insensitive_and_the_key_exact(app_client, header, status):
    client, _, _ = app_client
    assert client.get("/v1/models", headers={"Authorization": header}).status_code == status
