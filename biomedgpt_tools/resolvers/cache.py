"""Persistent lookup cache: SQLite, keyed by normalised query, with a TTL per entry.

Why SQLite: atomic transactions (a crash mid-write leaves the previous state, never half a
row), WAL so readers never block a writer, and a busy timeout so several processes (CLI,
agent, notebooks) can share one file. A file that is not a database, or fails its integrity
check, is moved aside (`*.corrupt-<time>`) and rebuilt, with a warning, instead of crashing.
Only such a file is rebuilt: a full disk, an I/O error or a read-only file is a passing
condition, not a reason to throw away (or pull from under another process) a good cache.

The cache is best-effort: when it cannot be opened, read or written (a read-only home, a full
disk), lookups go on without it, with one warning, so an offline lookup the bundled snapshot
can answer still works. Expired entries are purged once per open, so the file stays bounded.

Entries hold outcomes, not only records: `found` (positive TTL) and `not_found`,
`ambiguous`, `obsolete` (short negative TTL), so a typo is not re-asked every second but a
new PubChem deposit is seen within the hour.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
CACHE_FILENAME = "resolvers.sqlite3"
BUSY_TIMEOUT_MS = 10_000
_T = TypeVar("_T")


class _UnusableCacheFile(sqlite3.DatabaseError):
    """A file SQLite opens but that is not our cache (unknown schema, failed integrity check)."""


# SQLite primary result codes meaning "this file is damaged", the only ones worth a rebuild
_CORRUPT_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}


def _is_corruption(error: sqlite3.Error) -> bool:
    """True only when SQLite says the file is malformed or not a database."""
    if isinstance(error, _UnusableCacheFile):
        return True
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _CORRUPT_CODES  # extended codes keep the primary in the low byte
    text = str(error).lower()
    return "malformed" in text or "not a database" in text


class ResolverCache:
    """Thread-safe (one connection per thread) and multi-process safe (WAL + busy timeout)."""

    def __init__(self, directory: Path, *, clock=time.time):
        self.directory = Path(directory)
        self.path = self.directory / CACHE_FILENAME
        self._clock = clock
        self._local = threading.local()
        self._generation = 0  # bumped on rebuild so every thread reconnects
        self._rebuild_lock = threading.Lock()
        self._warned = False
        self.disabled = False  # True: the cache could not be opened; every call is a no-op
        try:
            self._connect()  # validate (and rebuild) eagerly: a broken file is found at start-up
        except (OSError, sqlite3.Error) as error:
            self.disabled = True
            self._warn_once(error)
            return
        self._purge_at_open()

    # --- connections ---------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        self.directory.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
        )
        try:
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise _UnusableCacheFile(f"unknown cache schema version {version}")
            if version == 0:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute(
                    "CREATE TABLE IF NOT EXISTS entries ("
                    " key TEXT PRIMARY KEY, outcome TEXT NOT NULL, payload TEXT NOT NULL,"
                    " created_at REAL NOT NULL, expires_at REAL NOT NULL)"
                )
                connection.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                connection.execute("COMMIT")
            check = connection.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise _UnusableCacheFile(f"integrity check failed: {check}")
        except Exception:
            connection.close()
            raise
        return connection

    def _connect(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is not None and getattr(self._local, "generation", -1) == self._generation:
            return connection
        try:
            connection = self._open()
        except sqlite3.DatabaseError as error:
            if not _is_corruption(error):
                raise
            self._rebuild(error)
            connection = self._open()
        self._local.connection = connection
        self._local.generation = self._generation
        return connection

    def _rebuild(self, error: Exception) -> None:
        """Move a corrupted file, with its WAL and -shm index, aside and start empty.

        Nothing is deleted: a process still using the old file keeps its open descriptors and
        its committed-but-not-checkpointed frames stay on disk beside the file they belong to.
        Moving them (not leaving them) matters: SQLite would replay a WAL left at the old name
        into the new, empty file, and share a live -shm index with the old one.
        """
        with self._rebuild_lock:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            old = getattr(self._local, "connection", None)
            if old is not None:
                old.close()
                self._local.connection = None
            moved_to = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
            if self.path.exists():
                self.path.replace(moved_to)
            for suffix in ("-wal", "-shm"):
                sidecar = self.path.with_name(self.path.name + suffix)
                if sidecar.exists():
                    sidecar.replace(moved_to.with_name(moved_to.name + suffix))
            self._generation += 1
            logger.warning(
                "resolver cache %s was unreadable (%s); moved it to %s and started a new one",
                self.path,
                error,
                moved_to.name,
            )

    def _execute(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one statement; on corruption detected mid-use, rebuild once and retry."""
        try:
            return self._connect().execute(sql, parameters).fetchall()
        except sqlite3.DatabaseError as error:
            if not _is_corruption(error):
                raise
            self._rebuild(error)
            return self._connect().execute(sql, parameters).fetchall()

    def _warn_once(self, error: BaseException) -> None:
        """One warning per cache: an agent making 1,000 lookups gets one line, not 1,000."""
        if self._warned:
            logger.debug("resolver cache %s: %s", self.path, error)
            return
        self._warned = True
        logger.warning(
            "resolver cache %s is not usable (%s: %s); continuing without caching",
            self.path,
            type(error).__name__,
            error,
        )

    def _best_effort(self, operation: Callable[[], _T], fallback: _T) -> _T:
        """Run a cache operation; an unusable cache is a miss (reads) or a no-op (writes)."""
        if self.disabled:
            return fallback
        try:
            return operation()
        except (OSError, sqlite3.Error) as error:
            self._warn_once(error)
            return fallback

    def _purge_at_open(self) -> None:
        """Drop expired entries, taking the write lock only when there is something to drop."""
        now = self._clock()

        def purge() -> None:
            if self._execute("SELECT 1 FROM entries WHERE expires_at <= ? LIMIT 1", (now,)):
                self._execute("DELETE FROM entries WHERE expires_at <= ?", (now,))

        self._best_effort(purge, None)

    # --- API -------------------------------------------------------------------------------
    def get(self, key: str) -> tuple[str, dict[str, Any]] | None:
        """(outcome, payload) for a fresh entry, else None (expired entries are misses)."""
        rows = self._best_effort(
            lambda: self._execute(
                "SELECT outcome, payload, expires_at FROM entries WHERE key = ?", (key,)
            ),
            [],
        )
        if not rows:
            return None
        outcome, payload, expires_at = rows[0]
        if expires_at <= self._clock():
            return None
        try:
            return outcome, json.loads(payload)
        except ValueError:
            return None

    def get_many(self, keys: list[str]) -> dict[str, tuple[str, dict[str, Any]]]:
        """Fresh entries for many keys in few queries (batch lookups of 1,000 CIDs)."""
        found: dict[str, tuple[str, dict[str, Any]]] = {}
        now = self._clock()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT key, outcome, payload FROM entries WHERE key IN ({marks}) AND expires_at > ?"
            rows = self._best_effort(lambda: self._execute(sql, (*chunk, now)), [])  # noqa: B023
            for key, outcome, payload in rows:
                try:
                    found[key] = (outcome, json.loads(payload))
                except ValueError:
                    continue
        return found

    def put_many(self, entries: list[tuple[str, str, dict[str, Any]]], ttl_s: float) -> None:
        """Write many (key, outcome, payload) entries in one transaction: all or none."""
        if not entries:
            return
        now = self._clock()
        rows = [
            (k, o, json.dumps(p, separators=(",", ":")), now, now + ttl_s) for k, o, p in entries
        ]

        def write() -> None:
            connection = self._connect()
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.executemany(
                    "INSERT OR REPLACE INTO entries (key, outcome, payload, created_at, expires_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
                connection.execute("COMMIT")
            except sqlite3.DatabaseError as error:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                if _is_corruption(error):
                    self._rebuild(error)  # these entries are lost; the next writes land
                raise

        self._best_effort(write, None)

    def put(self, key: str, outcome: str, payload: dict[str, Any], ttl_s: float) -> None:
        now = self._clock()
        row = (key, outcome, json.dumps(payload, separators=(",", ":")), now, now + ttl_s)
        self._best_effort(
            lambda: self._execute(
                "INSERT OR REPLACE INTO entries (key, outcome, payload, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                row,
            ),
            [],
        )

    def delete(self, key: str) -> None:
        self._best_effort(lambda: self._execute("DELETE FROM entries WHERE key = ?", (key,)), [])

    def purge_expired(self) -> int:
        """Delete expired entries; how many went (0 when the cache is not usable)."""
        rows = self._best_effort(
            lambda: self._execute(
                "DELETE FROM entries WHERE expires_at <= ? RETURNING key", (self._clock(),)
            ),
            [],
        )
        return len(rows)

    def __len__(self) -> int:
        rows = self._best_effort(lambda: self._execute("SELECT COUNT(*) FROM entries"), [(0,)])
        return int(rows[0][0])

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            try:
                connection.close()
            except sqlite3.Error as error:
                self._warn_once(error)
            self._local.connection = None
