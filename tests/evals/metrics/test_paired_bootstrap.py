"""Corpus BLEU from per-item counts equals nltk's, and the paired bootstrap of `evals compare`."""

from __future__ import annotations

import json
import random
import warnings

import numpy as np
import pytest
from nltk.translate.bleu_score import corpus_bleu, modified_precision

from evals.__main__ import main
from evals.metrics.caption import MEAN_METRICS, CaptionItems
from evals.metrics.paired_bootstrap import METRICS, paired_bootstrap

WORDS = ["the", "molecule", "is", "a", "acid", "ester", "of", "hydroxy", "-", "3", "beta", "d"]


def _items_from_tokens(references: list[list[str]], hypotheses: list[list[str]]) -> CaptionItems:
    """CaptionItems built the way score_items counts, from token lists (no tokenizer needed)."""
    n = len(references)
    matches, ngrams = np.zeros((n, 4), dtype=np.int64), np.zeros((n, 4), dtype=np.int64)
    for row, (ref, hyp) in enumerate(zip(references, hypotheses, strict=True)):
        for order in range(1, 5):
            precision = modified_precision([ref], hyp, order)
            matches[row, order - 1], ngrams[row, order - 1] = (
                precision.numerator,
                precision.denominator,
            )
    rng = np.random.default_rng(1)
    per_item = {name: rng.random(n) for name in MEAN_METRICS}
    return CaptionItems(
        matches,
        ngrams,
        np.array([len(h) for h in hypotheses]),
        np.array([len(r) for r in references]),
        per_item,
    )


def _random_corpus(seed: int, n: int = 40) -> tuple[list[list[str]], list[list[str]]]:
    rng = random.Random(seed)
    references = [[rng.choice(WORDS) for _ in range(rng.randint(5, 25))] for _ in range(n)]
    hypotheses = []
    for ref in references:
        kept = [w if rng.random() < 0.6 else rng.choice(WORDS) for w in ref]
        hypotheses.append(kept[: rng.randint(0, len(kept))])  # some empty, many short
    return references, hypotheses


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bleu_from_counts_equals_nltk_corpus_bleu_on_all_rows_and_on_a_resample(seed):
    references, hypotheses = _random_corpus(seed)
    items = _items_from_tokens(references, hypotheses)
    rows = np.random.default_rng(seed).integers(0, len(references), size=len(references))
    for subset in (np.arange(len(references)), rows):
        refs = [[references[i]] for i in subset]
        hyps = [hypotheses[i] for i in subset]
        scores = items.scores(subset)
        assert scores.bleu2 == pytest.approx(corpus_bleu(refs, hyps, weights=(0.5, 0.5)), rel=1e-12)
        assert scores.bleu4 == pytest.approx(
            corpus_bleu(refs, hyps, weights=(0.25,) * 4), rel=1e-12
        )
        assert scores.meteor == pytest.approx(items.per_item["meteor"][subset].mean())


def test_bleu_from_counts_matches_nltk_edge_cases():
    # no unigram match at all; unigrams but no 4-gram match; a hypothesis longer than its reference
    cases = [
        ([["a", "b", "c", "d"]], [["x", "y"]]),
        ([["a", "b", "c", "d", "e"]], [["a", "c", "e", "b"]]),
        ([["a", "b"]], [["a", "b", "a", "b", "a"]]),
    ]
    for references, hypotheses in cases:
        items = _items_from_tokens(references, hypotheses)
        refs = [[r] for r in references]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nltk warns about orders with no match
            expected2 = corpus_bleu(refs, hypotheses, weights=(0.5, 0.5))
            expected4 = corpus_bleu(refs, hypotheses, weights=(0.25,) * 4)
        assert items.scores().bleu2 == pytest.approx(expected2, rel=1e-9)
        assert items.scores().bleu4 == pytest.approx(expected4, rel=1e-9)


def test_identical_systems_differ_by_exactly_zero():
    items = _items_from_tokens(*_random_corpus(3))
    for row in paired_bootstrap(items, items, samples=50):
        assert row.difference == row.low == row.high == 0.0
        assert row.not_better == 1.0  # never strictly better than itself


