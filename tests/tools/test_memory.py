"""Recall before compute: the same (entity, question, model, revision) is answered from memory."""

from __future__ import annotations

from biomedgpt_tools.store.store import open_store
from biomedgpt_tools.tools.artifacts import QAArtifact
from tests.local_services import make_toolkit


def _ask(tool, **args) -> tuple[str, QAArtifact]:
    message = tool.invoke({"type": "tool_call", "id": "call-1", "name": tool.name, "args": args})
    assert message.status == "success", message.content
    return message.content, message.artifact


def test_second_identical_question_comes_from_memory_without_running_the_model(toolkit):
    molecule_qa, protein_qa, biomed_qa = toolkit.get_tools()
    backend = toolkit.backend

    _, first = _ask(molecule_qa, molecule="aspirin", question="Is it an NSAID?")
    assert first.answered_by == "model" and not first.from_memory
    assert backend.answer_calls == 1

    # same molecule by another identifier, same question up to case and punctuation
    content, second = _ask(
        molecule_qa, molecule="CC(=O)OC1=CC=CC=C1C(=O)O", question="is it an NSAID"
    )
    assert backend.answer_calls == 1  # the model did not run
    assert second.from_memory and second.answered_by == "memory"
    assert second.answer == first.answer
    assert second.annotation_id == first.annotation_id
    assert (second.model_id, second.revision) == (first.model_id, first.revision)
    assert "from memory" in content and first.answer in content
    assert second.timings.generate_s is None

    # a different question about the same molecule is computed
    _, third = _ask(molecule_qa, molecule="aspirin", question="Is it toxic?")
    assert third.answered_by == "model" and backend.answer_calls == 2

    # proteins and free-text questions remember too
    _ask(protein_qa, protein="P04637")
    _, protein_again = _ask(protein_qa, protein="P53_HUMAN")
    _ask(biomed_qa, question="Is aspirin an NSAID?", options=["yes", "no"])
    _, biomed_again = _ask(biomed_qa, question="Is aspirin an NSAID?", options=["yes", "no"])
    _, other_options = _ask(biomed_qa, question="Is aspirin an NSAID?", options=["no", "yes"])
    assert protein_again.from_memory and biomed_again.from_memory
    assert not other_options.from_memory  # options are part of the question
    assert backend.answer_calls == 5


def test_fresh_recomputes_and_replaces_the_stored_answer(toolkit):
    molecule_qa = toolkit.get_tools()[0]
    _, first = _ask(molecule_qa, molecule="caffeine")
    _, fresh = _ask(molecule_qa, molecule="caffeine", fresh=True)
    assert fresh.answered_by == "model" and toolkit.backend.answer_calls == 2
    assert fresh.annotation_id == first.annotation_id  # upsert, not a duplicate
    assert len(toolkit.services.memory.open().find("molecule", first.entity_key)) == 1


def test_every_answer_is_saved_with_provenance(toolkit):
    protein_qa = toolkit.get_tools()[1]
    _, artifact = _ask(
        protein_qa, protein="P04637", question="What is the subcellular location of this protein?"
    )
    stored = toolkit.services.memory.open().get(artifact.annotation_id)
    assert stored is not None
    assert (stored.kind, stored.key, stored.source) == ("protein", "P04637", "model")
    assert stored.question == "What is the subcellular location of this protein?"
    assert stored.answer == artifact.answer
    assert (stored.model_id, stored.model_revision) == (artifact.model_id, artifact.revision)
    assert stored.display_name == "Cellular tumor antigen p53"
    assert stored.extra["backend"] == "in-process"
    # the protein's embedding is kept for "similar proteins annotated before"
    vector = toolkit.backend.encode_protein(artifact.record.sequence)
    hits = toolkit.services.memory.open().similar_proteins(
        vector, artifact.model_id, artifact.revision, k=1
    )
    assert [hit.key for hit in hits] == ["P04637"]


def test_a_different_model_revision_misses(toolkit, tiny_model):
    from biomedgpt_tools.model.api import BioMedGPT
    from biomedgpt_tools.model.tiny import build_tiny_model, write_tiny_assets

    molecule_qa = toolkit.get_tools()[0]
    _, first = _ask(molecule_qa, molecule="aspirin")

    # same model id, other weights: another checkpoint of "the same" model
    llm_dir, esm_dir = write_tiny_assets(toolkit.settings.store_path.parent / "other-assets")
    retrained = BioMedGPT.from_components(
        build_tiny_model(seed=1), llm_dir, esm_dir, model_id=tiny_model.model_id
    )
    assert retrained.model_id == first.model_id and retrained.revision != first.revision
    other = make_toolkit(retrained)
    try:
        _, second = _ask(other.get_tools()[0], molecule="aspirin")
        assert not second.from_memory and second.answered_by == "model"
        assert second.revision == retrained.revision
        assert other.backend.answer_calls == 1
        # both answers are kept, one per revision
        assert len(other.services.memory.open().find("molecule", first.entity_key)) == 2
    finally:
        other.close()


def test_memory_can_be_turned_off(resolver_env, tiny_model, monkeypatch):
    monkeypatch.setenv("BIOMEDGPT_MEMORY", "0")
    toolkit = make_toolkit(tiny_model)
    try:
        molecule_qa = toolkit.get_tools()[0]
        _ask(molecule_qa, molecule="aspirin")
        _, second = _ask(molecule_qa, molecule="aspirin")
        assert not second.from_memory and second.annotation_id is None
        assert toolkit.backend.answer_calls == 2
    finally:
        toolkit.close()
    with open_store(path=toolkit.settings.store_path) as store:
        assert store.count() == 0


def test_a_result_without_an_identity_is_saved_under_the_backends(toolkit, monkeypatch):
    """A backend that hands back the model's results as they come (no identity written on them)
    still gets its answers saved and cited under its own identity."""
    from dataclasses import replace

    backend = toolkit.backend
    answer = type(backend).answer
    monkeypatch.setattr(
        type(backend),
        "answer",
        lambda self, questions: [replace(r, identity=None) for r in answer(self, questions)],
    )
    molecule_qa = toolkit.get_tools()[0]
    _, artifact = _ask(molecule_qa, molecule="aspirin", question="Is it bitter?")
    identity = backend.identity()
    assert (artifact.model_id, artifact.revision) == (identity.model_id, identity.revision)
    stored = toolkit.services.memory.open().get(artifact.annotation_id)
    assert (stored.model_id, stored.model_revision) == (identity.model_id, identity.revision)
