"""One PubChem budget per machine (issue 16): processes sharing the cache folder share it.

Counted on the server side: the test server records every request's arrival time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from biomedgpt_tools.resolvers.rate_limit import RateLimiter, shared_limiter
from biomedgpt_tools.resolvers.settings import RatePolicy
from biomedgpt_tools.resolvers.shared_rate_limit import SharedRateLimiter

ROOT = Path(__file__).resolve().parents[2]
WORKER = [sys.executable, "-m", "tests.resolvers.rate_budget_worker"]


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*WORKER, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for(process: subprocess.Popen, line: str) -> None:
    assert process.stdout.readline().strip() == line, process.stderr.read()


@pytest.fixture
def synthetic_server(resolver_server):
    resolver_server.synthetic_compounds = True
    yield resolver_server
    resolver_server.synthetic_compounds = False


@pytest.mark.slow
def test_twelve_processes_never_exceed_five_pubchem_requests_per_second(
    synthetic_server, tmp_path
):
    per_process = 4
    workers = [
        _start("resolve", synthetic_server.pubchem_url, str(tmp_path), str(10_000 + 100 * i), str(per_process))
        for i in range(12)
    ]
    try:
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
    budget file's write transaction. Either way the next process gets through at once (a dead
    process's slots are ended when noticed, not after the 60 s staleness bound)."""
    if mode == "hold":
        holder = _start("hold", synthetic_server.pubchem_url, str(tmp_path), "5")
    else:
        shared_limiter("pubchem", "x", RatePolicy(5, 400), tmp_path)  # creates the file
        holder = _start("lock", str(tmp_path))
    _wait_for(holder, "held" if mode == "hold" else "locked")
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=10)
    started = time.monotonic()
    worker = _start("resolve", synthetic_server.pubchem_url, str(tmp_path), "20000", "3")
    out, err = worker.communicate(timeout=60)
    assert worker.returncode == 0 and out.strip() == "done", err
    assert time.monotonic() - started < 45  # far below the staleness bound the dead slots had


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
