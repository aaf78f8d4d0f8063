"""PubMedQA PQA-L: `ori_pqal.json` (PMID -> record) and `test_ground_truth.json` (PMID -> label).

The test set is the 500 PMIDs of the ground-truth file; the label comes from that file
(it agrees with `final_decision`, which is checked). CONTEXTS is a list of abstract
sections (without the conclusion, which would give the answer away).
"""

from __future__ import annotations

import json
from pathlib import Path

from evals.loaders.errors import DataFormatError
from evals.tasks.items import ChoiceItem

PUBMEDQA_LABELS = ("yes", "no", "maybe")
PUBMEDQA_OPTIONS = {label: label for label in PUBMEDQA_LABELS}


def _read_json(path: Path):
    if not path.is_file():
        raise DataFormatError(f"{path}: file not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataFormatError(f"{path}: not valid JSON ({error})") from None


def resolve_pubmedqa_paths(data: str | Path) -> tuple[Path, Path]:
    """Accept the folder or the path of ori_pqal.json; the ground truth sits beside it."""
    data = Path(data)
    folder = data if data.is_dir() else data.parent
    pqal = data if data.is_file() else folder / "ori_pqal.json"
    return pqal, folder / "test_ground_truth.json"


def _contexts(record: dict, pmid: str, path: Path) -> str:
    contexts = record.get("CONTEXTS")
    if isinstance(contexts, str):  # some copies store the list as its repr
        contexts = [contexts]
    if not isinstance(contexts, list) or not all(isinstance(c, str) for c in contexts):
        raise DataFormatError(f"{path}: PMID {pmid} has no CONTEXTS list of strings")
    return " ".join(context.strip() for context in contexts)


def pubmedqa_items(data: str | Path) -> list[ChoiceItem]:
    """The PQA-L test items, in the order of test_ground_truth.json."""
    pqal_path, truth_path = resolve_pubmedqa_paths(data)
    records, truth = _read_json(pqal_path), _read_json(truth_path)
    if not isinstance(records, dict) or not isinstance(truth, dict):
        raise DataFormatError(f"{pqal_path} and {truth_path} must both map PMID -> object")
    items = []
    for pmid, label in truth.items():
        if pmid not in records:
            raise DataFormatError(f"{truth_path}: PMID {pmid} is missing from {pqal_path}")
        record = records[pmid]
        if label not in PUBMEDQA_LABELS:
            raise DataFormatError(
                f"{truth_path}: PMID {pmid} has label {label!r}, not yes/no/maybe"
            )
        decision = record.get("final_decision")
        if decision is not None and decision != label:
            raise DataFormatError(
                f"PMID {pmid}: test_ground_truth says {label!r} but final_decision says "
                f"{decision!r}; are the two files from the same release?"
            )
        question = record.get("QUESTION")
        if not isinstance(question, str) or not question.strip():
            raise DataFormatError(f"{pqal_path}: PMID {pmid} has no QUESTION")
        items.append(
            ChoiceItem(
                item_id=str(pmid),
                question=question.strip(),
                options=dict(PUBMEDQA_OPTIONS),
                answer=label,
                context=_contexts(record, pmid, pqal_path),
            )
        )
    if not items:
        raise DataFormatError(f"{truth_path}: no test PMIDs")
    return items
