"""Score a PubMedQA predictions file the way the official evaluation does.

The file maps every test PMID to "yes", "no" or "maybe" (the format of PubMedQA's
`evaluation.py`); like the official script, it must cover all and only the test PMIDs.
Accuracy and macro-F1 are computed over the ground truth's order.
"""

from __future__ import annotations

import json
from pathlib import Path

from evals.loaders.errors import DataFormatError
from evals.loaders.pubmedqa import PUBMEDQA_LABELS, resolve_pubmedqa_paths
from evals.metrics.classification import ChoiceScores, score_choices


def score_pubmedqa_predictions(predictions_path: str | Path, data: str | Path) -> ChoiceScores:
    predictions_path = Path(predictions_path)
    _, truth_path = resolve_pubmedqa_paths(data)
    try:
        predictions = json.loads(predictions_path.read_text(encoding="utf-8"))
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise DataFormatError(f"{error.filename}: file not found") from None
    except json.JSONDecodeError as error:
        raise DataFormatError(f"not valid JSON ({error.msg}); expected {{PMID: label}}") from None
    if not isinstance(predictions, dict):
        raise DataFormatError(f"{predictions_path}: expected a JSON object {{PMID: yes|no|maybe}}")
    missing = [pmid for pmid in truth if pmid not in predictions]
    extra = [pmid for pmid in predictions if pmid not in truth]
    if missing or extra:
        raise DataFormatError(
            f"{predictions_path}: predict all and only the {len(truth)} test PMIDs "
            f"({len(missing)} missing, e.g. {missing[:3]}; {len(extra)} not in the test set, e.g. {extra[:3]})"
        )
    for pmid, label in predictions.items():
        if label not in PUBMEDQA_LABELS:
            raise DataFormatError(
                f"{predictions_path}: PMID {pmid} has label {label!r}, not yes/no/maybe"
            )
    return score_choices(
        [truth[p] for p in truth], [predictions[p] for p in truth], PUBMEDQA_LABELS
    )
