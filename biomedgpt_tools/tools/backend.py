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

__all__ = [
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
