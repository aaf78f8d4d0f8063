"""Fixtures for the resolver client tests: a fresh local PubChem/UniProt server per test and
resolvers pointed at it with short, configurable delays (the real delays' math is tested
separately in test_backoff_and_limits.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from biomedgpt_tools.resolvers import Resolver, ResolverSettings
from biomedgpt_tools.resolvers.rate_limit import RateLimiter
from biomedgpt_tools.testing.resolver_server import ResolverTestServer


@pytest.fixture(scope="module")
def _module_server() -> Iterator[ResolverTestServer]:
    # one server per test module: its shutdown waits for a 0.5 s poll, too slow per test
    with ResolverTestServer() as server:
        yield server


@pytest.fixture
def resolver_server(_module_server: ResolverTestServer) -> Iterator[ResolverTestServer]:
    """The module's server with no requests recorded yet; faults must be used up by the test."""
    _module_server.clear_requests()
    _module_server.throttling = None
    yield _module_server
    leftover = {s: _module_server.pending_faults(s) for s in ("pubchem", "uniprot")}
    _module_server.throttling = None
    assert not any(leftover.values()), f"test left injected faults unused: {leftover}"


@pytest.fixture
def make_resolver(resolver_server: ResolverTestServer, tmp_path: Path):
    """Resolver(**setting overrides) against the test server, own cache dir, own rate limiters."""
    made: list[Resolver] = []

    def make(**overrides: object) -> Resolver:
        settings = ResolverSettings(
            pubchem_url=resolver_server.pubchem_url,
            uniprot_url=resolver_server.uniprot_url,
            cache_dir=tmp_path / "cache",
            read_timeout_s=5.0,
            backoff_base_s=0.01,
            backoff_max_s=0.05,
            use_snapshot=False,  # tests of the snapshot turn it on explicitly
        ).with_changes(**overrides)
        resolver = Resolver(settings)
        for transport in resolver.transports.values():  # a test's slowdown never leaks to another
            transport.limiter = RateLimiter(transport.limiter.policy)
        made.append(resolver)
        return resolver

    yield make
    for resolver in made:
        resolver.close()


@pytest.fixture
def server_env(resolver_server: ResolverTestServer, monkeypatch) -> ResolverTestServer:
    """Point the environment (module-level API, CLI) at the test server."""
    monkeypatch.setenv("BIOMEDGPT_PUBCHEM_URL", resolver_server.pubchem_url)
    monkeypatch.setenv("BIOMEDGPT_UNIPROT_URL", resolver_server.uniprot_url)
    monkeypatch.delenv("BIOMEDGPT_OFFLINE", raising=False)
    return resolver_server
