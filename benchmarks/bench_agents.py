"""The assistant's router latency and bulk-annotation throughput.

Measured, each against a baseline from the same run:
- rule-based router: latency per question over the 67-question routing set (target < 5 ms),
  against the LLM router path driven by a scripted in-process chat model (no network: the
  LangChain overhead an LLM router adds before any provider latency);
- `BulkAnnotator` (batch resolution + batched generation + store) in accessions per second,
  against a loop calling the ProteinQA tool once per accession and question, both with the
  `small` preset model (random weights: the demo model's size), the resolvers' test server
  and a fresh embedded store each.

    python benchmarks/bench_agents.py [--quick]
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
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROUTING_SET = REPO_ROOT / "evals" / "data" / "routing_set.jsonl"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def bench_router(repeats: int) -> None:

    from agents.entities import find_entities
    from agents.known_names import known_molecule_names
    from agents.prompts import ROUTER_SYSTEM_PROMPT
    from agents.routing import route_by_llm, route_by_rules
    from biomedgpt_tools.testing.scripted_chat_model import ScriptedChatModel, calling, tool_call
    from biomedgpt_tools.tools.toolkit import BioMedGPTToolkit

    questions = [
        json.loads(line)["question"]
        for line in ROUTING_SET.read_text().splitlines()
        if line.strip()
    ]
    known = known_molecule_names()
    for question in questions:  # warm caches (RDKit parse cache, regexes) once, as a server would
        route_by_rules(question, known)
    per_question = []
    for question in questions:
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            route_by_rules(question, known)
            samples.append((time.perf_counter() - started) * 1000)
        per_question.append(statistics.median(samples))
    print(
        f"rule router, {len(questions)} questions x {repeats}: median {statistics.median(per_question):.3f} ms, "
        f"p95 {percentile(per_question, 0.95):.3f} ms, max {max(per_question):.3f} ms per question "
        f"(target < 5 ms: {'met' if max(per_question) < 5 else 'NOT met'})"
    )

    with tempfile.TemporaryDirectory() as home:
        os.environ["BIOMEDGPT_HOME"] = home
        toolkit = BioMedGPTToolkit.from_env(backend="none", memory=False)
        tools = toolkit.get_tools()
        reply = calling(tool_call("MoleculeQA", molecule="aspirin", question="Describe aspirin."))
        llm_samples = []
        for question in questions:
            model = ScriptedChatModel(script=[reply] * repeats)
            for _ in range(repeats):
                started = time.perf_counter()
                entities = find_entities(question, known)  # the turn's one extraction
                route_by_llm(
                    question,
                    model,
                    tools,
                    ROUTER_SYSTEM_PROMPT.format(follow_up=""),
                    entities=entities,
                )
                llm_samples.append((time.perf_counter() - started) * 1000)
        toolkit.close()
    print(
        f"baseline, entity extraction + LLM router with an in-process scripted chat model (no provider latency): "
        f"median {statistics.median(llm_samples):.3f} ms, p95 {percentile(llm_samples, 0.95):.3f} ms"
    )


def bench_bulk(count: int, question_types: list[str], max_new_tokens: int) -> None:
    from biomedgpt_tools.annotation import BulkAnnotator
    from biomedgpt_tools.annotation.questions import QUESTION_TYPES
    from biomedgpt_tools.model.tiny import build_tiny_biomedgpt
    from biomedgpt_tools.resolvers.settings import RatePolicy, ResolverSettings
    from biomedgpt_tools.services.biomedgpt_services import BioMedGPTServices
    from biomedgpt_tools.services.settings import ToolkitSettings
    from biomedgpt_tools.testing.bulk_entities import write_catalog
    from biomedgpt_tools.testing.resolver_server import ResolverTestServer
    from biomedgpt_tools.tools.toolkit import BioMedGPTToolkit

    scratch = Path(tempfile.mkdtemp(prefix="bench-agents-"))
    model = build_tiny_biomedgpt(scratch / "assets", seed=0, preset="small")
    accessions = [f"Q9T{n:03d}" for n in range(count)]

    def toolkit_in(home: Path) -> BioMedGPTToolkit:
        os.environ["BIOMEDGPT_HOME"] = str(home)
        os.environ["BIOMEDGPT_CACHE_DIR"] = str(home / "cache")
        resolver = ResolverSettings.from_env().with_changes(
            pubchem_rate=RatePolicy(1000, 100000), uniprot_rate=RatePolicy(1000, 100000)
        )
        settings = ToolkitSettings.from_env().with_changes(
            resolver=resolver, max_new_tokens=max_new_tokens, protein_vectors=False
        )
        return BioMedGPTToolkit(services=BioMedGPTServices.build(settings, model=model))

    with ResolverTestServer(entities_path=write_catalog(scratch, count)) as server:
        server.throttling = "Green"
        os.environ["BIOMEDGPT_UNIPROT_URL"] = server.uniprot_url
        os.environ["BIOMEDGPT_PUBCHEM_URL"] = server.pubchem_url
        os.environ.pop("BIOMEDGPT_OFFLINE", None)

        toolkit = toolkit_in(scratch / "loop")
        toolkit.services.memory.open()  # both sides open the store (and load MiniLM) before the clock starts
        tool = next(t for t in toolkit.get_tools() if t.name == "ProteinQA")
        requests_before = len(server.requests)
        started = time.perf_counter()
        for accession in accessions:
            for name in question_types:
                tool.invoke({"protein": accession, "question": QUESTION_TYPES[name]})
        loop_s = time.perf_counter() - started
        loop_requests = len(server.requests) - requests_before
        toolkit.close()

        toolkit = toolkit_in(scratch / "bulk")
        toolkit.services.memory.open()
        requests_before = len(server.requests)
        started = time.perf_counter()
        summary = BulkAnnotator(toolkit.services, question_types, batch_size=32).run(
            accessions, scratch / "bulk.jsonl", progress=False
        )
        bulk_s = time.perf_counter() - started
        bulk_requests = len(server.requests) - requests_before
        toolkit.close()

    print(
        f"bulk annotation, {count} accessions x {len(question_types)} questions, small preset, "
        f"{max_new_tokens} new tokens, CPU threads {_threads()}:"
    )
    print(
        f"  BulkAnnotator: {bulk_s:.1f} s, {count / bulk_s:.2f} accessions/s, {bulk_requests} UniProt requests "
        f"({summary.counts['done']} done)"
    )
    print(
        f"  baseline, ProteinQA once per accession and question: {loop_s:.1f} s, {count / loop_s:.2f} accessions/s, "
        f"{loop_requests} UniProt requests"
    )
    print(f"  speed-up: {loop_s / bulk_s:.2f}x")


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer repeats and accessions (CI smoke run)"
    )
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    bench_router(repeats=5 if args.quick else 50)
    if args.quick:
        bench_bulk(count=16, question_types=["function", "name"], max_new_tokens=8)
    else:
        bench_bulk(
            count=32, question_types=["function", "name", "family", "location"], max_new_tokens=16
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
