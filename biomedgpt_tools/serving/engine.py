"""The contract between the model server and the engine that decodes for it.

The server owns what is BioMedGPT-specific (the prompt, the encoders, the soft tokens) and
hands each engine one row of the LM's input embeddings. An engine only decodes: the
transformers engine batches rows itself; the vLLM engine gives them to vLLM's scheduler.
Keeping the contract this small is what lets both engines answer token for token alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import torch


@dataclass(frozen=True)
class EngineRequest:
    """One conversation to decode, already embedded by the server."""

    request_id: str
    prompt_embeds: torch.Tensor  # (T, C) on CPU, in the LM's dtype
    max_new_tokens: int
    stop_token_ids: tuple[int, ...]  # eos; decoding stops after emitting one of these
    temperature: float = 0.0  # 0 is greedy
    top_p: float = 1.0
    seed: int | None = None


@dataclass(frozen=True)
class EngineStep:
    """What one request produced since the last step."""

    token_ids: tuple[int, ...]  # the new tokens only
    finished: bool  # True on the last step of the request
    finish_reason: str | None = None  # "stop" (a stop token) or "length" on the last step


class Engine(Protocol):
    """Decodes embedded requests; many may be in flight at once."""

    name: str  # "vllm" or "transformers"

    async def start(self) -> None:
        """Load and warm up; the server answers /health "loading" until this returns."""

    def stream(self, request: EngineRequest) -> AsyncIterator[EngineStep]:
        """Steps of one request. Closing the iterator early aborts the request."""

    def queue_depth(self) -> int:
        """Requests accepted and not yet finished (for /metrics and back-pressure)."""

    async def close(self) -> None:
        """Abort what is in flight and free the engine."""
