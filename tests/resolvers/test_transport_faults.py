"""Retries, timeouts and maintenance pages, with faults played by the local server."""

from __future__ import annotations

import time

import pytest

from biomedgpt_tools.resolvers import UnavailableError
from biomedgpt_tools.testing.resolver_server import Fault


def test_503_burst_is_retried_and_succeeds(make_resolver, resolver_server):
    resolver_server.inject(
        "pubchem", Fault.status(503), Fault.status(503, html=True), Fault.status(503)
    )
    record = make_resolver().molecule("CID 2244", details=False)
    assert record.cid == 2244 and record.smiles
    assert len(resolver_server.requests) == 4  # three refusals, then the answer


def test_uniprot_5xx_and_429_are_retried(make_resolver, resolver_server):
    resolver_server.inject("uniprot", Fault.status(500), Fault.status(502), Fault.status(429))
    assert make_resolver().protein("P04637").accession == "P04637"
    assert len(resolver_server.requests) == 4


def test_retry_after_is_honoured(make_resolver, resolver_server):
    resolver_server.inject("pubchem", Fault.status(503, retry_after=0.4))
    started = time.monotonic()
    make_resolver().molecule("CID 2244", details=False)
    first, second = resolver_server.requests
    assert second.time - first.time >= 0.4  # backoff alone would be <= 0.01 s here
    assert time.monotonic() - started < 3


def test_too_long_retry_after_gives_up_at_once(make_resolver, resolver_server):
    resolver_server.inject("pubchem", Fault.status(503, retry_after=120))
    with pytest.raises(UnavailableError, match="asked to wait 120 s"):
        make_resolver().molecule("CID 2244", details=False)
    assert len(resolver_server.requests) == 1


def test_persistent_outage_is_unavailable_not_a_traceback(make_resolver, resolver_server):
    resolver_server.inject("pubchem", *[Fault.status(503, html=True)] * 3)
    with pytest.raises(UnavailableError) as caught:
        make_resolver(max_retries=2).molecule("aspirin")
    message = caught.value.message
    assert "HTTP 503" in message and "HTML page" in message and "3 attempts" in message
    assert caught.value.to_json()["error"]["kind"] == "unavailable"
    assert len(resolver_server.requests) == 3


def test_client_errors_are_not_retried(make_resolver, resolver_server):
    resolver_server.inject("uniprot", Fault.status(404))
    with pytest.raises(Exception) as caught:
        make_resolver().protein("P04637")
    assert caught.value.kind == "not_found"
    assert len(resolver_server.requests) == 1


def test_hung_server_times_out_within_the_configured_limit(make_resolver, resolver_server):
    resolver_server.inject("pubchem", Fault.delay(5.0), Fault.delay(5.0))
    resolver = make_resolver(read_timeout_s=0.3, max_retries=1)
    started = time.monotonic()
    with pytest.raises(UnavailableError, match="timed out"):
        resolver.molecule("CID 2244", details=False)
    elapsed = time.monotonic() - started
    # two attempts of 0.3 s plus a <= 0.01 s backoff (~0.6 s); the upper bound is loose for a
    # busy machine and only has to stay below one of the server's 5 s answers
    assert 0.6 <= elapsed < 3.0
    assert len(resolver_server.requests) == 2


def test_deadline_bounds_the_whole_lookup(make_resolver, resolver_server):
    resolver_server.inject("uniprot", Fault.delay(5.0))
    resolver = make_resolver(read_timeout_s=30.0, deadline_s=0.5, max_retries=4)
    started = time.monotonic()
    with pytest.raises(UnavailableError):
        resolver.protein("P04637")
    # ~0.5 s; loose for a busy machine, still far below the 5 s delay x 5 attempts
    assert time.monotonic() - started < 2.5


def test_a_slow_answer_within_the_timeout_is_fine(make_resolver, resolver_server):
    resolver_server.inject("pubchem", Fault.delay(0.2))
    assert make_resolver(read_timeout_s=2.0).molecule("CID 2244", details=False).cid == 2244


async def test_async_retries_and_timeouts(make_resolver, resolver_server):
    resolver_server.inject("pubchem", Fault.status(503), Fault.delay(5.0))
    resolver = make_resolver(read_timeout_s=0.3)
    record = await resolver.amolecule("CID 2519", details=False)
    assert record.cid == 2519
    assert len(resolver_server.requests) == 3
    await resolver.aclose()


def test_outage_falls_back_to_the_bundled_snapshot_and_says_so(make_resolver, resolver_server):
    resolver_server.inject("pubchem", *[Fault.status(503)] * 2)
    record = make_resolver(use_snapshot=True, max_retries=1).molecule("aspirin")
    assert (record.cid, record.source) == (2244, "snapshot")
    assert "online service was unavailable" in record.note
