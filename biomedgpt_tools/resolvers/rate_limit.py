"""A per-service rate limiter that threads and asyncio tasks share.

The server counts a request when it arrives, somewhere between our send and the end of the
response. So a request occupies its slot from the moment it starts until `window` after it
ends (in flight counts as "now"): a new request may start only when fewer than `limit`
requests started before it have ended within the last window. That bounds what the server
can see in any window by `limit`, whatever the network delays, which a log of send times
alone would not (`wait_for_slot`). The same lock-protected state serves `acquire()` (blocking
sleep) and `acquire_async()` (asyncio.sleep), so threads and tasks in one process share one budget;
shared_rate_limit.SharedRateLimiter keeps the same rule in a file so that processes sharing the
cache folder share one budget too (and `shared_rate_limit.shared_limiter` picks between them).

PubChem's `X-Throttling-Control` header (Green/Yellow/Red/Black) slows the limiter down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
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


def wait_for_slot(ends: list[float | None], now: float, limits: list[tuple[float, int]]) -> float:
    """Seconds until a new request may start, given the counted slots' end times (None: in
    flight); 0.0 means now. The one counting rule of both limiters (see the module docstring).

    An end later than `now` (the wall clock stepped back under the shared limiter) counts as
    ending now, so a step back never makes anyone wait longer than one window.
    """
    ends = [None if end is None else min(end, now) for end in ends]
    wait = 0.0
    for window, limit in limits:
        counted = [end for end in ends if end is None or end > now - window]
        if len(counted) < limit:
            continue
        finished = sorted(end for end in counted if end is not None)
        must_leave = len(counted) - limit + 1
        if len(finished) >= must_leave:
            wait = max(wait, finished[must_leave - 1] + window - now)
        else:
            wait = max(wait, _POLL_S)  # everything counted is in flight: look again soon
    return wait


class SlotLimiter:
    """What both limiters share: the policy under the server's slowdown, and waiting for a
    slot (blocking or asyncio). Subclasses keep the slots: `try_acquire() -> (slot | None,
    wait_s)` and `release(slot)`; `_try_acquire_async` / `_release_async` are where a limiter
    whose bookkeeping can block (a file) moves it off the event loop."""

    def __init__(self, policy: RatePolicy):
        self.policy = policy
        self._slowdown = 1

    @property
    def slowdown(self) -> int:
        return self._slowdown

    def limits(self, slowdown: int | None = None) -> list[tuple[float, int]]:
        """(window seconds incl. margin, allowed requests) under the (current) slowdown."""
        factor = self._slowdown if slowdown is None else slowdown
        margin = self.policy.margin_s
        return [
            (1.0 + margin, max(1, self.policy.per_second // factor)),
            (60.0 + margin, max(1, self.policy.per_minute // factor)),
        ]

    def try_acquire(self) -> tuple[Any, float]:
        raise NotImplementedError

    def release(self, slot: Any) -> None:
        raise NotImplementedError

    async def _try_acquire_async(self) -> tuple[Any, float]:
        return self.try_acquire()

    async def _release_async(self, slot: Any) -> None:
        self.release(slot)

    def acquire(self) -> Any:
        while True:
            slot, wait = self.try_acquire()
            if slot is not None:
                return slot
            time.sleep(max(wait, 0.001))

    async def acquire_async(self) -> Any:
        while True:
            slot, wait = await self._try_acquire_async()
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
            await self._release_async(taken)


class RateLimiter(SlotLimiter):
    """At most `policy.per_second` requests per second and `policy.per_minute` per minute,
    for the threads and tasks of this process."""

    def __init__(self, policy: RatePolicy, clock: Callable[[], float] = time.monotonic):
        super().__init__(policy)
        self._clock = clock
        self._lock = threading.Lock()
        self._slots: list[_Slot] = []

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
            wait = wait_for_slot([s.ended for s in self._slots], now, limits)
            if wait > 0:
                return None, wait
            slot = _Slot(started=now)
            self._slots.append(slot)
            return slot, 0.0

    def release(self, slot: _Slot) -> None:
        with self._lock:
            slot.ended = self._clock()
