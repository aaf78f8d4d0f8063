"""The HTTP API of `biomedgpt serve`: OpenAI-compatible chat completions, models, health, metrics.

    POST /v1/chat/completions   {"messages": [...], "stream"?: bool, "max_tokens"?, ...}
    POST /v1/embeddings         {"input": [PROTEIN SEQUENCE, ...]}: mean-pooled ESM vectors
    GET  /v1/models             the one model served
    GET  /health                {"status": "ok" | "loading" | "failed", "engine", "model", "revision"}
    GET  /metrics               Prometheus text: requests, tokens, queue depth, latency

Message content and the "biomedgpt" extension of the answers are described in
inference/wire.py and docs/serving.md. Every bad input is a 400 with OpenAI's error shape,
`{"error": {"message", "type", "param", "code"}}`, and the server goes on serving; so is a
body past --max-body-mib (413, read no further) and any failure inside (500). A full
server answers 429 and a loading one 503, both with Retry-After. A streaming client that
disconnects cancels its generation; so does a non-streaming one (the server watches the
connection while it decodes).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from biomedgpt_tools.inference.wire import WireError, parse_chat_request
from biomedgpt_tools.serving.server import Generated, ModelServer, PreparedRequest, stream_pieces

LOADING_RETRY_AFTER_S = 5
BUSY_RETRY_AFTER_S = 1
OPEN_PATHS = frozenset({"/health", "/metrics"})  # no API key needed: for load balancers, Prometheus
DEFAULT_MAX_BODY_BYTES = 8 << 20  # a request of 64 longest proteins is ~70 KB; 8 MiB is generous
MAX_EMBEDDING_INPUTS = 64  # sequences per /v1/embeddings request: one bounded ESM batch


class BodyTooLarge(Exception):
    """A request body past the server's --max-body-mib: refused before it is read whole."""


def error_response(
    status: int, message: str, *, param: str | None = None, retry_after: int | None = None
) -> JSONResponse:
    kinds = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
             413: "invalid_request_error", 429: "rate_limit_error",
             503: "service_unavailable"}  # fmt: skip
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    body = {"error": {"message": message, "type": kinds.get(status, "server_error"),
                      "param": param, "code": status}}  # fmt: skip
    return JSONResponse(body, status_code=status, headers=headers)


class _ReleasingStream(StreamingResponse):
    """A streaming response that gives its admission slot back however it ends."""

    def __init__(self, content: AsyncIterator[str], on_close: Callable[[], None]):
        super().__init__(content, media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})  # fmt: skip
        self._on_close = on_close

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._on_close()


