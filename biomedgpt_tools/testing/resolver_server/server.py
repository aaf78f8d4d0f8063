"""ResolverTestServer: PubChem PUG REST and UniProt REST on one local port, for tests and benchmarks.

It records every request (so a test can count what a client sent and how fast), plays
injected faults (error statuses, HTML maintenance pages, delays beyond a client's timeout)
one per request, and sends PubChem's X-Throttling-Control header. Only the standard library
and RDKit are used; it binds 127.0.0.1 and never reaches the network.

    with ResolverTestServer() as server:
        httpx.get(server.pubchem_url + "/compound/cid/2244/property/SMILES/JSON")
        server.inject("pubchem", Fault.status(503), Fault.status(503, html=True))
        server.max_requests_in_window("pubchem", seconds=1.0)
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from . import pubchem, uniprot
from .entities import ENTITIES_PATH, EntityCatalog
from .faults import Fault
from .reply import Reply

PUBCHEM_BASE = "/rest/pug"
UNIPROT_BASE = "/uniprotkb"
SERVICES = ("pubchem", "uniprot")
THROTTLING_STATES = ("Green", "Yellow", "Red", "Black")
_THROTTLING_PERCENT = {"Green": 10, "Yellow": 60, "Red": 85, "Black": 100}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as it arrived.

    time: time.monotonic() at arrival; service: "pubchem" | "uniprot" | "other";
    path: the request path as sent (still percent-encoded, no query);
    query: the decoded query parameters (last value wins); body: the raw body as text.
    """

    time: float
    service: str
    method: str
    path: str
    query: dict[str, str]
    body: str

    @property
    def form(self) -> dict[str, str]:
        """The body decoded as a form (what PubChem reads from a POST)."""
        return dict(parse_qsl(self.body, keep_blank_values=True))


def throttling_header(count_state: str, count_percent: int) -> str:
    """PubChem's X-Throttling-Control value; the worst of the three states is what matters."""
    return (
        f"Request Count status: {count_state} ({count_percent}%), "
        f"Request Time status: Green (0%), Service status: Green (20%)"
    )


def _state_for_percent(percent: float) -> str:
    if percent < 50:
        return "Green"
    if percent <= 75:
        return "Yellow"
    return "Red"


