"""HTTP for one service: timeouts, retries with backoff and jitter, Retry-After, rate limit.

`ServiceTransport.send()` (sync, thread-safe) and `send_async()` return a parsed response for
any answer the protocol code must interpret (2xx, 3xx, 4xx) and raise UnavailableError when
the service cannot answer: 5xx/429/timeouts/connection errors after retries, or an HTML page
(a maintenance notice is not data). Offline mode raises OfflineError before any socket opens.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from biomedgpt_tools.resolvers.outcomes import OfflineError, UnavailableError
from biomedgpt_tools.resolvers.rate_limit import RateLimiter
from biomedgpt_tools.resolvers.settings import ResolverSettings
from biomedgpt_tools.resolvers.shared_rate_limit import SharedRateLimiter, shared_limiter

Service = Literal["pubchem", "uniprot"]
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class HttpRequest:
    """One request, relative to the service's base URL (or absolute, for UniProt's Link/Location)."""

    service: Service
    method: Literal["GET", "POST"]
    path: str
    params: dict[str, str] | None = None
    form: dict[str, str] | None = None  # sent form-encoded: names, SMILES, InChI, CID lists

    def describe(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class HttpResponse:
    status: int
    url: str
    headers: dict[str, str]
    body: Any = None  # parsed JSON (None when the body was empty)
    text: str = ""
    request: HttpRequest | None = field(default=None, repr=False)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def backoff_delay(
    attempt: int,
    *,
    base_s: float,
    max_s: float,
    retry_after_s: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Delay before retry number `attempt + 1`: exponential with "equal jitter", Retry-After wins.

    ceiling = min(max_s, base_s * 2**attempt); delay = uniform(ceiling/2, ceiling), so
    concurrent clients spread out but never retry sooner than half the ceiling. A server's
    Retry-After is a floor: the delay is at least what it asked for.
    """
    ceiling = min(max_s, base_s * (2**attempt))
    rng = rng or random
    delay = rng.uniform(ceiling / 2, ceiling)
    if retry_after_s is not None:
        delay = max(delay, retry_after_s)
    return delay


def _looks_like_html(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "").lower()
    if "html" in content_type:
        return True
    head = response.content[:200].lstrip().lower()
    return head.startswith(b"<!doctype html") or head.startswith(b"<html")


