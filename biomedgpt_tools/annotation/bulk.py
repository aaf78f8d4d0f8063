"""BulkAnnotator: many accessions, few requests, batched generation, resumable output.

Per batch of accessions: recall every (accession, question) already stored for this model
and revision; resolve the rest with UniProt's batch endpoint (one request per 100); classify
the ones it did not return (obsolete or not found) one by one; answer all missing questions
of the batch in one batched generation call; store the answers; append one line per
accession to the results file. A batch is the unit of progress: a kill loses at most the
batch in flight, and the next run skips everything already finished (a "failed" accession is
tried again; results.py says which outcomes are final).

Answers are stored under the UniProt entry answered about, so a merged (secondary)
accession is looked up in memory again by its primary accession once it is resolved.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from biomedgpt_tools.annotation.questions import QUESTION_TYPES
from biomedgpt_tools.annotation.results import (
    AnnotationResult,
    RunSummary,
    append_results,
    compact_results,
    finished_accessions,
    repair_tail,
)
from biomedgpt_tools.model.protein_sequence import ESM_MAX_RESIDUES, truncation_note

if TYPE_CHECKING:
    from biomedgpt_tools.services.biomedgpt_services import BioMedGPTServices


def too_long_message(record: Any, *, refused: bool) -> str:
    length = len(record.sequence)
    if refused:
        return (
            f"the sequence has {length} residues, more than the {ESM_MAX_RESIDUES} BioMedGPT's "
            "protein encoder reads; not annotated (on_too_long='error'; 'truncate' reads the first "
            f"{ESM_MAX_RESIDUES} as the released model did)"
        )
    return truncation_note(length)


@dataclass(frozen=True)
class Shard:
    """This process's part of a distributed run (rank 0 of 1 when not distributed)."""

    rank: int = 0
    world_size: int = 1

    def select(self, items: Sequence[str]) -> list[str]:
        return list(items[self.rank :: self.world_size])


