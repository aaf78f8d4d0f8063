"""The SQLite cache: TTL, negative entries, processes sharing it, crashes, corrupted files."""

from __future__ import annotations

import logging
import multiprocessing
import os
import sqlite3

import pytest

from biomedgpt_tools.resolvers.cache import CACHE_FILENAME, ResolverCache

# fork is fast (no re-import); spawn where fork is unavailable
_CONTEXT = multiprocessing.get_context(
    "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
)


class _Clock:
    def __init__(self):
        self.now = 1_000.0

    def __call__(self):
        return self.now


def test_put_get_and_ttl(tmp_path):
    clock = _Clock()
    cache = ResolverCache(tmp_path, clock=clock)
    cache.put("molecule:name:aspirin:full", "found", {"cid": 2244}, ttl_s=60)
    assert cache.get("molecule:name:aspirin:full") == ("found", {"cid": 2244})
    assert cache.get("molecule:name:other:full") is None
    clock.now += 61
    assert cache.get("molecule:name:aspirin:full") is None  # expired is a miss
    assert cache.purge_expired() == 1
    assert len(cache) == 0


def test_survives_reopen(tmp_path):
    ResolverCache(tmp_path).put("k", "not_found", {"message": "m"}, ttl_s=60)
    assert ResolverCache(tmp_path).get("k") == ("not_found", {"message": "m"})


def _writer(directory: str, worker: int, count: int) -> None:
    cache = ResolverCache(directory)
    for i in range(count):
        cache.put(f"w{worker}:{i}", "found", {"worker": worker, "i": i}, ttl_s=600)
        cache.get(f"w{(worker + 1) % 3}:{i}")


