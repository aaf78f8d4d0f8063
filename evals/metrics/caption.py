"""BLEU-2/4, ROUGE-1/2/L and METEOR exactly as the MolT5 protocol computes them.

Both texts are tokenized with SciBERT WordPiece (truncated to 512 wordpieces, [PAD], [CLS]
and [SEP] dropped). BLEU is nltk's unsmoothed corpus BLEU with the ground truth as the
single reference; METEOR is the mean of nltk's sentence METEOR (needs WordNet 3.0); ROUGE
is the mean F-measure of rouge_score on the raw strings, without stemming.

Each pair is scored once into `CaptionItems` (its BLEU counts and its ROUGE/METEOR values),
and the corpus numbers are sums and means over a set of rows of it: all rows for the
metrics, resampled rows for `paired_bootstrap`.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np
from tqdm import tqdm

from evals.metrics.scibert_tokenizer import load_scibert_tokenizer
from evals.metrics.wordnet_check import require_wordnet

MAX_WORDPIECES = 512
DROPPED_TOKENS = frozenset({"[PAD]", "[CLS]", "[SEP]"})
BLEU_ORDERS = 4


@dataclass(frozen=True)
class CaptionScores:
    """The six numbers of the paper's Tables 3 and 4, plus how many pairs they cover."""

    n: int
    bleu2: float
    bleu4: float
    rouge1: float
    rouge2: float
    rougeL: float  # noqa: N815 (the field's own name)
    meteor: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


METRICS = tuple(f.name for f in fields(CaptionScores) if f.name != "n")
MEAN_METRICS = tuple(name for name in METRICS if not name.startswith("bleu"))  # per-item means


@dataclass(frozen=True)
class CaptionItems:
    """Per-pair statistics from which every corpus metric is a sum or a mean over rows.

    `matches` / `ngrams` (N, 4): nltk's clipped n-gram matches and its n-gram count (at least 1)
    for orders 1-4; `hypothesis_length` / `reference_length` (N,): wordpieces; `per_item` maps
    rouge1, rouge2, rougeL and meteor to an (N,) array.
    """

    matches: np.ndarray
    ngrams: np.ndarray
    hypothesis_length: np.ndarray
    reference_length: np.ndarray
    per_item: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.hypothesis_length)

    def scores(self, rows: np.ndarray | None = None) -> CaptionScores:
        """The six metrics over `rows` (indices, repeats allowed; default: every pair)."""
        rows = np.arange(len(self)) if rows is None else rows
        matches, ngrams = self.matches[rows].sum(axis=0), self.ngrams[rows].sum(axis=0)
        hypothesis, reference = (
            int(self.hypothesis_length[rows].sum()),
            int(self.reference_length[rows].sum()),
        )
        means = {name: float(self.per_item[name][rows].mean()) for name in MEAN_METRICS}
        return CaptionScores(
            n=len(rows),
            bleu2=corpus_bleu_from_counts(matches, ngrams, hypothesis, reference, 2),
            bleu4=corpus_bleu_from_counts(matches, ngrams, hypothesis, reference, 4),
            **means,
        )


def corpus_bleu_from_counts(
    matches: np.ndarray, ngrams: np.ndarray, hypothesis: int, reference: int, order: int
) -> float:
    """nltk's `corpus_bleu` with uniform weights and no smoothing, from summed counts.

    As nltk: 0 when no unigram matches; an order with no match counts as the smallest
    float (its `method0`); brevity penalty exp(1 - r/c) when the hypotheses are shorter.
    """
    if matches[0] == 0:
        return 0.0
    log_precision = 0.0
    for n in range(order):
        precision = matches[n] / ngrams[n] if matches[n] else sys.float_info.min
        log_precision += math.log(precision) / order
    if hypothesis > reference:
        brevity = 1.0
    elif hypothesis == 0:
        brevity = 0.0
    else:
        brevity = math.exp(1 - reference / hypothesis)
    return float(brevity * math.exp(log_precision))


def wordpieces(tokenizer, text: str) -> list[str]:
    """SciBERT wordpieces of one text, as the protocol counts them."""
    encoding = tokenizer(text, add_special_tokens=False, truncation=True, max_length=MAX_WORDPIECES)
    return [token for token in encoding.tokens() if token not in DROPPED_TOKENS]


def score_items(
    references: Sequence[str],
    predictions: Sequence[str],
    vocab: str,
    progress: bool = True,
) -> CaptionItems:
    """Score each generated text against its ground truth (same order, same length)."""
    if len(references) != len(predictions):
        raise ValueError(
            f"{len(references)} references but {len(predictions)} predictions; they must pair up"
        )
    if not references:
        raise ValueError("no (reference, prediction) pairs to score")
    from nltk.translate.bleu_score import modified_precision
    from nltk.translate.meteor_score import meteor_score
    from rouge_score import rouge_scorer

    require_wordnet()
    tokenizer = load_scibert_tokenizer(vocab)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)

    n = len(references)
    matches = np.zeros((n, BLEU_ORDERS), dtype=np.int64)
    ngrams = np.zeros((n, BLEU_ORDERS), dtype=np.int64)
    hypothesis_length = np.zeros(n, dtype=np.int64)
    reference_length = np.zeros(n, dtype=np.int64)
    per_item = {name: np.zeros(n) for name in MEAN_METRICS}
    pairs = zip(references, predictions, strict=True)
    for row, (reference, prediction) in enumerate(
        tqdm(pairs, total=n, desc="caption metrics", disable=not progress)
    ):
        ref_tokens = wordpieces(tokenizer, reference)
        pred_tokens = wordpieces(tokenizer, prediction)
        for order in range(1, BLEU_ORDERS + 1):
            precision = modified_precision([ref_tokens], pred_tokens, order)
            matches[row, order - 1] = precision.numerator
            ngrams[row, order - 1] = precision.denominator
        hypothesis_length[row], reference_length[row] = len(pred_tokens), len(ref_tokens)
        per_item["meteor"][row] = meteor_score([ref_tokens], pred_tokens)
        # rouge_score's F-measure is symmetric, the argument order (target, prediction) kept anyway.
        rouge = scorer.score(reference, prediction)
        for key in ("rouge1", "rouge2", "rougeL"):
            per_item[key][row] = rouge[key].fmeasure
    return CaptionItems(matches, ngrams, hypothesis_length, reference_length, per_item)


def score_captions(
    references: Sequence[str],
    predictions: Sequence[str],
    vocab: str,
    progress: bool = True,
) -> CaptionScores:
    """The six corpus metrics of generated texts against their ground truths."""
    return score_items(references, predictions, vocab, progress).scores()