class BulkAnnotator:
    """Annotate accessions with one set of services: their model, resolvers and store.

    It calls the services directly (not the LangChain tools), so a bulk run never imports
    LangChain.
    """

    def __init__(
        self,
        services: BioMedGPTServices,
        question_types: Sequence[str] = tuple(QUESTION_TYPES),
        batch_size: int = 32,
        on_too_long: str | None = None,
    ):
        """`on_too_long`: "truncate" (read the first 1022 residues, as the released model did;
        the result's message says so) or "error" (the accession fails); None: the settings'."""
        on_too_long = on_too_long or services.settings.on_too_long
        if on_too_long not in ("error", "truncate"):
            raise ValueError(f"on_too_long must be 'error' or 'truncate', not {on_too_long!r}")
        self.on_too_long = on_too_long
        unknown = [name for name in question_types if name not in QUESTION_TYPES]
        if unknown:
            raise ValueError(
                f"unknown question type(s) {unknown}; choose from {', '.join(QUESTION_TYPES)}"
            )
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        self.services = services
        self.question_types = list(question_types)
        self.batch_size = batch_size

    # -- identity and memory ---------------------------------------------------------------------
    def identity(self):
        """The answering model (raises ModelUnavailableError: bulk annotation needs a model)."""
        return self.services.backend.identity()

    def recall(self, store: Any, accessions: Sequence[str], identity) -> dict[str, dict[str, str]]:
        """Stored answers of this model revision: accession -> {question type: answer}."""
        if store is None:
            return {}
        from biomedgpt_tools.store.errors import StoreError

        found: dict[str, dict[str, str]] = {}
        for accession in accessions:
            answers = {}
            for name in self.question_types:
                try:
                    record = store.recall(
                        "protein",
                        accession,
                        QUESTION_TYPES[name],
                        identity.model_id,
                        identity.revision,
                    )
                except StoreError:
                    record = None
                if record is not None:
                    answers[name] = record.answer
            if answers:
                found[accession] = answers
        return found

    # -- one batch ---------------------------------------------------------------------------------
    def annotate_batch(
        self,
        accessions: Sequence[str],
        identity,
        remembered: dict[str, dict[str, str]],
        store: Any = None,
    ) -> list[AnnotationResult]:
        """Results for one batch, in input order (no file or store writes here).

        `remembered` is keyed by the requested accession; with a `store`, accessions that
        resolve to another entry (merged, secondary) are recalled again by that entry.
        """
        from biomedgpt_tools.resolvers.outcomes import NotFoundError, ObsoleteError, ResolverError

        complete = {a for a in accessions if len(remembered.get(a, {})) == len(self.question_types)}
        to_resolve = [a for a in accessions if a not in complete]
        records: dict[str, Any] = {}
        problems: dict[str, AnnotationResult] = {}
        if to_resolve:
            try:
                records = self.services.resolver.proteins_by_accession(to_resolve)
            except ResolverError as error:  # the batch request failed: try one by one below
                problems_note = error.message
            else:
                problems_note = None
            for accession in to_resolve:
                if accession in records:
                    continue
                try:  # classify what the batch endpoint left out: obsolete, not found, or an error
                    records[accession] = self.services.resolver.protein(accession)
                except ObsoleteError as error:
                    problems[accession] = AnnotationResult(
                        accession, "obsolete", message=error.message
                    )
                except NotFoundError as error:
                    problems[accession] = AnnotationResult(
                        accession, "not_found", message=error.message
                    )
                except ResolverError as error:
                    problems[accession] = AnnotationResult(
                        accession, "failed", message=error.message or problems_note
                    )
            remembered = self._recall_entries(store, records, remembered, identity)
            for accession, record in list(records.items()):
                if len(record.sequence or "") > ESM_MAX_RESIDUES and self.on_too_long == "error":
                    problems[accession] = AnnotationResult(
                        accession, "failed", entry=record.accession, entry_name=record.entry_name,
                        message=too_long_message(record, refused=True),
                    )  # fmt: skip
                    del records[accession]
            complete |= {
                a for a in to_resolve if len(remembered.get(a, {})) == len(self.question_types)
            }

        wanted: list[tuple[str, str]] = []  # (accession, question type) the model must answer
        for accession in to_resolve:
            if accession in records and accession not in complete:
                have = remembered.get(accession, {})
                wanted.extend((accession, name) for name in self.question_types if name not in have)
        generated, failures = self._generate(wanted, records)

        results = []
        for accession in accessions:
            if accession in problems:
                results.append(problems[accession])
                continue
            record = records.get(accession)
            answers = dict(remembered.get(accession, {}))
            answers.update(generated.get(accession, {}))
            status = "from_memory" if accession in complete else "done"
            message = failures.get(accession)
            if message:
                status = "failed"
            else:
                notes = [record.note] if record is not None and record.note else []
                if record is not None and len(record.sequence or "") > ESM_MAX_RESIDUES:
                    notes.append(too_long_message(record, refused=False))
                message = "; ".join(notes) or None
            results.append(
                AnnotationResult(
                    accession=accession,
                    status=status,
                    answers={
                        name: answers[name] for name in self.question_types if name in answers
                    },
                    entry=(record.accession if record is not None else accession),
                    entry_name=record.entry_name if record is not None else None,
                    protein_name=record.protein_name if record is not None else None,
                    model_id=identity.model_id,
                    revision=identity.revision,
                    message=message,
                )
            )
        return results

    def _recall_entries(
        self, store: Any, records: dict[str, Any], remembered: dict[str, dict[str, str]], identity
    ) -> dict[str, dict[str, str]]:
        """`remembered` plus the stored answers of entries that differ from the accession asked for."""
        moved = {a: record.accession for a, record in records.items() if record.accession != a}
        if store is None or not moved:
            return remembered
        by_entry = self.recall(store, sorted(set(moved.values())), identity)
        merged = dict(remembered)
        for accession, entry in moved.items():
            if entry in by_entry:
                merged[accession] = {**by_entry[entry], **remembered.get(accession, {})}
        return merged

    def _generate(
        self, wanted: list[tuple[str, str]], records: dict[str, Any]
    ) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
        """One batched model call for every wanted answer; on failure, one call each to isolate it."""
        from biomedgpt_tools.inference.backend import ModelUnavailableError
        from biomedgpt_tools.model.prompt import Protein
        from biomedgpt_tools.model.requests import GenerationRequest

        if not wanted:
            return {}, {}
        max_new_tokens = self.services.settings.max_new_tokens

        def question(accession: str, name: str) -> GenerationRequest:
            sequence = records[accession].sequence[:ESM_MAX_RESIDUES]
            return GenerationRequest(
                question=QUESTION_TYPES[name],
                inputs=[Protein(sequence)],
                max_new_tokens=max_new_tokens,
            )

        answers: dict[str, dict[str, str]] = {}
        failures: dict[str, str] = {}
        try:
            replies = self.services.backend.answer([question(a, n) for a, n in wanted])
        except ModelUnavailableError:
            raise
        except (RuntimeError, ValueError) as batch_error:  # e.g. one malformed sequence
            replies = []
            for accession, name in wanted:
                try:
                    replies.append(self.services.backend.answer([question(accession, name)])[0])
                except (RuntimeError, ValueError) as error:
                    replies.append(None)
                    failures[accession] = (
                        f"generation failed ({type(error).__name__}: {error}; batch: {batch_error})"
                    )
        for (accession, name), reply in zip(wanted, replies, strict=True):
            if reply is not None:
                answers.setdefault(accession, {})[name] = reply.text.strip()
        return answers, failures

    # -- storing -----------------------------------------------------------------------------------
    def annotation_records(self, results: Sequence[AnnotationResult]) -> list[Any]:
        """AnnotationRecords for the new, non-empty answers of `done` results."""
        from biomedgpt_tools.store.record import AnnotationRecord

        records = []
        for result in results:
            if result.status != "done":
                continue
            for name, answer in result.answers.items():
                if answer.strip():
                    records.append(
                        AnnotationRecord(
                            kind="protein",
                            key=result.entry or result.accession,
                            question=QUESTION_TYPES[name],
                            answer=answer,
                            model_id=result.model_id or "",
                            model_revision=result.revision or "",
                            source="model",
                            display_name=result.protein_name or result.entry_name or "",
                            extra={"backend": self.services.backend.kind, "bulk": True},
                        )
                    )
        return records

    def store_results(self, store: Any, results: Sequence[AnnotationResult]) -> str | None:
        """Save the answers; returns a note when the store refused (the results file still has them)."""
        if store is None:
            return None
        from biomedgpt_tools.store.errors import StoreError

        try:
            store.add_many(self.annotation_records(results))
        except StoreError as error:
            return f"answers not saved to the store: {error}"
        return None

    # -- the whole run -----------------------------------------------------------------------------
    def run(
        self,
        accessions: Sequence[str],
        out: Path,
        *,
        progress: bool = True,
        after_batch: Callable[[list[AnnotationResult]], None] | None = None,
        skip: set[str] | frozenset[str] = frozenset(),
        shard: Shard = Shard(),
        remembered: dict[str, dict[str, str]] | None = None,
        store: Any = "services",
    ) -> RunSummary:
        """Annotate what `out` (and `skip`) does not hold yet; append to `out` batch by batch.

        `store="services"` opens the services' store; None stores nothing here. In a distributed
        run each rank passes its `shard`, its own part file as `out`, the `remembered` answers
        rank 0 recalled for everyone, and `store=None` (rank 0 stores everything when merging).
        """
        started = time.perf_counter()
        out.parent.mkdir(parents=True, exist_ok=True)
        repair_tail(out)
        done = finished_accessions(out) | set(skip)
        pending_all = [a for a in accessions if a not in done]
        todo = shard.select(pending_all)
        summary = RunSummary(skipped=len(accessions) - len(pending_all))
        if store in ("services", "toolkit"):  # "toolkit": its name before the services split
            store = self.services.memory.open()
        identity = self.identity()
        notes: list[str] = []
        bar = _progress_bar(len(todo), progress, shard)
        try:
            for start in range(0, len(todo), self.batch_size):
                batch = todo[start : start + self.batch_size]
                known = (
                    remembered if remembered is not None else self.recall(store, batch, identity)
                )
                results = self.annotate_batch(batch, identity, known, store)
                # store first: a kill between the two leaves answers a rerun recalls from memory,
                # never lines in the file whose answers the store lacks
                note = self.store_results(store, results)
                append_results(out, results)
                if note and note not in notes:
                    notes.append(note)
                summary.add(results)
                if bar is not None:
                    bar.update(len(batch))
                if after_batch is not None:
                    after_batch(results)
        finally:
            if bar is not None:
                bar.close()
            summary.seconds = time.perf_counter() - started
        compact_results(out)  # retried accessions: their failed lines go, one line each stays
        for note in notes:
            print(f"note: {note}")
        return summary


def _progress_bar(total: int, enabled: bool, shard: Shard):
    if not enabled:
        return None
    from tqdm import tqdm

    label = "annotating" if shard.world_size == 1 else f"rank {shard.rank}/{shard.world_size}"
    return tqdm(
        total=total, unit="acc", desc=label, position=shard.rank, dynamic_ncols=True, smoothing=0.1
    )
