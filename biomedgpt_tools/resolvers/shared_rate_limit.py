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
each on a local disk); threads of one process share one connection under a lock, and asyncio
callers wait for it in a worker thread, never on the event loop.

What can go wrong with the file degrades, never crashes: the budget database locked beyond the
busy timeout gives that request a slot from this process's own RateLimiter (with a warning),
and the file trying again next time; any other SQLite error (read-only, damaged, disk full)
makes the budget this process's own for good, with a warning. The slot times are the wall
clock (the one clock processes share); an end or start later than now (the clock stepped back)
is taken as now, so a step back never stalls anyone. WAL needs shared memory between the
processes, which network filesystems (NFS, SMB, ...) do not give: there, or wherever WAL is
refused, the file uses the rollback journal (DELETE), which needs only file locks.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from biomedgpt_tools.resolvers.rate_limit import (
    THROTTLE_SLOWDOWN,
    RateLimiter,
    SlotLimiter,
    throttling_slowdown,
    wait_for_slot,
)
from biomedgpt_tools.resolvers.settings import RatePolicy

logger = logging.getLogger(__name__)

BUDGET_FILENAME = "rate-budget.sqlite3"
BUSY_TIMEOUT_S = 5.0
# filesystems whose processes share no memory-mapped -shm file: WAL is unsafe there
NETWORK_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "ceph", "glusterfs", "lustre", "gpfs",
    "beegfs", "fuse.sshfs", "fuse.glusterfs", "fuse.cephfs", "fuse.s3fs", "fuse.gcsfuse",
})  # fmt: skip
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


def filesystem_type(path: Path, mounts: str | None = None) -> str | None:
    """The type of the filesystem holding `path` (the longest mount point above it in
    /proc/self/mounts, or in `mounts`, text in that format); None when it cannot be told."""
    if mounts is None:
        try:
            mounts = Path("/proc/self/mounts").read_text()
        except OSError:
            return None
    target = os.path.abspath(path)
    best, best_type = "", None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, best_type = point, fields[2]
    return best_type


def choose_journal_mode(
    connection: sqlite3.Connection, path: Path, mounts: str | None = None
) -> str:
    """WAL where the filesystem shares memory between processes, else the rollback journal."""
    fstype = filesystem_type(path.parent, mounts)
    if fstype not in NETWORK_FILESYSTEMS:
        try:
            mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        except sqlite3.OperationalError as error:
            mode = f"refused ({error})"
        if str(mode).lower() == "wal":
            return "wal"
        logger.info(
            "the rate budget %s cannot use WAL (%s); using the rollback journal", path, mode
        )
    mode = connection.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
    return str(mode).lower()


def _is_busy(error: sqlite3.Error) -> bool:
    text = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


