"""`prepare-pubmedqa`: PubMedQA JSON (PQA-A for training, PQA-L format) -> stage-3b records.

Input: one JSON object `{pmid: {QUESTION, CONTEXTS, LONG_ANSWER, final_decision, ...}}`
(`ori_pqaa.json`, `ori_pqal.json`). The answer starts `answer: yes|no|maybe`, the form the
evaluation's regex extracts (LMFlow protocol), followed by the long answer.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from training.data.input_files import DataFormatError, read_json_document
from training.data.qa_output import already_done, report, write_records
from training.data.qa_records import BIOMEDICAL_SYSTEM, QARecord

DECISIONS = ("yes", "no", "maybe")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="PubMedQA JSON (e.g. ori_pqaa.json)")
    parser.add_argument("--out", type=Path, required=True, help="QA records to write (.jsonl)")
    parser.add_argument(
        "--exclude",
        type=Path,
        help="JSON whose keys are PMIDs to leave out (e.g. test_ground_truth.json)",
    )


def pubmedqa_question(item: dict) -> str:
    contexts = " ".join(str(c).strip() for c in item.get("CONTEXTS", []))
    return f"Context: {contexts}\nQuestion: {item['QUESTION'].strip()}\nAnswer yes, no or maybe."


def pubmedqa_records(
    data: dict, excluded: set[str], counts: Counter, path: Path
) -> Iterator[QARecord]:
    for pmid, item in data.items():
        counts["read"] += 1
        if pmid in excluded:
            counts["dropped_excluded"] += 1
            continue
        if not isinstance(item, dict) or "QUESTION" not in item or "final_decision" not in item:
            raise DataFormatError(f"{path}: item {pmid} lacks QUESTION or final_decision")
        decision = str(item["final_decision"]).strip().lower()
        if decision not in DECISIONS:
            counts["dropped_unknown_decision"] += 1
            continue
        long_answer = str(item.get("LONG_ANSWER") or "").strip()
        answer = f"answer: {decision}." + (f" {long_answer}" if long_answer else "")
        yield QARecord(
            id=f"pubmedqa:{pmid}",
            question=pubmedqa_question(item),
            answer=answer,
            system=BIOMEDICAL_SYSTEM,
        )


def run(args: argparse.Namespace) -> int:
    if already_done([args.out]):
        return 0
    data = read_json_document(args.input, "a JSON object PMID -> item")
    if not isinstance(data, dict):
        raise DataFormatError(f"{args.input}: expected a JSON object PMID -> item")
    excluded: set[str] = set()
    if args.exclude:
        excluded = set(read_json_document(args.exclude, "a JSON list of PMIDs"))
    counts: Counter = Counter()
    write_records(
        pubmedqa_records(data, excluded, counts, args.input), args.out, counts, desc=args.input.name
    )
    report(str(args.out), counts)
    return 0