def test_a_system_better_on_every_item_has_an_interval_above_zero():
    references, hypotheses = _random_corpus(4)
    worse = _items_from_tokens(references, [h[: len(h) // 2] for h in hypotheses])
    better = _items_from_tokens(references, references)  # the reference itself
    better.per_item.update({name: worse.per_item[name] + 0.1 for name in MEAN_METRICS})
    rows = {row.metric: row for row in paired_bootstrap(worse, better, samples=200, seed=7)}
    assert set(rows) == set(METRICS)
    for row in rows.values():
        assert row.low > 0 and row.not_better == 0.0
        assert row.low <= row.difference <= row.high
    assert rows["meteor"].difference == pytest.approx(0.1)
    again = {row.metric: row for row in paired_bootstrap(worse, better, samples=200, seed=7)}
    assert again == rows  # the seed fixes the resamples


def test_unpaired_inputs_and_bad_settings_are_refused():
    a = _items_from_tokens(*_random_corpus(5, n=10))
    b = _items_from_tokens(*_random_corpus(6, n=12))
    with pytest.raises(ValueError, match="same items"):
        paired_bootstrap(a, b)
    with pytest.raises(ValueError, match="samples"):
        paired_bootstrap(a, a, samples=0)


# -- the CLI on real files: SciBERT wordpieces and WordNet, as `evals caption` ----------------------


def _write_tsv(path, rows):
    lines = ["SMILES\tground truth\toutput", *("\t".join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.needs_shared_data
def test_compare_joins_by_smiles_and_reports_the_difference(shared_data, tmp_path, capsys):
    vocab = str(shared_data / "scibert_scivocab_uncased")
    truth = [(f"C{'C' * i}O", f"The molecule is an alcohol with {i + 2} carbons and a hydroxy group.")
             for i in range(12)]  # fmt: skip
    baseline = _write_tsv(
        tmp_path / "base.tsv", [(s, t, "The molecule is an acid.") for s, t in truth]
    )
    better_rows = [
        (s, t, t if i % 2 else "The molecule is an alcohol.") for i, (s, t) in enumerate(truth)
    ]
    better = _write_tsv(
        tmp_path / "better.tsv", better_rows[::-1]
    )  # another row order: joined by SMILES
    argv = ["compare", "--baseline", str(baseline), "--predictions", str(better), "--vocab", vocab,
            "--samples", "100", "--json", "--quiet"]  # fmt: skip
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    rows = {row["metric"]: row for row in report["metrics"]}
    assert report["samples"] == 100 and set(rows) == set(METRICS)
    caption = main(["caption", "--predictions", str(better), "--vocab", vocab, "--json", "--quiet"])
    assert caption == 0
    scores = json.loads(capsys.readouterr().out)
    for metric, row in rows.items():
        assert row["candidate"] == pytest.approx(scores[metric], abs=1e-12)
        assert row["difference"] > 0 and row["low"] > 0 and row["not_better"] == 0.0

    assert main(argv[:-2] + ["--quiet"]) == 0  # the table
    table = capsys.readouterr().out
    assert "bleu2" in table and "95% interval" in table


@pytest.mark.needs_shared_data
def test_compare_refuses_files_about_different_molecules(shared_data, tmp_path, capsys):
    vocab = str(shared_data / "scibert_scivocab_uncased")
    a = _write_tsv(
        tmp_path / "a.tsv", [("CCO", "An alcohol.", "An alcohol."), ("CC", "Ethane.", "Ethane.")]
    )
    b = _write_tsv(
        tmp_path / "b.tsv", [("CCO", "An alcohol.", "An acid."), ("CCC", "Propane.", "Propane.")]
    )
    c = _write_tsv(
        tmp_path / "c.tsv", [("CCO", "Another truth.", "An acid."), ("CC", "Ethane.", "Ethane.")]
    )
    assert (
        main(
            ["compare", "--baseline", str(a), "--predictions", str(b), "--vocab", vocab, "--quiet"]
        )
        == 2
    )
    assert (
        "same molecules: 1 SMILES only in the first, 1 only in the second"
        in capsys.readouterr().err
    )
    assert (
        main(
            ["compare", "--baseline", str(a), "--predictions", str(c), "--vocab", vocab, "--quiet"]
        )
        == 2
    )
    assert "different ground truths for SMILES CCO" in capsys.readouterr().err
    assert main(["compare", "--baseline", str(a), "--predictions", str(a), "--samples", "0"]) == 2
    assert "--samples 0" in capsys.readouterr().err