class SharedRateLimiter(SlotLimiter):
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
        busy_timeout_s: float = BUSY_TIMEOUT_S,
        clock: Callable[[], float] = time.time,  # wall clock: the one all processes share
        mounts: str | None = None,  # /proc/self/mounts text, for tests
    ):
        super().__init__(policy)
        self.path = Path(path)
        self.budget = budget
        self.stale_after_s = stale_after_s
        self.busy_timeout_s = busy_timeout_s
        self._clock = clock
        self._mounts = mounts
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._connection_pid: int | None = None
        self.journal_mode: str | None = None
        # this process's own budget, for when the file cannot be used (see the module docstring)
        self._fallback = RateLimiter(policy)
        self.degraded: str | None = None  # why the file is no longer used
        self._warned_busy = False
        with self._lock:
            self._connect()  # fail now (unwritable folder) rather than at the first request

    # --- connection ------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if self._connection is not None and self._connection_pid == os.getpid():
            return self._connection
        # a connection inherited through fork() must not be used: open a new one
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self.path, timeout=self.busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        try:
            connection.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_s * 1000)}")
            self.journal_mode = choose_journal_mode(connection, self.path, self._mounts)
            connection.execute("PRAGMA synchronous=NORMAL")  # a lost slot row costs nothing
            connection.executescript(_SCHEMA)
        except BaseException:
            connection.close()
            raise
        self._connection, self._connection_pid = connection, os.getpid()
        return connection

    def close(self) -> None:
        with self._lock:
            if self._connection is not None and self._connection_pid == os.getpid():
                self._connection.close()
            self._connection = None

    def _degrade(self, error: sqlite3.Error) -> None:
        """Stop using the file (called under the lock): this process keeps its own budget."""
        self.degraded = str(error)
        logger.warning(
            "the shared rate budget %s failed (%s); %s now keeps this process's own budget, so "
            "several processes together may exceed the service's limit",
            self.path, error, self.budget,
        )  # fmt: skip
        if self._connection is not None and self._connection_pid == os.getpid():
            try:
                self._connection.close()
            except sqlite3.Error:
                pass
        self._connection = None

    # --- policy ----------------------------------------------------------------------------
    def observe_throttling(self, header: str | None) -> None:
        """The server's colour slows every process sharing the budget (see RateLimiter)."""
        factor = throttling_slowdown(header)
        if factor is None or factor not in THROTTLE_SLOWDOWN.values():
            return
        self._fallback.observe_throttling(header)
        with self._lock:
            if factor == self._slowdown:
                return
            self._slowdown = factor
            if self.degraded is not None:
                return
            try:
                self._connect().execute(
                    "INSERT INTO slowdown (budget, factor) VALUES (?, ?) "
                    "ON CONFLICT (budget) DO UPDATE SET factor = excluded.factor",
                    (self.budget, factor),
                )
            except sqlite3.Error as error:
                logger.warning("could not share the throttling state in %s: %s", self.path, error)

    # --- slots -----------------------------------------------------------------------------
    def try_acquire(self) -> tuple[object | None, float]:
        """A slot now (a row id, or a private slot when the file cannot be used), or (None,
        seconds to wait before trying again)."""
        with self._lock:
            if self.degraded is None:
                try:
                    return self._try_acquire_shared()
                except sqlite3.Error as error:
                    if _is_busy(error):
                        if not self._warned_busy:
                            self._warned_busy = True
                            logger.warning(
                                "the shared rate budget %s stayed locked past %.0f s (%s); this "
                                "request counts on this process's own budget",
                                self.path, self.busy_timeout_s, error,
                            )  # fmt: skip
                    else:
                        self._degrade(error)
        return self._fallback.try_acquire()

    def _try_acquire_shared(self) -> tuple[int | None, float]:
        connection = self._connect()
        connection.execute("BEGIN IMMEDIATE")
        try:
            slot, wait = self._try_acquire_in(connection)
            connection.execute("COMMIT")
        except BaseException:
            try:
                connection.execute("ROLLBACK")
            except sqlite3.Error:
                pass
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
        # the wall clock stepped back: what was "later than now" happened now
        connection.execute(
            "UPDATE slots SET ended = ? WHERE budget = ? AND ended > ?", (now, self.budget, now)
        )
        connection.execute(
            "UPDATE slots SET started = ? WHERE budget = ? AND started > ?", (now, self.budget, now)
        )
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
        wait = wait_for_slot(ends, now, limits)
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

    def release(self, slot: object) -> None:
        if not isinstance(slot, int):
            self._fallback.release(slot)  # type: ignore[arg-type]
            return
        with self._lock:
            if self.degraded is not None:
                return  # the row ends as a stale one
            try:
                self._connect().execute(
                    "UPDATE slots SET ended = ? WHERE id = ?", (self._clock(), slot)
                )
            except sqlite3.Error as error:  # the slot then ends as a stale one
                logger.warning("could not release a rate slot in %s: %s", self.path, error)
                if not _is_busy(error):
                    self._degrade(error)

    # the file may block (busy timeout): asyncio callers wait in a worker thread
    async def _try_acquire_async(self) -> tuple[object | None, float]:
        return await asyncio.to_thread(self.try_acquire)

    async def _release_async(self, slot: object) -> None:
        await asyncio.to_thread(self.release, slot)


# one limiter per (service, host, policy, budget folder) in this process
_SHARED: dict[tuple[str, str, RatePolicy, str], SlotLimiter] = {}
_SHARED_LOCK = threading.Lock()


def shared_limiter(
    service: str,
    host: str,
    policy: RatePolicy,
    budget_dir: Path | None = None,
    *,
    stale_after_s: float = 120.0,
) -> SlotLimiter:
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
) -> SlotLimiter:
    if budget_dir is None:
        return RateLimiter(policy)
    path = Path(budget_dir) / BUDGET_FILENAME
    try:
        return SharedRateLimiter(policy, path, f"{service}@{host}", stale_after_s=stale_after_s)
    except (OSError, sqlite3.Error) as error:
        logger.warning(
            "the %s rate budget cannot be shared through %s (%s); this process keeps its own, "
            "so several processes together may exceed the service's limit",
            service,
            path,
            error,
        )
        return RateLimiter(policy)
