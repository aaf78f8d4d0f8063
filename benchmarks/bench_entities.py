"""Entity verification: what confirming names with PubChem/UniProt costs the router, and how
often text questions would get a structure tool.

1. Router latency on the routing set (evals/data), against the resolvers' local test server at
   the public services' real rate budget (5 requests/s): the shape-only router (no lookups,
   the baseline), then the verifying router with a cold cache (first pass, fresh cache) and
   a warm one (second pass); p50/p95 per question, and requests per question counted at the
   server.
2. PubMedQA (../shared/data/pubmedqa, 1,000 questions, all text questions): how many have a
   candidate name at all (an upper bound: what the live services could confirm), and how many
   the verifying router sends to a structure tool against the test server and offline (cache
   and snapshot). The first 640 questions were read while the candidate rules were written;
   the last 360 were not, so both parts are printed.

    python benchmarks/bench_entities.py [--quick] [--list]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from agents.candidates import find_candidates  # noqa: E402
from agents.english import wordnet_available  # noqa: E402
from agents.entities import find_entities  # noqa: E402
from agents.known_names import known_molecule_names  # noqa: E402
from agents.routing import MOLECULE_TOOL, PROTEIN_TOOL, route_by_rules  # noqa: E402
from agents.verification import EntityVerifier  # noqa: E402
from biomedgpt_tools.resolvers.settings import RatePolicy, ResolverSettings  # noqa: E402
from biomedgpt_tools.testing.resolver_server import ResolverTestServer  # noqa: E402
from evals.assistant.routing_accuracy import load_routing_set  # noqa: E402

PUBMEDQA = "pubmedqa/ori_pqal.json"
READ_WHILE_WRITING = 640  # PubMedQA questions (in file order) read while tuning the rules


def shared_dir() -> Path:
    return Path(os.environ.get("BIOMEDGPT_SHARED_DIR") or REPO_ROOT.parent / "shared") / "data"


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):8.2f} ms  p95 {p95:8.2f} ms"


def settings_for(server: ResolverTestServer, cache: Path, polite: bool) -> ResolverSettings:
    settings = ResolverSettings(
        pubchem_url=server.pubchem_url, uniprot_url=server.uniprot_url, cache_dir=cache
    )
    if not polite:  # counting, not timing: no need to wait for the public budget
        settings = settings.with_changes(
            pubchem_rate=RatePolicy(1000, 100000), uniprot_rate=RatePolicy(1000, 100000)
        )
    return settings


def timed_pass(questions: list[str], route) -> tuple[list[float], list]:
    times, routes = [], []
    for question in questions:
        started = time.perf_counter()
        routes.append(route(question))
        times.append((time.perf_counter() - started) * 1000)
    return times, routes


def router_latency(server: ResolverTestServer, questions: list[str], known: frozenset[str]) -> None:
    times, _ = timed_pass(questions, lambda q: route_by_rules(q, known))
    print(f"  shape-only router (baseline, no lookups) {percentiles(times)}")
    with tempfile.TemporaryDirectory() as cache:
        verifier = EntityVerifier(
            settings_for(server, Path(cache), polite=True), known_molecule_names=known
        )
        try:
            for label in ("cold cache", "warm cache"):
                counts: list[int] = []

                def route(question: str, counts: list[int] = counts):
                    before = len(server.requests)
                    decision = route_by_rules(question, known, verifier)
                    counts.append(len(server.requests) - before)
                    return decision

                times, _ = timed_pass(questions, route)
                print(
                    f"  verifying router, {label:10s}         {percentiles(times)}  requests/question "
                    f"mean {statistics.mean(counts):.2f} max {max(counts)} (total {sum(counts)})"
                )
        finally:
            verifier.close()


def structure_questions(routes) -> int:
    return sum(any(c.name in (MOLECULE_TOOL, PROTEIN_TOOL) for c in r.tool_calls) for r in routes)


def pubmedqa(
    server: ResolverTestServer, known: frozenset[str], limit: int | None, listing: bool
) -> None:
    path = shared_dir() / PUBMEDQA
    if not path.is_file():
        print(f"  PubMedQA: {path} not found; skipped")
        return
    rows = list(json.loads(path.read_text()).values())[:limit]
    questions = [row["QUESTION"] for row in rows]
    parts = {
        "read while writing the rules": range(0, min(READ_WHILE_WRITING, len(questions))),
        "never read (held out)": range(READ_WHILE_WRITING, len(questions)),
    }

    def has_candidate(question: str) -> bool:
        identifiers = find_entities(question, names=False)
        return bool(
            identifiers or find_candidates(question, [(e.start, e.end) for e in identifiers])
        )

    flags = [has_candidate(q) for q in questions]
    print(f"  PubMedQA: {len(questions)} questions")
    for name, indexes in parts.items():
        if len(indexes):
            print(
                f"    {name:30s} with a candidate name (upper bound) {sum(flags[i] for i in indexes):4d} "
                f"of {len(indexes)}"
            )
    with tempfile.TemporaryDirectory() as cache:
        online = EntityVerifier(
            settings_for(server, Path(cache), polite=False), known_molecule_names=known
        )
        offline = EntityVerifier(
            settings_for(server, Path(cache), polite=False).with_changes(offline=True),
            known_molecule_names=known,
        )
        try:
            before = len(server.requests)
            routed = [route_by_rules(q, known, online) for q in questions]
            requests = len(server.requests) - before
            routed_offline = [route_by_rules(q, known, offline) for q in questions]
        finally:
            online.close()
            offline.close()
    for name, indexes in parts.items():
        if len(indexes):
            print(
                f"    {name:30s} structure tool, test server {structure_questions([routed[i] for i in indexes]):4d}"
                f"   offline (snapshot) {structure_questions([routed_offline[i] for i in indexes]):4d}"
            )
    print(
        f"    requests to the test server: {requests} ({requests / len(questions):.2f} per question)"
    )
    if listing:
        for index, question in enumerate(questions):
            if flags[index]:
                identifiers = find_entities(question, names=False)
                found = find_candidates(question, [(e.start, e.end) for e in identifiers])
                tools = [c.name for c in routed[index].tool_calls]
                print(
                    f"    [{index}] {question}\n        candidates {[c.text for c in found]} -> {tools}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="40 routing questions, 200 PubMedQA questions"
    )
    parser.add_argument(
        "--list", action="store_true", help="print every PubMedQA question with a candidate"
    )
    args = parser.parse_args()
    if not wordnet_available():
        print(
            "  WordNet is not installed: ordinary words are not set aside (see scripts/install_wordnet.py)"
        )
    known = known_molecule_names()
    questions = [case.question for case in load_routing_set()]
    if args.quick:
        questions = questions[::4][:40]
    route_by_rules("warm up WordNet and RDKit", known)
    find_candidates("Is codeine toxic?")
    with ResolverTestServer() as server:
        server.throttling = "Green"
        print(f"  routing set: {len(questions)} questions, test server at 5 requests/s per service")
        router_latency(server, questions, known)
        pubmedqa(server, known, 200 if args.quick else None, args.list)


if __name__ == "__main__":
    main()