def test_concurrent_processes_share_one_file(tmp_path):
    context = _CONTEXT
    workers = [context.Process(target=_writer, args=(str(tmp_path), w, 60)) for w in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    cache = ResolverCache(tmp_path)
    assert len(cache) == 180
    assert cache.get("w2:59") == ("found", {"worker": 2, "i": 59})


def _crash_mid_write(directory: str) -> None:
    cache = ResolverCache(directory)
    connection = cache._connect()
    connection.execute("BEGIN IMMEDIATE")
    connection.execute(
        "INSERT OR REPLACE INTO entries VALUES ('k', 'found', '{\"half\": true}', 0, 1e12)"
    )
    os._exit(1)  # die inside the transaction, as a killed process would


def test_crash_mid_write_leaves_the_previous_value(tmp_path):
    ResolverCache(tmp_path).put("k", "found", {"whole": True}, ttl_s=600)
    process = _CONTEXT.Process(target=_crash_mid_write, args=(str(tmp_path),))
    process.start()
    process.join(60)
    assert process.exitcode == 1
    assert ResolverCache(tmp_path).get("k") == ("found", {"whole": True})


def test_garbage_file_is_detected_and_rebuilt(tmp_path, caplog):
    (tmp_path / CACHE_FILENAME).write_bytes(b"this is not a database\x00" * 200)
    with caplog.at_level(logging.WARNING):
        cache = ResolverCache(tmp_path)
    assert "unreadable" in caplog.text
    assert list(tmp_path.glob(f"{CACHE_FILENAME}.corrupt-*"))
    cache.put("k", "found", {"ok": 1}, ttl_s=60)
    assert cache.get("k") == ("found", {"ok": 1})


def test_damaged_pages_are_detected_and_rebuilt(tmp_path, caplog):
    cache = ResolverCache(tmp_path)
    for i in range(400):
        cache.put(f"key{i}", "found", {"payload": "x" * 200, "i": i}, ttl_s=600)
    cache.close()
    path = tmp_path / CACHE_FILENAME
    with sqlite3.connect(path) as connection:  # fold the WAL into the main file
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    for offset in range(
        4096, len(data), 4096
    ):  # scribble over the start of every page after the first
        data[offset : offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        rebuilt = ResolverCache(tmp_path)
        assert rebuilt.get("key1") is None
    assert "unreadable" in caplog.text
    rebuilt.put("again", "found", {}, ttl_s=60)
    assert rebuilt.get("again") == ("found", {})


def test_threads_share_one_cache(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    cache = ResolverCache(tmp_path)

    def work(i: int) -> tuple[str, dict] | None:
        cache.put(f"t{i}", "found", {"i": i}, ttl_s=60)
        return cache.get(f"t{i}")

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(work, range(200)))
    assert results == [("found", {"i": i}) for i in range(200)]
    assert len(cache) == 200


def test_unwritable_directory_disables_the_cache_with_one_warning(tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.WARNING):
        cache = ResolverCache(blocker / "cache")  # mkdir fails: the parent is a file
        cache.put("k", "found", {"cid": 1}, ttl_s=60)
        cache.put_many([("k2", "found", {"cid": 2})], ttl_s=60)
        assert cache.get("k") is None
        assert cache.get_many(["k", "k2"]) == {}
        assert len(cache) == 0 and cache.purge_expired() == 0
    assert cache.disabled
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "continuing without caching" in warnings[0].getMessage()


@pytest.mark.parametrize(
    ("pragma", "kind"),
    [
        ("PRAGMA max_page_count=1", "full"),  # caps the file at its size: the next page is "full"
        ("PRAGMA query_only=1", "readonly"),
    ],
)
def test_write_errors_are_skipped_and_never_rebuild_the_cache(tmp_path, caplog, pragma, kind):
    cache = ResolverCache(tmp_path)
    cache.put("kept", "found", {"cid": 2244}, ttl_s=600)
    cache._connect().execute(pragma)  # this thread's connection now fails every write
    with caplog.at_level(logging.WARNING):
        cache.put("big", "found", {"blob": "x" * 200_000}, ttl_s=600)  # no exception
        cache.put_many([("big2", "found", {"blob": "y" * 200_000})], ttl_s=600)
    assert not list(tmp_path.glob(f"{CACHE_FILENAME}.corrupt-*")), kind  # nothing moved aside
    assert cache.get("kept") == ("found", {"cid": 2244})  # the good entries are still there
    assert cache.get("big") is None
    assert "continuing without caching" in caplog.text
    assert ResolverCache(tmp_path).get("kept") == ("found", {"cid": 2244})


def test_rebuild_moves_the_wal_aside_and_deletes_nothing(tmp_path):
    cache = ResolverCache(tmp_path)
    cache.put("k", "found", {"cid": 1}, ttl_s=600)
    other = sqlite3.connect(tmp_path / CACHE_FILENAME)  # another process's open connection
    assert other.execute("SELECT COUNT(*) FROM entries").fetchone() == (1,)
    wal = tmp_path / f"{CACHE_FILENAME}-wal"
    frames = wal.read_bytes()
    assert frames  # the committed entry lives in the WAL until a checkpoint
    cache._rebuild(sqlite3.DatabaseError("database disk image is malformed"))
    moved = list(tmp_path.glob(f"{CACHE_FILENAME}.corrupt-*-wal"))
    assert [p.read_bytes() for p in moved] == [frames]  # moved with its database, not deleted
    assert cache.get("k") is None  # a new, empty cache: the old WAL was not replayed into it
    cache.put("k2", "found", {"ok": 1}, ttl_s=60)
    assert cache.get("k2") == ("found", {"ok": 1})
    other.close()


def test_expired_entries_are_purged_when_the_cache_is_opened(tmp_path):
    clock = _Clock()
    cache = ResolverCache(tmp_path, clock=clock)
    cache.put("short", "not_found", {"message": "m"}, ttl_s=10)
    cache.put("long", "found", {"cid": 1}, ttl_s=600)
    cache.close()
    clock.now += 11
    reopened = ResolverCache(tmp_path, clock=clock)
    assert len(reopened) == 1  # COUNT(*) counts expired rows too: only a purge removes them
    assert reopened.get("long") == ("found", {"cid": 1})