class _Failure(Exception):
    """A retryable failure of one attempt."""

    def __init__(self, reason: str, retry_after_s: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


class ServiceTransport:
    """One service's HTTP client pair (sync + async) sharing one rate limiter."""

    def __init__(
        self,
        service: Service,
        base_url: str,
        settings: ResolverSettings,
        *,
        limiter: RateLimiter | SharedRateLimiter | None = None,
        rng: random.Random | None = None,
        sleep=time.sleep,
        async_sleep=asyncio.sleep,
    ):
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.settings = settings
        policy = settings.pubchem_rate if service == "pubchem" else settings.uniprot_rate
        host = urlsplit(self.base_url).netloc
        budget_dir = settings.resolved_cache_dir if settings.shared_rate_budget else None
        self.limiter = limiter or shared_limiter(
            service,
            host,
            policy,
            budget_dir,
            stale_after_s=settings.connect_timeout_s + settings.read_timeout_s + 30.0,
        )
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()
        # one async client per event loop (an httpx.AsyncClient is bound to the loop it ran
        # on); held strongly so close()/aclose() can close them, guarded by _client_lock
        self._async_clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}
        self.requests_sent = 0  # attempts that reached the wire (for benchmarks and reports)

    # --- clients ---------------------------------------------------------------------------
    def _timeout(self, remaining_s: float) -> httpx.Timeout:
        read = max(0.05, min(self.settings.read_timeout_s, remaining_s))
        connect = max(0.05, min(self.settings.connect_timeout_s, remaining_s))
        return httpx.Timeout(read, connect=connect, read=read, write=read, pool=read)

    def _headers(self) -> dict[str, str]:
        return {"User-Agent": self.settings.user_agent, "Accept": "application/json"}

    def _sync_client(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                self._client = httpx.Client(
                    headers=self._headers(),
                    follow_redirects=False,
                    trust_env=False,
                    limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
                )
            return self._client

    def _async_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        with self._client_lock:
            for stale in [other for other in self._async_clients if other.is_closed()]:
                del self._async_clients[stale]  # see _close_async_client
            client = self._async_clients.get(loop)
            if client is None:
                client = httpx.AsyncClient(
                    headers=self._headers(),
                    follow_redirects=False,
                    trust_env=False,
                    limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
                )
                self._async_clients[loop] = client
            return client

    def _take_async_clients(self) -> dict[asyncio.AbstractEventLoop, httpx.AsyncClient]:
        with self._client_lock:
            clients, self._async_clients = self._async_clients, {}
        return clients

    @staticmethod
    def _close_async_client(loop: asyncio.AbstractEventLoop, client: httpx.AsyncClient) -> None:
        """Close an async client from outside its loop, as far as that loop allows.

        A running loop (another thread, or the caller's own) gets the close scheduled on it; an
        idle loop runs it now (on a helper thread when this thread already runs a loop, which
        forbids a nested run). A closed loop can run nothing: the client is only dropped, and
        its sockets are released when asyncio's transports are garbage-collected.
        """
        if loop.is_closed():
            return
        if loop.is_running():
            asyncio.run_coroutine_threadsafe(client.aclose(), loop)
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop runs in this thread: run the idle one here
            loop.run_until_complete(client.aclose())
            return
        helper = threading.Thread(target=loop.run_until_complete, args=(client.aclose(),))
        helper.start()
        helper.join()

    def close(self) -> None:
        """Close the sync client and every event loop's async client (see _close_async_client)."""
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None
        for loop, client in self._take_async_clients().items():
            self._close_async_client(loop, client)

    async def aclose(self) -> None:
        """Close every async client: this loop's awaited, other loops' as close() does."""
        current = asyncio.get_running_loop()
        for loop, client in self._take_async_clients().items():
            if loop is current:
                await client.aclose()
            else:
                self._close_async_client(loop, client)

    # --- one attempt -----------------------------------------------------------------------
    def _url(self, request: HttpRequest) -> str:
        if request.path.startswith(("http://", "https://")):
            return request.path
        return f"{self.base_url}/{request.path.lstrip('/')}"

    def _check_offline(self, request: HttpRequest) -> None:
        if self.settings.offline:
            raise OfflineError(
                f"offline mode: not contacting {self.service} for {request.describe()}; unset "
                "BIOMEDGPT_OFFLINE (or drop --offline) to look it up online"
            )

    def _interpret(self, request: HttpRequest, response: httpx.Response) -> HttpResponse:
        """Turn an httpx response into data, or raise _Failure for a retryable one."""
        self.limiter.observe_throttling(response.headers.get("x-throttling-control"))
        status = response.status_code
        if status in RETRY_STATUSES:
            reason = f"HTTP {status}"
            if not _looks_like_html(response):
                reason += _fault_message(response)
            else:
                reason += " (an HTML page, e.g. maintenance)"
            raise _Failure(reason, retry_after_seconds(response.headers.get("retry-after")))
        if _looks_like_html(response):
            if status < 300:
                raise _Failure(f"HTTP {status} with an HTML page instead of data (maintenance?)")
            raise UnavailableError(
                f"{self.service} answered {request.describe()} with HTTP {status} and an HTML "
                "page instead of data; try again later"
            )
        body: Any = None
        text = response.text
        if text.strip():
            try:
                body = json.loads(text)
            except ValueError:
                if status < 300:
                    raise _Failure(f"HTTP {status} with a body that is not JSON") from None
        return HttpResponse(
            status=status,
            url=str(response.url),
            headers={k.lower(): v for k, v in response.headers.items()},
            body=body,
            text=text,
            request=request,
        )

    def _give_up(self, request: HttpRequest, failure: _Failure, attempts: int) -> UnavailableError:
        return UnavailableError(
            f"{self.service} could not answer {request.describe()}: {failure.reason} "
            f"(after {attempts} attempt{'s' if attempts != 1 else ''}); try again later, or "
            "use offline mode for the bundled snapshot"
        )

    def _next_delay(self, attempt: int, failure: _Failure, deadline: float) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        if attempt >= self.settings.max_retries:
            return None
        if (
            failure.retry_after_s is not None
            and failure.retry_after_s > self.settings.max_retry_after_s
        ):
            failure.reason += f"; the server asked to wait {failure.retry_after_s:.0f} s"
            return None
        delay = backoff_delay(
            attempt,
            base_s=self.settings.backoff_base_s,
            max_s=self.settings.backoff_max_s,
            retry_after_s=failure.retry_after_s,
            rng=self._rng,
        )
        if time.monotonic() + delay >= deadline:
            failure.reason += f"; no time left within the {self.settings.deadline_s:g} s deadline"
            return None
        return delay

    # --- sync ------------------------------------------------------------------------------
    def send(self, request: HttpRequest) -> HttpResponse:
        self._check_offline(request)
        client = self._sync_client()
        deadline = time.monotonic() + self.settings.deadline_s
        attempt = 0
        while True:
            try:
                with self.limiter.slot():
                    self.requests_sent += 1
                    response = client.request(**self._request_arguments(request, deadline))
                return self._interpret(request, response)
            except (_Failure, httpx.TransportError) as error:
                caught = _as_failure(error)
            self._sleep(self._retry_delay(request, caught, attempt, deadline))
            attempt += 1

    def _request_arguments(self, request: HttpRequest, deadline: float) -> dict[str, Any]:
        """httpx's request() arguments for one attempt, its timeout cut to the time left."""
        return {
            "method": request.method,
            "url": self._url(request),
            "params": request.params,
            "data": request.form,
            "timeout": self._timeout(deadline - time.monotonic()),
        }

    def _retry_delay(
        self, request: HttpRequest, caught: _Failure, attempt: int, deadline: float
    ) -> float:
        """The pause before the next attempt; raises the resolver error once retrying is pointless."""
        delay = self._next_delay(attempt, caught, deadline)
        if delay is None:
            raise self._give_up(request, caught, attempt + 1)
        return delay

    # --- async -----------------------------------------------------------------------------
    async def send_async(self, request: HttpRequest) -> HttpResponse:
        self._check_offline(request)
        client = self._async_client()
        deadline = time.monotonic() + self.settings.deadline_s
        attempt = 0
        while True:
            try:
                async with self.limiter.slot_async():
                    self.requests_sent += 1
                    response = await client.request(**self._request_arguments(request, deadline))
                return self._interpret(request, response)
            except (_Failure, httpx.TransportError) as error:
                caught = _as_failure(error)
            await self._async_sleep(self._retry_delay(request, caught, attempt, deadline))
            attempt += 1


def _fault_message(response: httpx.Response) -> str:
    """` (PUGREST.ServerBusy: Too many requests...)` from a PubChem Fault or UniProt messages."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        fault = body.get("Fault")
        if isinstance(fault, dict):
            return f" ({fault.get('Code', '')}: {fault.get('Message', '')})"
        messages = body.get("messages")
        if isinstance(messages, list) and messages:
            return f" ({'; '.join(str(m) for m in messages)})"
    return ""


def _as_failure(error: Exception) -> _Failure:
    """A retryable failure from a protocol answer, a timeout or a broken connection."""
    if isinstance(error, _Failure):
        return error
    if isinstance(error, httpx.TimeoutException):  # a TransportError too: check it first
        return _Failure(f"timed out ({type(error).__name__})")
    return _Failure(f"connection failed ({type(error).__name__}: {error})")
