"""Serving on vLLM against in-process transformers generation, same weights, same greedy tokens.

Small preset (LM hidden 256 x 4 layers), fp32, CPU. Measured in one run, all on the same
32 mixed requests (molecules, proteins, both, text, two-turn; from bench_generation):

1. the reference's one-at-a-time loop, in-process batched generation (`BioMedGPT.generate`,
   one batch of 32) and the vLLM engine with all 32 in flight: tokens/s, p50/p95 latency,
   and a check that the three give the same tokens;
2. 64 requests of mixed lengths arriving as a Poisson stream (4/s, then 16/s): vLLM (continuous batching)
   against fixed batches of up to 8 (in-process; a batch runs until its longest answer
   ends, arrivals wait for the next one): makespan, mean latency and their ratio;
3. time to first token at 1 client, vLLM and in-process streaming;
4. throughput at 1, 4, 16 and 64 clients, each sending its next request when the last ends.

The vLLM side is `biomedgpt serve --engine vllm` in its own process, asked over HTTP
(streamed); section 1 is repeated on the bare engine (in process, no HTTP) to show what the
server adds. It needs vLLM: run in .venv-vllm, which this script switches to by itself
when started elsewhere (`make bench`).

    .venv-vllm/bin/python benchmarks/bench_serving.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
VLLM_PYTHON = REPO_ROOT / ".venv-vllm" / "bin" / "python"


def _switch_to_vllm_environment() -> None:
    """Re-run this script in .venv-vllm when vLLM is missing here (make bench runs .venv)."""
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        return
    if VLLM_PYTHON.is_file() and Path(sys.prefix).resolve() != VLLM_PYTHON.parents[1].resolve():
        environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        os.execve(str(VLLM_PYTHON), [str(VLLM_PYTHON), __file__, *sys.argv[1:]], environment)
    sys.exit("bench_serving needs vLLM: run `make vllm-env` (CPU) or install vllm (GPU)")


if __name__ == "__main__":
    _switch_to_vllm_environment()
    sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402

from benchmarks.bench_generation import mixed_requests, reference_loop  # noqa: E402
from biomedgpt_tools.model.api import BioMedGPT  # noqa: E402
from biomedgpt_tools.model.modeling_biomedgpt import build_multimodal_batch  # noqa: E402
from biomedgpt_tools.model.requests import GenerationRequest  # noqa: E402
from biomedgpt_tools.model.tiny import build_tiny_biomedgpt  # noqa: E402
from biomedgpt_tools.serving.engine import EngineRequest  # noqa: E402
from biomedgpt_tools.testing.ports import free_port  # noqa: E402
from biomedgpt_tools.testing.processes import stop_process, wait_until_healthy  # noqa: E402

FIXED_BATCH = 8
POISSON_RATES = (4.0, 16.0)  # requests/s


@torch.inference_mode()
def embed(biomedgpt: BioMedGPT, request: GenerationRequest) -> torch.Tensor:
    """What the server hands the engine: one row of LM input embeddings, (T, C)."""
    batch = build_multimodal_batch(
        [request.conversation()],
        biomedgpt.segments,
        int(biomedgpt.model.config.text_config.pad_token_id),
    )
    return biomedgpt.model.embed_batch(batch)[0].cpu()  # (T, C)


class VLLMSide:
    """The vLLM engine on its own event loop; requests are embedded here, as the server does."""

    def __init__(self, biomedgpt: BioMedGPT, model_dir: Path, max_num_seqs: int):
        from biomedgpt_tools.serving.llama_folder import derive_llama_folder
        from biomedgpt_tools.serving.vllm_engine import VLLMEngine

        self.biomedgpt = biomedgpt
        self.eos = int(biomedgpt.model.config.text_config.eos_token_id)
        self.engine = VLLMEngine(
            derive_llama_folder(model_dir, model_dir.parent / "lm"),
            dtype="float32",
            max_num_seqs=max_num_seqs,
            kv_cache_memory_bytes=1 << 30,
        )
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        started = time.perf_counter()
        self.run(self.engine.start())
        self.start_s = time.perf_counter() - started
        self._ids = 0

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    async def answer(self, request: GenerationRequest, max_new_tokens: int) -> dict:
        """Tokens, latency and time to first token of one request, embedding included."""
        started = time.perf_counter()
        self._ids += 1
        engine_request = EngineRequest(
            f"bench-{self._ids}", embed(self.biomedgpt, request), max_new_tokens, (self.eos,)
        )
        tokens: list[int] = []
        first = None
        async for step in self.engine.stream(engine_request):
            if first is None and step.token_ids:
                first = time.perf_counter() - started
            tokens += step.token_ids
        return {"tokens": tokens, "latency": time.perf_counter() - started, "ttft": first}

    def close(self) -> None:
        self.run(self.engine.close())
        self.loop.call_soon_threadsafe(self.loop.stop)


class ServerSide:
    """`biomedgpt serve --engine vllm` in its own process, asked over HTTP (streamed, so the
    time to first token is the client's); the same interface as VLLMSide."""

    def __init__(self, model_dir: Path, log_path: Path, max_concurrency: int):
        import subprocess

        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in close()
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "biomedgpt_tools", "serve", "--model", str(model_dir),
             "--engine", "vllm", "--dtype", "fp32", "--device", "cpu", "--kv-cache-gib", "1",
             "--port", str(port), "--max-concurrency", str(max_concurrency)],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "BIOMEDGPT_API_KEY": ""},
        )  # fmt: skip
        try:
            wait_until_healthy(self.process, self.url, log_path, timeout_s=600)
        except BaseException:  # not ready, or interrupted while waiting: leave no server behind
            stop_process(self.process)
            self._log.close()
            raise
        self.start_s = time.perf_counter() - started
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.client = self.run(self._client())

    async def _client(self):
        import httpx

        return httpx.AsyncClient(timeout=600, limits=httpx.Limits(max_connections=256))

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    async def answer(self, request: GenerationRequest, max_new_tokens: int) -> dict:
        import json

        from biomedgpt_tools.inference.wire import chat_request_body

        started = time.perf_counter()
        first, tokens = None, None
        body = chat_request_body(replace(request, max_new_tokens=max_new_tokens), stream=True)
        async with self.client.stream(
            "POST", f"{self.url}/v1/chat/completions", json=body
        ) as response:
            if response.status_code != 200:
                raise RuntimeError(
                    f"the server answered {response.status_code}: {await response.aread()}"
                )
            async for line in response.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                for choice in chunk["choices"]:
                    if first is None and choice["delta"].get("content"):
                        first = time.perf_counter() - started
                    if choice["finish_reason"]:
                        tokens = chunk["biomedgpt"]["token_ids"]
        return {"tokens": tokens, "latency": time.perf_counter() - started, "ttft": first}

    def close(self) -> None:
        self.run(self.client.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        stop_process(self.process, timeout=30)
        self._log.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def latency_line(latencies: list[float]) -> str:
    return f"p50 {percentile(latencies, 0.5):6.2f} s, p95 {percentile(latencies, 0.95):6.2f} s"


def bench_32_concurrent(biomedgpt, sides, requests, max_new_tokens) -> bool:
    """`sides`: (label, VLLMSide | ServerSide) pairs, each sent all requests at once."""
    print(f"\n-- {len(requests)} concurrent requests, {max_new_tokens} new tokens max, greedy")
    reference, reference_latencies = [], []  # all 32 sent at once: each waits for those before it
    started = time.perf_counter()
    for request in requests:
        reference += reference_loop(biomedgpt, [request], max_new_tokens)
        reference_latencies.append(time.perf_counter() - started)
    reference_s = time.perf_counter() - started

    started = time.perf_counter()
    batched = biomedgpt.generate(requests, batch_size=len(requests), max_new_tokens=max_new_tokens)
    batched_s = time.perf_counter() - started  # every request ends with the batch

    tokens = sum(len(ids) for ids in reference)
    same_batched = [result.token_ids for result in batched] == reference
    print(f"{tokens} new tokens in all; {len({tuple(t) for t in reference})} distinct outputs")
    print(
        f"reference loop (one at a time):  {reference_s:7.2f} s {tokens / reference_s:8.1f} tokens/s  {latency_line(reference_latencies)}"
    )
    print(
        f"in-process batched (batch {len(requests)}):  {batched_s:7.2f} s {tokens / batched_s:8.1f} tokens/s  p50 {batched_s:6.2f} s, p95 {batched_s:6.2f} s (one batch)"
    )
    ok = same_batched
    for label, side in sides:

        async def all_at_once(side=side):
            return await asyncio.gather(
                *(side.answer(request, max_new_tokens) for request in requests)
            )

        started = time.perf_counter()
        served = side.run(all_at_once())
        served_s = time.perf_counter() - started
        same = [answer["tokens"] for answer in served] == reference
        ok = ok and same
        print(
            f"{label + ':':32s} {served_s:7.2f} s {tokens / served_s:8.1f} tokens/s  {latency_line([a['latency'] for a in served])}"
        )
        print(
            f"   {label} / in-process batched: {batched_s / served_s:.2f}x tokens/s; / reference loop: {reference_s / served_s:.2f}x; same tokens: {same}"
        )
    print(f"same tokens, in-process batched: {same_batched}")
    return ok


def poisson_stream(requests, count, rate_per_s, seed=0):
    """(arrival time, request, max_new_tokens) for `count` requests, lengths 16-128 tokens."""
    rng = random.Random(seed)
    arrivals, clock = [], 0.0
    for index in range(count):
        clock += rng.expovariate(rate_per_s)
        arrivals.append((clock, requests[index % len(requests)], rng.choice((16, 32, 64, 128))))
    return arrivals


def fixed_batches(biomedgpt, arrivals) -> tuple[float, list[float], list[list[int]]]:
    """Batches of up to FIXED_BATCH of what has arrived; a batch runs to its longest answer."""
    started = time.perf_counter()
    latencies = [0.0] * len(arrivals)
    outputs: list[list[int]] = [[] for _ in arrivals]
    waiting = list(range(len(arrivals)))
    while waiting:
        now = time.perf_counter() - started
        if arrivals[waiting[0]][0] > now:
            time.sleep(arrivals[waiting[0]][0] - now)
            now = time.perf_counter() - started
        ready = [index for index in waiting if arrivals[index][0] <= now][:FIXED_BATCH]
        longest = max(arrivals[index][2] for index in ready)
        results = biomedgpt.generate(
            [arrivals[index][1] for index in ready], batch_size=FIXED_BATCH, max_new_tokens=longest
        )
        finished = time.perf_counter() - started
        for index, result in zip(ready, results, strict=True):
            outputs[index] = result.token_ids[: arrivals[index][2]]
            latencies[index] = finished - arrivals[index][0]
            waiting.remove(index)
    return time.perf_counter() - started, latencies, outputs


def continuous(vllm, arrivals) -> tuple[float, list[float], list[list[int]]]:
    async def arrive(arrival, request, max_new_tokens, started):
        await asyncio.sleep(max(0.0, arrival - (time.perf_counter() - started)))
        return await vllm.answer(request, max_new_tokens)

    async def stream():
        started = time.perf_counter()
        answers = await asyncio.gather(*(arrive(*item, started) for item in arrivals))
        return time.perf_counter() - started, answers

    makespan, answers = vllm.run(stream())
    return makespan, [a["latency"] for a in answers], [a["tokens"] for a in answers]


def trimmed(tokens: list[int], eos: int) -> list[int]:
    return tokens[: tokens.index(eos) + 1] if eos in tokens else tokens


def bench_poisson(biomedgpt, vllm, requests, count, rate) -> bool:
    arrivals = poisson_stream(requests, count, rate)
    print(
        f"\n-- {count} requests arriving as a Poisson stream ({rate:.1f}/s), 16-128 new tokens each"
    )
    fixed_s, fixed_latencies, fixed_tokens = fixed_batches(biomedgpt, arrivals)
    cont_s, cont_latencies, cont_tokens = continuous(vllm, arrivals)
    eos = int(biomedgpt.model.config.text_config.eos_token_id)
    same = [trimmed(t, eos) for t in fixed_tokens] == [trimmed(t, eos) for t in cont_tokens]
    tokens = sum(len(t) for t in cont_tokens)
    print(
        f"fixed batches of {FIXED_BATCH} (in-process): makespan {fixed_s:7.2f} s, {tokens / fixed_s:7.1f} tokens/s, mean latency {statistics.mean(fixed_latencies):6.2f} s, {latency_line(fixed_latencies)}"
    )
    print(
        f"continuous (vLLM server):      makespan {cont_s:7.2f} s, {tokens / cont_s:7.1f} tokens/s, mean latency {statistics.mean(cont_latencies):6.2f} s, {latency_line(cont_latencies)}"
    )
    print(
        f"continuous / fixed: {fixed_s / cont_s:.2f}x throughput, {statistics.mean(fixed_latencies) / statistics.mean(cont_latencies):.2f}x lower mean latency; same tokens: {same}"
    )
    return same


def bench_ttft(biomedgpt, vllm, request, max_new_tokens) -> None:
    print("\n-- time to first token, 1 client")
    vllm_ttft = [vllm.run(vllm.answer(request, max_new_tokens))["ttft"] for _ in range(5)]
    local_ttft = []
    for _ in range(5):
        started = time.perf_counter()
        stream = biomedgpt.stream(request, max_new_tokens=max_new_tokens)
        for _piece in stream:
            local_ttft.append(time.perf_counter() - started)
            break
        stream.close()
    print(f"vLLM server (HTTP):   median {statistics.median(vllm_ttft) * 1000:7.1f} ms (5 runs)")
    print(f"in-process streaming: median {statistics.median(local_ttft) * 1000:7.1f} ms (5 runs)")


def bench_clients(vllm, requests, max_new_tokens, per_client_total) -> None:
    print(
        f"\n-- throughput by clients (closed loop, {per_client_total} requests in all, {max_new_tokens} new tokens max)"
    )

    async def clients(count):
        queue = list(range(per_client_total))

        async def client():
            done = []
            while queue:
                index = queue.pop()
                done.append(await vllm.answer(requests[index % len(requests)], max_new_tokens))
            return done

        started = time.perf_counter()
        results = await asyncio.gather(*(client() for _ in range(count)))
        elapsed = time.perf_counter() - started
        answers = [answer for done in results for answer in done]
        return elapsed, answers

    for count in (1, 4, 16, 64):
        elapsed, answers = vllm.run(clients(count))
        tokens = sum(len(a["tokens"]) for a in answers)
        print(
            f"{count:3d} clients: {tokens / elapsed:8.1f} tokens/s, {len(answers) / elapsed:6.2f} requests/s, {latency_line([a['latency'] for a in answers])}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer tokens and requests, for a smoke run"
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="torch CPU threads in this process (default 1)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    max_new_tokens = 32 if args.quick else 128
    poisson_count = 16 if args.quick else 64
    client_total = 16 if args.quick else 64

    with tempfile.TemporaryDirectory() as workdir:
        root = Path(workdir)
        biomedgpt = build_tiny_biomedgpt(root / "assets", seed=0, preset="small")
        model_dir = biomedgpt.save_pretrained(root / "model")
        requests = mixed_requests(32)
        text = biomedgpt.model.config.text_config
        print(
            f"model: small preset (LM hidden {text.hidden_size} x {text.num_hidden_layers} layers, head_dim {text.hidden_size // text.num_attention_heads}), fp32, {torch.get_num_threads()} torch thread(s) here"
        )
        import vllm as vllm_module

        print(f"vLLM {vllm_module.__version__}")
        reference_loop(biomedgpt, requests[:1], 2)  # warm-ups: no first-call costs timed
        biomedgpt.generate(requests[:2], max_new_tokens=2)
        server = ServerSide(model_dir, root / "serve.log", max_concurrency=64)
        try:
            print(f"biomedgpt serve --engine vllm ready in {server.start_s:.1f} s")
            server.run(server.answer(requests[0], 2))
            ok = bench_32_concurrent(
                biomedgpt, [("vLLM server (HTTP)", server)], requests, max_new_tokens
            )
            for rate in POISSON_RATES:  # below and above what fixed batches keep up with
                ok = bench_poisson(biomedgpt, server, requests, poisson_count, rate=rate) and ok
            bench_ttft(biomedgpt, server, requests[2], max_new_tokens)
            bench_clients(server, requests, max_new_tokens, client_total)
        finally:
            server.close()
        # the bare engine (no HTTP, encoders in this process), for what the server adds
        engine = VLLMSide(biomedgpt, model_dir, max_num_seqs=64)
        try:
            print(f"\nbare vLLM engine (in process) started in {engine.start_s:.1f} s")
            engine.run(engine.answer(requests[0], 2))
            ok = (
                bench_32_concurrent(
                    biomedgpt, [("bare vLLM engine", engine)], requests, max_new_tokens
                )
                and ok
            )
        finally:
            engine.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
