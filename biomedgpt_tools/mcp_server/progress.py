"""Progress notifications for one MCP tool call, and stopping the model when the call is cancelled.

The client asks for progress by sending a progress token; `ctx.report_progress` is a no-op
otherwise. Loading the model can take minutes (BioMedGPT-10B is 20 GB of weights), so it is
reported every few seconds while it runs; generation is reported as the answer grows, from
the LangChain tools' token events (`qa_tool.TOKEN_EVENT`), at most one notification every
GENERATION_REPORT_EVERY_S (a notification per token would flood the client), the last count
always sent. When the client cancels the call,
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

from biomedgpt_tools.tools.qa_tool import TOKEN_EVENT

LOAD_REPORT_EVERY_S = 2.0
GENERATION_REPORT_EVERY_S = 0.5
LOAD_POLL_S = 0.05

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


class ModelLoadWatch:
    """Reports the configured model's loading while a call runs, if the call needs it.

    The model loads lazily on the first question memory cannot answer, so a memory hit on a
    fresh server loads nothing; this watches the backend (`loading`, `loaded`) instead of
    loading ahead. A backend with nothing to load (no model, a remote server) is not watched.
    """

    def __init__(self, backend: Any, progress: CallProgress):
        self.backend = backend
        self.progress = progress
        self.started: float | None = None
        self.finished = False

    @property
    def needed(self) -> bool:
        return getattr(self.backend, "loaded", True) is False

    async def watch(self, work: asyncio.Future) -> None:
        """Poll until `work` is done or the load has ended; report every LOAD_REPORT_EVERY_S."""
        last_report = 0.0
        while not work.done() and not self.finished:
            if self.started is None and getattr(self.backend, "loaded", False):
                return  # loaded between two polls: nothing left to report
            now = time.monotonic()
            if getattr(self.backend, "loading", False):
                if self.started is None:
                    self.started = last_report = now
                    await self.progress.report(
                        "loading the BioMedGPT model (first question since the server started)"
                    )
                elif now - last_report >= LOAD_REPORT_EVERY_S:
                    last_report = now
                    await self.progress.report(
                        f"loading the BioMedGPT model ({now - self.started:.0f} s so far)"
                    )
            elif self.started is not None:
                await self.finish()
            await asyncio.wait({work}, timeout=LOAD_POLL_S)

    async def finish(self) -> None:
        """Say once that a reported load has ended (called by the watch or the first token)."""
        if self.started is None or self.finished:
            return
        self.finished = True
        if getattr(self.backend, "loaded", False):
            message = f"model loaded in {time.monotonic() - self.started:.1f} s"
        else:
            message = "the model could not be loaded"
        await self.progress.report(message)


class GenerationProgress(AsyncCallbackHandler):
    """Turns the tools' token events into progress notifications; stops generation once cancelled."""

    raise_error = True  # so GenerationCancelled reaches the model's worker thread

    def __init__(
        self,
        progress: CallProgress,
        load_watch: ModelLoadWatch | None = None,
        *,
        every_s: float = GENERATION_REPORT_EVERY_S,
        clock: Any = time.monotonic,
    ):
        self.progress = progress
        self.load_watch = load_watch
        self.cancelled = threading.Event()
        self.characters = 0
        self.pieces = 0
        self.every_s = every_s
        self._clock = clock
        self._last_sent: float | None = None
        self._held: str | None = None  # the newest count not sent yet

    async def on_custom_event(self, name: str, data: Any, *, run_id: Any, **kwargs: Any) -> None:
        if name != TOKEN_EVENT:
            return
        if self.cancelled.is_set():
            raise GenerationCancelled("the MCP client cancelled this call")
        self.characters += len(data.get("text", ""))
        self.pieces += 1
        if self.load_watch is not None:
            await self.load_watch.finish()  # "model loaded" comes before the first token
        message = f"generating the answer ({self.characters} characters so far)"
        now = self._clock()
        if self._last_sent is not None and now - self._last_sent < self.every_s:
            self._held = message
            return
        self._last_sent, self._held = now, None
        await self.progress.report(message)

    async def flush(self) -> None:
        """Send the count that throttling held back, once generation has ended."""
        if self._held is not None:
            message, self._held = self._held, None
            await self.progress.report(message)
