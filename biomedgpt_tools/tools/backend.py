"""The model interface moved below the tools, to biomedgpt_tools.inference; these names stay for callers."""

from biomedgpt_tools.inference.backend import (
    ModelAnswer,
    ModelBackend,
    ModelIdentity,
    ModelQuestion,
    ModelUnavailableError,
    NoModelBackend,
    TextSink,
    structure_input,
    structure_value,
)
from biomedgpt_tools.model.prompt import Turn

# the names of the parallel types these replaced, for callers written against them
StructureInput = structure_input  # StructureInput("protein", SEQUENCE) -> Protein(SEQUENCE)
ChatTurn = Turn  # ChatTurn(question=..., answer=...)

__all__ = [
    "ChatTurn",
    "StructureInput",
    "ModelAnswer",
    "ModelBackend",
    "ModelIdentity",
    "ModelQuestion",
    "ModelUnavailableError",
    "NoModelBackend",
    "TextSink",
    "structure_input",
    "structure_value",
]
