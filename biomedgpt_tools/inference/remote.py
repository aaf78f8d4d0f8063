"""The remote backend: questions go to a `biomedgpt serve` process over its OpenAI-compatible API.

Many agents, tools and annotation jobs then share one copy of the weights, and the server's
engine batches their requests. Each question becomes one `POST /v1/chat/completions` with
molecule/protein content parts (wire.py); a batch is sent with up to `concurrency` requests in
flight so the engine has work to batch. Timeouts bound every call; 429 and 503 (queue full,
still loading) are retried with exponential backoff, honouring Retry-After; a server that
cannot be reached is a `ModelUnavailableError` that names the URL, never a traceback. The
model identity the memory is keyed on comes from the server (`GET /health`), so an answer
remembered through the server and one remembered in process with the same weights are the
same memory.
"""

from __future__ import annotations

import ipaddress
import json
import os
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import httpx

from biomedgpt_tools.inference.backend import ModelBackend, ModelUnavailableError, TextSink
from biomedgpt_tools.inference.wire import chat_request_body
from biomedgpt_tools.model.requests import GenerationRequest, GenerationResult, ModelIdentity

RETRIED_STATUSES = frozenset({429, 503})


class RemoteBackend(ModelBackend):
    """A BioMedGPT behind `biomedgpt serve` at `url` (http://HOST:PORT)."""

    kind = "remote"

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 600.0,
        connect_timeout_s: float = 5.0,
        max_retries: int = 5,
        backoff_base_s: float = 0.5,
        backoff_max_s: float = 10.0,
        concurrency: int = 16,
    ):
        url = url.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError(
                f"model server URL {url!r} must start with http:// or https:// "
                "(e.g. http://127.0.0.1:8000)"
            )
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self.url = url.removesuffix("/v1")
        self.max_retries = max_retries
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.concurrency = concurrency
        api_key = api_key if api_key is not None else os.environ.get("BIOMEDGPT_API_KEY")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        if api_key:
            _warn_if_key_in_clear(self.url)
        self._client = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            limits=httpx.Limits(max_connections=max(concurrency, 4)),
        )
        self._identity: ModelIdentity | None = None
        self._identity_lock = threading.RLock()  # identity() holds it while asking the server
        self._count_lock = threading.Lock()
        self._answer_calls = 0

    # -- identity --------------------------------------------------------------------------------
    @property
    def configured(self) -> bool:
        return True

    @property
    def model_name(self) -> str | None:
        return self._identity.model_id if self._identity is not None else self.url

    @property
    def answer_calls(self) -> int:
        return self._answer_calls

    def identity(self) -> ModelIdentity:
        """The server's model id and revision (asked once, then remembered)."""
        if self._identity is None:
            with self._identity_lock:
                if self._identity is None:
                    health = self._request("GET", "/health").json()
                    self._identity = ModelIdentity(
                        model_id=str(health["model"]), revision=str(health["revision"])
                    )
        return self._identity

    # -- answers ---------------------------------------------------------------------------------
    def answer(self, questions: Sequence[GenerationRequest]) -> list[GenerationResult]:
        """Every question as its own request, up to `concurrency` in flight; input order kept."""
        if not questions:
            return []
        if len(questions) == 1:
            return [self._complete(questions[0])]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(questions))) as pool:
            return list(pool.map(self._complete, questions))

    def chat(self, body: dict) -> dict:
        """One non-streaming chat completion with this backend's retries; the response JSON."""
        return self._request("POST", "/v1/chat/completions", json=body).json()

    def _complete(self, question: GenerationRequest) -> GenerationResult:
        started = time.perf_counter()
        data = self.chat(chat_request_body(question))
        with self._count_lock:
            self._answer_calls += 1
        return self._answer(data["choices"][0]["message"]["content"] or "", data, started)

    def answer_streaming(self, question: GenerationRequest, sink: TextSink) -> GenerationResult:
        """One answer streamed as server-sent events; its text goes to `sink` as it grows."""
        started = time.perf_counter()
        body = chat_request_body(question, stream=True)
        text = ""
        final: dict = {}
        with self._open_stream(body) as response:
            for chunk in _sse_chunks(response):
                for choice in chunk.get("choices") or []:
                    delta = (choice.get("delta") or {}).get("content")
                    if delta:
                        text += delta
                        sink(delta)
                if "token_ids" in (chunk.get("biomedgpt") or {}):
                    final = chunk
        if not final:
            raise ModelUnavailableError(
                f"the model server at {self.url} ended the stream before the answer was complete"
            )
        with self._count_lock:
            self._answer_calls += 1
        return self._answer(text, final, started)

    def stream(self, question: GenerationRequest) -> Iterator[str]:
        """The answer's text in deltas, as the server streams them."""
        body = chat_request_body(question, stream=True)
        with self._open_stream(body) as response:
            with self._count_lock:
                self._answer_calls += 1
            for chunk in _sse_chunks(response):
                for choice in chunk.get("choices") or []:
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        yield piece

    def encode_protein(self, sequence: str) -> list[float] | None:
        """The protein's mean-pooled ESM vector from the server's /v1/embeddings, or None."""
        try:
            data = self._request("POST", "/v1/embeddings", json={"input": [sequence]}).json()
            return [float(value) for value in data["data"][0]["embedding"]]
        except (ModelUnavailableError, ValueError, KeyError, IndexError):
            return None

    def close(self) -> None:
        self._client.close()

    # -- HTTP ------------------------------------------------------------------------------------
    def _answer(self, text: str, data: dict, started: float) -> GenerationResult:
        extension = data.get("biomedgpt") or {}
        identity = self.identity()
        if extension.get("model_id") and extension.get("revision"):
            identity = ModelIdentity(str(extension["model_id"]), str(extension["revision"]))
        return GenerationResult(
            prompt=str(extension.get("prompt", "")),
            text=text,
            token_ids=list(extension.get("token_ids") or []),
            finished=bool(extension.get("finished")),
            identity=identity,
            seconds=time.perf_counter() - started,
        )

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        """One call with retries on 429/503; errors become ModelUnavailableError / ValueError."""
        for attempt in range(self.max_retries + 1):
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TransportError as error:
                raise self._unavailable(error) from error
            if response.status_code in RETRIED_STATUSES and attempt < self.max_retries:
                time.sleep(self._backoff(attempt, response))
                continue
            _raise_for_status(response, self.url)
            return response
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def _open_stream(self, body: dict):
        """A streaming response context, opened with the same retries as `_request`."""
        backend = self

        class _Stream:
            def __enter__(self) -> httpx.Response:
                for attempt in range(backend.max_retries + 1):
                    try:
                        self._context = backend._client.stream(
                            "POST", "/v1/chat/completions", json=body
                        )
                        response = self._context.__enter__()
                    except httpx.TransportError as error:
                        raise backend._unavailable(error) from error
                    if response.status_code in RETRIED_STATUSES and attempt < backend.max_retries:
                        response.read()
                        self._context.__exit__(None, None, None)
                        time.sleep(backend._backoff(attempt, response))
                        continue
                    if response.status_code >= 400:
                        response.read()
                        self._context.__exit__(None, None, None)
                        _raise_for_status(response, backend.url)
                    return response
                raise AssertionError("unreachable")

            def __exit__(self, *exc_info) -> None:
                try:
                    self._context.__exit__(*exc_info)
                except httpx.TransportError:
                    pass

        return _Stream()

    def _backoff(self, attempt: int, response: httpx.Response) -> float:
        delay = min(self.backoff_max_s, self.backoff_base_s * (2**attempt))
        retry_after = response.headers.get("retry-after", "")
        if retry_after.replace(".", "", 1).isdigit():
            delay = max(delay, min(float(retry_after), self.backoff_max_s))
        return delay

    def _unavailable(self, error: httpx.TransportError) -> ModelUnavailableError:
        with self._identity_lock:
            self._identity = None  # a restarted server may hold other weights
        return ModelUnavailableError(
            f"model server unavailable at {self.url} ({type(error).__name__}: {error or 'no answer'}); "
            "start it with `biomedgpt serve --model DIR`, or unset BIOMEDGPT_SERVER_URL to load "
            "the model in this process"
        )


