"""No data lost: SIGKILL mid-write, two writers through a Chroma server, two on one embedded folder.

Writers are real processes (tests/store/writer_process.py) using the hashing embedder, so
these tests measure Chroma's durability and our locking, not MiniLM on two cores.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from biomedgpt_tools.store import AnnotationStore
from biomedgpt_tools.store.errors import StoreUnavailableError
from biomedgpt_tools.testing.ports import free_port
from biomedgpt_tools.testing.processes import run_captured, stop_process
from tests.store.conftest import PYTHON, REPO_ROOT
from tests.store.hashing_embedder import HashingTextEmbedder
from tests.store.writer_process import make_record

WRITER = [PYTHON, "-m", "tests.store.writer_process"]


def _writer(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [*WRITER, *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _reported_indices(lines: list[str]) -> set[int]:
    indices: set[int] = set()
    for line in lines:
        if line.startswith("batch "):
            _, first, last = line.split()
            indices.update(range(int(first), int(last) + 1))
    return indices


def _ids(prefix: str, indices) -> set[str]:
    return {make_record(prefix, index).id for index in indices}


def _all_ids(store: AnnotationStore) -> set[str]:
    return {record.id for record in store.iter_records(page_size=5000)}


def test_sigkill_mid_batch_keeps_every_returned_write(tmp_path, subprocess_env):
    path = tmp_path / "store"
    batch, total, kill_after = 250, 10_000, 16
    writer = _writer(
        subprocess_env,
        "--path",
        str(path),
        "--count",
        str(total),
        "--batch",
        str(batch),
        "--prefix",
        "K",
    )
    lines: list[str] = []
    try:
        while len([line for line in lines if line.startswith("batch ")]) < kill_after:
            line = writer.stdout.readline()
            assert line, f"writer ended early: {writer.stderr.read()}"
            lines.append(line.strip())
        os.kill(writer.pid, signal.SIGKILL)  # the next batch is being embedded or committed now
        lines.extend(line.strip() for line in writer.stdout.read().splitlines())
    finally:
        writer.kill()
        writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL
    assert "done" not in lines, "the writer finished before it was killed; the test proved nothing"

    returned = _reported_indices(lines)
    assert len(returned) >= kill_after * batch
    with AnnotationStore.open(
        path=path, embedder=HashingTextEmbedder()
    ) as reopened:  # lock was freed by the kernel
        stored = _all_ids(reopened)
        assert _ids("K", returned) <= stored, "a write that returned was lost"
        # nothing but whole records of the unfinished batch may be extra
        unfinished = range(max(returned) + 1, min(max(returned) + 1 + batch, total))
        assert stored - _ids("K", returned) <= _ids("K", unfinished)
        assert reopened.count() == len(stored)
        for record in reopened.iter_records(page_size=5000):  # every stored record is whole
            expected = make_record("K", int(record.display_name[1:]))
            assert (record.id, record.answer, record.question) == (
                expected.id,
                expected.answer,
                expected.question,
            )
        sample = make_record("K", max(returned))
        [hit] = reopened.search(
            sample.document_text(), k=1
        )  # the vector index answers after the crash
        assert hit.distance < 1e-4
        reopened.add(make_record("K", total + 1))  # and writable
        assert reopened.count() == len(stored) + 1


@pytest.fixture
def chroma_server_process(tmp_path, subprocess_env):
    """`chroma run` (the server in the chromadb wheel) on a free loopback port; yields (URL, process)."""
    chroma = shutil.which("chroma", path=str(Path(PYTHON).parent)) or shutil.which("chroma")
    if chroma is None:
        pytest.skip("the `chroma` command of the chromadb wheel is not on PATH")
    port = free_port()
    log = open(tmp_path / "chroma-server.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [
            chroma,
            "run",
            "--path",
            str(tmp_path / "server-data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=subprocess_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(
                        f"chroma server did not start: {(tmp_path / 'chroma-server.log').read_text()[-2000:]}"
                    )
                time.sleep(0.2)
        yield url, server
    finally:
        stop_process(server)
        log.close()


@pytest.fixture
def chroma_server(chroma_server_process):
    """The URL of a running `chroma run` server."""
    return chroma_server_process[0]


def test_a_server_that_stops_after_open_raises_store_errors_not_http_errors(
    chroma_server_process, make_record
):
    """The tools catch StoreError to answer with a note; a raw httpx error would fail the turn."""
    url, server = chroma_server_process
    store = AnnotationStore.open(url=url, embedder=HashingTextEmbedder())
    try:
        record = make_record()
        store.add(record)
        stop_process(server)
        calls = {
            "recall": lambda: store.recall(
                record.kind, record.key, record.question, record.model_id, record.model_revision
            ),
            "add": lambda: store.add(make_record(question="Another question?")),
            "find": lambda: store.find(record.kind, record.key),
            "search": lambda: store.search("aspirin"),
            "count": store.count,
        }
        for name, call in calls.items():
            with pytest.raises(
                StoreUnavailableError, match=f"failed on the Chroma server {url}:"
            ) as caught:
                call()
            assert caught.value.__cause__ is not None, name  # the HTTP error is kept as the cause
    finally:
        store.close()


def test_two_processes_write_through_a_chroma_server(chroma_server, subprocess_env, tmp_path):
    go = tmp_path / "go"
    writers = [
        _writer(
            subprocess_env,
            "--url",
            chroma_server,
            "--count",
            "1000",
            "--batch",
            "100",
            "--prefix",
            prefix,
            "--go",
            str(go),
        )
        for prefix in ("A", "B")
    ]
    go.touch()  # both start together, so their batches interleave on the server
    outputs = [writer.communicate(timeout=300) for writer in writers]
    for writer, (out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err[-2000:]
        assert out.splitlines()[-1] == "done"
    with AnnotationStore.open(url=chroma_server, embedder=HashingTextEmbedder()) as shared:
        assert shared.count() == 2000
        assert _all_ids(shared) == _ids("A", range(1000)) | _ids("B", range(1000))


def test_two_processes_on_one_embedded_store_refuse_rather_than_corrupt(tmp_path, subprocess_env):
    """Deterministic version: A holds the store, B is refused with the way out; then B writes after A."""
    path = tmp_path / "store"
    hold = tmp_path / "release-a"
    common = ["--path", str(path), "--count", "1000", "--batch", "250"]
    first = _writer(subprocess_env, *common, "--prefix", "A", "--hold", str(hold))
    assert first.stdout.readline().strip() == "opened"
    refused = run_captured(
        [*WRITER, *common, "--prefix", "B"], cwd=REPO_ROOT, env=subprocess_env, timeout=120
    )
    assert refused.returncode == 3, refused.stderr[-2000:]
    assert "another process" in refused.stdout and "chroma run --path" in refused.stdout
    hold.touch()
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-2000:]
    retried = run_captured(
        [*WRITER, *common, "--prefix", "B"], cwd=REPO_ROOT, env=subprocess_env, timeout=300
    )
    assert retried.returncode == 0, retried.stderr[-2000:]
    with AnnotationStore.open(path=path, embedder=HashingTextEmbedder()) as reopened:
        assert _all_ids(reopened) == _ids("A", range(1000)) | _ids("B", range(1000))


def test_two_processes_racing_for_one_embedded_store(tmp_path, subprocess_env):
    """Started together: each writer either writes all 1,000 or is refused; the store is never damaged."""
    path = tmp_path / "store"
    go = tmp_path / "go"
    writers = {
        prefix: _writer(
            subprocess_env,
            "--path",
            str(path),
            "--count",
            "1000",
            "--batch",
            "250",
            "--prefix",
            prefix,
            "--go",
            str(go),
        )
        for prefix in ("A", "B")
    }
    go.touch()
    finished = {prefix: writer.communicate(timeout=300) for prefix, writer in writers.items()}
    written = set()
    for prefix, (out, err) in finished.items():
        code = writers[prefix].returncode
        assert code in (0, 3), err[-2000:]
        if code == 0:
            assert out.splitlines()[-1] == "done"
            written.add(prefix)
        else:
            assert out.startswith("busy: another process") and "BIOMEDGPT_CHROMA_URL" in out
    assert written, "neither writer got the store"
    expected = set().union(*(_ids(prefix, range(1000)) for prefix in written))
    with AnnotationStore.open(path=path, embedder=HashingTextEmbedder()) as reopened:
        assert _all_ids(reopened) == expected
        assert reopened.count() == 1000 * len(written)
        assert reopened.search("What does compound A7 do?", k=1)
