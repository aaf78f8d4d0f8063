"""Politeness measured by the server: 100 concurrent lookups (threads + asyncio) stay <= 5/s."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from biomedgpt_tools.resolvers import NotFoundError


def _cids(server, count: int) -> list[int]:
    known = [m["cid"] for m in server.entities.raw["molecules"]]
    unknown = [900_000_000 + i for i in range(count)]  # 404s are requests too
    return (known + unknown)[:count]


@pytest.mark.slow
def test_100_concurrent_lookups_from_threads_and_tasks_never_exceed_5_per_second(
    make_resolver, resolver_server
):
    resolver = make_resolver(use_cache=False)
    resolver_server.pubchem_rate_limit = 5  # the server refuses (503) anything faster
    cids = _cids(resolver_server, 100)
    thread_cids, task_cids = cids[:50], cids[50:]

    def lookup(cid: int) -> int | None:
        try:
            return resolver.molecule(f"CID {cid}", details=False).cid
        except NotFoundError:
            return None

    async def lookup_async(cid: int) -> int | None:
        try:
            return (await resolver.amolecule(f"CID {cid}", details=False)).cid
        except NotFoundError:
            return None

    async def tasks() -> list[int | None]:
        try:
            return await asyncio.gather(*(lookup_async(cid) for cid in task_cids))
        finally:
            await resolver.aclose()

    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            from_threads = pool.map(lookup, thread_cids)  # threads and tasks run at the same time
            from_tasks = asyncio.run(tasks())
            from_threads = list(from_threads)
    finally:
        resolver_server.pubchem_rate_limit = None
    found = [c for c in from_threads + from_tasks if c is not None]
    assert len(found) == len(resolver_server.entities.raw["molecules"])
    requests = [r for r in resolver_server.requests if r.service == "pubchem"]
    assert len(requests) == 100  # no request was refused and retried
    assert resolver_server.max_requests_in_window("pubchem", seconds=1.0) <= 5


def test_yellow_throttling_slows_the_client_down(make_resolver, resolver_server):
    resolver_server.throttling = "Yellow"
    resolver = make_resolver(use_cache=False)
    for cid in _cids(resolver_server, 5):
        resolver.molecule(f"CID {cid}", details=False)
    assert resolver.transports["pubchem"].limiter.slowdown == 2
    assert resolver_server.max_requests_in_window("pubchem", seconds=1.0) <= 2


def test_red_throttling_slows_down_more_and_green_recovers(make_resolver, resolver_server):
    resolver_server.throttling = "Red"
    resolver = make_resolver(use_cache=False)
    resolver.molecule("CID 2244", details=False)
    limiter = resolver.transports["pubchem"].limiter
    assert limiter.slowdown == 5 and limiter.limits()[0][1] == 1
    resolver_server.throttling = "Green"
    resolver.molecule("CID 2519", details=False)  # waits ~1 s for the Red budget, then recovers
    assert limiter.slowdown == 1
