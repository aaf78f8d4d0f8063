"""The assistant end to end, offline, scored on the gold set (no model, then the tiny model)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evals.__main__ import main
from evals.assistant.scoring import (
    GoldTurn,
    TurnRecord,
    calls_match,
    load_assistant_set,
    percentile,
    score_assistant,
)
from evals.loaders.errors import DataFormatError

pytest.importorskip("langgraph")
pytest.importorskip("chromadb")


@pytest.fixture(scope="module")
def no_model_run(tmp_path_factory):
    from evals.assistant.run import evaluate_assistant

    return evaluate_assistant(work_dir=tmp_path_factory.mktemp("assistant-none"))


def test_gold_set_covers_every_kind_of_turn():
    gold = load_assistant_set()
    assert len(gold) >= 15
    kinds = {turn.kind for turn in gold}
    assert {"molecule by name", "molecule by SMILES", "molecule by CID", "protein by accession",
            "follow-up", "text only", "two molecules"} <= kinds  # fmt: skip
    follow_ups = [turn for turn in gold if turn.kind == "follow-up"]
    assert all(sum(t.thread == f.thread for t in gold) > 1 for f in follow_ups)  # asked in a thread


def test_without_a_model_routes_and_cites_and_says_no_model_answered(no_model_run):
    run = no_model_run
    assert run["n"] == len(load_assistant_set())
    assert run["tool_call_match"] >= 0.9, run["misses"]
    assert run["source_recall"] >= 0.9, run["misses"]
    assert run["model"] is None and run["model_calls"] == 0 and run["model_answered_rate"] == 0.0
    assert run["no_model_stated_rate"] == 1.0  # every answer says that no model answered
    # only text-only questions fail without a model: BiomedQA has no record to fall back on
    failed = {turn["id"] for turn in run["turns"] if turn["tool_errors"]}
    text_only = {turn.id for turn in load_assistant_set() if turn.kind == "text only"}
    assert failed == text_only
    assert run["answered_rate"] == pytest.approx(1 - len(text_only) / run["n"])
    assert 0 < run["latency_p50_s"] <= run["latency_p95_s"]


def test_with_the_tiny_model_every_turn_is_answered_by_the_model(tmp_path):
    from evals.assistant.offline_toolkit import save_tiny_model
    from evals.assistant.run import evaluate_assistant

    model = save_tiny_model(tmp_path / "models", seed=0)
    gold = load_assistant_set()
    run = evaluate_assistant(model, gold, work_dir=tmp_path, max_new_tokens=2)
    assert run["model"]["id"] == "biomedgpt-tiny-seed0"
    assert run["tool_call_match"] >= 0.9 and run["source_recall"] >= 0.9, run["misses"]
    assert run["answered_rate"] == 1.0 and run["model_answered_rate"] == 1.0
    assert run["no_model_stated_rate"] is None
    assert run["model_calls"] == sum(
        len(turn.tool_calls) for turn in gold
    )  # one per call, no repeats


def _turn(calls, sources=(), kind="k"):
    return GoldTurn("t", "th", "q", tuple(calls), tuple(sources), kind)


def test_scoring_compares_calls_in_order_and_counts_cited_sources():
    assert calls_match((("MoleculeQA", "CID 2519"),), [("MoleculeQA", "2519")])
    assert calls_match((("ProteinQA", "p69905"),), [("ProteinQA", " P69905 ")])
    assert not calls_match(
        (("MoleculeQA", "a"), ("MoleculeQA", "b")), [("MoleculeQA", "b"), ("MoleculeQA", "a")]
    )
    assert not calls_match((("BiomedQA", None),), [("BiomedQA", None), ("MoleculeQA", "x")])

    records = [
        TurnRecord(_turn([("MoleculeQA", "aspirin")], ["pubchem:2244"]), [("MoleculeQA", "aspirin")],
                   ["pubchem:2244"], ["model"], "Aspirin ... [1][2]", seconds=1.0),
        TurnRecord(_turn([("MoleculeQA", "a"), ("ProteinQA", "P1")], ["pubchem:1", "uniprot:P1"]),
                   [("MoleculeQA", "a")], ["pubchem:1"], [], "No model answered: ...", seconds=3.0),
        TurnRecord(_turn([("BiomedQA", None)]), [], [], [], "", error="ValueError: boom", seconds=2.0),
    ]  # fmt: skip
    scores = score_assistant(records, model_configured=False)
    assert scores.tool_call_match == pytest.approx(1 / 3)
    assert scores.source_recall == pytest.approx(
        2 / 3
    ) and scores.all_sources_cited == pytest.approx(2 / 3)
    assert scores.answered_rate == pytest.approx(2 / 3)
    assert scores.model_answered_rate == pytest.approx(1 / 3)
    assert scores.no_model_stated_rate == pytest.approx(1 / 3)
    assert (scores.latency_p50_s, scores.latency_p95_s) == pytest.approx((2.0, 2.9))
    assert [miss["missing_sources"] for miss in scores.misses] == [["uniprot:P1"], []]


def test_percentile_is_numpys_linear_percentile():
    values = list(np.random.default_rng(0).random(17))
    for q in (0, 50, 95, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_gold_loader_names_the_bad_line(tmp_path):
    path = tmp_path / "gold.jsonl"
    good = {
        "id": "a",
        "thread": "t",
        "question": "q",
        "tool_calls": [{"name": "BiomedQA"}],
        "sources": [],
    }
    bad = dict(good, id="b", tool_calls=[{"name": "MoleculeQA"}])
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(DataFormatError, match="gold.jsonl:2: MoleculeQA needs an entity"):
        load_assistant_set(path)
    path.write_text(json.dumps(dict(good, sources=["chebi:15365"])) + "\n")
    with pytest.raises(DataFormatError, match="gold.jsonl:1: source 'chebi:15365'"):
        load_assistant_set(path)


def test_assistant_cli_json_on_a_small_set(tmp_path, capsys):
    path = tmp_path / "gold.jsonl"
    rows = [
        {"id": "1", "thread": "x", "question": "Describe caffeine.",
         "tool_calls": [{"name": "MoleculeQA", "entity": "caffeine"}], "sources": ["pubchem:2519"]},
        {"id": "2", "thread": "x", "question": "What is its formula?",
         "tool_calls": [{"name": "MoleculeQA", "entity": "caffeine"}], "sources": ["pubchem:2519"]},
        {"id": "3", "thread": "y", "question": "Describe ethanol.",
         "tool_calls": [{"name": "MoleculeQA", "entity": "ethanol"}], "sources": ["pubchem:2244"]},  # wrong on purpose
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    assert main(["assistant", "--set", str(path), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["n"] == 3 and scores["tool_call_match"] == 1.0
    assert scores["source_recall"] == pytest.approx(2 / 3)
    assert [miss["id"] for miss in scores["misses"]] == ["3"]
    assert scores["misses"][0]["missing_sources"] == ["pubchem:2244"]
