"""Batched generation for BioMedGPT: left padding, a real attention mask, a KV cache.

The reference hands `inputs_embeds` of one conversation to `llm.generate` with no mask.
Here a whole batch goes through the transformers decoding loop at once: rows are left
padded and the mask hides the padding, so every row gets the tokens it would get alone
(tested). Positions come from the mask, each row starting at 0 on its first real token:
rotary attention only sees position differences, but this keeps each row's absolute
positions, and so its numerics and its share of the context window, those of a lone run. Greedy decoding with the reference's defaults (255 new tokens, stop at eos 2) is the
default; sampling and beam search are options. `stream_generation` yields text as tokens
arrive, for interactive use.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from transformers import GenerationConfig
from transformers.generation.stopping_criteria import StoppingCriteria, StoppingCriteriaList
from transformers.generation.streamers import BaseStreamer

from .modeling_biomedgpt import (
    BioMedGPTForConditionalGeneration,
    MultimodalBatch,
    position_ids_from_mask,
)

DEFAULT_MAX_NEW_TOKENS = 255


@dataclass
class GenerationOptions:
    """Decoding settings; the defaults are the reference's (greedy, 255 new tokens)."""

    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    num_beams: int = 1
    repetition_penalty: float = 1.0
    seed: int | None = None

    def validate(self) -> None:
        if not isinstance(self.max_new_tokens, int) or self.max_new_tokens < 1:
            raise ValueError(
                f"max_new_tokens must be a positive integer, not {self.max_new_tokens!r}"
            )
        if not isinstance(self.num_beams, int) or self.num_beams < 1:
            raise ValueError(f"num_beams must be a positive integer, not {self.num_beams!r}")
        if self.do_sample and self.temperature <= 0:
            raise ValueError(f"temperature must be > 0 when sampling, not {self.temperature!r}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], not {self.top_p!r}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0 (0 disables it), not {self.top_k!r}")

    def generation_config(
        self, eos_token_id: int, pad_token_id: int, bos_token_id: int
    ) -> GenerationConfig:
        self.validate()
        sampling = (
            {"temperature": self.temperature, "top_p": self.top_p, "top_k": self.top_k or None}
            if self.do_sample
            else {"temperature": None, "top_p": None, "top_k": None}
        )
        return GenerationConfig(
            max_new_tokens=self.max_new_tokens,
            do_sample=self.do_sample,
            num_beams=self.num_beams,
            repetition_penalty=self.repetition_penalty,
            eos_token_id=eos_token_id,
            pad_token_id=pad_token_id,
            bos_token_id=bos_token_id,
            use_cache=True,
            **sampling,
        )


@dataclass
class GeneratedTokens:
    """The new tokens of one row: up to and including eos when it was produced."""

    token_ids: list[int]
    finished: bool  # True when the row stopped at eos, False when it hit max_new_tokens


def _special_ids(model: BioMedGPTForConditionalGeneration) -> tuple[int, int, int]:
    text = model.config.text_config
    return int(text.eos_token_id), int(text.pad_token_id), int(text.bos_token_id)


def trim_at_eos(row: list[int], eos_token_id: int) -> GeneratedTokens:
    """Cut a generated row after its first eos (what follows is padding)."""
    if eos_token_id in row:
        return GeneratedTokens(row[: row.index(eos_token_id) + 1], finished=True)
    return GeneratedTokens(row, finished=False)


@torch.inference_mode()
def generate_batch(
    model: BioMedGPTForConditionalGeneration,
    batch: MultimodalBatch,
    options: GenerationOptions | None = None,
    streamer: BaseStreamer | None = None,
    stop_event: threading.Event | None = None,
) -> list[GeneratedTokens]:
    """Generate for every row of a left-padded batch; rows come back in batch order.

    `stop_event`, once set, ends decoding after the current step (a reader gave up).
    """
    options = options or GenerationOptions()
    eos_token_id, pad_token_id, bos_token_id = _special_ids(model)
    generation_config = options.generation_config(eos_token_id, pad_token_id, bos_token_id)
    inputs_embeds = model.embed_batch(batch)  # (B, T, C)
    attention_mask = batch.attention_mask.to(inputs_embeds.device)  # (B, T)
    if options.seed is not None:
        torch.manual_seed(options.seed)
    new_tokens = model.llm.generate(
        inputs_embeds=inputs_embeds,
        attention_mask=attention_mask,
        position_ids=position_ids_from_mask(attention_mask),
        generation_config=generation_config,
        streamer=streamer,
        stopping_criteria=StoppingCriteriaList([_StopWhenSet(stop_event)]) if stop_event else None,
    )  # (B, new): with only inputs_embeds, transformers returns just the new tokens
    return [trim_at_eos(row, eos_token_id) for row in new_tokens.tolist()]


