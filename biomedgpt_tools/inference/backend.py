"""The one small interface the tools, ChatBioMedGPT, bulk annotation and evals use to reach a model.

It sits below the tools and imports neither LangChain nor torch, so a client of a model server
needs neither. Questions and answers are the model's own types: `GenerationRequest` and
`GenerationResult` (model/requests.py, torch-free), with `Molecule`, `Protein` and `Turn`
(model/prompt.py); a backend fills each result's `identity` and `seconds`.

Three implementations: `InProcessBackend` (in_process.py: the model in this process, loaded
once, lazily), `RemoteBackend` (remote.py: a `biomedgpt serve` process over HTTP) and
`NoModelBackend` (no model configured: the tools still resolve and answer from memory or
from the resolved record, and say that no model answered).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence

from biomedgpt_tools.model.requests import GenerationRequest, GenerationResult, ModelIdentity


class ModelUnavailableError(RuntimeError):
    """No model can answer: none configured, the configured one failed to load, or its server is down."""


TextSink = Callable[[str], None]
"""Receives an answer's text as it is generated, in deltas: joined, they are the answer's text
exactly (the model layer or the server cut the answer out as it grows; none is taken back)."""


class ModelBackend(ABC):
    """Where answers come from. Implementations must be safe to call from several threads."""

    kind: str

    @property
    @abstractmethod
    def configured(self) -> bool:
        """Whether a model is configured at all (a configured model may still fail to load)."""

    @abstractmethod
    def identity(self) -> ModelIdentity:
        """The answering model's id and checkpoint revision; raises ModelUnavailableError."""

    @abstractmethod
    def answer(self, questions: Sequence[GenerationRequest]) -> list[GenerationResult]:
        """Answer a batch; raises ModelUnavailableError when no model can answer."""

    @abstractmethod
    def stream(self, question: GenerationRequest) -> Iterator[str]:
        """Yield the answer's text piece by piece; raises ModelUnavailableError."""

    def answer_streaming(self, question: GenerationRequest, sink: TextSink) -> GenerationResult:
        """Answer one question, passing its text to `sink` as it is generated.

        The pieces join to the returned `GenerationResult.text`. A backend that cannot stream
        (this default) answers whole and passes the text as one piece.
        """
        answer = self.answer([question])[0]
        if answer.text:
            sink(answer.text)
        return answer

    def render_prompt(self, question: GenerationRequest) -> str:
        """The exact prompt text the model would see (structures as placeholders)."""
        from biomedgpt_tools.model.prompt import render_prompt

        return render_prompt(question.conversation())

    @property
    def model_name(self) -> str | None:
        """A label for traces, known without loading anything (None: no model)."""
        return None

    def encode_protein(self, sequence: str) -> list[float] | None:
        """Mean-pooled protein embedding for similarity search, or None when unavailable."""
        return None

    @property
    def answer_calls(self) -> int:
        """How many questions reached the model so far (memory hits do not count)."""
        return 0


class NoModelBackend(ModelBackend):
    """No weights configured: every model call fails with a message that says how to configure one."""

    kind = "none"

    def __init__(self, reason: str | None = None):
        self.reason = reason or (
            "no BioMedGPT model is configured (set BIOMEDGPT_MODEL to a model folder or "
            "BIOMEDGPT_SERVER_URL to a `biomedgpt serve` server, or pass model_path= / server_url= "
            "to BioMedGPTToolkit)"
        )

    @property
    def configured(self) -> bool:
        return False

    def identity(self) -> ModelIdentity:
        raise ModelUnavailableError(self.reason)

    def answer(self, questions: Sequence[GenerationRequest]) -> list[GenerationResult]:
        raise ModelUnavailableError(self.reason)

    def stream(self, question: GenerationRequest) -> Iterator[str]:
        raise ModelUnavailableError(self.reason)

    def render_prompt(self, question: GenerationRequest) -> str:
        raise ModelUnavailableError(self.reason)


def answered_by(backend: ModelBackend, result: GenerationResult) -> ModelIdentity:
    """Who answered: the identity the backend wrote on the result (every backend here does);
    for a result that came back without one, the backend's own identity."""
    return result.identity if result.identity is not None else backend.identity()
