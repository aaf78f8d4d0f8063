"""Each request is rendered, tokenized and featurized once, from the question to inputs_embeds."""

from __future__ import annotations

from rdkit import Chem

from biomedgpt_tools.model import molecule_graph
from biomedgpt_tools.model.prompt import Molecule, SegmentEncoder
from biomedgpt_tools.model.requests import GenerationRequest

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"


def _count_calls(monkeypatch, owner, name: str) -> list:
    calls = []
    original = getattr(owner, name)

    def spy(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, spy)
    return calls


def _spies(monkeypatch) -> dict[str, list]:
    return {
        "rdkit parse": _count_calls(monkeypatch, Chem, "MolFromSmiles"),
        "featurize": _count_calls(monkeypatch, molecule_graph, "featurize_mol"),
        "tokenize prompt": _count_calls(monkeypatch, SegmentEncoder, "tokenize_prompt"),
    }


def test_one_molecule_question_is_featurized_and_tokenized_once(tiny_biomedgpt, monkeypatch):
    calls = _spies(monkeypatch)
    request = GenerationRequest("Please describe the molecule.", [Molecule(ASPIRIN)])
    tiny_biomedgpt.generate(request, max_new_tokens=2)
    assert {name: len(seen) for name, seen in calls.items()} == {
        "rdkit parse": 1,
        "featurize": 1,
        "tokenize prompt": 1,
    }


def test_a_checked_request_is_not_built_again(tiny_biomedgpt, monkeypatch):
    """The CLI batch and the server check a request first, then generate from its row."""
    calls = _spies(monkeypatch)
    request = GenerationRequest("Please describe the molecule.", [Molecule(ASPIRIN)])
    row = tiny_biomedgpt.check_request(request, max_new_tokens=2)
    [from_row] = tiny_biomedgpt.generate([row], max_new_tokens=2)
    assert {name: len(seen) for name, seen in calls.items()} == {
        "rdkit parse": 1,
        "featurize": 1,
        "tokenize prompt": 1,
    }
    monkeypatch.undo()
    [from_request] = tiny_biomedgpt.generate(request, max_new_tokens=2)
    assert from_row == from_request
