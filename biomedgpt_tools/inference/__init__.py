"""How callers reach a BioMedGPT model: in this process, on a `biomedgpt serve` server, or none.

No LangChain and no torch at import: the tools, ChatBioMedGPT, bulk annotation and the evals
all go through `ModelBackend` (backend.py), so switching to a server changes no caller.
"""

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
