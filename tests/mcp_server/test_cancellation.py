"""A cancelled call stops the model: decoding ends at the next token, not at max_new_tokens."""

from __future__ import annotations

import time

import anyio
from mcp import Client

import biomedgpt_tools.model.api as model_api
from biomedgpt_tools.mcp_server import build_server
from tests.local_services import make_toolkit

LONG_ANSWER_TOKENS = 1500  # the tiny model never stops by itself: ~20 s of decoding on 2 cores


async def test_cancelling_a_call_stops_generation_and_the_server_answers_the_next(
    resolver_env, tiny_model, monkeypatch
):
    generations = []

    def recorded_stream_generation(*args, **kwargs):
        generations.append(stream_generation(*args, **kwargs))
        return generations[-1]

    stream_generation = model_api.stream_generation
    monkeypatch.setattr(model_api, "stream_generation", recorded_stream_generation)
    toolkit = make_toolkit(tiny_model, max_new_tokens=LONG_ANSWER_TOKENS)
    try:
        async with Client(build_server(toolkit)) as client:
            generating = anyio.Event()

            async def on_progress(value, total, message):
                if message and message.startswith("generating"):
                    generating.set()

            async with anyio.create_task_group() as group:

                async def ask() -> None:
                    await client.call_tool(
                        "biomed_qa", {"question": "What is COPD?"}, progress_callback=on_progress
                    )
                    raise AssertionError("the call finished although it was cancelled")

                group.start_soon(ask)
                with anyio.fail_after(60):
                    await generating.wait()
                group.cancel_scope.cancel()

            deadline = time.monotonic() + 30
            while toolkit.backend._generate_lock.locked() and time.monotonic() < deadline:
                await anyio.sleep(0.02)
            assert not toolkit.backend._generate_lock.locked()
            (generation,) = generations
            assert generation.tokens is None  # closed early: no complete answer
            assert len(generation.token_ids) < LONG_ANSWER_TOKENS // 2
            assert toolkit.backend.answer_calls == 0  # nothing was answered, nothing stored

            found = await client.call_tool("search_memory", {"query": "COPD"})
            assert not found.is_error and found.structured_content["hits"] == []
            resolved = await client.call_tool("resolve_molecule", {"molecule": "caffeine"})
            assert not resolved.is_error
    finally:
        toolkit.close()
