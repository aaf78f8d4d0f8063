"""Accuracy and macro-F1 equal scikit-learn's definitions (PubMedQA's official evaluation)."""

from __future__ import annotations

import random

import pytest
from sklearn.metrics import accuracy_score, f1_score

from evals.metrics.classification import macro_f1, score_choices

LABELS = ("yes", "no", "maybe")


@pytest.mark.parametrize("seed", range(5))
def test_random_predictions_match_scikit_learn(seed):
    rng = random.Random(seed)
    gold = [rng.choice(LABELS) for _ in range(200)]
    predicted = [rng.choice([*LABELS, None]) for _ in range(200)]  # None: unmatched answer
    scores = score_choices(gold, predicted, LABELS)
    as_strings = [p if p is not None else "N/A" for p in predicted]
    assert scores.accuracy == pytest.approx(accuracy_score(gold, as_strings))
    assert scores.macro_f1 == pytest.approx(
        f1_score(gold, as_strings, labels=list(LABELS), average="macro")
    )
    assert scores.unmatched_rate == pytest.approx(predicted.count(None) / 200)


def test_unmatched_answers_are_wrong_not_an_extra_class():
    gold = ["yes", "no", "maybe", "yes"]
    predicted = ["yes", None, "maybe", None]
    scores = score_choices(gold, predicted, LABELS)
    assert scores.accuracy == 0.5
    # yes: tp 1, fn 1 -> 2/3; no: tp 0 -> 0; maybe: 1 -> mean 5/9
    assert scores.macro_f1 == pytest.approx((2 / 3 + 0 + 1) / 3)


def test_class_never_seen_scores_zero_like_scikit_learn():
    gold, predicted = ["yes", "yes"], ["yes", "yes"]
    assert macro_f1(gold, predicted, LABELS) == pytest.approx(
        f1_score(gold, predicted, labels=list(LABELS), average="macro", zero_division=0)
    )


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="2 gold labels but 1"):
        score_choices(["yes", "no"], ["yes"], LABELS)
    with pytest.raises(ValueError, match="not among the scored labels"):
        macro_f1(["true"], ["true"], LABELS)


@pytest.mark.needs_shared_data
@pytest.mark.parametrize("seed", [0, 1])
def test_pubmedqa_predictions_file_matches_the_official_definition(
    shared_data, tmp_path, capsys, seed
):
    """PubMedQA's evaluation.py: accuracy_score and f1_score(average="macro") over the test PMIDs."""
    import json

    from evals.__main__ import main

    truth = json.loads((shared_data / "pubmedqa" / "test_ground_truth.json").read_text())
    rng = random.Random(seed)
    predictions = {pmid: rng.choice(LABELS) for pmid in reversed(list(truth))}  # any key order
    path = tmp_path / "predictions.json"
    path.write_text(json.dumps(predictions))
    assert (
        main(
            [
                "pubmedqa",
                "--predictions",
                str(path),
                "--data",
                str(shared_data / "pubmedqa"),
                "--json",
            ]
        )
        == 0
    )
    scores = json.loads(capsys.readouterr().out)
    gold = [truth[p] for p in truth]
    guessed = [predictions[p] for p in truth]
    assert scores["n"] == 500
    assert scores["accuracy"] == pytest.approx(accuracy_score(gold, guessed))
    assert scores["macro_f1"] == pytest.approx(f1_score(gold, guessed, average="macro"))


@pytest.mark.needs_shared_data
def test_pubmedqa_predictions_must_cover_all_and_only_test_pmids(shared_data, tmp_path):
    import json

    from evals.loaders.errors import DataFormatError
    from evals.metrics.pubmedqa_scoring import score_pubmedqa_predictions

    path = tmp_path / "partial.json"
    path.write_text(json.dumps({"12377809": "yes", "1": "no"}))
    with pytest.raises(DataFormatError, match="499 missing.*1 not in the test set"):
        score_pubmedqa_predictions(path, shared_data / "pubmedqa")
