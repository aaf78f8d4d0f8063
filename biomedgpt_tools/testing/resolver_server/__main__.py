"""Run the resolver test server by hand: python -m biomedgpt_tools.testing.resolver_server --port 8765."""

from __future__ import annotations

import argparse
import time

from .server import ResolverTestServer


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Local PubChem PUG REST + UniProt REST test server (test data only)."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--throttling", choices=["Green", "Yellow", "Red", "Black"], default=None)
    parser.add_argument(
        "--rate-limit", type=int, default=None, help="answer 503 above this many PubChem requests/s"
    )
    parser.add_argument(
        "--synthetic-compounds",
        action="store_true",
        help="answer CIDs missing from entities.json with made-up compounds (for benchmarks)",
    )
    args = parser.parse_args()
    server = ResolverTestServer(host=args.host, port=args.port)
    server.throttling = args.throttling
    server.pubchem_rate_limit = args.rate_limit
    server.synthetic_compounds = args.synthetic_compounds
    server.start()
    print(f"BIOMEDGPT_PUBCHEM_URL={server.pubchem_url}")
    print(f"BIOMEDGPT_UNIPROT_URL={server.uniprot_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
