"""MCP call overhead: a memory hit through `biomedgpt mcp` (stdio and streamable HTTP, each a
real server process) and through the SDK's in-process client, against calling the LangChain
tool (`MoleculeQA.ainvoke`) directly in this process.

All four answer the same question from the same store (the tiny model answered it once
first), so what differs is the MCP framing, the SDK's validation and the transport. The
resolvers ask the local test server (biomedgpt_tools/testing/resolver_server), then their cache.

    python benchmarks/bench_mcp.py [--quick]

Runtime: about 40 s on 2 cores (--quick: ~30 s), most of it starting the two server processes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("BIOMEDGPT_EMBED_THREADS", "1")

from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402

from biomedgpt_tools.testing.ports import free_port  # noqa: E402
from biomedgpt_tools.testing.processes import stop_process  # noqa: E402
from biomedgpt_tools.testing.resolver_server import ResolverTestServer  # noqa: E402

ARGUMENTS = {"molecule": "aspirin"}
SERVER_COMMAND = [sys.executable, "-m", "biomedgpt_tools", "mcp"]


def summary(samples_s: list[float]) -> tuple[float, str]:
    ms = sorted(sample * 1000 for sample in samples_s)
    p50 = statistics.median(ms)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return p50, f"p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  (n={len(ms)})"


async def time_calls(call, repeats: int) -> list[float]:
    await call()  # warm-up: imports, model identity, resolver cache
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return samples


async def direct_and_in_process(repeats: int) -> dict[str, list[float]]:
    from biomedgpt_tools.mcp_server import build_server
    from biomedgpt_tools.tools.toolkit import BioMedGPTToolkit

    toolkit = BioMedGPTToolkit.from_env()
    try:
        molecule_qa = toolkit.get_tools()[0]
        first = await molecule_qa.ainvoke(
            {"type": "tool_call", "id": "b0", "name": molecule_qa.name, "args": ARGUMENTS}
        )
        assert first.artifact.answered_by == "model", first.content

        async def direct():
            message = await molecule_qa.ainvoke(
                {"type": "tool_call", "id": "b1", "name": molecule_qa.name, "args": ARGUMENTS}
            )
            assert message.artifact.answered_by == "memory"

        results = {"LangChain tool, direct (baseline)": await time_calls(direct, repeats)}
        async with Client(build_server(toolkit)) as client:
            results["MCP, in-process SDK client"] = await time_calls(
                lambda: _mcp_call(client), repeats
            )
        return results
    finally:
        toolkit.close()


async def _mcp_call(client: Client) -> None:
    result = await client.call_tool("molecule_qa", ARGUMENTS)
    assert not result.is_error and result.structured_content["answered_by"] == "memory"


async def over_stdio(repeats: int) -> list[float]:
    parameters = StdioServerParameters(
        command=SERVER_COMMAND[0], args=SERVER_COMMAND[1:], env=dict(os.environ)
    )
    async with Client(stdio_client(parameters)) as client:
        return await time_calls(lambda: _mcp_call(client), repeats)


async def over_http(repeats: int) -> list[float]:
    port = free_port()
    process = subprocess.Popen(
        [*SERVER_COMMAND, "--transport", "streamable-http", "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the HTTP server did not start") from None
                await asyncio.sleep(0.2)
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            return await time_calls(lambda: _mcp_call(client), repeats)
    finally:
        stop_process(process)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer calls")
    args = parser.parse_args()
    repeats = 20 if args.quick else 100

    from biomedgpt_tools.model.tiny import build_tiny_biomedgpt

    with ResolverTestServer() as server, tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        build_tiny_biomedgpt(home / "assets").save_pretrained(home / "model")
        os.environ.update(
            BIOMEDGPT_HOME=str(home / "home"),
            BIOMEDGPT_CACHE_DIR=str(home / "home" / "cache"),
            BIOMEDGPT_MODEL=str(home / "model"),
            BIOMEDGPT_PUBCHEM_URL=server.pubchem_url,
            BIOMEDGPT_UNIPROT_URL=server.uniprot_url,
        )
        server.throttling = "Green"
        # one process at a time holds the embedded store: direct first, then each server
        results = asyncio.run(direct_and_in_process(repeats))
        results["MCP over stdio (server process)"] = asyncio.run(over_stdio(repeats))
        results["MCP over streamable HTTP (server process)"] = asyncio.run(over_http(repeats))

    print(f"\n[memory hit: molecule_qa {ARGUMENTS}] {repeats} calls each, after one warm-up")
    baseline, _ = summary(results["LangChain tool, direct (baseline)"])
    for label, samples in results.items():
        p50, text = summary(samples)
        extra = (
            ""
            if p50 == baseline
            else f"  overhead {p50 - baseline:+7.2f} ms ({p50 / baseline:.2f}x)"
        )
        print(f"  {label:<44} {text}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
