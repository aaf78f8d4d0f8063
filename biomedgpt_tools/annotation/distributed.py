"""Scale-out under `torchrun --nproc-per-node N`: shard the accessions, merge without duplicates.

torchrun sets RANK/WORLD_SIZE/MASTER_ADDR; the ranks join a gloo process group (CPU
collectives work with or without GPUs: only small Python objects cross it). Every rank
computes the same pending list, takes every N-th accession, answers with its own model copy
(on GPU `LOCAL_RANK` when there is one) and appends to its own part file. Rank 0 alone
opens the annotation store (the embedded store admits one writer): it recalls stored answers
for everyone before the work starts, and at the end stores the part files' new answers,
appends their lines to the results file (skipping accessions finished there already) and
removes the parts. Part files left by a killed run are merged the same way when the next run
starts. When the store refuses the answers the parts stay where they are (they are the only
copy of what the store lacks) and the run stops with PartsNotMergedError.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from biomedgpt_tools.annotation.bulk import BulkAnnotator, Shard
from biomedgpt_tools.annotation.results import (
    AnnotationResult,
    RunSummary,
    append_results,
    compact_results,
    finished_accessions,
    keep_result,
    read_results,
    repair_tail,
)

# A rank that finishes early waits at the final barrier for the slowest one: allow long runs.
COLLECTIVE_TIMEOUT = timedelta(days=7)


def torchrun_shard() -> Shard | None:
    """This process's shard when started by torchrun with more than one process, else None."""
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world <= 1:
        return None
    return Shard(rank=int(os.environ.get("RANK", "0")), world_size=world)


def part_path(out: Path, rank: int) -> Path:
    return out.with_name(f"{out.name}.rank{rank}.part")


class PartsNotMergedError(RuntimeError):
    """The store refused the part files' answers; the part files were kept for the next run."""


def merge_parts(annotator: BulkAnnotator, out: Path, store: Any) -> int:
    """Store the part files' results that `out` lacks, append them to `out`, delete the parts.

    In that order: a refusal (or a kill) before the parts are deleted leaves them to be
    merged again by the next run, so no answer ends up only in the results file.
    """
    repair_tail(out)
    finished = finished_accessions(out)
    parts = sorted(out.parent.glob(f"{out.name}.rank*.part"))
    if not parts:
        return 0
    merged: dict[str, AnnotationResult] = {}
    for part in parts:
        for result in read_results(part).values():
            if result.accession not in finished:
                keep_result(merged, result)
    added = list(merged.values())
    note = annotator.store_results(store, added)
    if note:
        names = ", ".join(str(part) for part in parts)
        raise PartsNotMergedError(
            f"{note}; the part files {names} are kept: fix the store (or set BIOMEDGPT_MEMORY=0) "
            f"and rerun the same command to merge them into {out}"
        )
    append_results(out, added)
    compact_results(out)  # an accession that failed before and was retried shows once
    for part in parts:
        part.unlink()
    return len(added)


def run_distributed(
    annotator: BulkAnnotator,
    accessions: list[str],
    out: Path,
    shard: Shard,
    *,
    progress: bool = True,
) -> RunSummary | None:
    """The run of one rank; rank 0 returns the summary of all ranks, the others None."""
    import torch.distributed as dist

    dist.init_process_group("gloo", timeout=COLLECTIVE_TIMEOUT)
    try:
        rank, world = dist.get_rank(), dist.get_world_size()
        shard = Shard(rank, world)
        store = annotator.services.memory.open() if rank == 0 else None
        refusal = [None]
        if rank == 0:
            out.parent.mkdir(parents=True, exist_ok=True)
            try:
                merge_parts(annotator, out, store)  # leftovers of an interrupted earlier run
            except PartsNotMergedError as error:
                refusal = [str(error)]
        dist.broadcast_object_list(refusal, src=0)  # every rank stops, none waits for rank 0
        if refusal[0] is not None:
            if rank == 0:
                raise PartsNotMergedError(refusal[0])
            return None
        done = finished_accessions(out)
        pending = [a for a in accessions if a not in done]
        identity = annotator.identity()
        shared = [annotator.recall(store, pending, identity) if rank == 0 else None]
        dist.broadcast_object_list(shared, src=0)
        summary = annotator.run(
            accessions,
            part_path(out, rank),
            skip=done,
            shard=shard,
            remembered=shared[0],
            store=None,
            progress=progress,
        )
        everyone: list[RunSummary | None] = [None] * world
        dist.all_gather_object(everyone, summary)
        if rank != 0:
            return None
        merge_parts(annotator, out, store)
        total = RunSummary()
        for part_summary in everyone:
            total.merge(part_summary)
        return total
    finally:
        dist.destroy_process_group()
