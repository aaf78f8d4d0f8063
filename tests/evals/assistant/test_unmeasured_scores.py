"""Scores the paper never measured: routing accuracy and resolver accuracy."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from evals.__main__ import main
from evals.assistant.memory_metrics import MemoryLookup, score_memory, store_recall
from evals.assistant.resolver_accuracy import (
    ResolverCase,
    case_from_mapping,
    load_gold_set,
    resolve_function,
    score_resolver,
)
from evals.assistant.routing_accuracy import RoutingCase, load_routing_set, score_routing
from evals.loaders.errors import DataFormatError

CASES = [
    RoutingCase("Describe aspirin.", ["MoleculeQA"], ["aspirin"]),
    RoutingCase("What does P69905 do?", ["ProteinQA"], ["P69905"]),
    RoutingCase("Does aspirin bind P23219?", ["MoleculeQA", "ProteinQA"], ["aspirin", "P23219"]),
    RoutingCase("What is sepsis?", ["BiomedQA"], []),
]


def test_routing_scores_count_exact_routes_and_tool_overlap():
    answers = {
        "Describe aspirin.": (["MoleculeQA"], ["aspirin"]),  # exact
        "What does P69905 do?": (["ProteinQA"], ["P69905-1"]),  # right tool, wrong entity
        "Does aspirin bind P23219?": (["MoleculeQA"], ["aspirin"]),  # one tool missing
        "What is sepsis?": (["BiomedQA", "MoleculeQA"], ["sepsis"]),  # one tool too many
    }
    scores = score_routing(CASES, lambda q: answers[q])
    assert scores.n == 4
    assert scores.exact == 0.25
    assert scores.tools_exact == 0.5
    assert scores.tool_precision == pytest.approx(4 / 5)  # 5 predicted calls, 4 expected among them
    assert scores.tool_recall == pytest.approx(4 / 5)  # 5 expected calls, 4 predicted
    assert [m["question"] for m in scores.misses] == [c.question for c in CASES[1:]]


def test_routing_set_loader_names_bad_lines(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text('{"question": "q", "tools": ["BiomedQA"]}\n{"tools": []}\n')
    with pytest.raises(DataFormatError, match="set.jsonl:2"):
        load_routing_set(path)


def test_routing_cli_on_the_agents_routing_set(capsys):
    pytest.importorskip("agents.routing")
    assert main(["routing", "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["n"] == len(load_routing_set())
    assert 0.0 <= scores["exact"] <= 1.0


def test_resolver_scores_separate_wrong_not_found_and_errors():
    table = {"aspirin": "2244", "caffeine": "9999", "P69905": "P69905"}

    def resolve(kind, query):
        if query == "timeout":
            raise TimeoutError("server did not answer")
        if query not in table:
            raise LookupError(query)
        return table[query]

    cases = [
        ResolverCase("molecule", "aspirin", "2244"),  # right
        ResolverCase("molecule", "caffeine", "2519"),  # wrong
        ResolverCase("molecule", "unobtainium", "1"),  # not found
        ResolverCase("molecule", "notacompound", None),  # correctly not found
        ResolverCase("protein", "P69905", "P69905"),  # right
        ResolverCase("protein", "timeout", "P01308"),  # error
    ]
    scores = score_resolver(cases, resolve)
    assert scores.accuracy == pytest.approx(3 / 6)
    assert (scores.wrong, scores.not_found, scores.errors) == (1, 1, 1)
    assert scores.by_kind == {"molecule": 0.5, "protein": 0.5}
    assert "TimeoutError" in scores.failures[-1]["got"]


def test_resolver_case_from_mapping():
    assert case_from_mapping(
        {"kind": "molecule", "query": "CID 2244", "expected": 2244}, "x"
    ) == ResolverCase("molecule", "CID 2244", "2244")
    with pytest.raises(ValueError, match="kind molecule|protein"):
        case_from_mapping({"kind": "gene", "query": "TP53"}, "gold.jsonl:3")


def test_gold_set_loads_and_names_bad_lines(tmp_path):
    cases = load_gold_set()
    assert len(cases) >= 40 and {c.kind for c in cases} == {"molecule", "protein"}
    assert any(c.expected is None for c in cases)  # queries that must not resolve
    bad = tmp_path / "gold.jsonl"
    bad.write_text(
        '{"kind": "molecule", "query": "aspirin", "expected": "2244"}\n{"kind": "gene"}\n'
    )
    with pytest.raises(DataFormatError, match="gold.jsonl:2"):
        load_gold_set(bad)


@pytest.fixture(scope="module")
def resolver_test_server():
    resolver_server = pytest.importorskip("biomedgpt_tools.testing.resolver_server")
    with resolver_server.ResolverTestServer() as server:
        yield server


def test_resolver_accuracy_against_the_resolver_test_server(resolver_test_server, tmp_path):
    """The real Resolver on the whole gold set, against the local PubChem/UniProt test server."""
    from biomedgpt_tools.resolvers import Resolver, ResolverSettings
    from biomedgpt_tools.resolvers.settings import RatePolicy

    fast = RatePolicy(1000, 100000)  # the test server does not throttle; keep the test quick
    settings = ResolverSettings(
        pubchem_url=resolver_test_server.pubchem_url, uniprot_url=resolver_test_server.uniprot_url,
        cache_dir=tmp_path / "cache", use_snapshot=False, pubchem_rate=fast, uniprot_rate=fast,
    )  # fmt: skip
    with Resolver(settings) as resolver:
        scores = score_resolver(load_gold_set(), resolve_function(resolver))
    assert scores.n == len(load_gold_set())
    assert scores.errors == 0, scores.failures
    assert scores.accuracy >= 0.9, scores.failures


def test_resolvers_cli_reads_endpoints_from_the_environment(
    resolver_test_server, tmp_path, monkeypatch, capsys
):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        '{"kind": "molecule", "query": "CID 2244", "expected": "2244"}\n'
        '{"kind": "protein", "query": "P69905", "expected": "P02340"}\n'
    )
    monkeypatch.setenv("BIOMEDGPT_PUBCHEM_URL", resolver_test_server.pubchem_url)
    monkeypatch.setenv("BIOMEDGPT_UNIPROT_URL", resolver_test_server.uniprot_url)
    assert main(["resolvers", "--gold", str(gold), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert (
        scores["accuracy"] == 0.5 and scores["wrong"] == 1
    )  # the second case expects another protein
    assert scores["failures"][0]["got"] == "P69905"


ASPIRIN, CAFFEINE, ETHANOL = (
    "BSYNRYMUTXBXSQ-UHFFFAOYSA-N",
    "RYYVLZVUVIJVGH-UHFFFAOYSA-N",
    "LFQSCWFLJHTTHZ-UHFFFAOYSA-N",
)  # the store keys molecules by InChIKey


class _LetterCountEmbedder:
    """A tiny stand-in for MiniLM: recall looks records up by id, so vectors only need to exist."""

    name, dimension = "letter-count", 26

    def embed(self, texts):
        vectors = []
        for text in texts:
            counts = [text.lower().count(c) + 1e-3 for c in "abcdefghijklmnopqrstuvwxyz"]
            norm = sum(v * v for v in counts) ** 0.5
            vectors.append([v / norm for v in counts])
        return vectors


def test_memory_hit_rate_and_staleness_on_the_annotation_store(tmp_path):
    pytest.importorskip("chromadb")
    from biomedgpt_tools.store import AnnotationStore
    from biomedgpt_tools.store.record import AnnotationRecord

    now = datetime(2026, 11, 22, tzinfo=timezone.utc)
    store = AnnotationStore.open(tmp_path / "store", embedder=_LetterCountEmbedder())
    try:
        store.add_many([
            AnnotationRecord("molecule", ASPIRIN, "Describe it.", "Aspirin is an NSAID.", "biomedgpt-10b", "r1",
                             created_at=now - timedelta(days=2)),
            AnnotationRecord("molecule", CAFFEINE, "Describe it.", "Caffeine is a stimulant.", "biomedgpt-10b", "r1",
                             created_at=now - timedelta(days=400)),
        ])  # fmt: skip
        lookups = [
            MemoryLookup(
                "molecule", ASPIRIN, "describe  it.", "biomedgpt-10b", "r1", now
            ),  # hit (question normalised)
            MemoryLookup(
                "molecule", CAFFEINE, "Describe it.", "biomedgpt-10b", "r1", now
            ),  # stale hit
            MemoryLookup(
                "molecule", ASPIRIN, "Describe it.", "biomedgpt-10b", "r2", now
            ),  # other revision: miss
            MemoryLookup(
                "molecule", ETHANOL, "Describe it.", "biomedgpt-10b", "r1", now
            ),  # never stored: miss
        ]
        scores = score_memory(lookups, store_recall(store), max_age=timedelta(days=180))
    finally:
        store.close()
    assert scores.hit_rate == 0.5
    assert scores.stale_rate == 0.25 and scores.stale_share_of_hits == 0.5
    assert scores.median_age_days == pytest.approx(201) and scores.max_age_days == pytest.approx(
        400
    )
