"""Fixtures for the store tests: stores on a fast hashing embedder, records, subprocess env."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from biomedgpt_tools.store import AnnotationRecord, AnnotationStore
from tests.store.hashing_embedder import HashingTextEmbedder

# MiniLM with torch's default 2 threads on a busy 2-core machine took 1.5 s per query, 40 ms
# with one thread (oversubscription); the store tests only ever embed a few short texts.
os.environ.setdefault("BIOMEDGPT_EMBED_THREADS", "1")

REPO_ROOT = Path(__file__).resolve().parents[2]
ASPIRIN = "BSYNRYMUTXBXSQ-UHFFFAOYSA-N"
CAFFEINE = "RYYVLZVUVIJVGH-UHFFFAOYSA-N"
TP53 = "P04637"
BRCA1 = "P38398"


def build_record(**fields) -> AnnotationRecord:
    """AnnotationRecord with sensible defaults; override any field by keyword."""
    values = {
        "kind": "molecule",
        "key": ASPIRIN,
        "question": "What is this molecule?",
        "answer": "Aspirin is a nonsteroidal anti-inflammatory drug that inhibits cyclooxygenase.",
        "model_id": "biomedgpt-10b",
        "model_revision": "rev-a",
        "display_name": "aspirin",
    }
    values.update(fields)
    return AnnotationRecord(**values)


# answers about aspirin, caffeine and TP53 whose meanings differ (semantic-search fixtures)
MEANING_ANSWERS = (
    "Aspirin is a painkiller that reduces fever and inflammation.",
    "Caffeine is a stimulant found in coffee.",
    "A tumour suppressor that halts the cell cycle after DNA damage.",
)


def meaning_records(answers=MEANING_ANSWERS, **protein_fields) -> list[AnnotationRecord]:
    """One aspirin, one caffeine and one TP53 record with these answers, in that order."""
    aspirin, caffeine, tp53 = answers
    return [
        build_record(answer=aspirin),
        build_record(key=CAFFEINE, display_name="caffeine", answer=caffeine),
        build_record(
            kind="protein",
            key=TP53,
            display_name="TP53",
            question="What is the function of this protein?",
            answer=tp53,
            **protein_fields,
        ),
    ]


@pytest.fixture
def make_record():
    return build_record


@pytest.fixture
def store(tmp_path):
    """An embedded store in a fresh folder, with the hashing embedder (storage tests, not meaning)."""
    with AnnotationStore.open(path=tmp_path / "store", embedder=HashingTextEmbedder()) as opened:
        yield opened


@pytest.fixture
def subprocess_env():
    """Environment for child processes: the repo importable, telemetry off, hub offline."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["ANONYMIZED_TELEMETRY"] = "False"
    env["HF_HUB_OFFLINE"] = "1"
    return env


PYTHON = sys.executable