def build_app(
    server: ModelServer,
    *,
    on_start_failure: Callable[[], None] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> Starlette:
    """The ASGI app; the model loads in the background once the app starts listening."""

    @asynccontextmanager
    async def lifespan(app: Starlette):
        async def load() -> None:
            try:
                await server.start()
            except Exception as error:  # noqa: BLE001 - the process reports it and stops
                print(
                    f"biomedgpt serve: error: the model could not be served ({error})", flush=True
                )
                if on_start_failure is not None:
                    on_start_failure()
            else:
                print(f"biomedgpt serve: ready ({server.engine_name} engine, model "
                      f"{server.model_id}, revision {server.revision})", flush=True)  # fmt: skip

        loading = asyncio.create_task(load())
        try:
            yield
        finally:
            if not loading.done():
                loading.cancel()
            await server.close()

    def authorized(request: Request) -> bool:
        if not server.api_key or request.url.path in OPEN_PATHS:
            return True
        scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != "bearer":  # auth schemes are case-insensitive (RFC 7235)
            token = ""
        return hmac.compare_digest(token.strip().encode(), server.api_key.encode())

    def refused(request: Request, endpoint: str) -> Response | None:
        """401 without the key, 503 while loading: the answers before any work is done."""
        if not authorized(request):
            server.metrics.count_request(endpoint, 401)
            return error_response(401, "missing or wrong API key (Authorization: Bearer KEY)")
        if not server.ready:
            server.metrics.count_request(endpoint, 503)
            state = "failed to load" if server.status == "failed" else "still loading"
            return error_response(503, f"the model is {state}", retry_after=LOADING_RETRY_AFTER_S)
        return None

    async def read_json(request: Request) -> object:
        """The body as JSON; BodyTooLarge past `max_body_bytes`, read no further than that."""
        declared = request.headers.get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > max_body_bytes:
            raise BodyTooLarge
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body_bytes:
                raise BodyTooLarge
            chunks.append(chunk)
        raw = b"".join(chunks)
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError) as error:
            raise WireError(f"the request body is not valid JSON ({error})", "body") from error

    def too_large() -> Response:
        return error_response(
            413, f"the request body is larger than {max_body_bytes} bytes (the server's "
            "--max-body-mib)", param="body",
        )  # fmt: skip

    def busy(endpoint: str) -> Response:
        server.metrics.count_request(endpoint, 429)
        return error_response(
            429,
            f"the server is answering {server.max_concurrency} requests (its "
            "--max-concurrency); retry later",
            retry_after=BUSY_RETRY_AFTER_S,
        )

    def failed(endpoint: str, error: Exception) -> Response:
        """An unexpected failure as OpenAI's JSON 500, logged; the next request is served."""
        server.metrics.count_request(endpoint, 500)
        print(
            f"biomedgpt serve: error: {endpoint} failed ({type(error).__name__}: {error})",
            flush=True,
        )
        return error_response(500, f"the server failed ({type(error).__name__}: {error})")

    async def chat_completions(request: Request) -> Response:
        endpoint = "chat_completions"
        started = time.perf_counter()
        early = refused(request, endpoint)
        if early is not None:
            return early
        try:
            chat = parse_chat_request(await read_json(request))
        except BodyTooLarge:
            server.metrics.count_request(endpoint, 413)
            return too_large()
        except WireError as error:
            server.metrics.count_request(endpoint, 400)
            return error_response(400, str(error), param=error.param)
        if not server.admit():
            return busy(endpoint)
        try:
            prepared = await server.prepare(chat)
        except ValueError as error:
            server.release()
            server.metrics.count_request(endpoint, 400)
            return error_response(400, str(error), param="messages")
        except Exception as error:  # noqa: BLE001 - a bug in embedding; the server stays up
            server.release()
            return failed(endpoint, error)
        except BaseException:  # cancelled: the client went away
            server.release()
            raise
        ident = prepared.engine_request.request_id
        if chat.stream:
            server.metrics.count_request(endpoint, 200)
            events = _events(server, prepared, ident, chat.include_usage, started)
            return _ReleasingStream(events, server.release)
        try:
            generated = await _unless_disconnected(request, server.generate(prepared))
        except Exception as error:  # noqa: BLE001 - the engine failed; the server stays up for the next
            return failed(endpoint, error)
        finally:
            server.release()
        if generated is None:  # the client went away; nobody reads this
            server.metrics.count_request(endpoint, 499)
            return Response(status_code=499)
        server.metrics.count_request(endpoint, 200)
        return JSONResponse({
            "id": ident,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": server.model_id,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": generated.text},
                "finish_reason": generated.finish_reason,
            }],
            "usage": _usage(prepared, generated),
            "biomedgpt": _extension(server, prepared, generated),
        })  # fmt: skip

    async def embeddings(request: Request) -> Response:
        endpoint = "embeddings"
        early = refused(request, endpoint)
        if early is not None:
            return early
        try:
            body = await read_json(request)
            sequences = body.get("input") if isinstance(body, dict) else None
            if isinstance(sequences, str):
                sequences = [sequences]
            if (
                not isinstance(sequences, list)
                or not sequences
                or not all(isinstance(item, str) for item in sequences)
            ):
                raise WireError("'input' must be a protein sequence or a list of them", "input")
            if len(sequences) > MAX_EMBEDDING_INPUTS:
                raise WireError(
                    f"'input' holds {len(sequences)} sequences; send at most "
                    f"{MAX_EMBEDDING_INPUTS} per request", "input",
                )  # fmt: skip
        except BodyTooLarge:
            server.metrics.count_request(endpoint, 413)
            return too_large()
        except ValueError as error:
            server.metrics.count_request(endpoint, 400)
            return error_response(400, str(error), param=getattr(error, "param", "input"))
        if not server.admit():
            return busy(endpoint)
        try:
            vectors = await server.encode_proteins(sequences)
        except ValueError as error:
            server.metrics.count_request(endpoint, 400)
            return error_response(400, str(error), param="input")
        except Exception as error:  # noqa: BLE001 - the encoder failed; the server stays up
            return failed(endpoint, error)
        finally:
            server.release()
        server.metrics.count_request(endpoint, 200)
        return JSONResponse({
            "object": "list",
            "model": server.model_id,
            "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
        })  # fmt: skip

    async def models(request: Request) -> Response:
        early = refused(request, "models")
        if early is not None:
            return early
        server.metrics.count_request("models", 200)
        return JSONResponse({"object": "list", "data": [{
            "id": server.model_id, "object": "model", "created": server.started_at,
            "owned_by": "biomedgpt", "revision": server.revision,
            "max_model_len": server.context_length,
        }]})  # fmt: skip

    async def health(request: Request) -> Response:
        body = {
            "status": server.status,
            "engine": server.engine_name,
            "model": server.model_id,
            "revision": server.revision,
            "max_concurrency": server.max_concurrency,
            "in_flight": server.in_flight,
            "queue_depth": server.queue_depth(),
        }
        if server.error:
            body["error"] = server.error
        headers = None if server.ready else {"Retry-After": str(LOADING_RETRY_AFTER_S)}
        return JSONResponse(body, status_code=200 if server.ready else 503, headers=headers)

    async def metrics(request: Request) -> Response:
        text = server.metrics.render(
            queue_depth=server.queue_depth(), in_flight=server.in_flight, ready=server.ready
        )
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    async def http_error(request: Request, error: HTTPException) -> Response:
        return error_response(
            error.status_code, f"{request.method} {request.url.path}: {error.detail}"
        )

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
            Route("/v1/models", models, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )


