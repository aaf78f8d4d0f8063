"""Resolvers: 1,000 CIDs' properties batched vs one request per CID, and cache-hit latency.

Everything runs against the local test server (biomedgpt_tools/testing/resolver_server), so the numbers measure
the client (batching, rate limiter, cache), not PubChem's servers. The limiter applies to both
strategies exactly as it would upstream (<= 5 requests/s, <= 400/min).

- Batched: `Resolver.molecules_by_cid(1000 CIDs)` -> POST property batches of 200 CIDs.
- Baseline, one request per CID (`molecule("CID n", details=False)`, cache off): 1,000 such
  requests take >= 200 s at 5 requests/s, so we time 100 (25 with --quick) and extrapolate
  linearly to 1,000 (printed as an extrapolation). The test server knows 33 compounds: the
  baseline cycles through them; the batch asks for those 33 plus unknown CIDs, which PubChem
  (and the server) leave out of the table, so batched payloads are smaller than real ones.
- Cache hits: the same query answered from the SQLite cache (record rebuilt from JSON),
  median and p99 over many calls, and a fully cached 1,000-CID batch.

    python benchmarks/bench_resolvers.py [--quick]
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
from biomedgpt_tools.testing.resolver_server import ResolverTestServer  # noqa: E402

TOTAL_CIDS = 1000


def _resolver(server: ResolverTestServer, cache_dir: Path, **overrides: object) -> Resolver:
    settings = ResolverSettings(
        pubchem_url=server.pubchem_url,
        uniprot_url=server.uniprot_url,
        cache_dir=cache_dir,
        use_snapshot=False,
    ).with_changes(**overrides)
    return Resolver(settings)


def bench_batched(
    server: ResolverTestServer, cids: list[int], cache_dir: Path
) -> tuple[int, float, int]:
    server.clear_requests()
    with _resolver(server, cache_dir) as resolver:
        started = time.perf_counter()
        records = resolver.molecules_by_cid(cids)
        elapsed = time.perf_counter() - started
    return len(server.requests), elapsed, len(records)


def bench_one_per_cid(
    server: ResolverTestServer, known: list[int], count: int, cache_dir: Path
) -> tuple[int, float]:
    server.clear_requests()
    with _resolver(server, cache_dir, use_cache=False) as resolver:
        started = time.perf_counter()
        for i in range(count):
            resolver.molecule(f"CID {known[i % len(known)]}", details=False)
        elapsed = time.perf_counter() - started
    return len(server.requests), elapsed


def bench_cache_hits(
    server: ResolverTestServer, cids: list[int], cache_dir: Path, calls: int
) -> dict[str, float]:
    with _resolver(server, cache_dir) as resolver:
        resolver.molecule("aspirin")  # one miss fills the cache
        server.clear_requests()
        timings = []
        for _ in range(calls):
            started = time.perf_counter()
            resolver.molecule("aspirin")
            timings.append(time.perf_counter() - started)
        assert not server.requests, "cache hits must not send requests"
        resolver.molecules_by_cid(
            cids
        )  # warm the per-CID entries (already cached by bench_batched)
        server.clear_requests()
        started = time.perf_counter()
        resolver.molecules_by_cid(cids)
        batch_elapsed = time.perf_counter() - started
        batch_requests = len(server.requests)
    timings.sort()
    return {
        "median_us": statistics.median(timings) * 1e6,
        "p95_us": timings[int(0.95 * (len(timings) - 1))] * 1e6,
        "p99_us": timings[int(0.99 * (len(timings) - 1))] * 1e6,
        "batch_ms": batch_elapsed * 1e3,
        "batch_requests": batch_requests,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="25 one-per-CID requests, fewer cache calls"
    )
    args = parser.parse_args()
    baseline_count = 25 if args.quick else 100
    cache_calls = 500 if args.quick else 5000

    with ResolverTestServer() as server, tempfile.TemporaryDirectory() as tmp:
        known = [m["cid"] for m in server.entities.raw["molecules"]]
        unknown = [800_000_000 + i for i in range(TOTAL_CIDS - len(known))]
        cids = known + unknown
        cache_dir = Path(tmp) / "cache"

        batch_requests, batch_s, batch_records = bench_batched(server, cids, cache_dir)
        one_requests, one_s = bench_one_per_cid(
            server, known, baseline_count, Path(tmp) / "nocache"
        )
        per_request_s = one_s / baseline_count
        extrapolated_s = per_request_s * TOTAL_CIDS
        cache = bench_cache_hits(server, cids, cache_dir, cache_calls)

    print("Resolvers against the local test server (rate limiter on: <= 5 requests/s, <= 400/min)")
    print(f"{'strategy':<44} {'requests':>9} {'wall time':>12}")
    print(
        f"{'batched POST property (200 CIDs/request)':<44} {batch_requests:>9} {batch_s:>10.3f} s"
        f"   ({batch_records} of {TOTAL_CIDS} CIDs known to the server)"
    )
    print(
        f"{f'one request per CID, measured on {baseline_count}':<44} {one_requests:>9} {one_s:>10.3f} s"
        f"   ({per_request_s * 1e3:.0f} ms/request)"
    )
    print(
        f"{'one request per CID, extrapolated to 1,000':<44} {TOTAL_CIDS:>9} {extrapolated_s:>10.1f} s"
        "   (linear extrapolation, not measured)"
    )
    print(
        f"batched vs one-per-CID: {TOTAL_CIDS / max(batch_requests, 1):.0f}x fewer requests, "
        f"{extrapolated_s / batch_s:.0f}x less wall time (vs the extrapolation)"
    )
    print(
        f"cache hit, molecule('aspirin'): median {cache['median_us']:.0f} us, p95 {cache['p95_us']:.0f} us,"
        f" p99 {cache['p99_us']:.0f} us over {cache_calls} calls (target well under 1 ms;"
        " the tail is CPU scheduling on a shared machine)"
    )
    print(f"cached 1,000-CID batch: {cache['batch_ms']:.1f} ms, {cache['batch_requests']} requests")


if __name__ == "__main__":
    main()
