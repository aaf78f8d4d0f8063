"""Corpus BLEU from per-item counts (`CaptionItems`) equals nltk's `corpus_bleu`, resampled or not."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest
from nltk.translate.bleu_score import corpus_bleu, modified_precision

from evals.metrics.caption import MEAN_METRICS, CaptionItems

WORDS = ["the", "molecule", "is", "a", "acid", "ester", "of", "hydroxy", "-", "3", "beta", "d"]


def items_from_tokens(references: list[list[str]], hypotheses: list[list[str]]) -> CaptionItems:
    """CaptionItems counted the way score_items counts, from token lists (no tokenizer needed)."""
    n = len(references)
    matches, ngrams = np.zeros((n, 4), dtype=np.int64), np.zeros((n, 4), dtype=np.int64)
    for row, (ref, hyp) in enumerate(zip(references, hypotheses, strict=True)):
        for order in range(1, 5):
            precision = modified_precision([ref], hyp, order)
            matches[row, order - 1] = precision.numerator
            ngrams[row, order - 1] = precision.denominator
    rng = np.random.default_rng(1)
    per_item = {name: rng.random(n) for name in MEAN_METRICS}
    lengths = np.array([len(h) for h in hypotheses]), np.array([len(r) for r in references])
    return CaptionItems(matches, ngrams, *lengths, per_item)


def random_corpus(seed: int, n: int = 40) -> tuple[list[list[str]], list[list[str]]]:
    rng = random.Random(seed)
    references = [[rng.choice(WORDS) for _ in range(rng.randint(5, 25))] for _ in range(n)]
    hypotheses = []
    for ref in references:
        kept = [w if rng.random() < 0.6 else rng.choice(WORDS) for w in ref]
        hypotheses.append(kept[: rng.randint(0, len(kept))])  # some empty, many short
    return references, hypotheses


def _nltk(references, hypotheses, weights):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nltk warns about orders with no match
        return corpus_bleu([[r] for r in references], hypotheses, weights=weights)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bleu_from_counts_equals_nltk_corpus_bleu_on_all_rows_and_on_a_resample(seed):
    references, hypotheses = random_corpus(seed)
    items = items_from_tokens(references, hypotheses)
    resample = np.random.default_rng(seed).integers(0, len(references), size=len(references))
    for subset in (np.arange(len(references)), resample):
        refs, hyps = [references[i] for i in subset], [hypotheses[i] for i in subset]
        scores = items.scores(subset)
        assert scores.bleu2 == pytest.approx(_nltk(refs, hyps, (0.5, 0.5)), rel=1e-12)
        assert scores.bleu4 == pytest.approx(_nltk(refs, hyps, (0.25,) * 4), rel=1e-12)
        assert scores.meteor == pytest.approx(items.per_item["meteor"][subset].mean())
        assert scores.n == len(subset)


@pytest.mark.parametrize(
    ("reference", "hypothesis"),
    [
        (list("abcdefg"), list("abxcd")),  # bigrams match, no 3-/4-gram: BLEU-4 on nltk's method0
        (list("abcde"), list("aceb")),  # unigrams only
        (list("ab"), list("ababa")),  # longer than the reference: no brevity penalty
        (list("abcdef"), list("ab")),  # shorter: brevity penalty
    ],
)
def test_bleu_from_counts_matches_nltk_edge_cases(reference, hypothesis):
    items = items_from_tokens([reference], [hypothesis])
    assert items.scores().bleu2 == pytest.approx(
        _nltk([reference], [hypothesis], (0.5, 0.5)), rel=1e-9
    )
    assert items.scores().bleu4 == pytest.approx(
        _nltk([reference], [hypothesis], (0.25,) * 4), rel=1e-9
    )
    assert items.scores().bleu2 > 0


def test_no_unigram_match_or_no_hypothesis_gives_exactly_zero():
    for hypotheses in ([list("xy")], [[]]):
        items = items_from_tokens([list("abcd")], hypotheses)
        assert _nltk([list("abcd")], hypotheses, (0.5, 0.5)) == 0
        assert items.scores().bleu2 == 0.0 and items.scores().bleu4 == 0.0
