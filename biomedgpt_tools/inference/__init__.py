"""How callers reach a BioMedGPT model: in this process, on a `biomedgpt serve` server, or none.

No LangChain and no torch at import: the tools, ChatBioMedGPT, bulk annotation and the evals
all go through `ModelBackend` (backend.py), so switching to a server changes no caller. What
they ask and get back are the model's own types (`GenerationRequest`, `GenerationResult`,
`ModelIdentity` in biomedgpt_tools.model.requests, which needs no torch either).
"""

from biomedgpt_tools.inference.backend import (
    ModelBackend,
    ModelUnavailableError,
    NoModelBackend,
    TextSink,
)

__all__ = [
    "ModelBackend",
    "ModelUnavailableError",
    "NoModelBackend",
    "TextSink",
]
