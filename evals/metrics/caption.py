"""BLEU-2/4, ROUGE-1/2/L and METEOR exactly as the MolT5 protocol computes them.

Both texts are tokenized with SciBERT WordPiece (truncated to 512 wordpieces, [PAD], [CLS]
and [SEP] dropped). BLEU is nltk's unsmoothed corpus BLEU with the ground truth as the
single reference; METEOR is the mean of nltk's sentence METEOR (needs WordNet 3.0); ROUGE
is the mean F-measure of rouge_score on the raw strings, without stemming.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from tqdm import tqdm

from evals.metrics.scibert_tokenizer import load_scibert_tokenizer
from evals.metrics.wordnet_check import require_wordnet

MAX_WORDPIECES = 512
DROPPED_TOKENS = frozenset({"[PAD]", "[CLS]", "[SEP]"})


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


def wordpieces(tokenizer, text: str) -> list[str]:
    """SciBERT wordpieces of one text, as the protocol counts them."""
    encoding = tokenizer(text, add_special_tokens=False, truncation=True, max_length=MAX_WORDPIECES)
    return [token for token in encoding.tokens() if token not in DROPPED_TOKENS]


def score_captions(
    references: Sequence[str],
    predictions: Sequence[str],
    vocab: str,
    progress: bool = True,
) -> CaptionScores:
    """Score generated texts against their ground truths (same order, same length)."""
    if len(references) != len(predictions):
        raise ValueError(
            f"{len(references)} references but {len(predictions)} predictions; they must pair up"
        )
    if not references:
        raise ValueError("no (reference, prediction) pairs to score")
    from nltk.translate.bleu_score import corpus_bleu
    from nltk.translate.meteor_score import meteor_score
    from rouge_score import rouge_scorer

    require_wordnet()
    tokenizer = load_scibert_tokenizer(vocab)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)

    reference_tokens, prediction_tokens = [], []
    meteor_total = 0.0
    rouge_totals = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    pairs = zip(references, predictions, strict=True)
    for reference, prediction in tqdm(
        pairs, total=len(references), desc="caption metrics", disable=not progress
    ):
        ref_tokens = wordpieces(tokenizer, reference)
        pred_tokens = wordpieces(tokenizer, prediction)
        reference_tokens.append([ref_tokens])
        prediction_tokens.append(pred_tokens)
        meteor_total += meteor_score([ref_tokens], pred_tokens)
        # rouge_score's F-measure is symmetric, the argument order (target, prediction) kept anyway.
        rouge = scorer.score(reference, prediction)
        for key in rouge_totals:
            rouge_totals[key] += rouge[key].fmeasure

    n = len(references)
    return CaptionScores(
        n=n,
        bleu2=float(corpus_bleu(reference_tokens, prediction_tokens, weights=(0.5, 0.5))),
        bleu4=float(corpus_bleu(reference_tokens, prediction_tokens, weights=(0.25,) * 4)),
        rouge1=rouge_totals["rouge1"] / n,
        rouge2=rouge_totals["rouge2"] / n,
        rougeL=rouge_totals["rougeL"] / n,
        meteor=meteor_total / n,
    )