class ResolverTestServer:
    """A threaded HTTP server on 127.0.0.1 (a free port unless one is given)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, entities_path: Path = ENTITIES_PATH):
        self.entities = EntityCatalog.load(entities_path)
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._faults: dict[str, collections.deque[Fault]] = {
            s: collections.deque() for s in SERVICES
        }
        self._arrivals: dict[str, collections.deque[float]] = {}
        self._stopping = threading.Event()
        self._throttling: str | None = None
        self._pubchem_responses = 0
        self.pubchem_rate_limit: int | None = None  # if set, more requests per window get 503
        self.pubchem_rate_window = (
            1.0  # seconds; tests widen it so a slow machine cannot pass the limit
        )
        self._httpd = _ListeningServer((host, port), _make_handler(self))
        self.host, self.port = self._httpd.server_address[:2]
        origin = f"http://{self.host}:{self.port}"
        self._pubchem = pubchem.PubChemProtocol(self.entities, origin)
        self._uniprot = uniprot.UniProtProtocol(self.entities, origin)
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> ResolverTestServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},  # quick shutdown for per-test servers
                name="resolver-test-server",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers sleeping in a delay fault
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> ResolverTestServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what tests use ----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pubchem_url(self) -> str:
        return self.base_url + PUBCHEM_BASE

    @property
    def uniprot_url(self) -> str:
        return self.base_url

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the requests received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget recorded requests, and with them the load behind throttling and rate limits."""
        with self._lock:
            self._requests.clear()
            self._arrivals.clear()

    def inject(self, service: str, *faults: Fault) -> None:
        """Queue faults for the next requests to a service, one fault consumed per request."""
        if service not in SERVICES:
            raise ValueError(f"service must be one of {SERVICES}, got {service!r}")
        for fault in faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"inject takes Fault objects, got {fault!r}")
        with self._lock:
            self._faults[service].extend(faults)

    def clear_faults(self) -> None:
        """Drop faults no request consumed (a test that injected more than it used)."""
        with self._lock:
            for queue in self._faults.values():
                queue.clear()

    def pending_faults(self, service: str) -> int:
        with self._lock:
            return len(self._faults[service])

    @property
    def synthetic_compounds(self) -> bool:
        """When True, CIDs missing from entities.json answer with made-up compounds
        ("Synthetic test compound N"), so benchmarks can ask for 1,000 distinct CIDs."""
        return self._pubchem.synthetic_compounds

    @synthetic_compounds.setter
    def synthetic_compounds(self, enabled: bool) -> None:
        self._pubchem.synthetic_compounds = bool(enabled)

    @property
    def throttling(self) -> str | None:
        """Forced X-Throttling-Control state, or None for the measured load (header sometimes missing)."""
        return self._throttling

    @throttling.setter
    def throttling(self, state: str | None) -> None:
        if state is not None and state not in THROTTLING_STATES:
            raise ValueError(
                f"throttling must be None or one of {THROTTLING_STATES}, got {state!r}"
            )
        self._throttling = state

    def max_requests_in_window(self, service: str, seconds: float = 1.0) -> int:
        """The most requests to a service that arrived within any window [t, t + seconds)."""
        times = sorted(r.time for r in self.requests if r.service == service)
        best = 0
        start = 0
        for end, t in enumerate(times):
            while t - times[start] >= seconds:
                start += 1
            best = max(best, end - start + 1)
        return best

    # -- request handling (called from handler threads) --------------------------------

    def _record(self, request: RecordedRequest) -> Fault | None:
        with self._lock:
            self._requests.append(request)
            arrivals = self._arrivals.setdefault(request.service, collections.deque())
            arrivals.append(request.time)
            while request.time - arrivals[0] > 60.0:  # only the throttling window is needed
                arrivals.popleft()
            queue = self._faults.get(request.service)
            return queue.popleft() if queue else None

    def _recent_count(self, service: str, seconds: float, now: float) -> int:
        """Requests to the service that arrived within `seconds` before `now` (at most 60 s)."""
        with self._lock:
            return sum(1 for t in self._arrivals[service] if now - t < seconds)

    def _reply(self, request: RecordedRequest, content_type: str, fault: Fault | None) -> Reply:
        if fault is not None and fault.kind == "delay":
            if self._stopping.wait(fault.seconds):
                return Reply.text(503, "server stopping")
            fault = None
        if request.service == "pubchem":
            reply = self._pubchem_reply(request, content_type, fault)
            self._add_throttling_header(reply, request.time)
            return reply
        if request.service == "uniprot":
            if fault is not None:
                reply = (
                    uniprot.maintenance_reply(fault.code)
                    if fault.html
                    else uniprot.error_reply(
                        fault.code, self.base_url + request.path, _uniprot_fault_message(fault.code)
                    )
                )
                return _with_retry_after(reply, fault)
            return self._uniprot.handle(request.method, request.path, request.query)
        return Reply.json(
            404, {"url": self.base_url + request.path, "messages": ["Resource not found"]}
        )

    def _pubchem_reply(
        self, request: RecordedRequest, content_type: str, fault: Fault | None
    ) -> Reply:
        if fault is not None:
            reply = (
                pubchem.maintenance_reply(fault.code)
                if fault.html
                else pubchem.fault_reply(fault.code)
            )
            return _with_retry_after(reply, fault)
        if self._throttling == "Black":
            return pubchem.fault_reply(
                503, details=["Too many requests: this client is temporarily blocked"]
            )
        limit = self.pubchem_rate_limit
        window = self.pubchem_rate_window
        if limit is not None and self._recent_count("pubchem", window, request.time) > limit:
            return pubchem.fault_reply(503, details=[f"More than {limit} requests in {window:g} s"])
        path = request.path[len(PUBCHEM_BASE) :]
        return self._pubchem.handle(request.method, path, request.body, content_type)

    def _add_throttling_header(self, reply: Reply, now: float) -> None:
        with self._lock:
            self._pubchem_responses += 1
            count = self._pubchem_responses
        if self._throttling is not None:
            state = self._throttling
            reply.headers["X-Throttling-Control"] = throttling_header(
                state, _THROTTLING_PERCENT[state]
            )
            return
        if count % 4 == 0:  # upstream sometimes leaves the header out
            return
        percent = round(100 * self._recent_count("pubchem", 60.0, now) / 400)
        reply.headers["X-Throttling-Control"] = throttling_header(
            _state_for_percent(percent), percent
        )


class _ListeningServer(ThreadingHTTPServer):
    """A deep accept backlog: 100 clients connecting at once must not see refused or
    SYN-retried connections (a 1 s stall that would distort rate measurements)."""

    request_queue_size = 256
    daemon_threads = True


def _uniprot_fault_message(code: int) -> str:
    return {
        400: "Invalid request received",
        404: "Resource not found",
        429: "Too many requests, please slow down",
        500: "Internal server error",
        502: "Bad gateway",
        503: "Service unavailable, please try again later",
        504: "Gateway timeout",
    }.get(code, "Request failed")


def _with_retry_after(reply: Reply, fault: Fault) -> Reply:
    if fault.retry_after is not None:
        value = fault.retry_after
        # Whole seconds as upstream sends them; fractions are a convenience for fast tests.
        reply.headers["Retry-After"] = str(int(value)) if float(value).is_integer() else str(value)
    return reply


def _service_for(path: str) -> str:
    if path == PUBCHEM_BASE or path.startswith(PUBCHEM_BASE + "/"):
        return "pubchem"
    if path == UNIPROT_BASE or path.startswith(UNIPROT_BASE + "/"):
        return "uniprot"
    return "other"


def _make_handler(server: ResolverTestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "ResolverTestServer/1.0"
        timeout = 30  # idle keep-alive connections
        # Headers and body leave in one write with Nagle off: no 40 ms delayed-ACK stalls
        # on keep-alive connections, which would swamp the benchmarks' timings.
        wbufsize = -1
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            arrived = time.monotonic()
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", errors="replace") if length else ""
            request = RecordedRequest(
                time=arrived,
                service=_service_for(split.path),
                method=self.command,
                path=split.path,
                query=dict(parse_qsl(split.query, keep_blank_values=True)),
                body=body,
            )
            fault = server._record(request)
            reply = server._reply(request, self.headers.get("Content-Type", ""), fault)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (e.g. after a delay fault)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - keep test output quiet
            pass

    return Handler
