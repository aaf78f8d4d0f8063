"""One PubChem budget per machine (issue 16): processes sharing the cache folder share it.

Counted on the server side: the test server records every request's arrival time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from biomedgpt_tools.resolvers.rate_limit import RateLimiter
from biomedgpt_tools.resolvers.settings import RatePolicy
from biomedgpt_tools.resolvers.shared_rate_limit import (
    SharedRateLimiter,
    filesystem_type,
    shared_limiter,
)

ROOT = Path(__file__).resolve().parents[2]
WORKER = [sys.executable, "-m", "tests.resolvers.rate_budget_worker"]


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*WORKER, *args], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_for(process: subprocess.Popen, line: str) -> None:
    assert process.stdout.readline().strip() == line, process.stderr.read()


@pytest.fixture
def synthetic_server(resolver_server):
    resolver_server.synthetic_compounds = True
    yield resolver_server
    resolver_server.synthetic_compounds = False


@pytest.mark.slow
def test_twelve_processes_never_exceed_five_pubchem_requests_per_second(synthetic_server, tmp_path):
    per_process = 4
    workers = [
        _start("resolve", synthetic_server.pubchem_url, str(tmp_path), str(10_000 + 100 * i),
               str(per_process), "--barrier")
        for i in range(12)
    ]  # fmt: skip
    try:
        for worker in workers:  # the start barrier: all twelve set up, then all released at once
            _wait_for(worker, "ready")
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        outputs = [w.communicate(timeout=120) for w in workers]
    finally:
        for worker in workers:
            worker.kill()
    for worker, (out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0 and out.strip() == "done", err
    pubchem = [r for r in synthetic_server.requests if r.service == "pubchem"]
    assert len(pubchem) == 12 * per_process  # every lookup made, none refused and retried
    assert synthetic_server.max_requests_in_window("pubchem", seconds=1.0) <= 5


@pytest.mark.parametrize("mode", ["hold", "lock"])
def test_a_killed_process_does_not_stall_the_others(synthetic_server, tmp_path, mode):
    """`hold`: killed with the whole per-second budget in flight; `lock`: killed inside the
    budget file's write transaction. Either way the next process gets through: a dead process's
    slots are ended when noticed. Were they not, the worker would wait out the 120 s staleness
    bound and `communicate` would give up first, so completing is the assertion."""
    if mode == "hold":
        holder = _start("hold", synthetic_server.pubchem_url, str(tmp_path), "5")
    else:
        shared_limiter("pubchem", "x", RatePolicy(5, 400), tmp_path)  # creates the file
        holder = _start("lock", str(tmp_path))
    _wait_for(holder, "held" if mode == "hold" else "locked")
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    worker = _start("resolve", synthetic_server.pubchem_url, str(tmp_path), "20000", "3")
    out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0 and out.strip() == "done", err


def test_processes_sharing_a_folder_share_the_budget_file(tmp_path):
    policy = RatePolicy(2, 100, margin_s=0.0)
    now = [1000.0]
    first = SharedRateLimiter(policy, tmp_path / "b.sqlite3", "pubchem@h", clock=lambda: now[0])
    second = SharedRateLimiter(policy, tmp_path / "b.sqlite3", "pubchem@h", clock=lambda: now[0])
    other = SharedRateLimiter(policy, tmp_path / "b.sqlite3", "uniprot@h", clock=lambda: now[0])
    a, _ = first.try_acquire()
    b, _ = second.try_acquire()
    assert a is not None and b is not None
    refused, wait = first.try_acquire()
    assert refused is None and wait > 0  # two in flight across both "processes": the limit
    assert other.try_acquire()[0] is not None  # another service has its own budget
    first.release(a)
    second.release(b)
    now[0] += 0.5
    assert second.try_acquire() == (None, pytest.approx(0.5))  # ended 0.5 s ago: 0.5 s to wait
    now[0] += 0.6
    assert second.try_acquire()[0] is not None


def test_throttling_seen_by_one_process_slows_all(tmp_path):
    policy = RatePolicy(5, 400)
    first = SharedRateLimiter(policy, tmp_path / "b.sqlite3", "pubchem@h")
    second = SharedRateLimiter(policy, tmp_path / "b.sqlite3", "pubchem@h")
    first.observe_throttling("Request Count status: Red (80%)")
    second.try_acquire()
    assert second.slowdown == 5 and second.limits()[0][1] == 1


def test_an_unwritable_folder_falls_back_to_a_private_budget(tmp_path, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    limiter = shared_limiter("pubchem", "h", RatePolicy(5, 400), blocker)
    assert isinstance(limiter, RateLimiter)
    assert "cannot be shared" in caplog.text


def test_waiting_for_the_file_does_not_block_the_event_loop(tmp_path, caplog):
    """Another process holds the budget's write lock; the loop must stay free to run the code
    that lets it go. Were the SQLite wait on the loop, the release below could only run after
    the busy timeout, and the request would have counted on the private budget."""
    path = tmp_path / "b.sqlite3"
    limiter = SharedRateLimiter(RatePolicy(5, 400), path, "pubchem@h", busy_timeout_s=10.0)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")

    async def scenario():
        waiting = asyncio.ensure_future(limiter.acquire_async())
        await asyncio.sleep(0.2)
        assert not waiting.done()  # still waiting for the lock, off the loop
        holder.execute("COMMIT")
        return await waiting

    with caplog.at_level(logging.WARNING):
        slot = asyncio.run(scenario())
    assert isinstance(slot, int)  # a row in the shared file, not a private fallback slot
    assert "locked" not in caplog.text and limiter.degraded is None


def test_a_wall_clock_step_back_does_not_stall(tmp_path):
    policy = RatePolicy(2, 100, margin_s=0.0)
    now = [1000.0]
    limiter = SharedRateLimiter(policy, tmp_path / "b.sqlite3", "pubchem@h", clock=lambda: now[0])
    for _ in range(2):
        slot, _ = limiter.try_acquire()
        limiter.release(slot)
    now[0] = 400.0  # ten minutes back (an NTP correction, a VM resumed)
    refused, wait = limiter.try_acquire()
    assert refused is None and wait <= 1.0  # at most one window, not the 600 s to "catch up"
    now[0] += 1.01
    assert limiter.try_acquire()[0] is not None


def test_a_budget_locked_past_the_timeout_counts_on_the_private_budget(tmp_path, caplog):
    path = tmp_path / "b.sqlite3"
    limiter = SharedRateLimiter(RatePolicy(5, 400), path, "pubchem@h", busy_timeout_s=0.1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with limiter.slot():  # no exception, no endless wait
        pass
    assert "stayed locked" in caplog.text and limiter.degraded is None
    holder.execute("COMMIT")
    assert isinstance(limiter.acquire(), int)  # the file is used again once it is free


def test_a_damaged_budget_file_degrades_to_the_private_budget(tmp_path, caplog):
    path = tmp_path / "b.sqlite3"
    limiter = SharedRateLimiter(RatePolicy(5, 400), path, "pubchem@h")
    limiter.close()
    path.write_bytes(b"this is not an SQLite database" * 200)
    for name in ("b.sqlite3-wal", "b.sqlite3-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    with limiter.slot():
        pass
    asyncio.run(_one_async_slot(limiter))
    assert limiter.degraded and "keeps this process's own budget" in caplog.text


async def _one_async_slot(limiter):
    async with limiter.slot_async():
        pass


NFS_MOUNTS = """\
/dev/sda1 / ext4 rw,relatime 0 0
server:/export/home {home} nfs4 rw,relatime,vers=4.2 0 0
"""


def test_a_network_filesystem_gets_the_rollback_journal(tmp_path):
    mounts = NFS_MOUNTS.format(home=tmp_path)
    assert filesystem_type(tmp_path / "cache" / "b.sqlite3", mounts) == "nfs4"
    assert filesystem_type(Path("/usr/lib"), mounts) == "ext4"
    on_nfs = SharedRateLimiter(
        RatePolicy(5, 400), tmp_path / "b.sqlite3", "pubchem@h", mounts=mounts
    )
    assert on_nfs.journal_mode == "delete"
    local = SharedRateLimiter(RatePolicy(5, 400), tmp_path / "c.sqlite3", "pubchem@h", mounts="")
    assert local.journal_mode == "wal"
    assert on_nfs.try_acquire()[0] is not None
