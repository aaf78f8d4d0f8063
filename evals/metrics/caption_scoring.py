"""Score a MolT5-format predictions file: `SMILES<TAB>ground truth<TAB>output`.

The ground truth normally comes from the file itself. With `references` (a ChEBI-20 split)
each prediction is joined to its reference by SMILES, never by row order, so a shuffled or
partial predictions file is still scored against the right descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evals.loaders.chebi20 import load_chebi20, read_tsv_rows, unescape_smiles
from evals.loaders.errors import DataFormatError
from evals.metrics.caption import CaptionScores, score_captions, score_items
from evals.metrics.paired_bootstrap import MetricDifference, paired_bootstrap

PREDICTIONS_HEADER = ["SMILES", "ground truth", "output"]
CLS_PREFIX = "[CLS] "


@dataclass(frozen=True)
class CaptionPrediction:
    smiles: str
    ground_truth: str
    output: str


def strip_cls(text: str) -> str:
    """MolT5 outputs sometimes start with a literal `[CLS] `; the protocol drops it."""
    return text[len(CLS_PREFIX) :] if text.startswith(CLS_PREFIX) else text


def read_predictions(path: str | Path) -> list[CaptionPrediction]:
    """Rows of a MolT5 predictions TSV, outputs with a leading `[CLS] ` stripped."""
    rows = read_tsv_rows(Path(path), PREDICTIONS_HEADER)
    if not rows:
        raise DataFormatError(f"{path}: no prediction rows after the header")
    return [
        CaptionPrediction(smiles=unescape_smiles(smiles), ground_truth=truth, output=strip_cls(out))
        for smiles, truth, out in rows
    ]


def split_descriptions(path: str | Path) -> dict[str, str]:
    """SMILES -> description of a ChEBI-20 split, the ground truth predictions are joined to."""
    return {record.smiles: record.description for record in load_chebi20(path)}


def join_by_smiles(
    predictions: list[CaptionPrediction], references: dict[str, str], source: str
) -> list[tuple[str, str]]:
    """(reference, output) pairs matched by SMILES; unknown or repeated SMILES are errors."""
    pairs, seen = [], set()
    for prediction in predictions:
        if prediction.smiles in seen:
            raise DataFormatError(f"SMILES {prediction.smiles} is predicted twice")
        seen.add(prediction.smiles)
        if prediction.smiles not in references:
            raise DataFormatError(
                f"SMILES {prediction.smiles} is not in {source}; are the predictions for this split?"
            )
        pairs.append((references[prediction.smiles], prediction.output))
    return pairs


def score_predictions_file(
    path: str | Path,
    vocab: str,
    references_path: str | Path | None = None,
    progress: bool = True,
) -> CaptionScores:
    """The six caption metrics of a predictions file (ground truth from the file or ChEBI-20)."""
    predictions = read_predictions(path)
    if references_path is None:
        pairs = [(p.ground_truth, p.output) for p in predictions]
    else:
        pairs = join_by_smiles(
            predictions, split_descriptions(references_path), str(references_path)
        )
    return score_captions(
        [reference for reference, _ in pairs],
        [output for _, output in pairs],
        vocab=vocab,
        progress=progress,
    )


def _reference_and_output(
    path: str | Path, references: dict[str, str] | None, references_path: str | Path | None
) -> dict[str, tuple[str, str]]:
    """SMILES -> (reference, output) of one predictions file; errors name the file."""
    predictions = read_predictions(path)
    smiles = [p.smiles for p in predictions]
    if references is None:
        seen: set[str] = set()
        for key in smiles:
            if key in seen:  # join_by_smiles checks this when there are references
                raise DataFormatError(f"{path}: SMILES {key} is predicted twice")
            seen.add(key)
        pairs = [(p.ground_truth, p.output) for p in predictions]
    else:
        try:
            pairs = join_by_smiles(predictions, references, str(references_path))
        except DataFormatError as error:
            raise DataFormatError(f"{path}: {error}") from None
    return dict(zip(smiles, pairs, strict=True))


def compare_predictions_files(
    baseline_path: str | Path,
    candidate_path: str | Path,
    vocab: str,
    references_path: str | Path | None = None,
    samples: int = 1000,
    seed: int = 0,
    progress: bool = True,
) -> list[MetricDifference]:
    """candidate - baseline on each caption metric, with a paired bootstrap interval.

    The two files must predict the same molecules (joined by SMILES, any row order); without
    `references` their ground truths must agree.
    """
    references = None if references_path is None else split_descriptions(references_path)
    baseline = _reference_and_output(baseline_path, references, references_path)
    candidate = _reference_and_output(candidate_path, references, references_path)
    if baseline.keys() != candidate.keys():
        only_base, only_cand = (
            baseline.keys() - candidate.keys(),
            candidate.keys() - baseline.keys(),
        )
        examples = "; ".join(
            f"e.g. {min(side)} only in {name}"
            for side, name in ((only_base, baseline_path), (only_cand, candidate_path))
            if side
        )
        raise DataFormatError(
            f"{baseline_path} and {candidate_path} must predict the same molecules: "
            f"{len(only_base)} SMILES only in the first, {len(only_cand)} only in the second ({examples})"
        )
    smiles = list(baseline)
    for key in smiles:
        if baseline[key][0] != candidate[key][0]:
            raise DataFormatError(
                f"the two files give different ground truths for SMILES {key}; "
                "give the ChEBI-20 split as references (--references) to take them from it"
            )
    truths = [baseline[key][0] for key in smiles]
    base_items = score_items(truths, [baseline[key][1] for key in smiles], vocab, progress)
    cand_items = score_items(truths, [candidate[key][1] for key in smiles], vocab, progress)
    return paired_bootstrap(base_items, cand_items, samples=samples, seed=seed)
