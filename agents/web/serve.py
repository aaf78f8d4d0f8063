"""`python -m agents web`: the page on the embedded default, served by uvicorn.

The default is what `make demo` runs on: the bundled offline snapshot of PubChem/UniProt
(unless BIOMEDGPT_OFFLINE says otherwise or --online is given), the embedded Chroma store
under $BIOMEDGPT_HOME, and the model from BIOMEDGPT_MODEL (or the model server the toolkit's
environment names), else the demo model if `make demo-model` built it, else no model, which
the page says plainly.
"""

from __future__ import annotations

import os
import socket


class UsageError(Exception):
    """The page cannot be served as asked (e.g. the port is taken)."""


DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def choose_environment(online: bool = False) -> str:
    """Set the embedded defaults in os.environ; returns how the model was chosen."""
    if online:
        os.environ["BIOMEDGPT_OFFLINE"] = "0"
    else:
        os.environ.setdefault("BIOMEDGPT_OFFLINE", "1")
    if os.environ.get("BIOMEDGPT_MODEL", "").strip():
        return "BIOMEDGPT_MODEL"
    if os.environ.get("BIOMEDGPT_SERVER_URL", "").strip():
        return "BIOMEDGPT_SERVER_URL"
    try:
        from training.demo_model import default_demo_dir
    except ImportError:
        return "no model (training/ is not importable for the demo model)"
    folder = default_demo_dir()
    if (folder / "config.json").is_file():
        os.environ["BIOMEDGPT_MODEL"] = str(folder)
        return f"the demo model at {folder}"
    return f"no model: BIOMEDGPT_MODEL is unset and no demo model is built at {folder}"


def load_model_now(toolkit) -> str | None:
    """Load the weights at start, not on the first question; a model that cannot load is said
    here (the page then answers with the tools' 'model unavailable' message)."""
    from biomedgpt_tools.tools.errors import ModelUnavailableError

    try:
        identity = toolkit.services.backend.identity()
    except ModelUnavailableError as error:
        problem = f"The model cannot be used: {error}"
        print(problem, flush=True)
        return problem
    print(f"Loaded {identity.model_id} (revision {identity.revision[:12]})", flush=True)
    return None


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    threads_db: str | None = None,
    online: bool = False,
) -> int:
    import uvicorn

    from agents.context import AssistantContext
    from agents.graph import default_threads_path, open_assistant
    from agents.web.app import create_app, describe_model

    why = choose_environment(online)
    context = AssistantContext()
    toolkit = context.resolved_toolkit()
    print(f"{describe_model(toolkit)} ({why})", flush=True)
    problem = load_model_now(toolkit) if toolkit.services.backend.configured else None
    print(f"Conversations: {threads_db or default_threads_path()}", flush=True)
    app = create_app(open_assistant(threads_path=threads_db), context, model_problem=problem)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise UsageError(
            f"cannot listen on {host}:{port} ({error.strerror}); pick another --port"
        ) from error
    # listening before the URL is printed: a client that reads it may connect at once (the
    # server accepts once uvicorn starts; until then connections wait in the backlog)
    listener.listen(2048)
    bound_port = listener.getsockname()[1]  # --port 0: the free port the system chose
    shown_host = f"[{host}]" if family == socket.AF_INET6 else host
    print(f"BioMedGPT assistant on http://{shown_host}:{bound_port}/ (Ctrl-C stops)", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    try:
        server.run(sockets=[listener])
    finally:
        listener.close()
        toolkit.close()
    return 0
