"""AnnotationStore on an embedded Chroma folder: upsert, cosine, recall, search, exchange, locking."""

from __future__ import annotations

import io
import json
import math

import pytest

from biomedgpt_tools.store import (
    AnnotationStore,
    EmbeddingMismatchError,
    InvalidAnnotationError,
    ProteinVector,
    StoreError,
    StoreUnavailableError,
)
from biomedgpt_tools.testing.processes import run_captured
from tests.store.conftest import (
    ASPIRIN,
    BRCA1,
    CAFFEINE,
    PYTHON,
    REPO_ROOT,
    TP53,
    meaning_records,
)
from tests.store.hashing_embedder import HashingTextEmbedder


def test_same_entity_question_and_model_upserts_instead_of_duplicating(store, make_record):
    first = store.add(make_record(answer="first answer"))
    second = store.add(make_record(question="what is THIS molecule", answer="second answer"))
    assert first == second
    assert store.count() == 1
    assert store.get(first).answer == "second answer"
    store.add(make_record(model_revision="rev-b"))
    assert store.count() == 2


def test_batch_with_repeated_ids_keeps_the_last_and_returns_ids_in_order(store, make_record):
    records = [make_record(answer="old"), make_record(key=CAFFEINE), make_record(answer="new")]
    ids = store.add_many(records)
    assert ids == [record.id for record in records]
    assert store.count() == 2
    assert store.get(ids[0]).answer == "new"


def test_record_survives_the_store_unchanged(store, make_record):
    record = make_record(
        source="pubchem", extra={"cid": 2244, "url": "https://pubchem.ncbi.nlm.nih.gov"}
    )
    store.add(record)
    assert store.get(record.id) == record


def test_distances_are_cosine_not_l2(store):
    # Same direction, different length: cosine 0 (l2 would be 3). Orthogonal: cosine 1 (l2 ~4.1).
    store.add_protein_vector(TP53, [1.0, 0.0, 0.0], "enc", "r1")
    store.add_protein_vector(BRCA1, [0.0, 4.0, 0.0], "enc", "r1")
    hits = store.similar_proteins([4.0, 0.0, 0.0], "enc", "r1", k=2, with_annotations=False)
    assert [hit.key for hit in hits] == [TP53, BRCA1]
    assert hits[0].distance == pytest.approx(0.0, abs=1e-5)
    assert hits[1].distance == pytest.approx(1.0, abs=1e-5)


def test_text_search_distance_is_one_minus_cosine_of_the_embeddings(store, make_record):
    record = make_record()
    store.add(record)
    embedder = store.embedder
    query = "anti-inflammatory drug"
    stored_vector, query_vector = embedder.embed([record.document_text(), query])
    cosine = sum(a * b for a, b in zip(stored_vector, query_vector, strict=True))
    [hit] = store.search(query, k=1)
    assert hit.distance == pytest.approx(1.0 - cosine, abs=1e-4)


def test_exact_recall_hits_and_misses(store, make_record):
    record = make_record()
    store.add(record)
    assert (
        store.recall(
            "molecule", ASPIRIN.lower(), "what is this molecule ?", "biomedgpt-10b", "rev-a"
        )
        == record
    )
    assert (
        store.recall("molecule", ASPIRIN, "What is this molecule?", "biomedgpt-10b", "rev-b")
        is None
    )
    assert (
        store.recall("molecule", ASPIRIN, "What is this molecule?", "other-model", "rev-a") is None
    )
    assert (
        store.recall("molecule", CAFFEINE, "What is this molecule?", "biomedgpt-10b", "rev-a")
        is None
    )
    assert (
        store.recall("molecule", ASPIRIN, "What is it used for?", "biomedgpt-10b", "rev-a") is None
    )


