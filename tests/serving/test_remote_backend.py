"""RemoteBackend against a scripted HTTP server: retries on 429/503, errors that say what to do."""

from __future__ import annotations

import json
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from biomedgpt_tools.inference.backend import ModelUnavailableError
from biomedgpt_tools.inference.remote import RemoteBackend
from biomedgpt_tools.model.requests import GenerationRequest
from tests.serving.conftest import free_port

HEALTH = {"status": "ok", "engine": "transformers", "model": "m", "revision": "abcdef123456"}
ANSWER = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "It is ethanol."},
                       "finish_reason": "stop"}],
          "biomedgpt": {"prompt": "P", "token_ids": [5, 2], "finished": True, "model_id": "m",
                        "revision": "abcdef123456"}}  # fmt: skip


class ScriptedServer:
    """Answers each POST with the next (status, headers, body) of `script`, then 200 ANSWER."""

    def __init__(self, script):
        self.script = list(script)
        self.posts = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, headers, body):
                events = isinstance(body, bytes)  # a server-sent event stream, sent as is
                raw = body if events else json.dumps(body).encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header(
                    "Content-Type", "text/event-stream" if events else "application/json"
                )
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self):
                self._send(200, {}, HEALTH)

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                owner.posts += 1
                self._send(*(owner.script.pop(0) if owner.script else (200, {}, ANSWER)))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted():
    servers = []

    def start(*script):
        servers.append(ScriptedServer(script))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def backend(url, **options):
    return RemoteBackend(url, backoff_base_s=0.01, backoff_max_s=0.05, **options)


def test_busy_and_loading_answers_are_retried_then_answered(scripted):
    busy = {"error": {"message": "full"}}
    server = scripted((429, {"Retry-After": "0"}, busy), (503, {}, busy))
    answer = backend(server.url).answer([GenerationRequest("What is it?")])[0]
    assert server.posts == 3
    assert answer.text == "It is ethanol." and answer.prompt == "P"
    assert (answer.identity.model_id, answer.identity.revision) == ("m", "abcdef123456")
    assert answer.finished and len(answer.token_ids) == 2


def test_a_server_busy_past_the_retries_says_so(scripted):
    server = scripted(*[(503, {}, {"error": {"message": "loading"}})] * 3)
    with pytest.raises(ModelUnavailableError, match="busy or still loading"):
        backend(server.url, max_retries=2).answer([GenerationRequest("What is it?")])
    assert server.posts == 3


def test_a_bad_request_is_a_value_error_and_a_refused_key_says_which_variable(scripted):
    server = scripted((400, {}, {"error": {"message": "cannot parse SMILES 'C1CC'"}}),
                      (401, {}, {"error": {"message": "missing or wrong API key"}}))  # fmt: skip
    remote = backend(server.url)
    with pytest.raises(ValueError, match="cannot parse SMILES"):
        remote.answer([GenerationRequest("What is it?")])
    with pytest.raises(ModelUnavailableError, match="BIOMEDGPT_API_KEY"):
        remote.answer([GenerationRequest("What is it?")])


def test_nothing_listening_is_model_server_unavailable_naming_the_url():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ModelUnavailableError) as caught:
        backend(url).identity()
    assert str(caught.value).startswith(f"model server unavailable at {url}")
    assert "biomedgpt serve" in str(caught.value)


def test_a_url_without_scheme_is_refused():
    with pytest.raises(ValueError, match="http://"):
        RemoteBackend("127.0.0.1:8000")


def test_a_malformed_event_mid_stream_is_model_server_unavailable(scripted):
    role = {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}
    stream = f"data: {json.dumps(role)}\n\ndata: {{not json\n\ndata: [DONE]\n\n".encode()
    server = scripted((200, {}, stream), (200, {}, stream))
    remote = backend(server.url)
    with pytest.raises(ModelUnavailableError, match="malformed data"):
        remote.answer_streaming(GenerationRequest("What is it?"), lambda delta: None)
    with pytest.raises(ModelUnavailableError, match="malformed data"):
        list(remote.stream(GenerationRequest("What is it?")))


def test_a_key_over_plain_http_to_another_host_warns_once():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        RemoteBackend("http://127.0.0.1:9", api_key="k").close()  # loopback: no warning
        RemoteBackend("https://10.0.0.1:9", api_key="k").close()  # TLS: no warning
        RemoteBackend("http://10.0.0.1:9").close()  # no key: no warning
        RemoteBackend("http://10.0.0.1:9", api_key="k").close()
        RemoteBackend("http://10.0.0.1:9", api_key="k").close()  # the same URL: once
    messages = [str(warning.message) for warning in caught]
    assert len(messages) == 1 and "plain http" in messages[0] and "10.0.0.1" in messages[0]
