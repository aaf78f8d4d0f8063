"""`biomedgpt serve --engine vllm` (the real CPU vLLM engine) answers as in-process generate."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from biomedgpt_tools.inference.wire import chat_request_body
from tests.serving.conftest import ServerProcess
from tests.serving.test_greedy_equality import MAX_NEW_TOKENS, limited, mixed_requests

VLLM_STARTUP_TIMEOUT_S = 400.0  # vLLM takes 25-110 s to start on 2 shared cores


@pytest.fixture(scope="session")
def vllm_model_server(serving_model_dir, tmp_path_factory):
    server = ServerProcess(
        serving_model_dir, tmp_path_factory.mktemp("serve-vllm-log") / "serve.log",
        "--kv-cache-gib", "0.25", "--dtype", "fp32", "--device", "cpu",
        engine="vllm", startup_timeout_s=VLLM_STARTUP_TIMEOUT_S,
    )  # fmt: skip
    yield server
    server.stop()


def test_health_names_the_vllm_engine(vllm_model_server):
    health = httpx.get(f"{vllm_model_server.url}/health", timeout=10).json()
    assert health["engine"] == "vllm" and health["status"] == "ok"
    assert health["revision"]


def test_concurrent_greedy_answers_equal_in_process_generate(vllm_model_server, serving_biomedgpt):
    requests = mixed_requests()
    assert len(requests) >= 12
    expected = serving_biomedgpt.generate(requests, max_new_tokens=MAX_NEW_TOKENS)

    def ask(request):
        body = chat_request_body(limited(request))
        response = httpx.post(
            f"{vllm_model_server.url}/v1/chat/completions", json=body, timeout=300
        )
        assert response.status_code == 200, response.text
        return response.json()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:  # all in flight at once
        answers = list(pool.map(ask, requests))
    for index, (want, got) in enumerate(zip(expected, answers, strict=True)):
        assert got["biomedgpt"]["token_ids"] == want.token_ids, f"request {index}"
        assert got["choices"][0]["message"]["content"] == want.text, f"request {index}"
        assert got["usage"]["completion_tokens"] == len(want.token_ids)
        assert got["choices"][0]["finish_reason"] == ("stop" if want.finished else "length")


def test_streamed_deltas_join_to_the_in_process_answer(vllm_model_server, serving_biomedgpt):
    request = mixed_requests()[2]
    want = serving_biomedgpt.generate([request], max_new_tokens=MAX_NEW_TOKENS)[0]
    body = chat_request_body(limited(request), stream=True)
    text, token_ids, chunks = "", None, 0
    with httpx.stream(
        "POST", f"{vllm_model_server.url}/v1/chat/completions", json=body, timeout=300
    ) as response:
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            chunks += 1
            for choice in chunk["choices"]:
                text += choice["delta"].get("content") or ""
                if choice["finish_reason"]:
                    token_ids = chunk["biomedgpt"]["token_ids"]
    assert text == want.text
    assert token_ids == want.token_ids
    assert chunks > 2


def test_a_client_that_disconnects_mid_stream_stops_its_generation(vllm_model_server):
    aborted_before = vllm_model_server.metric("biomedgpt_requests_aborted_total")
    body = chat_request_body(limited(mixed_requests()[1]), stream=True)
    body["max_tokens"] = 1500
    with httpx.stream(
        "POST", f"{vllm_model_server.url}/v1/chat/completions", json=body, timeout=300
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data: ") and '"content"' in line:
                break  # a first piece came; leaving the block closes the connection
    deadline = time.monotonic() + 120.0  # a hang guard: the wait is for the event
    while not (  # the server notices the disconnect at its next write
        vllm_model_server.metric("biomedgpt_requests_aborted_total") > aborted_before
        and vllm_model_server.metric("biomedgpt_queue_depth") == 0
    ):
        assert time.monotonic() < deadline, "the disconnected request was not aborted"
        time.sleep(0.05)
    assert vllm_model_server.metric("biomedgpt_requests_aborted_total") == aborted_before + 1
    assert vllm_model_server.metric("biomedgpt_queue_depth") == 0  # vLLM let it go
    follow = httpx.post(
        f"{vllm_model_server.url}/v1/chat/completions",
        json=chat_request_body(limited(mixed_requests()[0])), timeout=300,
    )  # fmt: skip
    assert follow.status_code == 200
