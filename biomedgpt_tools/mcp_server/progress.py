"""Progress notifications for one MCP tool call, and stopping the model when the call is cancelled.

The client asks for progress by sending a progress token; `ctx.report_progress` is a no-op
otherwise. Loading the model can take minutes (BioMedGPT-10B is 20 GB of weights), so it is
reported every few seconds while it runs; generation is reported as the answer grows, from
the LangChain tools' token events (`qa_tool.TOKEN_EVENT`). When the client cancels the call,
the next token event raises `GenerationCancelled` in the model's worker thread, which stops
decoding (InProcessBackend closes the stream) instead of finishing an answer nobody will read.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from langchain_core.callbacks import AsyncCallbackHandler

from biomedgpt_tools.tools.errors import ModelUnavailableError
from biomedgpt_tools.tools.qa_tool import TOKEN_EVENT

LOAD_REPORT_EVERY_S = 2.0

logger = logging.getLogger(__name__)


class _HideCancellation(logging.Filter):
    """LangChain logs a warning for every callback that raises; a cancellation is no fault."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "GenerationCancelled" not in record.getMessage()


logging.getLogger("langchain_core.callbacks.manager").addFilter(_HideCancellation())


class GenerationCancelled(Exception):
    """The MCP client cancelled the call: stop generating."""


class CallProgress:
    """Numbered progress notifications for one call (progress only ever increases)."""

    def __init__(self, context: Any):
        self._context = context
        self._step = 0

    async def report(self, message: str) -> None:
        if self._context is None:
            return
        self._step += 1
        try:
            await self._context.report_progress(self._step, None, message)
        except Exception as error:  # a client that went away must not fail the answer
            logger.debug("progress notification not sent: %r", error)


async def load_model_with_progress(backend: Any, progress: CallProgress) -> None:
    """Load a configured in-process model before the call needs it, reporting while it loads.

    A backend without lazy loading (no model, a remote server) is left alone; a load failure is
    left for the tool to report (it answers without the model and says why).
    """
    if getattr(backend, "loaded", True) or not callable(getattr(backend, "model", None)):
        return
    started = time.monotonic()
    await progress.report("loading the BioMedGPT model (first question since the server started)")
    loading = asyncio.ensure_future(asyncio.to_thread(backend.model))
    while True:
        done, _ = await asyncio.wait({loading}, timeout=LOAD_REPORT_EVERY_S)
        if done:
            break
        await progress.report(
            f"loading the BioMedGPT model ({time.monotonic() - started:.0f} s so far)"
        )
    try:
        loading.result()
    except ModelUnavailableError:
        return
    await progress.report(f"model loaded in {time.monotonic() - started:.1f} s")


class GenerationProgress(AsyncCallbackHandler):
    """Turns the tools' token events into progress notifications; stops generation once cancelled."""

    raise_error = True  # so GenerationCancelled reaches the model's worker thread

    def __init__(self, progress: CallProgress):
        self.progress = progress
        self.cancelled = threading.Event()
        self.characters = 0
        self.pieces = 0

    async def on_custom_event(self, name: str, data: Any, *, run_id: Any, **kwargs: Any) -> None:
        if name != TOKEN_EVENT:
            return
        if self.cancelled.is_set():
            raise GenerationCancelled("the MCP client cancelled this call")
        text = data.get("text", "")
        self.characters = len(text) if data.get("restart") else self.characters + len(text)
        self.pieces += 1
        await self.progress.report(f"generating the answer ({self.characters} characters so far)")