def _raise_for_status(response: httpx.Response, url: str) -> None:
    """400 is the caller's input (ValueError, as in process); the rest means no model answers."""
    if response.status_code < 400:
        return
    try:
        message = str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = response.text[:300] or response.reason_phrase
    if response.status_code == 400:
        raise ValueError(message)
    if response.status_code == 401:
        raise ModelUnavailableError(
            f"the model server at {url} refused the API key ({message}); set BIOMEDGPT_API_KEY"
        )
    if response.status_code in RETRIED_STATUSES:
        raise ModelUnavailableError(
            f"the model server at {url} is busy or still loading (HTTP {response.status_code}: "
            f"{message}); try again later or start more servers"
        )
    raise ModelUnavailableError(
        f"the model server at {url} failed (HTTP {response.status_code}: {message})"
    )


def _sse_chunks(response: httpx.Response) -> Iterator[dict]:
    """The JSON objects of a server-sent event stream, up to `data: [DONE]`."""
    try:
        for line in response.iter_lines():
            if not line.startswith("data:"):
                continue
            payload = line[5:].strip()
            if payload == "[DONE]":
                return
            try:
                chunk = json.loads(payload)
            except ValueError as error:
                raise ModelUnavailableError(
                    f"the model server sent malformed data mid-answer ({error}): {payload[:120]!r}"
                ) from error
            if not isinstance(chunk, dict):
                raise ModelUnavailableError(
                    f"the model server sent malformed data mid-answer: {payload[:120]!r}"
                )
            if "error" in chunk:
                raise ModelUnavailableError(
                    f"the model server failed mid-answer: {chunk['error'].get('message')}"
                )
            yield chunk
    except httpx.TransportError as error:
        raise ModelUnavailableError(
            f"model server unavailable: the stream broke off ({type(error).__name__}: {error})"
        ) from error


_warned_clear_keys: set[str] = set()


def _warn_if_key_in_clear(url: str) -> None:
    """Once per URL: an API key over plain http:// to another machine can be read on the way."""
    host = httpx.URL(url).host
    if not url.startswith("http://") or url in _warned_clear_keys or _is_loopback(host):
        return
    _warned_clear_keys.add(url)
    warnings.warn(
        f"sending BIOMEDGPT_API_KEY over plain http to {url}: anyone on the network can read it; "
        "use https:// (e.g. a TLS proxy in front of `biomedgpt serve`)",
        stacklevel=3,
    )


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