def test_find_by_entity_lists_all_questions_and_models_newest_first(store, make_record):
    older = make_record(question="q1", created_at="2024-01-01T00:00:00+00:00")
    newer = make_record(question="q2", model_id="other", created_at="2025-01-01T00:00:00+00:00")
    store.add_many([older, newer, make_record(key=CAFFEINE, display_name="caffeine")])
    assert store.find("molecule", ASPIRIN) == [newer, older]
    assert store.find("molecule", ASPIRIN, model_id="other") == [newer]
    assert store.find("protein", TP53) == []


def test_text_search_ranks_by_shared_words_and_filters(store):
    store.add_many(
        meaning_records(
            (
                "Aspirin inhibits cyclooxygenase and reduces fever.",
                "Caffeine blocks adenosine receptors.",
                "Tumour suppressor that binds DNA and arrests the cell cycle.",
            )
        )
    )
    hits = store.search("blocks adenosine receptors", k=3)
    assert hits[0].record.key == CAFFEINE
    assert [hit.distance for hit in hits] == sorted(hit.distance for hit in hits)
    assert [hit.record.key for hit in store.search("adenosine receptors", kind="protein")] == [TP53]
    assert [hit.record.key for hit in store.search("anything", kind="molecule", key=CAFFEINE)] == [
        CAFFEINE
    ]
    with pytest.raises(InvalidAnnotationError, match="kind"):
        store.search("x", key=CAFFEINE)
    with pytest.raises(InvalidAnnotationError, match="empty"):
        store.search("  ")


def test_similar_proteins_excludes_the_query_and_brings_annotations(store, make_record):
    annotation = make_record(kind="protein", key=BRCA1, display_name="BRCA1", question="Function?")
    store.add(annotation)
    store.add_protein_vectors(
        [
            ProteinVector(TP53, [1.0, 0.1, 0.0], "esm2", "r1", "TP53"),
            ProteinVector(BRCA1, [0.9, 0.2, 0.0], "esm2", "r1", "BRCA1"),
            ProteinVector("Q9Y6K9", [-1.0, 0.0, 0.2], "esm2", "r1"),
            ProteinVector(TP53, [0.0, 0.0, 1.0], "other-encoder", "r1"),
        ]
    )
    hits = store.similar_proteins([1.0, 0.1, 0.0], "esm2", "r1", k=2, exclude_key=TP53)
    assert [hit.key for hit in hits] == [BRCA1, "Q9Y6K9"]
    assert hits[0].annotations == [annotation] and hits[0].display_name == "BRCA1"
    assert hits[1].annotations == []
    # vectors of another encoder, or an encoder never seen, are never mixed in
    assert [hit.key for hit in store.similar_proteins([0.0, 0.0, 1.0], "other-encoder", "r1")] == [
        TP53
    ]
    assert store.similar_proteins([1.0, 0.0, 0.0], "esm2", "r2") == []
    with pytest.raises(InvalidAnnotationError, match="3-d in this store, got 2-d"):
        store.add_protein_vector(TP53, [1.0, 0.0], "esm2", "r1")
    with pytest.raises(InvalidAnnotationError, match="NaN"):
        store.add_protein_vector(TP53, [math.nan, 0.0, 1.0], "esm2", "r1")
    with pytest.raises(InvalidAnnotationError, match="all zeros"):
        store.similar_proteins([0.0, 0.0, 0.0], "esm2", "r1")


def test_stats_count_by_kind_source_model_and_encoder(store, make_record):
    store.add_many(
        [
            make_record(),
            make_record(key=CAFFEINE, source="pubchem", model_id="pubchem", model_revision=""),
            make_record(kind="protein", key=TP53, model_revision="rev-b"),
        ]
    )
    store.add_protein_vector(TP53, [0.5, 0.5], "esm2", "r1")
    stats = store.stats()
    assert stats.annotations == 3
    assert stats.by_kind == {"molecule": 2, "protein": 1}
    assert stats.by_source == {"model": 2, "pubchem": 1}
    assert stats.by_model == {"biomedgpt-10b@rev-a": 1, "pubchem@-": 1, "biomedgpt-10b@rev-b": 1}
    assert stats.protein_vectors == {"esm2@r1": 1}
    assert json.loads(json.dumps(stats.to_dict()))["annotations"] == 3


