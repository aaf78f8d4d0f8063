"""Memory hit rate and staleness measured through the real tools, offline, on tiny models."""

from __future__ import annotations

import json

import pytest

from evals.__main__ import main
from evals.assistant.memory_workload import load_memory_workload
from evals.loaders.errors import DataFormatError

pytest.importorskip("chromadb")


@pytest.fixture(scope="module")
def memory_run(tmp_path_factory):
    """The bundled workload, once: tiny model seed 0, then seed 1 on the same store."""
    from evals.assistant.memory_workload import evaluate_memory

    return evaluate_memory(work_dir=tmp_path_factory.mktemp("memory-eval"), max_new_tokens=4)


def test_second_pass_is_all_memory_and_never_reaches_the_model(memory_run):
    second = memory_run["second_pass"]
    assert second["errors"] == []
    assert second["hit_rate"] == 1.0
    assert set(second["by_relation"].values()) == {1.0}
    assert second["model_calls"] == 0  # the model-call count did not move in pass 2
    assert second["store_replay"]["hit_rate"] == 1.0  # the store itself agrees with the tools
    assert second["store_replay"]["stale_rate"] == 0.0  # a fresh run is never 180 days old


def test_first_pass_asks_the_model_once_per_distinct_question(memory_run):
    first = memory_run["first_pass"]
    workload = load_memory_workload()
    assert memory_run["n_questions"] == len(workload) == 30
    firsts = sum(item.relation == "first" for item in workload)
    assert memory_run["n_unique"] == firsts == first["model_calls"]
    # repeats: same text, case/space/punctuation variants, other identifiers of the entity
    assert first["by_relation"] == {"first": 0.0, "exact": 1.0, "normalised": 1.0, "alias": 1.0}
    assert first["hit_rate"] == pytest.approx((len(workload) - firsts) / len(workload))


def test_another_revision_misses_and_is_never_served_stale(memory_run):
    switch = memory_run["revision_switch"]
    assert memory_run["second_model"]["revision"] != memory_run["model"]["revision"]
    assert switch["replay_hit_rate"] == 0.0  # model A's answers are not recalled for model B
    assert (
        switch["model_calls"] == memory_run["n_unique"]
    )  # B answers every distinct question itself
    assert switch["by_relation"]["first"] == 0.0
    assert (
        switch["recalled"] > 0 and switch["stale_recalled_share"] == 0.0
    )  # B's repeats hit B's answers
    # what the assistant would list as earlier answers: A's and B's, half from the old revision
    assert switch["listed_stale_share"] == pytest.approx(0.5)


def test_a_repeat_with_other_words_misses(tmp_path):
    """The hit rate is measured, not assumed: a 'normalised' repeat that is another question misses."""
    workload = tmp_path / "workload.jsonl"
    rows = [
        {"id": "a", "tool": "MoleculeQA", "entity": "aspirin", "question": "Describe it.", "relation": "first"},
        {"id": "b", "tool": "MoleculeQA", "entity": "Aspirin", "question": "DESCRIBE IT", "relation": "exact",
         "repeat_of": "a"},
        {"id": "c", "tool": "MoleculeQA", "entity": "aspirin", "question": "Describe it in detail.",
         "relation": "normalised", "repeat_of": "a"},
    ]  # fmt: skip
    workload.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    from evals.assistant.memory_workload import evaluate_memory

    scores = evaluate_memory(
        workload=load_memory_workload(workload), work_dir=tmp_path / "w", max_new_tokens=2
    )
    first = scores["first_pass"]
    assert first["by_relation"] == {"first": 0.0, "exact": 1.0, "normalised": 0.0}
    assert first["model_calls"] == 2 and scores["n_unique"] == 2
    assert scores["second_pass"]["hit_rate"] == 1.0


@pytest.mark.parametrize(
    "row, message",
    [
        (
            {"id": "b", "tool": "MoleculeQA", "entity": "x", "question": "q", "relation": "copy"},
            "relation 'copy'",
        ),
        (
            {
                "id": "b",
                "tool": "MoleculeQA",
                "entity": "x",
                "question": "q",
                "relation": "exact",
                "repeat_of": "z",
            },
            "earlier first question",
        ),
        (
            {
                "id": "b",
                "tool": "ProteinQA",
                "entity": "x",
                "question": "q",
                "relation": "exact",
                "repeat_of": "a",
            },
            "same tool",
        ),
        (
            {"id": "b", "tool": "BiomedQA", "entity": "x", "question": "q", "relation": "first"},
            "no entity",
        ),
        (
            {"id": "a", "tool": "MoleculeQA", "entity": "x", "question": "q", "relation": "first"},
            "used twice",
        ),
        ({"id": "b", "tool": "MoleculeQA"}, "expected"),
    ],
)
def test_workload_loader_names_the_bad_line(tmp_path, row, message):
    path = tmp_path / "w.jsonl"
    first = {"id": "a", "tool": "MoleculeQA", "entity": "x", "question": "q", "relation": "first"}
    path.write_text(json.dumps(first) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(DataFormatError, match="w.jsonl:2") as caught:
        load_memory_workload(path)
    assert message in str(caught.value)


def test_memory_cli_refuses_a_folder_that_is_not_a_model(tmp_path, capsys):
    assert main(["memory", "--model", str(tmp_path), "--json"]) == 2
    assert "no config.json" in capsys.readouterr().err
