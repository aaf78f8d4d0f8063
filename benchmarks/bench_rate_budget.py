"""Shared rate budget: what one process pays for sharing PubChem's budget with others.

The cost of a request's slot (acquire + release) in the private in-process limiter (the
baseline) and in the SharedRateLimiter kept in SQLite beside the cache, measured here with a
policy too generous to ever wait, so only the bookkeeping is timed; then one process sending
real requests to the local test server through each, at the real 5 requests/s: the wall time
of N lookups shows whether sharing slows a single process down.

    python benchmarks/bench_rate_budget.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from biomedgpt_tools.resolvers import Resolver, ResolverSettings  # noqa: E402
from biomedgpt_tools.resolvers.rate_limit import RateLimiter  # noqa: E402
from biomedgpt_tools.resolvers.settings import RatePolicy  # noqa: E402
from biomedgpt_tools.resolvers.shared_rate_limit import SharedRateLimiter  # noqa: E402
from biomedgpt_tools.testing.resolver_server import ResolverTestServer  # noqa: E402


def slot_cost_us(limiter, calls: int) -> tuple[float, float]:
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        with limiter.slot():
            pass
        times.append((time.perf_counter() - started) * 1e6)
    times.sort()
    return statistics.median(times), times[int(0.99 * (len(times) - 1))]


def lookups_s(
    server: ResolverTestServer, folder: Path, shared: bool, count: int, first: int
) -> float:
    settings = ResolverSettings(
        pubchem_url=server.pubchem_url,
        cache_dir=folder,
        use_cache=False,
        use_snapshot=False,
        shared_rate_budget=shared,
    )
    with Resolver(settings) as resolver:
        started = time.perf_counter()
        for cid in range(first, first + count):
            resolver.molecule(f"CID {cid}", details=False)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer slots and lookups")
    args = parser.parse_args()
    calls, lookups = (500, 10) if args.quick else (3000, 30)
    generous = RatePolicy(10**9, 10**9)
    with tempfile.TemporaryDirectory() as folder:
        private = slot_cost_us(RateLimiter(generous), calls)
        shared = slot_cost_us(
            SharedRateLimiter(generous, Path(folder) / "b.sqlite3", "bench"), calls
        )
        print(f"slot bookkeeping over {calls} requests (median / p99, microseconds):")
        print(f"  private in-process limiter (baseline): {private[0]:8.1f} / {private[1]:8.1f}")
        print(f"  shared SQLite budget:                   {shared[0]:8.1f} / {shared[1]:8.1f}")
        with ResolverTestServer() as server:
            server.synthetic_compounds = True
            base = lookups_s(server, Path(folder) / "a", False, lookups, 50_000)
            with_budget = lookups_s(server, Path(folder) / "b", True, lookups, 60_000)
        print(f"{lookups} lookups in one process at PubChem's 5 requests/s (wall seconds):")
        print(f"  private limiter (baseline): {base:6.2f}")
        print(f"  shared budget:              {with_budget:6.2f} ({with_budget / base:.2f}x)")


if __name__ == "__main__":
    main()