def test_export_import_round_trip(store, make_record, tmp_path):
    records = [
        make_record(extra={"tokens": 12}),
        make_record(
            key=CAFFEINE, source="user", display_name="caffeine", answer="Coffee's stimulant."
        ),
        make_record(
            kind="protein", key=TP53, question="Function?", answer="Guardian of the genome."
        ),
        make_record(
            kind="text", key="", question="What is apoptosis?", answer="Programmed cell death."
        ),
    ]
    store.add_many(records)
    store.add_protein_vector(TP53, [0.25, -0.5, 1.0], "esm2", "r1", "TP53")
    exported = tmp_path / "memory.jsonl"
    assert store.export_jsonl(exported) == {"annotations": 4, "protein_vectors": 1}

    with AnnotationStore.open(path=tmp_path / "copy", embedder=HashingTextEmbedder()) as copy:
        assert copy.import_jsonl(exported) == {"annotations": 4, "protein_vectors": 1}
        again = io.StringIO()
        copy.export_jsonl(again)
        assert again.getvalue() == exported.read_text()
        assert sorted(copy.iter_records(), key=lambda r: r.id) == sorted(
            records, key=lambda r: r.id
        )
        [vector] = list(copy.iter_protein_vectors())
        assert vector.vector == pytest.approx([0.25, -0.5, 1.0])
        # importing twice upserts: still 4
        copy.import_jsonl(exported)
        assert copy.count() == 4


def test_import_refuses_bad_files_and_imports_nothing(store, make_record, tmp_path):
    good = make_record().to_dict()
    header = {"type": "header", "format": "biomedgpt-annotations", "version": 1}
    cases = {
        "line 2 is not JSON": [json.dumps(header), "{oops"],
        "first line must be the export header": [
            json.dumps({"type": "annotation", "record": good})
        ],
        "version 9": [json.dumps(dict(header, version=9))],
        "line 3: molecule key 'aspirin'": [
            json.dumps(header),
            json.dumps({"type": "annotation", "record": good}),
            json.dumps({"type": "annotation", "record": dict(good, key="aspirin", id=None)}),
        ],
        "unknown line type 'comment'": [json.dumps(header), json.dumps({"type": "comment"})],
        "is empty": [],
    }
    for expected, lines in cases.items():
        path = tmp_path / "bad.jsonl"
        path.write_text("\n".join(lines) + ("\n" if lines else ""))
        with pytest.raises(InvalidAnnotationError, match=expected):
            store.import_jsonl(path)
    assert store.count() == 0


def test_store_opened_with_another_embedder_is_refused(tmp_path, make_record):
    with AnnotationStore.open(path=tmp_path / "s", embedder=HashingTextEmbedder(64)) as first:
        first.add(make_record())
    with pytest.raises(EmbeddingMismatchError, match="export it and import"):
        AnnotationStore.open(path=tmp_path / "s", embedder=HashingTextEmbedder(32))
    # the refused open released its lock: the right embedder still opens it
    with AnnotationStore.open(path=tmp_path / "s", embedder=HashingTextEmbedder(64)) as again:
        assert again.count() == 1


def test_closed_store_says_so(tmp_path, make_record):
    opened = AnnotationStore.open(path=tmp_path / "s", embedder=HashingTextEmbedder())
    opened.close()
    opened.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        opened.add(make_record())


