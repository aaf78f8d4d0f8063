"""The model server's core: holds the encoders, embeds each request, hands it to an engine.

What is BioMedGPT-specific happens here, exactly as in-process `biomedgpt generate` does it:
the prompt (model/prompt.py), validation and the context check on the request's row, built
once (`BioMedGPT.check_request`), the LM input embeddings with the soft tokens spliced in
(`embed_batch` on that row, collated alone), and the answer cut out of the decoded tokens as
they arrive (model/answer_text.py: streamed deltas join to the final answer).
The engine (engine.py) only decodes. Admission is bounded by `max_concurrency`: past it a
request is refused at once (429) instead of queueing without limit.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import torch

from biomedgpt_tools.inference.wire import ChatRequest
from biomedgpt_tools.model.answer_text import AnswerCutter, cut_answer, missing_tail
from biomedgpt_tools.model.api import BioMedGPT
from biomedgpt_tools.model.modeling_biomedgpt import collate_rows
from biomedgpt_tools.model.requests import GenerationRequest
from biomedgpt_tools.serving.engine import Engine, EngineRequest
from biomedgpt_tools.serving.metrics import ServingMetrics


@dataclass(frozen=True)
class PreparedRequest:
    """A validated request: its prompt text and its LM input embeddings."""

    prompt: str
    engine_request: EngineRequest

    @property
    def prompt_tokens(self) -> int:
        return int(self.engine_request.prompt_embeds.shape[0])


@dataclass
class Generated:
    """Everything decoded for one request."""

    token_ids: list[int]
    finish_reason: str
    raw_text: str
    text: str


class TokenText:
    """Text of the tokens so far, released only once it can no longer change.

    As model/generation.py streams: a run of SentencePiece byte pieces decodes only once
    another token closes it, and a U+FFFD at the end is a character still incomplete.
    """

    def __init__(self, decode: Callable[[list[int]], str], byte_fallback_ids: frozenset[int]):
        self._decode = decode
        self._byte_fallback_ids = byte_fallback_ids
        self.token_ids: list[int] = []
        self.emitted = ""

    def add(self, token_ids: tuple[int, ...]) -> str:
        """The new stable text after these tokens ('' while held back)."""
        self.token_ids.extend(token_ids)
        if not self.token_ids or self.token_ids[-1] in self._byte_fallback_ids:
            return ""
        stable = self._decode(self.token_ids)
        if stable.endswith("\ufffd") or not stable.startswith(self.emitted):
            return ""
        piece, self.emitted = stable[len(self.emitted) :], stable
        return piece

    def finish(self) -> str:
        """The text still held back once decoding has ended (an unclosed byte run)."""
        text = self._decode(self.token_ids)
        piece = text[len(self.emitted) :] if text.startswith(self.emitted) else ""
        self.emitted += piece
        return piece


def drop_decoder(biomedgpt: BioMedGPT) -> None:
    """Free the LM's decoder layers and head: with an engine of its own (vLLM) the server needs
    only the encoders, the projections and the input embedding table (13.5 GB less for 10B)."""
    llm = biomedgpt.model.llm
    llm.model.layers = torch.nn.ModuleList()
    llm.lm_head = torch.nn.Identity()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


class ModelServer:
    """One BioMedGPT and one engine, shared by every HTTP request."""

    def __init__(
        self,
        load_model: Callable[[], BioMedGPT],
        make_engine: Callable[[BioMedGPT], Engine],
        *,
        engine_name: str,
        max_concurrency: int = 64,
        api_key: str | None = None,
        embed_workers: int = 2,
    ):
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, not {max_concurrency}")
        self._load_model = load_model
        self._make_engine = make_engine
        self.engine_name = engine_name
        self.max_concurrency = max_concurrency
        self.api_key = api_key
        self.metrics = ServingMetrics()
        self.status = "loading"
        self.error: str | None = None
        self.model: BioMedGPT | None = None
        self.engine: Engine | None = None
        self.model_id: str | None = None
        self.revision: str | None = None
        self.started_at = int(time.time())
        self._in_flight = 0
        self._admission = threading.Lock()
        self._embedder = ThreadPoolExecutor(max_workers=embed_workers, thread_name_prefix="embed")

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        """Load the model, then the engine; /health says "loading" until both are ready."""
        try:
            self.model = await asyncio.to_thread(self._load_model)
            self.revision = await asyncio.to_thread(lambda: self.model.revision)
            self.model_id = self.model.model_id
            # made first: for --official the vLLM engine writes its LM folder from these weights
            self.engine = self._make_engine(self.model)
            if self.engine_name != "transformers":
                drop_decoder(self.model)  # the engine holds its own copy of the LM
            await self.engine.start()
        except Exception as error:  # noqa: BLE001 - reported on /health and in the log
            self.status = "failed"
            self.error = f"{type(error).__name__}: {error}"
            raise
        self.status = "ok"

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.close()
        self._embedder.shutdown(wait=False, cancel_futures=True)

    @property
    def ready(self) -> bool:
        return self.status == "ok"

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def queue_depth(self) -> int:
        return self.engine.queue_depth() if self.engine is not None else 0

    @property
    def context_length(self) -> int | None:
        if self.model is None:
            return None
        return int(self.model.model.config.text_config.max_position_embeddings)

    # -- admission -------------------------------------------------------------------------------
    def admit(self) -> bool:
        """Take a slot, or False when `max_concurrency` requests are already in flight."""
        with self._admission:
            if self._in_flight >= self.max_concurrency:
                return False
            self._in_flight += 1
            return True

    def release(self) -> None:
        with self._admission:
            self._in_flight -= 1

    # -- requests --------------------------------------------------------------------------------
    async def prepare(self, chat: ChatRequest) -> PreparedRequest:
        """Validate and embed; ValueError (the 400's message) for bad input."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._embedder, self._prepare, chat)

    def _prepare(self, chat: ChatRequest) -> PreparedRequest:
        model = self.model
        assert model is not None
        conversation = chat.conversation
        last = conversation.turns[-1]
        request = GenerationRequest(
            question=last.question,
            inputs=list(last.inputs),
            system=conversation.system,
            history=list(conversation.turns[:-1]),
        )
        try:
            row = model.check_request(request, chat.max_tokens)
        except ValueError as error:
            raise ValueError(str(error).removeprefix("request 0: ")) from error
        batch = collate_rows([row], int(model.model.config.text_config.pad_token_id))
        with torch.inference_mode():
            embeds = model.model.embed_batch(batch)[0]  # (T, C): one row, no padding
        eos = int(model.model.config.text_config.eos_token_id)
        return PreparedRequest(
            prompt=row.prompt,
            engine_request=EngineRequest(
                request_id=f"chatcmpl-{uuid.uuid4().hex}",
                prompt_embeds=embeds.detach().to("cpu"),
                max_new_tokens=chat.max_tokens,
                stop_token_ids=(eos,),
                temperature=chat.temperature,
                top_p=chat.top_p,
                seed=chat.seed,
            ),
        )

    async def generate(
        self, prepared: PreparedRequest, on_text: Callable[[str], Any] | None = None
    ) -> Generated:
        """Decode one request; `on_text(delta)` gets the answer's text as it grows.

        The answer is cut out of the decoded text here, once (`AnswerCutter`): the deltas
        join to `Generated.text` exactly.

        Cancelling the task (a client that went away) closes the engine's stream, which
        aborts the request's decoding.
        """
        model = self.model
        assert model is not None and self.engine is not None
        started = time.perf_counter()
        text = TokenText(model.segments.decode, model.segments.byte_fallback_ids)
        cutter = AnswerCutter()

        def answer_delta(delta: str) -> None:
            if delta and on_text is not None:
                on_text(delta)

        finish_reason = "length"
        steps = self.engine.stream(prepared.engine_request)
        first = True
        try:
            async for step in steps:
                if first and step.token_ids:
                    self.metrics.count_first_token(time.perf_counter() - started)
                    first = False
                answer_delta(cutter.feed(text.add(step.token_ids)))
                if step.finished:
                    finish_reason = step.finish_reason or "length"
                    break
        except asyncio.CancelledError:
            self.metrics.count_aborted()
            raise
        finally:
            await steps.aclose()
        answer_delta(cutter.feed(text.finish()))
        answer_delta(cutter.finish())
        self.metrics.count_finished(
            prepared.prompt_tokens, len(text.token_ids), time.perf_counter() - started
        )
        raw = model.segments.decode(text.token_ids)
        answer = cut_answer(raw)
        answer_delta(missing_tail(cutter.text, answer))
        return Generated(text.token_ids, finish_reason, raw, answer)

    async def encode_proteins(self, sequences: list[str]) -> list[list[float]]:
        """Mean-pooled ESM vectors (the store's similarity search); ValueError for bad sequences."""
        model = self.model
        assert model is not None
        loop = asyncio.get_running_loop()
        vectors = await loop.run_in_executor(self._embedder, model.encode_proteins, sequences)
        return [[float(value) for value in row] for row in vectors]


async def stream_pieces(
    server: ModelServer, prepared: PreparedRequest
) -> AsyncIterator[str | Generated]:
    """The answer's text deltas (str) as decoded, then the `Generated` result last."""
    pieces: asyncio.Queue = asyncio.Queue()
    done = object()

    async def run() -> Generated:
        try:
            return await server.generate(prepared, pieces.put_nowait)
        finally:
            pieces.put_nowait(done)

    task = asyncio.create_task(run())
    try:
        while True:
            item = await pieces.get()
            if item is done:
                break
            yield item
        yield await task
    finally:
        if not task.done():
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - the reader is gone
                pass
