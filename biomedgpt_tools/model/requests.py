"""What is asked of BioMedGPT and what comes back: one set of types for every caller.

The model facade (api.py), the backends (inference/), the server, the tools, bulk annotation
and the evals all speak `GenerationRequest` and `GenerationResult`. This module imports no
torch, so a client of a model server builds requests and reads answers without it.

Requests and results are plain (mutable) dataclasses with lists: callers build them
incrementally and the batch reader shortens an over-long protein in place
(cli/batch_lines.py). Nothing keys on a request; the memory keys on the question text and
the frozen `ModelIdentity`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .prompt import Conversation, ModalInput, Turn, conversation_from_inputs, structure_input


@dataclass(frozen=True)
class ModelIdentity:
    """Which model answers: what the memory is keyed on, so another checkpoint never hits."""

    model_id: str
    revision: str


@dataclass
class GenerationRequest:
    """A question about molecules (SMILES) and proteins (sequences), in prompt order.

    `history` holds earlier answered turns of a multi-turn conversation (with their own
    inputs, if any); `system` None means the system text used with the released weights.
    `max_new_tokens` is this request's limit on new tokens (None: 255, the reference's); an
    explicit `max_new_tokens` given to `BioMedGPT.generate` / `stream` wins, and a batch
    decodes to the largest limit among its requests.
    """

    question: str
    inputs: list[ModalInput] = field(default_factory=list)
    system: str | None = None
    history: list[Turn] = field(default_factory=list)
    max_new_tokens: int | None = None

    @classmethod
    def from_mapping(cls, data: Mapping) -> GenerationRequest:
        """From the JSON shape of `biomedgpt generate --batch`: `question`, optional `system`,
        and `molecule` / `protein` (one string) or `inputs` ([{"molecule": ...} | {"protein": ...}])."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a request must be a JSON object, not {type(data).__name__}")
        known = {"question", "system", "molecule", "protein", "inputs"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown request field(s) {unknown}; allowed: {sorted(known)}")
        if "inputs" in data and ("molecule" in data or "protein" in data):
            raise ValueError("give either 'inputs' or 'molecule'/'protein', not both")
        inputs: list[ModalInput] = []
        if "inputs" in data:
            if not isinstance(data["inputs"], list):
                raise ValueError(
                    '\'inputs\' must be a list of {"molecule": SMILES} / {"protein": SEQUENCE}'
                )
            for item in data["inputs"]:
                if (
                    not isinstance(item, Mapping)
                    or len(item) != 1
                    or not set(item) <= {"molecule", "protein"}
                ):
                    raise ValueError(
                        f'each entry of \'inputs\' must be {{"molecule": SMILES}} or {{"protein": SEQUENCE}}, not {item!r}'
                    )
                inputs.append(_modal_input(*next(iter(item.items()))))
        else:
            for kind in ("molecule", "protein"):
                if kind in data:
                    inputs.append(_modal_input(kind, data[kind]))
        question = data.get("question")
        if not isinstance(question, str):
            raise ValueError("a request needs a 'question' string")
        system = data.get("system")
        if system is not None and not isinstance(system, str):
            raise ValueError("'system' must be a string")
        return cls(question=question, inputs=inputs, system=system)

    def conversation(self) -> Conversation:
        return conversation_from_inputs(self.question, self.inputs, self.system, self.history)


def _modal_input(kind: str, value) -> ModalInput:
    if not isinstance(value, str):
        raise ValueError(f"a {kind} must be given as a string, not {type(value).__name__}")
    return structure_input(kind, value)


@dataclass
class GenerationResult:
    """One answer: the exact prompt (placeholders included), the answer text, the new tokens.

    The model fills the first five; a backend adds who answered (`identity`) and how long
    generation took (`seconds`), which the tools show and the memory records.
    """

    prompt: str
    text: str
    token_ids: list[int]  # new tokens, ending with eos when the model stopped by itself
    finished: bool  # False when max_new_tokens cut the answer
    raw_text: str = ""  # all new tokens decoded, before the answer is cut out ("": not sent)
    identity: ModelIdentity | None = None  # None until a backend names the answering model
    seconds: float = 0.0  # generation time as the backend measured it

    def to_json(self) -> dict:
        return {"prompt": self.prompt, "text": self.text, "token_ids": self.token_ids}
