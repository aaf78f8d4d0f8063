"""The one small interface the tools and ChatBioMedGPT use to reach a BioMedGPT model.

Two implementations: `InProcessBackend` (the model in this process, loaded once, lazily, and
shared by every tool of a toolkit) and `NoModelBackend` (no weights configured: the tools still
resolve and answer from memory or from the resolved record, and say that no model answered).
A remote server backend would be a third implementation of the same interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from biomedgpt_tools.tools.errors import ModelUnavailableError


@dataclass(frozen=True)
class ModelIdentity:
    """Which model answers: what the memory is keyed on, so another checkpoint never hits."""

    model_id: str
    revision: str


@dataclass(frozen=True)
class StructureInput:
    """One molecule (SMILES) or protein (amino-acid sequence) attached to a question."""

    kind: Literal["molecule", "protein"]
    value: str


@dataclass(frozen=True)
class ChatTurn:
    """One earlier exchange of a conversation (text only)."""

    question: str
    answer: str


@dataclass(frozen=True)
class ModelQuestion:
    """A question for the model: structures in order, earlier turns, an optional system text."""

    question: str
    inputs: tuple[StructureInput, ...] = ()
    history: tuple[ChatTurn, ...] = ()
    system: str | None = None
    max_new_tokens: int | None = None


@dataclass(frozen=True)
class ModelAnswer:
    """The model's text, the exact prompt it saw, and the seconds generation took."""

    text: str
    prompt: str
    identity: ModelIdentity
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


TextSink = Callable[[str, bool], None]
"""Receives an answer's text as it is generated: `(piece, restart)`. Joined, the pieces are the
answer's text exactly; `restart=True` says to drop what came before (the model began its answer
again, see InProcessBackend.answer_streaming) and start over with this piece."""


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
    def answer(self, questions: Sequence[ModelQuestion]) -> list[ModelAnswer]:
        """Answer a batch; raises ModelUnavailableError when no model can answer."""

    @abstractmethod
    def stream(self, question: ModelQuestion) -> Iterator[str]:
        """Yield the answer's text piece by piece; raises ModelUnavailableError."""

    def answer_streaming(self, question: ModelQuestion, sink: TextSink) -> ModelAnswer:
        """Answer one question, passing its text to `sink` as it is generated.

        The pieces join to the returned `ModelAnswer.text`. A backend that cannot stream
        (this default) answers whole and passes the text as one piece.
        """
        answer = self.answer([question])[0]
        if answer.text:
            sink(answer.text, False)
        return answer

    @abstractmethod
    def render_prompt(self, question: ModelQuestion) -> str:
        """The exact prompt text the model would see (structures as placeholders)."""

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
            "no BioMedGPT model is configured (set BIOMEDGPT_MODEL to a model folder, or pass "
            "model_path= to BioMedGPTToolkit)"
        )

    @property
    def configured(self) -> bool:
        return False

    def identity(self) -> ModelIdentity:
        raise ModelUnavailableError(self.reason)

    def answer(self, questions: Sequence[ModelQuestion]) -> list[ModelAnswer]:
        raise ModelUnavailableError(self.reason)

    def stream(self, question: ModelQuestion) -> Iterator[str]:
        raise ModelUnavailableError(self.reason)

    def render_prompt(self, question: ModelQuestion) -> str:
        raise ModelUnavailableError(self.reason)
