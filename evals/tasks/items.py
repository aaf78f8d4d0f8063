"""The two kinds of evaluation items every loader produces and every runner consumes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Literal

Modality = Literal["molecule", "protein"]


@dataclass(frozen=True)
class ModalityInput:
    """One molecule (SMILES) or protein (amino-acid sequence) attached to a question."""

    kind: Modality
    value: str


@dataclass(frozen=True)
class CaptionItem:
    """A free-text question scored with BLEU/ROUGE/METEOR (ChEBI-20, UniProtQA)."""

    item_id: str
    question: str
    reference: str
    inputs: tuple[ModalityInput, ...] = ()
    group: str | None = None  # e.g. UniProtQA question type


@dataclass(frozen=True)
class ChoiceItem:
    """A closed question: one correct label among `options` (label -> option text)."""

    item_id: str
    question: str
    options: dict[str, str]
    answer: str
    context: str | None = None
    meta: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        if self.answer not in self.options:
            raise ValueError(
                f"item {self.item_id}: answer {self.answer!r} is not one of {list(self.options)}"
            )


def question_digest(item: CaptionItem | ChoiceItem) -> str:
    """A short digest of what the model is asked about `item` (question, options, context,
    inputs; not the gold answer). A cached prediction carries it, so a resumed run notices a
    prediction made for another question under the same id (a data file edited in between)."""
    if isinstance(item, CaptionItem):
        asked: list = [item.question, [[i.kind, i.value] for i in item.inputs]]
    else:
        asked = [item.question, item.options, item.context]
    text = json.dumps(asked, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
