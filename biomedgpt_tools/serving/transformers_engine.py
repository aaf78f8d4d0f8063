"""The transformers engine: coalesces concurrent requests into batches on one decoding thread.

For machines without vLLM. Requests that arrive while a batch decodes wait for the next one;
each batch takes up to `max_batch_size` waiting requests with the same sampling settings,
left-pads their embedding rows and decodes them in one `generate` call with the mask and
positions of model/generation.py, so every row gets the greedy tokens it would get alone, and
the same as in-process `biomedgpt generate`. This is batching by arrival, not vLLM's
continuous batching: a batch runs until its longest answer ends. Each step's tokens go to their
requests' queues as they are decoded (streaming); a request whose reader goes away, or that
reached its own `max_new_tokens` or a stop token, is marked done for the stopping criteria,
and the batch ends when all its rows are done.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import torch
from transformers import GenerationConfig
from transformers.generation.stopping_criteria import StoppingCriteria, StoppingCriteriaList
from transformers.generation.streamers import BaseStreamer

from biomedgpt_tools.model.modeling_biomedgpt import position_ids_from_mask
from biomedgpt_tools.serving.engine import EngineRequest, EngineStep


@dataclass
class _Pending:
    """One request and the way back to the event loop that awaits its steps."""

    request: EngineRequest
    loop: asyncio.AbstractEventLoop
    steps: asyncio.Queue
    aborted: threading.Event = field(default_factory=threading.Event)
    emitted: int = 0
    done: bool = False

    def send(self, item: EngineStep | BaseException) -> None:
        try:
            self.loop.call_soon_threadsafe(self.steps.put_nowait, item)
        except RuntimeError:  # the loop is closed: nobody reads any more
            self.aborted.set()

    @property
    def sampling_key(self) -> tuple:
        """Requests batched together share these; a seeded request decodes alone (reproducible)."""
        request = self.request
        if request.temperature <= 0:
            return ("greedy",)
        if request.seed is not None:
            return ("seeded", id(self))
        return ("sample", request.temperature, request.top_p)


class TransformersEngine:
    """Decodes embedded requests with `LlamaForCausalLM.generate`, batched by arrival."""

    name = "transformers"

    def __init__(self, llm: torch.nn.Module, *, max_batch_size: int = 8):
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be at least 1, not {max_batch_size}")
        self.llm = llm
        self.max_batch_size = max_batch_size
        self._waiting: queue.Queue[_Pending | None] = queue.Queue()
        self._held: list[_Pending] = []  # taken from the queue but not fitting the last batch
        self._active = 0
        self._count_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    async def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="transformers-engine", daemon=True)
        self._thread.start()

    async def close(self) -> None:
        self._closed = True
        for pending in list(self._held):
            pending.aborted.set()
        self._waiting.put(None)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 30)

    def queue_depth(self) -> int:
        with self._count_lock:
            return self._active

    async def stream(self, request: EngineRequest) -> AsyncIterator[EngineStep]:
        if self._closed or self._thread is None:
            raise RuntimeError("the transformers engine is not running")
        pending = _Pending(request, asyncio.get_running_loop(), asyncio.Queue())
        with self._count_lock:
            self._active += 1
        self._waiting.put(pending)
        try:
            while True:
                item = await pending.steps.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if item.finished:
                    return
        finally:  # finished, failed, or the reader went away: decoding of this row stops
            pending.aborted.set()
            with self._count_lock:
                self._active -= 1

    # -- the decoding thread ---------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            batch = [pending for pending in batch if not pending.aborted.is_set()]
            if not batch:
                continue
            try:
                self._decode(batch)
            except Exception as error:  # noqa: BLE001 - reported to each waiting request
                failure = RuntimeError(f"generation failed ({type(error).__name__}: {error})")
                for pending in batch:
                    if not pending.done:
                        pending.send(failure)

    def _next_batch(self) -> list[_Pending] | None:
        """Waits for one request, then takes whatever else is waiting that can share its batch."""
        if self._held:
            first = self._held.pop(0)
        else:
            first = self._waiting.get()
            if first is None:
                return None
        batch = [first]
        held: list[_Pending] = []
        for pending in self._held:
            if pending.sampling_key == first.sampling_key and len(batch) < self.max_batch_size:
                batch.append(pending)
            else:
                held.append(pending)
        while len(batch) < self.max_batch_size:
            try:
                pending = self._waiting.get_nowait()
            except queue.Empty:
                break
            if pending is None:
                self._waiting.put(None)  # close() after this batch
                break
            if pending.sampling_key == first.sampling_key:
                batch.append(pending)
            else:
                held.append(pending)
        self._held = held
        return batch

    @torch.inference_mode()
    def _decode(self, batch: list[_Pending]) -> None:
        device = next(self.llm.parameters()).device
        dtype = next(self.llm.parameters()).dtype
        width = max(p.request.prompt_embeds.shape[0] for p in batch)
        hidden = batch[0].request.prompt_embeds.shape[1]
        inputs_embeds = torch.zeros((len(batch), width, hidden), dtype=dtype, device=device)
        attention_mask = torch.zeros((len(batch), width), dtype=torch.long, device=device)
        for row, pending in enumerate(batch):  # left padding, as model/generation.py
            embeds = pending.request.prompt_embeds  # (T, C)
            start = width - embeds.shape[0]
            inputs_embeds[row, start:] = embeds.to(device=device, dtype=dtype)
            attention_mask[row, start:] = 1
        first = batch[0].request
        stop_ids = sorted({token for p in batch for token in p.request.stop_token_ids})
        sampling = (
            {
                "do_sample": True,
                "temperature": first.temperature,
                "top_p": first.top_p,
                "top_k": None,
            }
            if first.temperature > 0
            else {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        )
        config = GenerationConfig(
            max_new_tokens=max(p.request.max_new_tokens for p in batch),
            eos_token_id=stop_ids or None,
            pad_token_id=int(self.llm.config.pad_token_id),
            bos_token_id=self.llm.config.bos_token_id,
            use_cache=True,
            **sampling,
        )
        if first.temperature > 0 and first.seed is not None:
            torch.manual_seed(first.seed)
        router = _StepRouter(batch)
        self.llm.generate(
            inputs_embeds=inputs_embeds,
            attention_mask=attention_mask,
            position_ids=position_ids_from_mask(attention_mask),
            generation_config=config,
            streamer=router,
            stopping_criteria=StoppingCriteriaList([_RowsDone(batch)]),
        )  # (B, new): the tokens already went out through the router
        for pending in batch:
            if not pending.done and not pending.aborted.is_set():  # generate stopped early
                pending.done = True
                pending.send(EngineStep((), finished=True, finish_reason="length"))


class _StepRouter(BaseStreamer):
    """Sends each row's new token to its request as soon as the step is decoded."""

    def __init__(self, batch: list[_Pending]):
        self.batch = batch
        self._seen_prompt = False

    def put(self, value: torch.Tensor) -> None:
        if not self._seen_prompt:  # the first call carries the (empty) prompt ids
            self._seen_prompt = True
            return
        for pending, token in zip(self.batch, value.reshape(-1).tolist(), strict=True):
            if pending.done or pending.aborted.is_set():
                continue
            pending.emitted += 1
            request = pending.request
            if token in request.stop_token_ids:
                reason = "stop"
            elif pending.emitted >= request.max_new_tokens:
                reason = "length"
            else:
                reason = None
            pending.done = reason is not None
            pending.send(EngineStep((int(token),), finished=pending.done, finish_reason=reason))

    def end(self) -> None:
        pass


class _RowsDone(StoppingCriteria):
    """A row stops when its request finished (stop token, its own length) or was aborted."""

    def __init__(self, batch: list[_Pending]):
        self.batch = batch

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs) -> torch.Tensor:
        done = [pending.done or pending.aborted.is_set() for pending in self.batch]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)