def test_default_location_is_under_biomedgpt_home(tmp_path, monkeypatch, make_record):
    monkeypatch.setenv("BIOMEDGPT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("BIOMEDGPT_CHROMA_URL", raising=False)
    with AnnotationStore.open(embedder=HashingTextEmbedder()) as opened:
        opened.add(make_record())
        assert opened.location.path == (tmp_path / "home" / "annotations").resolve()
    assert (tmp_path / "home" / "annotations" / "chroma.sqlite3").is_file()


def test_bad_or_unreachable_server_urls_fail_clearly(monkeypatch):
    with pytest.raises(StoreUnavailableError, match="not http"):
        AnnotationStore.open(url="localhost:8000", embedder=HashingTextEmbedder())
    with pytest.raises(StoreUnavailableError, match="either path= .* or url="):
        AnnotationStore.open(path="x", url="http://127.0.0.1:9", embedder=HashingTextEmbedder())
    # port 9 (discard) on loopback: nothing listens, so the heartbeat fails fast
    monkeypatch.setenv("BIOMEDGPT_CHROMA_URL", "http://127.0.0.1:9")
    with pytest.raises(
        StoreUnavailableError,
        match=r"cannot reach the Chroma server at http://127\.0\.0\.1:9 .*chroma run --path",
    ):
        AnnotationStore.open(embedder=HashingTextEmbedder())


def test_same_process_may_open_a_store_twice_but_another_process_may_not(tmp_path, subprocess_env):
    path = tmp_path / "s"
    first = AnnotationStore.open(path=path, embedder=HashingTextEmbedder())
    second = AnnotationStore.open(path=path, embedder=HashingTextEmbedder())
    probe = (
        "import sys\n"
        "from biomedgpt_tools.store import AnnotationStore, StoreBusyError\n"
        "from tests.store.hashing_embedder import HashingTextEmbedder\n"
        "try:\n"
        f"    AnnotationStore.open(path={str(path)!r}, embedder=HashingTextEmbedder())\n"
        "except StoreBusyError as error:\n"
        "    print(error); sys.exit(3)\n"
    )

    def run():
        return run_captured([PYTHON, "-c", probe], cwd=REPO_ROOT, env=subprocess_env, timeout=120)

    first.close()
    refused = run()  # `second` still holds the store
    assert refused.returncode == 3, refused.stderr
    assert "another process" in refused.stdout and "chroma run --path" in refused.stdout
    assert "BIOMEDGPT_CHROMA_URL" in refused.stdout
    second.close()
    allowed = run()
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


def test_store_core_never_imports_langchain(tmp_path, subprocess_env):
    script = (
        "import sys\n"
        "from biomedgpt_tools.store import AnnotationStore, AnnotationRecord\n"
        "from tests.store.hashing_embedder import HashingTextEmbedder\n"
        f"with AnnotationStore.open(path={str(tmp_path / 's')!r}, embedder=HashingTextEmbedder()) as s:\n"
        "    s.add(AnnotationRecord(kind='text', key='', question='q?', answer='a', model_id='m'))\n"
        "    s.search('q'); s.stats()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('langchain_core', 'langchain', 'torch')))\n"
    )
    done = run_captured([PYTHON, "-c", script], cwd=REPO_ROOT, env=subprocess_env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_retriever_returns_documents_with_provenance(store, make_record):
    pytest.importorskip("langchain_core")
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    store.add_many(
        [
            make_record(),
            make_record(key=CAFFEINE, display_name="caffeine", answer="Blocks adenosine."),
        ]
    )
    retriever = store.as_retriever(k=1, kind="molecule")
    assert isinstance(retriever, BaseRetriever)
    [document] = retriever.invoke("blocks adenosine")
    assert isinstance(document, Document)
    assert document.metadata["key"] == CAFFEINE
    assert document.metadata["model_revision"] == "rev-a"
    assert "distance" in document.metadata and document.page_content.startswith("caffeine | ")
    far = store.as_retriever(k=2, max_distance=0.0).invoke("completely unrelated words")
    assert far == []


async def test_retriever_async_path(store, make_record):
    pytest.importorskip("langchain_core")
    store.add(make_record())
    documents = await store.as_retriever(k=1).ainvoke("aspirin")
    assert documents[0].metadata["key"] == ASPIRIN


def test_empty_store_answers_with_nothing(store):
    assert store.search("anything", k=3) == []
    assert store.find("molecule", ASPIRIN) == []
    assert store.recall("molecule", ASPIRIN, "q", "m") is None
    assert store.similar_proteins([1.0, 0.0], "esm2") == []
    assert store.stats().annotations == 0


def test_add_rejects_non_records(store):
    with pytest.raises(InvalidAnnotationError, match="AnnotationRecord"):
        store.add_many([{"kind": "molecule"}])
    assert store.count() == 0


class _EmbedderWithoutItsPackage:
    """An embedder whose package is missing: it opens fine and fails on the first text."""

    name = "missing-embedder"
    dimension = 64

    def embed(self, texts):
        raise ImportError("the annotation store's embedder needs transformers")


def test_embedder_failure_is_a_store_error_naming_the_embedder(tmp_path, make_record):
    with AnnotationStore.open(path=tmp_path / "s", embedder=_EmbedderWithoutItsPackage()) as store:
        with pytest.raises(
            StoreUnavailableError, match="text embedder 'missing-embedder' failed: ImportError"
        ) as caught:
            store.add(make_record())
        assert isinstance(caught.value.__cause__, ImportError)
        with pytest.raises(StoreUnavailableError, match="needs transformers"):
            store.search("aspirin")
        assert store.count() == 0  # nothing half-written


def test_import_refuses_an_export_cut_short_at_a_line_end(store, make_record, tmp_path):
    store.add_many([make_record(), make_record(key=CAFFEINE, display_name="caffeine")])
    store.add_protein_vector(TP53, [0.25, -0.5, 1.0], "esm2", "r1", "TP53")
    exported = tmp_path / "memory.jsonl"
    store.export_jsonl(exported)
    lines = exported.read_text().splitlines(keepends=True)
    cut = {
        "without the last annotation and the vector": lines[:2],
        "without the protein vector": lines[:3],
    }
    for what, kept in cut.items():
        truncated = tmp_path / "truncated.jsonl"
        truncated.write_text("".join(kept))
        with AnnotationStore.open(path=tmp_path / what, embedder=HashingTextEmbedder()) as copy:
            with pytest.raises(
                InvalidAnnotationError,
                match=r"is incomplete: its header announces 2 annotations, 1 protein vectors "
                r"but the file holds \d annotations, [01] protein vectors",
            ):
                copy.import_jsonl(truncated)
            assert copy.count() == 0  # nothing imported
            assert list(copy.iter_protein_vectors()) == []


def test_import_refuses_a_header_count_that_is_not_a_number(store, tmp_path):
    header = {"type": "header", "format": "biomedgpt-annotations", "version": 1}
    path = tmp_path / "odd.jsonl"
    path.write_text(json.dumps(dict(header, annotations="many")) + "\n")
    with pytest.raises(InvalidAnnotationError, match="annotations count must be a whole number"):
        store.import_jsonl(path)


def test_a_failed_export_leaves_the_previous_file_whole(store, make_record, tmp_path, monkeypatch):
    from biomedgpt_tools.store.record import AnnotationRecord

    store.add_many([make_record(), make_record(key=CAFFEINE, display_name="caffeine")])
    exported = tmp_path / "memory.jsonl"
    store.export_jsonl(exported)
    before = exported.read_text()
    store.add(make_record(question="A third question?"))

    written = 0
    original = AnnotationRecord.to_dict

    def fails_on_the_second_line(record):
        nonlocal written
        written += 1
        if written == 2:
            raise OSError("No space left on device")
        return original(record)

    monkeypatch.setattr(AnnotationRecord, "to_dict", fails_on_the_second_line)
    with pytest.raises(OSError, match="No space left"):
        store.export_jsonl(exported)
    assert exported.read_text() == before  # the old export, not half a new one
    assert sorted(path.name for path in tmp_path.iterdir()) == ["memory.jsonl", "store"]

    monkeypatch.setattr(AnnotationRecord, "to_dict", original)
    assert store.export_jsonl(exported)["annotations"] == 3
    assert sorted(path.name for path in tmp_path.iterdir()) == ["memory.jsonl", "store"]
