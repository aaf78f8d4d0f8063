"""Persistent lookup cache: SQLite, keyed by normalised query, with a TTL per entry.

Why SQLite: atomic transactions (a crash mid-write leaves the previous state, never half a
row), WAL so readers never block a writer, and a busy timeout so several processes (CLI,
agent, notebooks) can share one file. A file that is not a database, or fails its integrity
check, is moved aside (`*.corrupt-<time>`) and rebuilt, with a warning, instead of crashing.

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
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
CACHE_FILENAME = "resolvers.sqlite3"
BUSY_TIMEOUT_MS = 10_000


class ResolverCache:
    """Thread-safe (one connection per thread) and multi-process safe (WAL + busy timeout)."""

    def __init__(self, directory: Path, *, clock=time.time):
        self.directory = Path(directory)
        self.path = self.directory / CACHE_FILENAME
        self._clock = clock
        self._local = threading.local()
        self._generation = 0  # bumped on rebuild so every thread reconnects
        self._rebuild_lock = threading.Lock()
        self._connect()  # validate (and rebuild) eagerly: a broken file is found at start-up

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
                raise sqlite3.DatabaseError(f"unknown cache schema version {version}")
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
                raise sqlite3.DatabaseError(f"integrity check failed: {check}")
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
            self._rebuild(error)
            connection = self._open()
        self._local.connection = connection
        self._local.generation = self._generation
        return connection

    def _rebuild(self, error: Exception) -> None:
        """Move a corrupted file (and its WAL/SHM) aside and start empty."""
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
                    sidecar.unlink()
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
            if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
                raise
            self._rebuild(error)
            return self._connect().execute(sql, parameters).fetchall()

    # --- API -------------------------------------------------------------------------------
    def get(self, key: str) -> tuple[str, dict[str, Any]] | None:
        """(outcome, payload) for a fresh entry, else None (expired entries are misses)."""
        rows = self._execute(
            "SELECT outcome, payload, expires_at FROM entries WHERE key = ?", (key,)
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
            rows = self._execute(
                f"SELECT key, outcome, payload FROM entries WHERE key IN ({marks}) AND expires_at > ?",
                (*chunk, now),
            )
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
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(
                "INSERT OR REPLACE INTO entries (key, outcome, payload, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                rows,
            )
            connection.execute("COMMIT")
        except sqlite3.DatabaseError:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def put(self, key: str, outcome: str, payload: dict[str, Any], ttl_s: float) -> None:
        now = self._clock()
        self._execute(
            "INSERT OR REPLACE INTO entries (key, outcome, payload, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (key, outcome, json.dumps(payload, separators=(",", ":")), now, now + ttl_s),
        )

    def delete(self, key: str) -> None:
        self._execute("DELETE FROM entries WHERE key = ?", (key,))

    def purge_expired(self) -> int:
        rows = self._execute(
            "DELETE FROM entries WHERE expires_at <= ? RETURNING key", (self._clock(),)
        )
        return len(rows)

    def __len__(self) -> int:
        return int(self._execute("SELECT COUNT(*) FROM entries")[0][0])

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
