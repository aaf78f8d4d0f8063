"""Does a model use its molecule? Answer loss with each record's own molecule vs another's.

The records keep their answers; only the attached molecules are rotated by one, so the
two losses differ exactly by what the soft tokens tell the LM about *this* molecule. A model
that learned only the captions' prior (through a constant soft prompt) scores the same on
both; the gap is the per-token information the graph adds. Forward passes only.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import torch

from training.data.qa_records import QARecord, read_qa_records
from training.objectives import count_targets, summed_next_token_loss


def answer_loss(model_dir: Path, records: list[QARecord], batch_size: int = 8) -> float:
    """Mean cross-entropy per answer token (answer + `</s>`), as the training stages compute it."""
    from biomedgpt_tools.model.api import BioMedGPT
    from training.stages.multimodal import QAData

    loaded = BioMedGPT.from_pretrained(model_dir, dtype="fp32", device="cpu")
    data = QAData([], loaded.text_tokenizer, max_length=1 << 20)
    data.records = records
    total, targets = 0.0, 0
    for start in range(0, len(records), batch_size):
        batch = data.collate(list(range(start, min(len(records), start + batch_size))))
        inputs = batch.model_inputs()
        labels = inputs.pop("labels")
        with torch.no_grad():
            logits = loaded.model(**inputs, use_cache=False).logits  # (B, T, V)
        total += float(summed_next_token_loss(logits, labels))
        targets += count_targets(labels)
    return total / targets


def molecule_swap(model_dir: Path, records_path: Path, count: int = 128, seed: int = 0) -> dict:
    """{"own": loss, "other": loss, "gap": other - own} on `count` sampled records."""
    records = list(read_qa_records(records_path))
    chosen = random.Random(seed).sample(records, min(count, len(records)))
    rotated = [dataclasses.replace(r, molecules=chosen[(i + 1) % len(chosen)].molecules)
               for i, r in enumerate(chosen)]  # fmt: skip
    own, other = answer_loss(model_dir, chosen), answer_loss(model_dir, rotated)
    return {
        "records": len(chosen),
        "own": round(own, 4),
        "other": round(other, 4),
        "gap": round(other - own, 4),
    }
