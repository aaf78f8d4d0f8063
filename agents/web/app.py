"""The web page's ASGI app (Starlette): the page, its JSON API and the SSE turn streams.

Routes:
    GET  /                          the page (static/index.html)
    GET  /static/...                its script and style (no CDN)
    GET  /depict.svg?smiles=...     an RDKit 2D drawing
    GET  /api/status                model, resolvers, memory, as one line each
    GET  /api/threads               the kept conversations, newest first
    POST /api/threads               a new thread id
    GET  /api/threads/{id}          a conversation to show again
    POST /api/threads/{id}/ask      {"question"}  -> text/event-stream of the turn (agents.web.turns)
    POST /api/threads/{id}/resume   {"choice"}    -> the same stream, continuing a paused turn

Every response carries a Content-Security-Policy that admits only this origin's script,
style and images; POSTs must be JSON from this origin (no form can post cross-site).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from agents.context import AssistantContext
from agents.session import AssistantSession
from agents.web.depiction import DepictionError, depict_smiles
from agents.web.sse import sse_frame
from agents.web.threads import (
    InvalidThreadIdError,
    check_thread_id,
    list_threads,
    new_thread_id,
    thread_history,
)
from agents.web.turns import TurnStreamer

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
MAX_QUESTION_CHARS = 4000
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class SecurityHeaders:
    """ASGI middleware adding SECURITY_HEADERS to every HTTP response (streams included)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.decode().lower() not in {h.lower() for h in SECURITY_HEADERS}
                ]
                headers += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def describe_model(toolkit) -> str:
    """One plain line on which model answers (or that none does), known without loading it."""
    backend = toolkit.services.backend
    if not backend.configured:
        return (
            "No model: answers show the database records only. Set BIOMEDGPT_MODEL to a model "
            "folder (or build the demo model with `make demo-model`) and restart."
        )
    name = backend.model_name or toolkit.services.settings.model_path or "configured"
    return f"Model: {name} ({backend.kind})"


def status_of(toolkit, model_problem: str | None = None) -> dict[str, Any]:
    resolver = toolkit.services.settings.resolver
    offline = bool(getattr(resolver, "offline", False))
    return {
        "model": model_problem or describe_model(toolkit),
        "has_model": bool(toolkit.services.backend.configured) and model_problem is None,
        "resolvers": "bundled offline snapshot of PubChem/UniProt"
        if offline
        else "PubChem and UniProt",
        "memory": "on" if toolkit.services.settings.memory else "off",
    }


