"""The typed artifact every tool returns next to its short text.

The calling LLM sees only the text; programs (agents, notebooks, the store) read the artifact:
the resolved record, what the model said, the exact prompt, which model and checkpoint, how
long each step took, and whether the answer came from memory.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from biomedgpt_tools.resolvers.records import MoleculeRecord, ProteinRecord

AnsweredBy = Literal["model", "memory", "record", "none"]


class StepTimings(BaseModel):
    """Wall-clock seconds per step; a step that did not run stays None."""

    model_config = ConfigDict(frozen=True)

    resolve_s: float | None = None
    recall_s: float | None = None
    generate_s: float | None = None
    save_s: float | None = None
    total_s: float = 0.0


class QAArtifact(BaseModel):
    """Everything about one tool answer, for programs rather than for the calling LLM."""

    model_config = ConfigDict(frozen=True)

    tool: str = Field(description="MoleculeQA, ProteinQA or BiomedQA")
    question: str = Field(description="the question as asked")
    answered_by: AnsweredBy = Field(
        description="model: computed now; memory: a stored earlier answer; record: no model, "
        "the resolved PubChem/UniProt record only; none: nothing could answer"
    )
    answer: str | None = Field(
        None, description="the model's answer (now or from memory); None if no model answered"
    )
    from_memory: bool = False
    record: MoleculeRecord | ProteinRecord | None = Field(None, description="the resolved entity")
    entity_key: str | None = Field(
        None, description="InChIKey or UniProt accession used as the memory key"
    )
    options: list[str] | None = None
    context: str | None = None
    prompt: str | None = Field(None, description="the exact prompt the model saw (or would see)")
    model_id: str | None = None
    revision: str | None = Field(None, description="checkpoint hash of the model that answered")
    backend: str = Field(description="in-process or none")
    annotation_id: str | None = Field(None, description="id of the stored annotation")
    answered_at: datetime | None = Field(
        None, description="when the answer was produced (memory: originally)"
    )
    timings: StepTimings = Field(default_factory=StepTimings)
    notes: list[str] = Field(
        default_factory=list, description="what the tool decided on the caller's behalf"
    )


# For LangGraph checkpointers, which keep tool messages (artifacts included) between turns:
# JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_MSGPACK_TYPES) restores QAArtifact
# without the "unregistered type" warning (and keeps working once LangGraph blocks them).
CHECKPOINT_MSGPACK_TYPES: list[tuple[str, str]] = [(__name__, "QAArtifact")]
