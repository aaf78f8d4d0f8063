"""ServiceTransport on httpx.MockTransport: the real default delays (slept on a fake clock),
and answers the local server cannot produce (a 200 HTML page, a non-JSON body)."""

from __future__ import annotations

import random
import subprocess
import sys

import httpx
import pytest

from biomedgpt_tools.resolvers import OfflineError, UnavailableError
from biomedgpt_tools.resolvers.rate_limit import RateLimiter
from biomedgpt_tools.resolvers.settings import ResolverSettings
from biomedgpt_tools.resolvers.transport import HttpRequest, ServiceTransport

REQUEST = HttpRequest("pubchem", "GET", "compound/cid/2244/property/SMILES/JSON")


def _transport(
    handler, settings: ResolverSettings | None = None
) -> tuple[ServiceTransport, list[float], list[httpx.Request]]:
    slept: list[float] = []
    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request, len(seen))

    settings = settings or ResolverSettings()
    transport = ServiceTransport(
        "pubchem",
        "http://pubchem.test/rest/pug",
        settings,
        limiter=RateLimiter(settings.pubchem_rate),
        rng=random.Random(7),
        sleep=slept.append,
    )
    transport._client = httpx.Client(transport=httpx.MockTransport(recording))
    return transport, slept, seen


def test_default_retry_delays_follow_the_backoff_schedule():
    transport, slept, seen = _transport(
        lambda request, n: httpx.Response(503, json={"Fault": {"Code": "PUGREST.ServerBusy"}})
    )
    with pytest.raises(UnavailableError, match="5 attempts"):
        transport.send(REQUEST)
    assert len(seen) == 5  # 1 + max_retries (4)
    bands = [
        (0.25, 0.5),
        (0.5, 1.0),
        (1.0, 2.0),
        (2.0, 4.0),
    ]  # defaults: base 0.5 s, x2, equal jitter
    assert len(slept) == 4
    for delay, (low, high) in zip(slept, bands, strict=True):
        assert low <= delay <= high


def test_retry_after_header_sets_the_delay():
    def handler(request, n):
        if n == 1:
            return httpx.Response(429, headers={"Retry-After": "7"}, json={})
        return httpx.Response(200, json={"PropertyTable": {"Properties": []}})

    transport, slept, _ = _transport(handler)
    assert transport.send(REQUEST).status == 200
    assert slept == [7.0]


def test_html_with_200_is_not_data():
    page = "<!DOCTYPE html><html><body>PubChem is down for maintenance</body></html>"
    transport, slept, seen = _transport(
        lambda request, n: httpx.Response(200, text=page, headers={"Content-Type": "text/html"}),
        ResolverSettings(max_retries=1),
    )
    with pytest.raises(UnavailableError, match="HTML page"):
        transport.send(REQUEST)
    assert len(seen) == 2


def test_html_404_from_a_proxy_is_unavailable_not_not_found():
    transport, _, seen = _transport(
        lambda request, n: httpx.Response(
            404, text="<html>gateway</html>", headers={"Content-Type": "text/html"}
        )
    )
    with pytest.raises(UnavailableError, match="HTML"):
        transport.send(REQUEST)
    assert len(seen) == 1


def test_garbled_json_is_retried_then_unavailable():
    transport, _, seen = _transport(
        lambda request, n: httpx.Response(200, text='{"PropertyTable": '),
        ResolverSettings(max_retries=2),
    )
    with pytest.raises(UnavailableError, match="not JSON"):
        transport.send(REQUEST)
    assert len(seen) == 3


def test_offline_transport_never_builds_a_client():
    transport = ServiceTransport("pubchem", "http://pubchem.test", ResolverSettings(offline=True))
    with pytest.raises(OfflineError, match="offline mode"):
        transport.send(REQUEST)
    assert transport._client is None


def test_async_uses_the_same_rules():
    import asyncio

    async def run() -> int:
        transport = ServiceTransport(
            "pubchem",
            "http://pubchem.test/rest/pug",
            ResolverSettings(backoff_base_s=0.001),
            limiter=RateLimiter(ResolverSettings().pubchem_rate),
        )
        calls = []

        def handler(request):
            calls.append(request)
            return httpx.Response(503 if len(calls) < 3 else 200, json={})

        transport._async_clients[asyncio.get_running_loop()] = httpx.AsyncClient(
            transport=httpx.MockTransport(handler)
        )
        response = await transport.send_async(REQUEST)
        await transport.aclose()
        return response.status, len(calls)

    assert asyncio.run(run()) == (200, 3)


def test_resolvers_import_no_torch():
    code = "import sys, biomedgpt_tools.resolvers, biomedgpt_tools.cli.resolve; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