class _StopWhenSet(StoppingCriteria):
    """Stops every row once the event is set."""

    def __init__(self, event: threading.Event):
        self.event = event

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs) -> torch.Tensor:
        return torch.full(
            (input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device
        )


class _TokenQueue(BaseStreamer):
    """Receives token ids from the decoding loop (prompt call skipped) for another thread."""

    def __init__(self):
        self.queue: queue.Queue = queue.Queue()
        self._seen_prompt = False

    def put(self, value: torch.Tensor) -> None:
        if not self._seen_prompt:  # the first call carries the (empty) prompt ids
            self._seen_prompt = True
            return
        for token in value.reshape(-1).tolist():
            self.queue.put(int(token))

    def end(self) -> None:
        self.queue.put(None)


class StreamedGeneration:
    """Iterate to receive text pieces as they are decoded; then `tokens` holds the row.

    Text is re-decoded from all tokens so far, and released only up to the last token that
    is not a byte-fallback piece: the decoder turns a run of byte pieces into characters,
    or into one U+FFFD per byte if the run is not valid UTF-8, so a run's text is final only
    once another token closes it. The rest is released when generation ends.
    """

    def __init__(
        self,
        model: BioMedGPTForConditionalGeneration,
        batch: MultimodalBatch,
        options: GenerationOptions,
        decode: Callable[[list[int]], str],
        byte_fallback_ids: frozenset[int] = frozenset(),
    ):
        if batch.input_ids.shape[0] != 1:
            raise ValueError("streaming handles one request at a time")
        if options.num_beams != 1:
            raise ValueError(
                "streaming needs num_beams=1 (beam search only knows its result at the end)"
            )
        self._decode = decode
        self._byte_fallback_ids = byte_fallback_ids
        self._stop = threading.Event()
        self._streamer = _TokenQueue()
        self._result: list[GeneratedTokens] = []
        self._error: BaseException | None = None
        self.token_ids: list[int] = []
        self.tokens: GeneratedTokens | None = None

        def run() -> None:
            try:
                self._result = generate_batch(
                    model, batch, options, streamer=self._streamer, stop_event=self._stop
                )
            except BaseException as error:  # re-raised in the consuming thread
                self._error = error
                self._streamer.end()

        self._thread = threading.Thread(target=run, name="biomedgpt-stream", daemon=True)
        self._thread.start()

    def __iter__(self) -> Iterator[str]:
        emitted = ""
        while True:
            token = self._streamer.queue.get()
            if token is None:
                break
            self.token_ids.append(token)
            if token in self._byte_fallback_ids:
                continue  # an open run of byte pieces: its text may still change
            stable = self._decode(self.token_ids)
            if stable.endswith("\ufffd"):
                continue
            if len(stable) > len(emitted) and stable.startswith(emitted):
                yield stable[len(emitted) :]
                emitted = stable
        self._thread.join()
        if self._error is not None:
            raise self._error
        if self._stop.is_set():
            return  # closed early: no complete result
        self.tokens = self._result[0]
        text = self._decode(self.tokens.token_ids)
        if len(text) > len(emitted) and text.startswith(emitted):
            yield text[len(emitted) :]

    def close(self) -> None:
        """Stop generating and wait for the thread: the model is free once this returns."""
        self._stop.set()
        self._thread.join()


def stream_generation(
    model: BioMedGPTForConditionalGeneration,
    batch: MultimodalBatch,
    decode: Callable[[list[int]], str],
    options: GenerationOptions | None = None,
    byte_fallback_ids: frozenset[int] = frozenset(),
) -> StreamedGeneration:
    """Start generating one request in a background thread; iterate the result for text."""
    return StreamedGeneration(
        model, batch, options or GenerationOptions(), decode, byte_fallback_ids
    )
