"""Back-pressure, a client that goes away, and a server that dies."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest

from tests.local_services import make_toolkit
from tests.serving.conftest import ServerProcess

LONG = {"messages": [{"role": "user", "content": [
    {"type": "protein", "sequence": "MKTAYIAKQR" * 90}, {"type": "text", "text": "What is it?"}]}],
    "max_tokens": 1000, "stream": True}  # fmt: skip
# ~960 prompt positions + 1000 tokens of the 2048: the longest answer the tiny model can give,
# so the request is still decoding when the test acts on it (it never waits for it to finish)
HANG_GUARD_S = 120.0  # only against a hang: every wait below is for an event, not a duration


def wait_for(condition, what: str, timeout_s: float = HANG_GUARD_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def small_server(serving_model_dir, tmp_path_factory):
    """A second server admitting one request at a time; the last test kills it."""
    server = ServerProcess(
        serving_model_dir, tmp_path_factory.mktemp("small-serve") / "serve.log",
        "--max-concurrency", "1", "--max-batch-size", "1",
    )  # fmt: skip
    yield server
    server.stop()


def test_full_server_answers_429_with_retry_after_and_a_disconnect_stops_generation(small_server):
    url = f"{small_server.url}/v1/chat/completions"
    aborted_before = small_server.metric("biomedgpt_requests_aborted_total")
    with httpx.Client(timeout=60) as client:
        with client.stream("POST", url, json=LONG) as response:
            assert response.status_code == 200
            lines = response.iter_lines()  # kept open: closing the iterator closes the stream
            line = next(lines)
            while not line.startswith("data: {") or '"role"' in line:  # up to the first piece
                line = next(lines)
            assert '"content"' in line
            wait_for(lambda: small_server.metric("biomedgpt_requests_in_flight") == 1,
                     "the streaming request to hold the one slot")  # fmt: skip
            busy = httpx.post(url, json={**LONG, "stream": False, "max_tokens": 2}, timeout=30)
            assert busy.status_code == 429
            assert int(busy.headers["retry-after"]) >= 1
            assert "max-concurrency" in busy.json()["error"]["message"]
        # the stream is closed here, long before 1000 tokens: the server must stop decoding
    wait_for(lambda: small_server.metric("biomedgpt_requests_aborted_total") == aborted_before + 1,
             "the aborted request to be counted")  # fmt: skip
    wait_for(lambda: small_server.metric("biomedgpt_queue_depth") == 0, "the engine to be idle")
    wait_for(
        lambda: small_server.metric("biomedgpt_requests_in_flight") == 0, "the slot to be free"
    )
    assert small_server.metric("biomedgpt_generation_tokens_total") == 0  # nothing finished
    # a client waiting for a whole answer that gives up stops its generation too: it sends the
    # request, and hangs up once the engine is decoding it
    body = json.dumps({**LONG, "stream": False}).encode()
    with socket.create_connection(
        ("127.0.0.1", small_server.port), timeout=HANG_GUARD_S
    ) as waiting:
        waiting.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                        % (len(body), body))  # fmt: skip
        wait_for(lambda: small_server.metric("biomedgpt_queue_depth") == 1,
                 "the engine to be decoding the waiting request")  # fmt: skip
    wait_for(lambda: small_server.metric("biomedgpt_requests_aborted_total") == aborted_before + 2,
             "the second aborted request to be counted")  # fmt: skip
    wait_for(
        lambda: small_server.metric("biomedgpt_requests_in_flight") == 0, "the slot to be free"
    )
    assert small_server.metric("biomedgpt_generation_tokens_total") == 0
    done = httpx.post(url, json={**LONG, "stream": False, "max_tokens": 3}, timeout=60)
    assert done.status_code == 200
    assert done.json()["usage"]["completion_tokens"] <= 3


def test_a_killed_server_gives_the_tools_a_clear_unavailable_answer(
    small_server, resolver_env, monkeypatch
):
    monkeypatch.setenv("BIOMEDGPT_SERVER_URL", small_server.url)
    small_server.process.kill()
    small_server.process.wait()
    toolkit = make_toolkit()
    try:
        message = toolkit.get_tools()[0].invoke(
            {"type": "tool_call", "id": "c1", "name": "MoleculeQA",
             "args": {"molecule": "aspirin", "question": "Is it an NSAID?"}})  # fmt: skip
    finally:
        toolkit.close()
    assert "model server unavailable at " + small_server.url in message.content
    assert "Traceback" not in message.content
