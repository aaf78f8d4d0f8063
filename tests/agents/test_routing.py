"""The rule router's shape detectors, and the routing set in evals/data.

Its accuracy against the resolvers' test server (names confirmed by PubChem/UniProt, issue
15) is in test_entity_verification.py; here the harness runs offline, as `python -m evals
routing` does without BIOMEDGPT_*_URL settings.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.entities import find_entities, looks_like_smiles
from agents.routing import route_by_rules

ROUTING_SET = Path(__file__).resolve().parents[2] / "evals" / "data" / "routing_set.jsonl"


def load_routing_set() -> list[dict]:
    return [json.loads(line) for line in ROUTING_SET.read_text().splitlines() if line.strip()]


def test_routing_set_is_large_and_covers_every_tool():
    rows = load_routing_set()
    assert len(rows) >= 150
    tools = {tool for row in rows for tool in row["tools"]}
    assert tools == {"MoleculeQA", "ProteinQA", "BiomedQA"}
    assert sum(len(row["tools"]) > 1 for row in rows) >= 5  # mixed questions


def test_routing_harness_runs_offline_without_service_settings(monkeypatch):
    """No BIOMEDGPT_*_URL: names are checked on the cache and the snapshot only, never online."""
    import subprocess
    import sys

    for name in ("BIOMEDGPT_PUBCHEM_URL", "BIOMEDGPT_UNIPROT_URL"):
        monkeypatch.delenv(name, raising=False)
    done = subprocess.run(
        [sys.executable, "-m", "evals", "routing", "--json"],
        capture_output=True,
        text=True,
        cwd=ROUTING_SET.parents[2],
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    scores = json.loads(done.stdout)
    assert scores["names_checked"].startswith("offline") and scores["n"] >= 150
    missed = {m["question"] for m in scores["misses"]}
    # snapshot names and identifiers still route; names outside the snapshot cannot be confirmed
    assert "Compare aspirin and ibuprofen" not in missed and "What does P52341 do?" not in missed
    assert "What is the mechanism of action of codeine?" in missed


@pytest.mark.parametrize(
    "word", ["CO", "NO", "I", "ACE", "CO2", "H2O", "CNS", "IL6", "TP53", "COPD", "O2"]
)
def test_prose_words_are_not_smiles(word):
    assert not looks_like_smiles(word)


@pytest.mark.parametrize(
    "smiles", ["CCO", "c1ccccc1", "CC(=O)O", "[Na+].[Cl-]", "C/C=C/C", "C[C@H](N)C(=O)O"]
)
def test_structures_are_smiles(smiles):
    assert looks_like_smiles(smiles)


def test_gene_with_organism_becomes_a_resolver_query():
    route = route_by_rules("What does TP53 in human do?")
    assert route.tool_calls[0].args["protein"] == "gene:TP53 organism:9606"


def test_questions_reach_each_tool_call_unchanged():
    question = "Compare aspirin and ibuprofen"
    route = route_by_rules(question, frozenset({"aspirin"}))
    assert [call.args["molecule"] for call in route.tool_calls] == ["aspirin", "ibuprofen"]
    assert all(call.args["question"] == question for call in route.tool_calls)


def test_entity_spans_point_at_their_text():
    question = "Does CC(=O)OC1=CC=CC=C1C(=O)O inhibit PGH1_HUMAN or P23219?"
    for entity in find_entities(question):
        assert question[entity.start : entity.end].endswith(entity.text) or entity.kind == "cid"


def test_cas_numbers_are_molecules_when_the_check_digit_holds_or_a_cue_says_so():
    found = find_entities("Is 50-78-2 the same as CAS 58-08-1? Not 12-34-5.")
    assert [(e.kind, e.text) for e in found] == [("cas", "50-78-2"), ("cas", "58-08-1")]
    route = route_by_rules("What is 58-08-2 used for?")
    assert [(c.name, c.args["molecule"]) for c in route.tool_calls] == [("MoleculeQA", "58-08-2")]


@pytest.mark.parametrize(
    ("question", "query"),
    [
        ("What does mouse Kras do?", "gene:Kras organism:10090"),
        ("What does Kras in mouse do?", "gene:Kras organism:10090"),
        ("Is E. coli lacZ an enzyme?", "gene:lacZ organism:83333"),
        ("What is the role of rat Tp53?", "gene:Tp53 organism:10116"),
        ("What does human TP53 do?", "gene:TP53 organism:9606"),
    ],
)
def test_organism_first_and_organism_style_genes(question, query):
    route = route_by_rules(question)
    assert [c.args["protein"] for c in route.tool_calls] == [query]


@pytest.mark.parametrize(
    "question", ["The Mouse Model of disease", "in human liver cells", "Do mice sleep?"]
)
def test_prose_after_an_organism_is_not_a_gene(question):
    assert [e for e in find_entities(question) if e.kind == "gene"] == []