def create_app(
    graph, context: AssistantContext | None = None, model_problem: str | None = None
) -> Starlette:
    """The app on a compiled assistant with a checkpointer (`agents.graph.open_assistant`).

    `model_problem`: why a configured model cannot answer (found at start), for the status line.
    """
    context = context or AssistantContext()
    busy: set[str] = set()
    busy_lock = threading.Lock()

    def toolkit():
        return context.resolved_toolkit()

    def session_for(thread_id: str) -> AssistantSession:
        return AssistantSession(thread_id=thread_id, context=context, graph=graph)

    async def page(request: Request) -> Response:
        return FileResponse(
            STATIC / "index.html",
            media_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    async def depiction(request: Request) -> Response:
        try:
            svg = depict_smiles(request.query_params.get("smiles", ""))
        except DepictionError as error:
            return JSONResponse({"error": str(error)}, status_code=400)
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})

    async def status(request: Request) -> Response:
        return JSONResponse(status_of(toolkit(), model_problem))

    async def threads(request: Request) -> Response:
        if request.method == "POST":
            return JSONResponse({"id": new_thread_id()}, status_code=201)
        listed = await asyncio.to_thread(list_threads, graph)
        return JSONResponse({"threads": listed})

    async def thread(request: Request) -> Response:
        thread_id = check_thread_id(request.path_params["thread_id"])
        # a turn is kept before its stream ends: say when one still runs. Read first, so
        # "answering": false means no turn ran when the history below was read
        with busy_lock:
            answering = thread_id in busy
        history = await asyncio.to_thread(
            thread_history, graph, thread_id, toolkit().services.resolver
        )
        return JSONResponse({**history, "answering": answering})

    async def ask(request: Request) -> Response:
        thread_id = check_thread_id(request.path_params["thread_id"])
        body = await json_body(request)
        question = body.get("question")
        if not isinstance(question, str):
            raise HTTPException(400, 'send {"question": "..."} as JSON')
        if len(question) > MAX_QUESTION_CHARS:
            raise HTTPException(
                413, f"the question has {len(question)} characters; at most {MAX_QUESTION_CHARS}"
            )
        return stream_turn(thread_id, lambda streamer: streamer.ask(question))

    async def resume(request: Request) -> Response:
        thread_id = check_thread_id(request.path_params["thread_id"])
        body = await json_body(request)
        choice = body.get("choice")
        if not isinstance(choice, (str, int)) or isinstance(choice, bool):
            raise HTTPException(
                400, 'send {"choice": "CID 5950"} (a candidate\'s choice or number) as JSON'
            )
        return stream_turn(thread_id, lambda streamer: streamer.resume(choice))

    def stream_turn(thread_id: str, run: Callable[[TurnStreamer], Iterator]) -> Response:
        with busy_lock:
            if thread_id in busy:
                raise HTTPException(
                    409, "this thread is still answering; wait for it or start a new thread"
                )
            busy.add(thread_id)

        def events():
            try:
                streamer = TurnStreamer(session_for(thread_id), toolkit().services.resolver)
                yield from run(streamer)
            finally:
                with busy_lock:
                    busy.discard(thread_id)

        return StreamingResponse(
            frames_from_thread(events),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    routes = [
        Route("/", page),
        Route("/depict.svg", depiction),
        Route("/api/status", status),
        Route("/api/threads", threads, methods=["GET", "POST"]),
        Route("/api/threads/{thread_id}", thread),
        Route("/api/threads/{thread_id}/ask", ask, methods=["POST"]),
        Route("/api/threads/{thread_id}/resume", resume, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            HTTPException: http_error,
            InvalidThreadIdError: bad_thread_id,
            Exception: server_error,
        },
    )
    app.add_middleware(SecurityHeaders)
    return app


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object; only from this origin (a cross-site page cannot send JSON
    without a preflight this app never answers, and a same-named Origin is checked too)."""
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host"):
        raise HTTPException(403, "requests from other sites are refused")
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise HTTPException(415, "send JSON (Content-Type: application/json)")
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as error:
        raise HTTPException(400, f"the body is not valid JSON: {error}") from error
    if not isinstance(body, dict):
        raise HTTPException(400, "the body must be a JSON object")
    return body


async def frames_from_thread(events: Callable[[], Iterator]):
    """SSE frames of `events()` run in a worker thread (the graph is synchronous).

    The turn runs to its end even if the browser goes away, so its checkpoint is complete.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    finished = object()

    def work():
        try:
            for item in events():
                loop.call_soon_threadsafe(queue.put_nowait, item)
        except Exception as error:  # the streamer reports turn failures itself; this is a bug
            log.exception("event stream failed")
            loop.call_soon_threadsafe(
                queue.put_nowait, ("error", {"message": f"internal error: {error}"})
            )
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, finished)

    threading.Thread(target=work, name="turn", daemon=True).start()
    while (item := await queue.get()) is not finished:
        yield sse_frame(*item)


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "text/html" not in request.headers.get(
        "accept", ""
    )


def error_response(request: Request, status_code: int, message: str) -> Response:
    if wants_json(request):
        return JSONResponse({"error": message}, status_code=status_code, headers=SECURITY_HEADERS)
    from html import escape

    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{status_code}</title>'
        f'<link rel="stylesheet" href="/static/app.css"></head><body class="error-page"><main>'
        f'<h1>{status_code}</h1><p>{escape(message)}</p><p><a href="/">Back to the assistant</a></p>'
        f"</main></body></html>"
    )
    return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)


async def http_error(request: Request, error: HTTPException) -> Response:
    messages = {404: f"nothing at {request.url.path}", 405: f"{request.method} is not allowed here"}
    detail = error.detail
    if detail in (None, "", "Not Found", "Method Not Allowed"):
        detail = messages.get(error.status_code, "request refused")
    return error_response(request, error.status_code, str(detail))


async def bad_thread_id(request: Request, error: InvalidThreadIdError) -> Response:
    return error_response(request, 400, str(error))


async def server_error(request: Request, error: Exception) -> Response:
    log.exception("request failed: %s", request.url.path)
    return error_response(request, 500, f"the server failed: {error}")
