"""Paired bootstrap of the difference between two systems' caption metrics on the same items.

One resample draws N item indices with replacement and scores both systems on those same
rows, so the interval reflects which molecules happen to be in the test set, not two
independent draws (Koehn 2004, "Statistical significance tests for machine translation
evaluation"). Corpus BLEU is recomputed from summed n-gram counts, not averaged per item.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from evals.metrics.caption import METRICS, CaptionItems


@dataclass(frozen=True)
class MetricDifference:
    """candidate - baseline on one metric: the full-set value and its bootstrap interval."""

    metric: str
    baseline: float
    candidate: float
    difference: float
    low: float  # the (1 - confidence) / 2 quantile of the resampled differences
    high: float
    not_better: float  # share of resamples where the candidate does not beat the baseline

    def as_dict(self) -> dict[str, float | str]:
        return asdict(self)


def paired_bootstrap(
    baseline: CaptionItems,
    candidate: CaptionItems,
    samples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> list[MetricDifference]:
    """candidate - baseline for each metric, rows i of both being the same test item."""
    if len(baseline) != len(candidate):
        raise ValueError(
            f"the baseline has {len(baseline)} items and the candidate {len(candidate)}; "
            "a paired bootstrap needs the same items in both"
        )
    if samples < 1:
        raise ValueError(f"samples must be at least 1, got {samples}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    full_base, full_cand = baseline.scores().as_dict(), candidate.scores().as_dict()
    rng = np.random.default_rng(seed)
    n = len(baseline)
    differences = {metric: np.empty(samples) for metric in METRICS}
    for sample in range(samples):
        rows = rng.integers(0, n, size=n)  # (N,) the same rows for both systems
        base, cand = baseline.scores(rows).as_dict(), candidate.scores(rows).as_dict()
        for metric in METRICS:
            differences[metric][sample] = cand[metric] - base[metric]
    tail = (1 - confidence) / 2
    return [
        MetricDifference(
            metric=metric,
            baseline=full_base[metric],
            candidate=full_cand[metric],
            difference=full_cand[metric] - full_base[metric],
            low=float(np.quantile(differences[metric], tail)),
            high=float(np.quantile(differences[metric], 1 - tail)),
            not_better=float(np.mean(differences[metric] <= 0)),
        )
        for metric in METRICS
    ]
