"""A process of the shared-rate-budget test: `python -m tests.resolvers.rate_budget_worker`.

resolve URL CACHE_DIR FIRST_CID COUNT [--barrier]
                                        look up COUNT CIDs (one PubChem request each); with
                                        --barrier, print "ready" once set up and start
                                        only when a line arrives on stdin
hold URL CACHE_DIR SLOTS                take SLOTS slots, print "held", wait to be killed
lock CACHE_DIR                          hold the budget file's write lock, print "locked", wait
"""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from biomedgpt_tools.resolvers import Resolver, ResolverSettings
from biomedgpt_tools.resolvers.shared_rate_limit import BUDGET_FILENAME, shared_limiter


def main(argv: list[str]) -> int:
    mode = argv[0]
    if mode == "resolve":
        url, cache_dir, first, count = argv[1], Path(argv[2]), int(argv[3]), int(argv[4])
        settings = ResolverSettings(
            pubchem_url=url, cache_dir=cache_dir, use_snapshot=False, backoff_base_s=0.05
        )
        with Resolver(settings) as resolver:
            if "--barrier" in argv:  # every worker set up (imports, connections) before any starts
                print("ready", flush=True)
                sys.stdin.readline()
            for cid in range(first, first + count):
                record = resolver.molecule(f"CID {cid}", details=False)
                assert record.cid == cid
        print("done", flush=True)
        return 0
    if mode == "hold":
        url, cache_dir, slots = argv[1], Path(argv[2]), int(argv[3])
        policy = ResolverSettings().pubchem_rate
        limiter = shared_limiter("pubchem", urlsplit(url).netloc, policy, cache_dir)
        for _ in range(slots):
            limiter.acquire()  # never released: the process dies holding them
        print("held", flush=True)
    elif mode == "lock":
        connection = sqlite3.connect(Path(argv[1]) / BUDGET_FILENAME, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        print("locked", flush=True)
    time.sleep(600)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
