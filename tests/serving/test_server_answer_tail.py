"""The server's stream when decoding rewrites text already sent (spacing clean-up): the deltas
still join to the answer cut from the whole decode, or, where that would take text back, the
server logs it and returns the whole answer (answer_text.missing_tail, as the model's stream)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import torch

from biomedgpt_tools.serving.engine import EngineRequest, EngineStep
from biomedgpt_tools.serving.server import ModelServer, PreparedRequest


class OneTokenAStep:
    """An engine that emits tokens 1..n, one per step, the last one finishing the request."""

    def __init__(self, n: int):
        self.n = n

    async def stream(self, request: EngineRequest):
        for token in range(1, self.n + 1):
            last = token == self.n
            yield EngineStep((token,), finished=last, finish_reason="stop" if last else None)


def _generate(texts: tuple[str, ...]):
    """Run ModelServer.generate where the first k tokens decode to texts[k - 1]."""
    server = ModelServer(lambda: None, lambda model: None, engine_name="scripted")
    segments = SimpleNamespace(
        decode=lambda ids: texts[len(list(ids)) - 1] if ids else "",
        byte_fallback_ids=frozenset(),
    )
    server.model = SimpleNamespace(segments=segments)
    server.engine = OneTokenAStep(len(texts))
    prepared = PreparedRequest(
        "prompt", EngineRequest("r1", torch.zeros(3, 4), max_new_tokens=8, stop_token_ids=(0,))
    )
    deltas: list[str] = []
    generated = asyncio.run(server.generate(prepared, deltas.append))
    return deltas, generated


def test_a_rewrite_mid_stream_still_ends_on_the_whole_answer():
    deltas, generated = _generate(
        ("It", "It is", "It is x ", "It is x. Yes", "It is x. Yes indeed")
    )
    assert generated.text == "It is x. Yes indeed"
    assert "".join(deltas) == generated.text  # the held-back rest is sent once decoding ends
    assert len(deltas) > 1


def test_a_stream_that_cannot_end_on_the_answer_says_so_and_returns_it(caplog):
    deltas, generated = _generate(("It", "It is", "It is x", "Itis x y", "Itis x y z"))
    assert generated.text == "Itis x y z"  # the truth, not what happened to be sent
    assert "".join(deltas) == "It is x"  # sent before the rewrite, never taken back
    assert "decoding rewrote text already sent" in caplog.text
