"""One rate budget per service per machine: a limiter whose slots live in a SQLite file.

Twelve processes (agents, web workers, torchrun ranks) that each keep their own limiter send
PubChem twelve times its 5 requests/s, and PubChem blocks such clients. Processes that share
the cache folder therefore share this file (`rate-budget.sqlite3` beside the cache): every
request takes a row (its slot) in one short write transaction and marks it ended in another,
and the counting rule is RateLimiter's (in flight counts as "now", a slot leaves a window
`window` after it ends), so what the server sees in any window stays within the limit.

Why SQLite: its locks are the operating system's file locks, which die with their process, so a
killed process never leaves the budget locked; transactions are atomic, so a crash never leaves
half a slot. A process killed while a request was in flight leaves a slot without an end: a slot
whose process is gone (same host, checked by pid) is ended when that is noticed, and any slot
older than `stale_after_s` (longer than a request can last) is ended too, so nothing waits on
the dead. A single process pays two small transactions per request (well under a millisecond
each on a local disk); threads of one process share one connection under a lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

from biomedgpt_tools.resolvers.rate_limit import THROTTLE_SLOWDOWN, throttling_slowdown
from biomedgpt_tools.resolvers.settings import RatePolicy

logger = logging.getLogger(__name__)

BUDGET_FILENAME = "rate-budget.sqlite3"
BUSY_TIMEOUT_MS = 5_000
_POLL_S = 0.05  # every counted request still in flight: look again after this
_SCHEMA = """
CREATE TABLE IF NOT EXISTS slots (
    id INTEGER PRIMARY KEY,
    budget TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started REAL NOT NULL,
    ended REAL
);
CREATE INDEX IF NOT EXISTS slots_by_budget ON slots (budget, ended);
CREATE TABLE IF NOT EXISTS slowdown (budget TEXT PRIMARY KEY, factor INTEGER NOT NULL);
"""
_HOST = socket.gethostname()


def _process_is_gone(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False  # alive, another user's
    return False


class SharedRateLimiter:
    """RateLimiter's interface (`slot`, `slot_async`, `observe_throttling`), budget in a file.

    `budget` names what is limited ("pubchem@pubchem.ncbi.nlm.nih.gov"); every process whose
    limiter opens the same file with the same budget shares its requests per second/minute.
    """

    def __init__(
        self,
        policy: RatePolicy,
        path: Path,
        budget: str,
        *,
        stale_after_s: float = 120.0,
        clock: Callable[[], float] = time.time,  # wall clock: the one all processes share
    ):
        self.policy = policy
        self.path = Path(path)
        self.budget = budget
        self.stale_after_s = stale_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._connection_pid: int | None = None
        self._slowdown = 1
        with self._lock:
            self._connect()  # fail now (unwritable folder) rather than at the first request

    # --- connection ------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if self._connection is not None and self._connection_pid == os.getpid():
            return self._connection
        # a connection inherited through fork() must not be used: open a new one
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
        )
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")  # a lost slot row costs nothing
        connection.executescript(_SCHEMA)
        self._connection, self._connection_pid = connection, os.getpid()
        return connection

    def close(self) -> None:
        with self._lock:
            if self._connection is not None and self._connection_pid == os.getpid():
                self._connection.close()
            self._connection = None

    # --- policy ----------------------------------------------------------------------------
    @property
    def slowdown(self) -> int:
        return self._slowdown

    def limits(self, slowdown: int | None = None) -> list[tuple[float, int]]:
        """(window seconds incl. margin, allowed requests) under the slowdown."""
        factor = self._slowdown if slowdown is None else slowdown
        margin = self.policy.margin_s
        return [
            (1.0 + margin, max(1, self.policy.per_second // factor)),
            (60.0 + margin, max(1, self.policy.per_minute // factor)),
        ]

    def observe_throttling(self, header: str | None) -> None:
        """The server's colour slows every process sharing the budget (see RateLimiter)."""
        factor = throttling_slowdown(header)
        if factor is None or factor not in THROTTLE_SLOWDOWN.values():
            return
        with self._lock:
            if factor == self._slowdown:
                return
            self._slowdown = factor
            try:
                self._connect().execute(
                    "INSERT INTO slowdown (budget, factor) VALUES (?, ?) "
                    "ON CONFLICT (budget) DO UPDATE SET factor = excluded.factor",
                    (self.budget, factor),
                )
            except sqlite3.Error as error:
                logger.warning("could not share the throttling state in %s: %s", self.path, error)

    # --- slots -----------------------------------------------------------------------------
    def try_acquire(self) -> tuple[int | None, float]:
        """A slot id now, or (None, seconds to wait before trying again)."""
        with self._lock:
            try:
                connection = self._connect()
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:  # busy beyond the timeout: try again
                logger.debug("rate budget %s is busy: %s", self.path, error)
                return None, _POLL_S
            try:
                slot, wait = self._try_acquire_in(connection)
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            return slot, wait

    def _try_acquire_in(self, connection: sqlite3.Connection) -> tuple[int | None, float]:
        now = self._clock()
        row = connection.execute(
            "SELECT factor FROM slowdown WHERE budget = ?", (self.budget,)
        ).fetchone()
        if row is not None:
            self._slowdown = int(row[0])
        limits = self.limits()
        longest = max(window for window, _ in limits)
        connection.execute(
            "DELETE FROM slots WHERE budget = ? AND ended IS NOT NULL AND ended <= ?",
            (self.budget, now - longest),
        )
        self._end_abandoned(connection, now)
        ends = [
            ended
            for (ended,) in connection.execute(
                "SELECT ended FROM slots WHERE budget = ?", (self.budget,)
            )
        ]
        wait = 0.0
        for window, limit in limits:
            counted = [e for e in ends if e is None or e > now - window]
            if len(counted) < limit:
                continue
            finished = sorted(e for e in counted if e is not None)
            must_leave = len(counted) - limit + 1
            if len(finished) >= must_leave:
                wait = max(wait, finished[must_leave - 1] + window - now)
            else:
                wait = max(wait, _POLL_S)
        if wait > 0:
            return None, wait
        cursor = connection.execute(
            "INSERT INTO slots (budget, host, pid, started) VALUES (?, ?, ?, ?)",
            (self.budget, _HOST, os.getpid(), now),
        )
        return int(cursor.lastrowid), 0.0

    def _end_abandoned(self, connection: sqlite3.Connection, now: float) -> None:
        """End the in-flight slots of dead processes (they may have reached the server: they
        count as ending now) and of requests older than any request can last."""
        open_slots = connection.execute(
            "SELECT id, host, pid, started FROM slots WHERE budget = ? AND ended IS NULL",
            (self.budget,),
        ).fetchall()
        for slot_id, host, pid, started in open_slots:
            stale = now - started > self.stale_after_s
            if stale or (host == _HOST and _process_is_gone(int(pid))):
                connection.execute("UPDATE slots SET ended = ? WHERE id = ?", (now, slot_id))

    def release(self, slot: int) -> None:
        with self._lock:
            try:
                self._connect().execute(
                    "UPDATE slots SET ended = ? WHERE id = ?", (self._clock(), slot)
                )
            except sqlite3.Error as error:  # the slot then ends as a stale one
                logger.warning("could not release a rate slot in %s: %s", self.path, error)

    def acquire(self) -> int:
        while True:
            slot, wait = self.try_acquire()
            if slot is not None:
                return slot
            time.sleep(max(wait, 0.001))

    async def acquire_async(self) -> int:
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
