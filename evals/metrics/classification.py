"""Accuracy and macro-F1 for closed questions, as PubMedQA's official evaluation defines them.

An unmatched prediction (None) counts as wrong. Macro-F1 averages over the gold label set
(yes/no/maybe for PubMedQA), so an unmatched answer is a miss for its true class but not an
extra class of its own: that is scikit-learn's `f1_score(average="macro", labels=LABELS)`,
with a class that has no true and no predicted items scoring 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ChoiceScores:
    n: int
    accuracy: float
    macro_f1: float
    unmatched_rate: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def accuracy(gold: Sequence[str], predicted: Sequence[str | None]) -> float:
    _check_lengths(gold, predicted)
    return sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)


def macro_f1(gold: Sequence[str], predicted: Sequence[str | None], labels: Sequence[str]) -> float:
    """Unweighted mean over `labels` of per-class F1 = 2TP / (2TP + FP + FN)."""
    _check_lengths(gold, predicted)
    unknown = sorted(set(gold) - set(labels))
    if unknown:
        raise ValueError(f"gold labels {unknown} are not among the scored labels {list(labels)}")
    scores = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        denominator = 2 * tp + fp + fn
        scores.append(2 * tp / denominator if denominator else 0.0)
    return sum(scores) / len(scores)


def score_choices(
    gold: Sequence[str], predicted: Sequence[str | None], labels: Sequence[str]
) -> ChoiceScores:
    _check_lengths(gold, predicted)
    return ChoiceScores(
        n=len(gold),
        accuracy=accuracy(gold, predicted),
        macro_f1=macro_f1(gold, predicted, labels),
        unmatched_rate=sum(p is None for p in predicted) / len(gold),
    )


def _check_lengths(gold: Sequence, predicted: Sequence) -> None:
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    if not gold:
        raise ValueError("nothing to score: no gold labels")
