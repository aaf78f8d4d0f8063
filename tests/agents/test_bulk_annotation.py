"""Bulk annotation of 200 accessions on the resolvers' test server with the tiny model.

One uninterrupted run is the reference; a run stopped after three batches (plus a torn
last line, as a kill mid-write leaves) and then resumed must reach the same results with
no accession twice; a later run answers from memory; `torchrun --nproc-per-node 2` gives the
same set of results.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from biomedgpt_tools.annotation import BulkAnnotator, read_accessions
from biomedgpt_tools.annotation.results import read_results
from biomedgpt_tools.testing.bulk_entities import accession_list, write_catalog
from biomedgpt_tools.testing.resolver_server import ResolverTestServer
from biomedgpt_tools.testing.resolver_server.entities import ENTITIES_PATH
from tests.agents.conftest import MAX_NEW_TOKENS, make_toolkit

REPO_ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = ["function", "name"]
_CATALOG = json.loads(ENTITIES_PATH.read_text())
UNKNOWN = 10
# synthetic entries fill the run up to 200 accessions with the real and the 2 inactive ones
SYNTHETIC = 200 - len(_CATALOG["proteins"]) - len(_CATALOG["inactive_proteins"]) - UNKNOWN
EXPECTED_STATUSES = {"done": 188, "not_found": 10, "obsolete": 2}


@pytest.fixture(scope="module")
def bulk_server(tmp_path_factory):
    with ResolverTestServer(
        entities_path=write_catalog(tmp_path_factory.mktemp("catalog"), SYNTHETIC)
    ) as server:
        yield server


@pytest.fixture
def bulk_env(bulk_server, monkeypatch):
    monkeypatch.setenv("BIOMEDGPT_PUBCHEM_URL", bulk_server.pubchem_url)
    monkeypatch.setenv("BIOMEDGPT_UNIPROT_URL", bulk_server.uniprot_url)
    for name in ("BIOMEDGPT_OFFLINE", "BIOMEDGPT_MODEL", "BIOMEDGPT_CHROMA_URL"):
        monkeypatch.delenv(name, raising=False)
    return bulk_server


@pytest.fixture
def accessions_file(tmp_path) -> Path:
    path = tmp_path / "accessions.txt"
    path.write_text("# 200 accessions\n" + "\n".join(accession_list(SYNTHETIC, UNKNOWN)) + "\n")
    return path


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def comparable(path: Path) -> dict[str, tuple]:
    return {
        r.accession: (r.status, r.entry, tuple(sorted(r.answers.items())))
        for r in read_results(path).values()
    }


@pytest.fixture(scope="module")
def reference(tiny_model, bulk_server, tmp_path_factory):
    """One uninterrupted run, memory off (its answers are the reference for every other run)."""
    import torch

    folder = tmp_path_factory.mktemp("reference")
    os.environ["BIOMEDGPT_UNIPROT_URL"] = bulk_server.uniprot_url
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # module scope runs before the per-test one-thread fixture
    try:
        toolkit = make_toolkit(tiny_model)
        toolkit.settings = toolkit.settings.with_changes(memory=False)
        path = folder / "accessions.txt"
        path.write_text("\n".join(accession_list(SYNTHETIC, UNKNOWN)))
        accessions, _ = read_accessions(path)
        summary = BulkAnnotator(toolkit.services, QUESTIONS, batch_size=32).run(
            accessions, folder / "out.jsonl", progress=False
        )
        toolkit.close()
    finally:
        os.environ.pop("BIOMEDGPT_UNIPROT_URL", None)
        torch.set_num_threads(threads)
    return folder / "out.jsonl", summary


def test_uninterrupted_run_classifies_every_accession(reference):
    out, summary = reference
    assert dict(summary.counts) == EXPECTED_STATUSES
    rows = lines_of(out)
    assert len(rows) == 200 and len({r["accession"] for r in rows}) == 200
    done = [r for r in rows if r["status"] == "done"]
    assert all(set(r["answers"]) == set(QUESTIONS) for r in done)
    obsolete = {r["accession"]: r["message"] for r in rows if r["status"] == "obsolete"}
    assert set(obsolete) == {"Q9ZZZ0", "Q9ZZZ9"} and "P69905" in obsolete["Q9ZZZ0"]


def test_interrupted_then_resumed_equals_uninterrupted_and_is_stored(
    bulk_env, tiny_model, accessions_file, tmp_path, reference
):
    toolkit = make_toolkit(tiny_model)
    annotator = BulkAnnotator(toolkit.services, QUESTIONS, batch_size=32)
    accessions, _ = read_accessions(accessions_file)
    out = tmp_path / "results.jsonl"
    batches = []

    def stop_after_three(results):
        batches.append(len(results))
        if len(batches) == 3:
            raise KeyboardInterrupt  # what Ctrl-C does between two batches

    with pytest.raises(KeyboardInterrupt):
        annotator.run(accessions, out, progress=False, after_batch=stop_after_three)
    assert len(lines_of(out)) == 96
    with out.open("a") as handle:  # a kill in the middle of the next write
        handle.write('{"accession": "Q9T001", "status": "do')

    calls_before = toolkit.backend.answer_calls
    summary = annotator.run(accessions, out, progress=False)
    assert summary.skipped == 96 and summary.processed == 104
    assert (
        toolkit.backend.answer_calls - calls_before
        == 2 * Counter(r["status"] for r in lines_of(out)[96:])["done"]
    )  # nothing done twice

    rows = lines_of(out)
    assert len(rows) == 200 and len({r["accession"] for r in rows}) == 200
    assert comparable(out) == comparable(reference[0])

    store = toolkit.services.memory.open()
    stored = sum(
        1
        for r in rows
        if r["status"] == "done"
        for answer in r["answers"].values()
        if answer.strip()
    )
    assert store.count() == stored
    p04637 = next(r for r in rows if r["accession"] == "P04637")
    assert (
        store.recall(
            "protein",
            "P04637",
            "What is the function of this protein?",
            p04637["model_id"],
            p04637["revision"],
        ).answer
        == p04637["answers"]["function"]
    )

    again = annotator.run(
        accessions, tmp_path / "second.jsonl", progress=False
    )  # a new file, same store
    assert again.counts["from_memory"] == sum(
        1 for r in rows if r["status"] == "done" and all(a.strip() for a in r["answers"].values())
    )
    assert toolkit.backend.answer_calls - calls_before == 2 * (
        summary.counts["done"] + again.counts["done"]
    )
    toolkit.close()


def run_cli(
    args: list[str], env: dict, *, torchrun: bool = False, timeout: int = 300
) -> subprocess.CompletedProcess:
    if torchrun:
        command = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node",
            "2",
            "-m",
            "biomedgpt_tools",
            *args,
        ]
    else:
        command = [sys.executable, "-m", "biomedgpt_tools", *args]
    return subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def cli_env(bulk_server, tiny_model_dir) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "BIOMEDGPT_UNIPROT_URL": bulk_server.uniprot_url,
            "BIOMEDGPT_PUBCHEM_URL": bulk_server.pubchem_url,
            "BIOMEDGPT_MODEL": str(tiny_model_dir),
            "OMP_NUM_THREADS": "1",
            "PYTHONPATH": str(REPO_ROOT),
        }
    )
    env.pop("BIOMEDGPT_OFFLINE", None)
    return env


@pytest.mark.slow
def test_two_process_torchrun_gives_the_same_set(
    bulk_env, tiny_model_dir, accessions_file, tmp_path, reference
):
    out = tmp_path / "distributed.jsonl"
    args = [
        "annotate",
        str(accessions_file),
        "--out",
        str(out),
        "--questions",
        ",".join(QUESTIONS),
        "--batch-size",
        "32",
        "--no-progress",
        "--max-new-tokens",
        str(MAX_NEW_TOKENS),
    ]
    finished = run_cli(args, cli_env(bulk_env, tiny_model_dir), torchrun=True)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert (
        "188 done, 0 from memory, 10 not found, 2 obsolete, 0 invalid, 0 failed" in finished.stderr
    )

    rows = lines_of(out)
    assert len(rows) == 200 and len({r["accession"] for r in rows}) == 200
    assert not list(tmp_path.glob("distributed.jsonl.rank*.part"))
    assert comparable(out) == comparable(reference[0])  # same statuses, entries and answers


def test_cli_reports_bad_input_in_one_line(bulk_env, tiny_model_dir, tmp_path, capsys, monkeypatch):
    from biomedgpt_tools.cli import main

    out = str(tmp_path / "o.jsonl")
    assert main(["annotate", str(tmp_path / "nope.txt"), "--out", out]) == 2
    assert "does not exist" in capsys.readouterr().err
    listing = tmp_path / "a.txt"
    listing.write_text("P04637\n")
    assert main(["annotate", str(listing), "--out", out, "--questions", "function,color"]) == 2
    assert "unknown question type(s) ['color']" in capsys.readouterr().err
    assert main(["annotate", str(listing), "--out", out]) == 2  # BIOMEDGPT_MODEL unset
    assert "needs a model" in capsys.readouterr().err


def test_cli_run_writes_invalid_lines_as_invalid_and_resumes(
    bulk_env, tiny_model_dir, tmp_path, capsys, monkeypatch
):
    """A token that is no accession is a final outcome ("invalid"): written once, never retried."""
    from biomedgpt_tools.cli import main

    monkeypatch.setenv("BIOMEDGPT_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("BIOMEDGPT_MEMORY", "0")
    listing = tmp_path / "a.txt"
    listing.write_text("P04637, P69905\nnot-an-accession\nP04637\n")
    out = tmp_path / "o.jsonl"
    args = [
        "annotate",
        str(listing),
        "--out",
        str(out),
        "--questions",
        "name",
        "--max-new-tokens",
        "4",
    ]
    assert main(args) == 0
    first = capsys.readouterr().err
    assert (
        "2 done" in first
        and "1 invalid" in first
        and "0 failed" in first
        and "accessions/s" in first
    )
    assert [r["status"] for r in lines_of(out)] == ["invalid", "done", "done"]
    assert main(args) == 0
    second = capsys.readouterr().err
    assert (
        "0 done" in second and "0 invalid" in second and "3 already in the results file" in second
    )
    assert len(lines_of(out)) == 3


def test_merge_appends_parts_once_and_removes_them(tmp_path):
    from biomedgpt_tools.annotation.distributed import merge_parts, part_path
    from biomedgpt_tools.annotation.results import AnnotationResult, append_results

    out = tmp_path / "results.jsonl"
    append_results(out, [AnnotationResult("P04637", "done", {"name": "a"})])
    append_results(
        part_path(out, 0),
        [
            AnnotationResult("P04637", "done", {"name": "b"}),
            AnnotationResult("P69905", "not_found"),
        ],
    )
    append_results(
        part_path(out, 1),
        [
            AnnotationResult("P69905", "not_found"),
            AnnotationResult("P68871", "done", {"name": "c"}),
        ],
    )
    with part_path(out, 1).open("a") as handle:
        handle.write('{"accession": "P01308", "sta')  # killed mid-write: not merged

    class NoStore:
        def store_results(self, store, results):
            assert store is None

    assert merge_parts(NoStore(), out, None) == 2
    assert [(r["accession"], r.get("answers")) for r in lines_of(out)] == [
        ("P04637", {"name": "a"}),
        ("P69905", None),
        ("P68871", {"name": "c"}),
    ]
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.slow
def test_cli_killed_midway_then_rerun_finishes_without_duplicates(
    bulk_env, tiny_model_dir, accessions_file, tmp_path, reference
):
    import time

    out = tmp_path / "killed.jsonl"
    args = [
        sys.executable,
        "-m",
        "biomedgpt_tools",
        "annotate",
        str(accessions_file),
        "--out",
        str(out),
        "--questions",
        "function",
        "--batch-size",
        "16",
        "--no-progress",
        "--max-new-tokens",
        str(MAX_NEW_TOKENS),
    ]
    env = cli_env(bulk_env, tiny_model_dir)
    process = subprocess.Popen(
        args, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if out.is_file() and out.read_text().count("\n") >= 32:
            break
        time.sleep(0.2)
    assert process.poll() is None, (
        "the run ended before it could be killed: " + process.stderr.read().decode()[-2000:]
    )
    process.kill()  # SIGKILL: no cleanup runs
    process.wait()
    process.stderr.close()
    written = out.read_text().count("\n")
    assert 32 <= written < 200

    finished = subprocess.run(
        args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert f"{written} already in the results file (skipped)" in finished.stderr
    rows = lines_of(out)
    assert len(rows) == 200 and len({r["accession"] for r in rows}) == 200
    expected = {
        a: (status, entry, tuple((k, v) for k, v in answers if k == "function"))
        for a, (status, entry, answers) in comparable(reference[0]).items()
    }
    assert comparable(out) == expected
