"""Bulk annotation after something went wrong: retries, refused stores, torn lines, merged accessions.

A "failed" outcome (UniProt down after its retries, generation out of memory) must be tried
again by the next run and its line replaced; part files must survive a store that refuses
their answers; a torn last line must not swallow the next line written; a merged (secondary)
accession must find the answers stored under its primary entry.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from biomedgpt_tools.annotation import BulkAnnotator
from biomedgpt_tools.annotation.distributed import PartsNotMergedError, merge_parts, part_path
from biomedgpt_tools.annotation.results import (
    AnnotationResult,
    append_results,
    compact_results,
    finished_accessions,
    read_results,
)
from tests.agents.conftest import make_toolkit


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- which lines count -------------------------------------------------------------------------------
def test_a_failed_line_is_replaced_by_a_later_one_but_a_finished_line_stays(tmp_path):
    out = tmp_path / "results.jsonl"
    append_results(
        out,
        [
            AnnotationResult("P04637", "failed", message="UniProt answered 503"),
            AnnotationResult("P69905", "done", {"name": "first"}),
            AnnotationResult("Q9ZZZ0", "obsolete"),
            AnnotationResult("NOPE", "invalid"),
            AnnotationResult("P04637", "done", {"name": "retried"}),
            AnnotationResult(
                "P69905", "failed", message="a later failure does not undo a finished line"
            ),
            AnnotationResult("P68871", "failed", message="still failing"),
        ],
    )
    latest = read_results(out)
    assert {a: r.status for a, r in latest.items()} == {
        "P04637": "done",
        "P69905": "done",
        "Q9ZZZ0": "obsolete",
        "NOPE": "invalid",
        "P68871": "failed",
    }
    assert latest["P04637"].answers == {"name": "retried"} and latest["P69905"].answers == {
        "name": "first"
    }
    assert finished_accessions(out) == {"P04637", "P69905", "Q9ZZZ0", "NOPE"}

    compact_results(out)
    assert [(r["accession"], r["status"]) for r in lines_of(out)] == [
        ("P04637", "done"),
        ("P69905", "done"),
        ("Q9ZZZ0", "obsolete"),
        ("NOPE", "invalid"),
        ("P68871", "failed"),
    ]
    assert not list(tmp_path.glob("*.compacting"))


def test_accessions_that_failed_are_retried_by_the_next_run(
    resolver_env, tiny_model, tmp_path, monkeypatch
):
    """A UniProt outage turns a batch into failed lines; the next run answers them, once each."""
    from biomedgpt_tools.resolvers.outcomes import ResolverError

    toolkit = make_toolkit(tiny_model)
    toolkit.settings = toolkit.settings.with_changes(memory=False)
    annotator = BulkAnnotator(toolkit.services, ["name"], batch_size=8)
    accessions = ["P04637", "P69905"]
    out = tmp_path / "results.jsonl"

    def unavailable(*args, **kwargs):
        raise ResolverError("UniProt answered 503 Service Unavailable after 3 tries")

    with monkeypatch.context() as patch:
        patch.setattr(toolkit.resolvers, "proteins_by_accession", unavailable)
        patch.setattr(toolkit.resolvers, "protein", unavailable)
        first = annotator.run(accessions, out, progress=False)
    assert dict(first.counts) == {"failed": 2}
    assert [r["status"] for r in lines_of(out)] == ["failed", "failed"]

    second = annotator.run(accessions, out, progress=False)  # UniProt is back
    assert second.skipped == 0 and dict(second.counts) == {"done": 2}
    rows = lines_of(out)
    assert [(r["accession"], r["status"]) for r in rows] == [("P04637", "done"), ("P69905", "done")]
    assert all(r["answers"].get("name") is not None for r in rows)

    third = annotator.run(accessions, out, progress=False)
    assert third.skipped == 2 and third.processed == 0
    toolkit.close()


# -- merging part files ------------------------------------------------------------------------------
class RecordingAnnotator:
    """Stands in for BulkAnnotator.store_results: records what the results file held when storing."""

    def __init__(self, out: Path, note: str | None):
        self.out, self.note, self.stored, self.file_when_storing = out, note, [], None

    def store_results(self, store, results):
        self.file_when_storing = self.out.read_text() if self.out.is_file() else ""
        self.stored.append([r.accession for r in results])
        return self.note


def test_merge_keeps_the_part_files_when_the_store_refuses(tmp_path):
    out = tmp_path / "results.jsonl"
    append_results(out, [AnnotationResult("P04637", "done", {"name": "a"})])
    append_results(part_path(out, 0), [AnnotationResult("P69905", "done", {"name": "b"})])
    append_results(part_path(out, 1), [AnnotationResult("P68871", "done", {"name": "c"})])
    before = out.read_text()

    refusing = RecordingAnnotator(out, "answers not saved to the store: the store is busy")
    with pytest.raises(PartsNotMergedError, match="the store is busy.*kept.*rerun"):
        merge_parts(refusing, out, store=object())
    assert out.read_text() == before  # nothing appended whose answers the store lacks
    assert part_path(out, 0).is_file() and part_path(out, 1).is_file()

    accepting = RecordingAnnotator(out, None)
    assert merge_parts(accepting, out, store=object()) == 2
    assert accepting.stored == [["P69905", "P68871"]]
    assert accepting.file_when_storing == before  # stored before anything was appended
    assert [r["accession"] for r in lines_of(out)] == ["P04637", "P69905", "P68871"]
    assert not list(tmp_path.glob("*.part"))


def test_merge_replaces_a_failed_line_with_the_retried_result(tmp_path):
    out = tmp_path / "results.jsonl"
    append_results(
        out,
        [
            AnnotationResult("P04637", "failed", message="503"),
            AnnotationResult("P69905", "done", {"name": "kept"}),
        ],
    )
    append_results(part_path(out, 0), [AnnotationResult("P04637", "done", {"name": "retried"})])
    append_results(part_path(out, 1), [AnnotationResult("P69905", "done", {"name": "duplicate"})])

    assert merge_parts(RecordingAnnotator(out, None), out, None) == 1
    assert [(r["accession"], r["status"], r["answers"]["name"]) for r in lines_of(out)] == [
        ("P04637", "done", "retried"),
        ("P69905", "done", "kept"),
    ]


# -- the command line --------------------------------------------------------------------------------
def test_cli_cuts_a_torn_last_line_before_writing_invalid_tokens(
    resolver_env, tiny_model_dir, tmp_path, capsys, monkeypatch
):
    from biomedgpt_tools.cli import main

    monkeypatch.setenv("BIOMEDGPT_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("BIOMEDGPT_MEMORY", "0")
    out = tmp_path / "o.jsonl"
    append_results(out, [AnnotationResult("P04637", "done", {"name": "earlier"})])
    with out.open("a") as handle:
        handle.write('{"accession": "P69905", "sta')  # a kill in the middle of a write
    listing = tmp_path / "a.txt"
    listing.write_text("P04637\nnot-an-accession\n")

    assert (
        main(["annotate", str(listing), "--out", str(out), "--questions", "name", "--no-progress"])
        == 0
    )
    assert "1 invalid" in capsys.readouterr().err
    assert [(r["accession"], r["status"]) for r in lines_of(out)] == [
        ("P04637", "done"),
        ("not-an-accession", "invalid"),
    ]


# -- memory ------------------------------------------------------------------------------------------
def test_a_secondary_accession_is_answered_from_the_primary_entrys_memory(
    resolver_env, tiny_model, tmp_path
):
    """Q15086 was merged into P04637: answers stored for P04637 serve it without the model."""
    toolkit = make_toolkit(tiny_model)
    annotator = BulkAnnotator(toolkit.services, ["name", "function"], batch_size=8)
    first = annotator.run(["P04637"], tmp_path / "first.jsonl", progress=False)
    assert dict(first.counts) == {"done": 1}
    calls = toolkit.backend.answer_calls

    second = annotator.run(["Q15086"], tmp_path / "second.jsonl", progress=False)
    assert dict(second.counts) == {"from_memory": 1}
    assert toolkit.backend.answer_calls == calls
    [primary], [secondary] = lines_of(tmp_path / "first.jsonl"), lines_of(tmp_path / "second.jsonl")
    assert secondary["entry"] == "P04637" and secondary["answers"] == primary["answers"]
    toolkit.close()
