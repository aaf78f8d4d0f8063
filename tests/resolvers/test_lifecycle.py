"""What resolvers own and give back: the shared-resolver registry, async HTTP clients, and
where the cache lives (BIOMEDGPT_CACHE_DIR, then BIOMEDGPT_HOME)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import platformdirs

import biomedgpt_tools.resolvers as resolvers_module
from biomedgpt_tools.resolvers import Resolver, ResolverSettings, default_resolver
from biomedgpt_tools.resolvers.settings import default_cache_dir
from biomedgpt_tools.resolvers.transport import ServiceTransport


# --- where the cache lives -------------------------------------------------------------------
def test_cache_dir_override_wins_over_home(monkeypatch, tmp_path):
    monkeypatch.setenv("BIOMEDGPT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BIOMEDGPT_CACHE_DIR", str(tmp_path / "explicit"))
    assert default_cache_dir() == tmp_path / "explicit"


def test_home_is_the_root_of_the_cache_when_no_cache_dir_is_set(monkeypatch, tmp_path):
    monkeypatch.setenv("BIOMEDGPT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BIOMEDGPT_CACHE_DIR")
    assert default_cache_dir() == tmp_path / "home" / "resolver-cache"
    assert ResolverSettings.from_env().resolved_cache_dir == tmp_path / "home" / "resolver-cache"


def test_platform_data_dir_when_neither_is_set(monkeypatch):
    monkeypatch.delenv("BIOMEDGPT_HOME")
    monkeypatch.delenv("BIOMEDGPT_CACHE_DIR")
    expected = Path(platformdirs.user_data_dir("biomedgpt", appauthor=False)) / "resolver-cache"
    assert default_cache_dir() == expected


# --- the shared resolvers ----------------------------------------------------------------------
def test_default_resolvers_evict_the_least_recently_used_and_close_none(monkeypatch, tmp_path):
    monkeypatch.setattr(resolvers_module, "_RESOLVERS", {})
    closed: list[Resolver] = []
    monkeypatch.setattr(Resolver, "close", lambda self: closed.append(self))

    def shared(i: int) -> Resolver:
        monkeypatch.setenv("BIOMEDGPT_CACHE_DIR", str(tmp_path / f"cache{i}"))
        return default_resolver(offline=True)

    made = [shared(i) for i in range(resolvers_module._MAX_RESOLVERS)]
    assert shared(0) is made[0]  # a hit: now the most recently used
    newest = shared(99)  # full: the least recently used one (made[1]) is forgotten
    kept = list(resolvers_module._RESOLVERS.values())
    assert len(kept) == resolvers_module._MAX_RESOLVERS
    assert made[1] not in kept
    assert made[0] in kept and made[-1] in kept and newest in kept
    assert closed == []  # another thread may still be using the evicted one
    assert shared(1) is not made[1]


# --- async HTTP clients -------------------------------------------------------------------------
def _transport() -> ServiceTransport:
    return ServiceTransport("pubchem", "http://pubchem.test/rest/pug", ResolverSettings())


async def _client_of_this_loop(transport: ServiceTransport):
    return transport._async_client()


def test_close_closes_the_async_client_of_an_idle_loop():
    transport = _transport()
    loop = asyncio.new_event_loop()
    try:
        client = loop.run_until_complete(_client_of_this_loop(transport))
        assert not client.is_closed
        transport.close()
        assert client.is_closed
        assert transport._async_clients == {}
    finally:
        loop.close()


def test_close_drops_the_client_of_a_closed_loop_without_error():
    transport = _transport()
    loop = asyncio.new_event_loop()
    loop.run_until_complete(_client_of_this_loop(transport))
    loop.close()
    transport.close()  # nothing can run on a closed loop: dropped, not awaited
    assert transport._async_clients == {}


def test_close_reaches_a_loop_running_in_another_thread():
    transport = _transport()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        client = asyncio.run_coroutine_threadsafe(_client_of_this_loop(transport), loop).result(5)
        transport.close()
        deadline = time.monotonic() + 5
        while not client.is_closed and time.monotonic() < deadline:
            time.sleep(0.01)
        assert client.is_closed
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_resolver_aclose_closes_every_loops_client():
    resolver = Resolver(ResolverSettings(offline=True))
    transport = resolver.transports["uniprot"]
    other_loop = asyncio.new_event_loop()
    try:
        other = other_loop.run_until_complete(_client_of_this_loop(transport))

        async def use_and_close():
            mine = transport._async_client()
            await resolver.aclose()
            return mine

        mine = asyncio.run(use_and_close())
        assert mine.is_closed and other.is_closed
    finally:
        other_loop.close()
