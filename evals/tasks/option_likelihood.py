"""Log-likelihood scoring of closed-question options: no text generation, no extraction.

Each option is scored as the summed log-probability of its tokens when it is the
Assistant's answer to the question (the way the training loss sees answers: SentencePiece
dummy prefix, no BOS); the end-of-sequence token is not counted, so an option is not
penalised for what might follow it. The highest-scoring option is the prediction; ties go
to the option listed first.
"""

from __future__ import annotations

from collections.abc import Sequence

from tqdm import tqdm


def option_log_likelihoods(
    model,
    segment_encoder,
    pad_token_id: int,
    eos_token_id: int,
    conversations: Sequence,
    options: Sequence[Sequence[str]],
    batch_size: int = 8,
    progress: bool = False,
) -> list[list[float]]:
    """Summed log-prob of every option of every conversation, same nesting as `options`."""
    import torch

    from biomedgpt_tools.model.modeling_biomedgpt import IGNORE_INDEX, build_multimodal_batch

    if len(conversations) != len(options):
        raise ValueError(f"{len(conversations)} conversations but {len(options)} option lists")
    rows = [(c, text) for c, texts in zip(conversations, options, strict=True) for text in texts]
    for _, text in rows:
        if not text.strip():
            raise ValueError("an option is empty; every option needs text to score")
    device = next(model.parameters()).device
    scores: list[float] = []
    starts = range(0, len(rows), batch_size)
    for start in tqdm(starts, desc="option log-likelihoods", disable=not progress):
        chunk = rows[start : start + batch_size]
        batch = build_multimodal_batch(
            [conversation for conversation, _ in chunk],
            segment_encoder,
            pad_token_id,
            answers=[text for _, text in chunk],
            eos_token_id=eos_token_id,
        ).to(device)
        labels = batch.labels.clone()  # (B, T), answers end at the last column (left padding)
        labels[:, -1] = IGNORE_INDEX  # leave the eos out of the score
        inputs = batch.model_inputs()
        inputs["labels"] = None
        with torch.no_grad():
            logits = model(**inputs).logits  # (B, T, V)
        targets = labels[:, 1:]  # (B, T-1): token t is predicted at position t-1
        answer_mask = targets != IGNORE_INDEX  # (B, T-1)
        answer_logits = logits[:, :-1][answer_mask].float()  # (N, V) answer positions only
        token_log_probs = (
            torch.log_softmax(answer_logits, dim=-1)
            .gather(-1, targets[answer_mask].unsqueeze(-1))
            .squeeze(-1)
        )  # (N,)
        row_of_token = answer_mask.nonzero()[:, 0]  # (N,)
        per_row = torch.zeros(len(chunk), dtype=torch.float64, device=token_log_probs.device)
        per_row.index_add_(0, row_of_token, token_log_probs.double())
        scores.extend(per_row.tolist())
    nested, position = [], 0
    for texts in options:
        nested.append(scores[position : position + len(texts)])
        position += len(texts)
    return nested


def best_option(labels: Sequence[str], log_likelihoods: Sequence[float]) -> str:
    """The label with the highest score; the first such label on ties."""
    best = max(range(len(labels)), key=lambda i: (log_likelihoods[i], -i))
    return labels[best]
