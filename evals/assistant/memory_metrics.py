"""Memory hit rate and staleness of the annotation store (not measured by the paper).

A workload is a replay of lookups the assistant would make: (entity kind, key, question,
model id, model revision, when). A lookup is a hit when the store recalls a stored answer
for exactly that entity, normalised question and model; a hit is stale when the answer is
older than `max_age` at lookup time. A different model revision is always a miss by the
store's design, so answers of another checkpoint can never be stale hits.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class MemoryLookup:
    kind: str
    key: str
    question: str
    model_id: str
    model_revision: str
    at: datetime  # when the assistant asks (timezone-aware)


@dataclass
class MemoryScores:
    n: int
    hit_rate: float
    stale_rate: float  # stale hits / lookups
    stale_share_of_hits: float
    median_age_days: float | None  # over hits
    max_age_days: float | None

    def as_dict(self) -> dict:
        return asdict(self)


Recall = Callable[[MemoryLookup], "datetime | None"]  # created_at of the recalled answer


def store_recall(store) -> Recall:
    """`AnnotationStore.recall` as a Recall: the stored answer's creation time, or None."""

    def recall(lookup: MemoryLookup) -> datetime | None:
        record = store.recall(
            lookup.kind, lookup.key, lookup.question, lookup.model_id, lookup.model_revision
        )
        return None if record is None else record.created_at

    return recall


def score_memory(
    lookups: Sequence[MemoryLookup], recall: Recall, max_age: timedelta
) -> MemoryScores:
    if not lookups:
        raise ValueError("no lookups to score")
    ages = []
    for lookup in lookups:
        created = recall(lookup)
        if created is not None:
            ages.append((lookup.at - created).total_seconds() / 86400)
    stale = sum(age > max_age.total_seconds() / 86400 for age in ages)
    return MemoryScores(
        n=len(lookups),
        hit_rate=len(ages) / len(lookups),
        stale_rate=stale / len(lookups),
        stale_share_of_hits=stale / len(ages) if ages else 0.0,
        median_age_days=statistics.median(ages) if ages else None,
        max_age_days=max(ages) if ages else None,
    )
