"""A per-service rate limiter that threads and asyncio tasks share.

The server counts a request when it arrives, somewhere between our send and the end of the
response. So a request occupies its slot from the moment it starts until `window` after it
ends (in flight counts as "now"): a new request may start only when fewer than `limit`
requests started before it have ended within the last window. That bounds what the server
can see in any window by `limit`, whatever the network delays, which a log of send times
alone would not. The same lock-protected state serves `acquire()` (blocking sleep) and
`acquire_async()` (asyncio.sleep), so threads and tasks in one process share one budget;
`shared_limiter` hands out shared_rate_limit.SharedRateLimiter, the same rule kept in a file
so that processes sharing the cache folder share one budget too.

PubChem's `X-Throttling-Control` header (Green/Yellow/Red/Black) slows the limiter down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from biomedgpt_tools.resolvers.settings import RatePolicy

# divide the allowed rate by this when the server reports the colour
THROTTLE_SLOWDOWN = {"green": 1, "yellow": 2, "red": 5, "black": 10}
_COLOUR_RE = re.compile(r"\b(green|yellow|red|black)\b", re.IGNORECASE)
logger = logging.getLogger(__name__)
_POLL_S = 0.02  # when every counted request is still in flight, look again after this


@dataclass
class _Slot:
    started: float
    ended: float | None = None


def throttling_slowdown(header: str | None) -> int | None:
    """Slowdown factor for an `X-Throttling-Control` value (worst colour wins); None if absent."""
    if not header:
        return None
    colours = [c.lower() for c in _COLOUR_RE.findall(header)]
    if not colours:
        return None
    return max(THROTTLE_SLOWDOWN[c] for c in colours)


class RateLimiter:
    """At most `policy.per_second` requests per second and `policy.per_minute` per minute."""

    def __init__(self, policy: RatePolicy, clock: Callable[[], float] = time.monotonic):
        self.policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._slots: list[_Slot] = []
        self._slowdown = 1

    @property
    def slowdown(self) -> int:
        return self._slowdown

    def limits(self) -> list[tuple[float, int]]:
        """(window seconds incl. margin, allowed requests) under the current slowdown."""
        margin = self.policy.margin_s
        return [
            (1.0 + margin, max(1, self.policy.per_second // self._slowdown)),
            (60.0 + margin, max(1, self.policy.per_minute // self._slowdown)),
        ]

    def observe_throttling(self, header: str | None) -> None:
        """Adopt the server's colour: Yellow halves the rate, Red /5, Black /10, Green restores."""
        factor = throttling_slowdown(header)
        if factor is not None:
            with self._lock:
                self._slowdown = factor

    def try_acquire(self) -> tuple[_Slot | None, float]:
        """A slot now, or (None, seconds to wait before trying again)."""
        with self._lock:
            now = self._clock()
            limits = self.limits()
            longest = max(window for window, _ in limits)
            self._slots = [s for s in self._slots if s.ended is None or s.ended > now - longest]
            wait = 0.0
            for window, limit in limits:
                counted = [s for s in self._slots if s.ended is None or s.ended > now - window]
                if len(counted) < limit:
                    continue
                ends = sorted(s.ended for s in counted if s.ended is not None)
                must_leave = len(counted) - limit + 1
                if len(ends) >= must_leave:
                    wait = max(wait, ends[must_leave - 1] + window - now)
                else:
                    wait = max(wait, _POLL_S)
            if wait > 0:
                return None, wait
            slot = _Slot(started=now)
            self._slots.append(slot)
            return slot, 0.0

    def release(self, slot: _Slot) -> None:
        with self._lock:
            slot.ended = self._clock()

    def acquire(self) -> _Slot:
        while True:
            slot, wait = self.try_acquire()
            if slot is not None:
                return slot
            time.sleep(max(wait, 0.001))

    async def acquire_async(self) -> _Slot:
        while True:
            slot, wait = self.try_acquire()
            if slot is not None:
                return slot
            await asyncio.sleep(max(wait, 0.001))

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        taken = self.acquire()
        try:
            yield
        finally:
            self.release(taken)

    @contextlib.asynccontextmanager
    async def slot_async(self) -> AsyncIterator[None]:
        taken = await self.acquire_async()
        try:
            yield
        finally:
            self.release(taken)


_SHARED: dict[tuple[str, str, RatePolicy, str], Any] = {}
_SHARED_LOCK = threading.Lock()


def shared_limiter(
    service: str,
    host: str,
    policy: RatePolicy,
    budget_dir: Path | None = None,
    *,
    stale_after_s: float = 120.0,
):
    """The limiter for one service at one host that every resolver of this process shares.

    With `budget_dir` (the resolver cache folder) it is a SharedRateLimiter, so every process
    using that folder shares one budget; when the folder cannot hold the budget file (read-only,
    full) the budget is this process's alone, with a warning.
    """
    key = (service, host, policy, str(budget_dir or ""))
    with _SHARED_LOCK:
        limiter = _SHARED.get(key)
        if limiter is None:
            limiter = _SHARED[key] = _new_limiter(service, host, policy, budget_dir, stale_after_s)
        return limiter


def _new_limiter(
    service: str, host: str, policy: RatePolicy, budget_dir: Path | None, stale_after_s: float
):
    if budget_dir is None:
        return RateLimiter(policy)
    from biomedgpt_tools.resolvers.shared_rate_limit import BUDGET_FILENAME, SharedRateLimiter

    path = Path(budget_dir) / BUDGET_FILENAME
    try:
        return SharedRateLimiter(
            policy, path, f"{service}@{host}", stale_after_s=stale_after_s
        )
    except (OSError, sqlite3.Error) as error:
        logger.warning(
            "the %s rate budget cannot be shared through %s (%s); this process keeps its own, "
            "so several processes together may exceed the service's limit",
            service,
            path,
            error,
        )
        return RateLimiter(policy)