async def _unless_disconnected(request: Request, work) -> Generated | None:
    """Run `work`; cancel it and return None if the client disconnects first."""
    task = asyncio.ensure_future(work)

    async def disconnected() -> None:
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                return

    watcher = asyncio.ensure_future(disconnected())
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
    if task.done():
        return task.result()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    return None


def _usage(prepared: PreparedRequest, generated: Generated) -> dict:
    completion = len(generated.token_ids)
    return {"prompt_tokens": prepared.prompt_tokens, "completion_tokens": completion,
            "total_tokens": prepared.prompt_tokens + completion}  # fmt: skip


def _extension(server: ModelServer, prepared: PreparedRequest, generated: Generated) -> dict:
    """What `biomedgpt generate --json` prints and the memory keys on, beyond OpenAI's fields."""
    return {
        "prompt": prepared.prompt,
        "token_ids": generated.token_ids,
        "finished": generated.finish_reason == "stop",
        "model_id": server.model_id,
        "revision": server.revision,
    }


async def _events(
    server: ModelServer, prepared: PreparedRequest, ident: str, include_usage: bool, started: float
) -> AsyncIterator[str]:
    """Server-sent events of one answer: role, text deltas, the finish, usage, [DONE]."""
    created = int(time.time())

    def chunk(delta: dict, finish_reason: str | None = None, **extra) -> str:
        body = {"id": ident, "object": "chat.completion.chunk", "created": created,
                "model": server.model_id,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}], **extra}  # fmt: skip
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    pieces = stream_pieces(server, prepared)
    try:
        async for item in pieces:
            if isinstance(item, Generated):
                yield chunk({}, item.finish_reason, biomedgpt=_extension(server, prepared, item))
                if include_usage:
                    body = {"id": ident, "object": "chat.completion.chunk", "created": created,
                            "model": server.model_id, "choices": [],
                            "usage": _usage(prepared, item)}  # fmt: skip
                    yield f"data: {json.dumps(body)}\n\n"
                break
            yield chunk({"content": item})
    except Exception as error:  # noqa: BLE001 - the status line is sent; report in the stream
        message = {"error": {"message": f"generation failed ({error})", "type": "server_error",
                             "param": None, "code": 500}}  # fmt: skip
        yield f"data: {json.dumps(message)}\n\n"
    finally:
        await pieces.aclose()
    yield "data: [DONE]\n\n"
