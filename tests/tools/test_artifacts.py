"""Artifacts survive a LangGraph checkpoint round trip (they live in the agent's state)."""

from __future__ import annotations

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from biomedgpt_tools.resolvers.records import ProteinRecord
from biomedgpt_tools.tools.artifacts import CHECKPOINT_MSGPACK_TYPES, QAArtifact, StepTimings


def test_artifact_round_trips_through_a_strict_checkpoint_serializer():
    artifact = QAArtifact(
        tool="ProteinQA",
        question="What is the function of this protein?",
        answered_by="memory",
        answer="A tumour suppressor.",
        from_memory=True,
        record=ProteinRecord(accession="P04637", sequence="MEEPQSDPSV", length=10),
        entity_key="P04637",
        model_id="biomedgpt-10b",
        revision="4f13a6555731",
        backend="in-process",
        timings=StepTimings(resolve_s=0.01, recall_s=0.002, total_s=0.02),
    )
    serializer = JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_MSGPACK_TYPES)
    restored = serializer.loads_typed(serializer.dumps_typed(artifact))
    assert restored == artifact
    assert isinstance(restored.record, ProteinRecord)
    # an allowlist without it blocks the type: the list is what makes the round trip work
    blocked = JsonPlusSerializer(allowed_msgpack_modules=[])
    assert not isinstance(blocked.loads_typed(blocked.dumps_typed(artifact)), QAArtifact)
