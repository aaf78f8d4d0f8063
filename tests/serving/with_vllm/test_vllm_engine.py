"""The real vLLM engine (CPU build) decodes BioMedGPT's embedded prompts as in-process
generation does, token for token, with many requests in flight; closing a stream aborts."""

from __future__ import annotations

import asyncio
import time

from tests.serving.with_vllm.mixed_requests import engine_request, mixed_requests

MAX_NEW_TOKENS = 24
HANG_GUARD_S = 120.0  # waits are for events; this only stops a hang


async def collect(engine, request) -> tuple[list[int], str | None, int]:
    """All tokens of one request, its finish reason and how many steps brought them."""
    tokens: list[int] = []
    reason, steps = None, 0
    async for step in engine.stream(request):
        tokens += step.token_ids
        steps += 1
        if step.finished:
            reason = step.finish_reason
    return tokens, reason, steps


def test_greedy_tokens_equal_in_process_generate_on_concurrent_mixed_requests(
    vllm_engine, vllm_biomedgpt
):
    requests = mixed_requests()
    assert len(requests) >= 12
    expected = vllm_biomedgpt.generate(requests, max_new_tokens=MAX_NEW_TOKENS, batch_size=4)
    engine_requests = [
        engine_request(vllm_biomedgpt, request, f"mixed-{index}", MAX_NEW_TOKENS)
        for index, request in enumerate(requests)
    ]

    async def all_at_once():
        return await asyncio.gather(*(collect(vllm_engine.engine, r) for r in engine_requests))

    answers = vllm_engine.run(all_at_once())
    for index, (reference, (tokens, reason, steps)) in enumerate(
        zip(expected, answers, strict=True)
    ):
        assert tokens == reference.token_ids, f"request {index}: {requests[index]}"
        assert reason == ("stop" if reference.finished else "length")
        assert steps > 1  # streamed as decoded, not handed over at the end
    assert len({tuple(reference.token_ids) for reference in expected}) > len(expected) // 2
    assert vllm_engine.engine.queue_depth() == 0


def test_a_stop_token_ends_the_answer_and_is_kept(vllm_engine, vllm_biomedgpt):
    request = mixed_requests()[0]
    reference = vllm_biomedgpt.generate(request, max_new_tokens=MAX_NEW_TOKENS)[0].token_ids
    stop = reference[5]
    first = reference.index(stop)
    tokens, reason, _ = vllm_engine.run(
        collect(
            vllm_engine.engine,
            engine_request(vllm_biomedgpt, request, "stop", MAX_NEW_TOKENS, stop_token_ids=(stop,)),
        )
    )
    assert tokens == reference[: first + 1]
    assert reason == "stop"


def test_closing_the_stream_aborts_the_request_in_vllm(vllm_engine, vllm_biomedgpt):
    engine = vllm_engine.engine
    request = mixed_requests()[1]
    long_request = engine_request(vllm_biomedgpt, request, "aborted", max_new_tokens=1500)

    async def read_two_steps_then_close():
        stream = engine.stream(long_request)
        received = []
        async for step in stream:
            received.append(step)
            if len(received) == 2:
                break
        in_flight_before_close = engine.queue_depth()
        await stream.aclose()
        deadline = time.monotonic() + HANG_GUARD_S
        while engine.has_unfinished():  # the abort reaches vLLM's engine process asynchronously
            assert time.monotonic() < deadline, "vLLM still holds the aborted request"
            await asyncio.sleep(0.05)
        return received, in_flight_before_close

    received, in_flight_before_close = vllm_engine.run(read_two_steps_then_close())
    assert len(received) == 2 and not received[-1].finished
    assert in_flight_before_close == 1
    assert engine.queue_depth() == 0
    assert not engine.has_unfinished()
    # the engine goes on serving: the next request answers in full
    follow_up = mixed_requests()[3]
    expected = vllm_biomedgpt.generate(follow_up, max_new_tokens=8)[0].token_ids
    tokens, _, _ = vllm_engine.run(
        collect(engine, engine_request(vllm_biomedgpt, follow_up, "after-abort", 8))
    )
    assert tokens == expected
