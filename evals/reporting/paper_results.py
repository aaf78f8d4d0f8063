"""BioMedGPT-10B's published numbers (Luo et al. 2023), the targets our runs are set beside."""

from __future__ import annotations

CAPTION_METRICS = ("bleu2", "bleu4", "rouge1", "rouge2", "rougeL", "meteor")
CAPTION_METRIC_NAMES = {
    "bleu2": "BLEU-2", "bleu4": "BLEU-4", "rouge1": "ROUGE-1",
    "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "meteor": "METEOR",
}  # fmt: skip

# Table 2: accuracy (%) on biomedical QA.
PAPER_QA_ACCURACY = {"medmcqa": 51.4, "pubmedqa": 76.1, "medqa": 50.4}
QA_TASK_NAMES = {"medmcqa": "MedMCQA", "pubmedqa": "PubMedQA", "medqa": "USMLE (MedQA)"}

# Table 3: ChEBI-20 molecule QA; Table 4: UniProtQA test.
PAPER_CAPTION_SCORES = {
    "chebi20": dict(zip(CAPTION_METRICS, (0.234, 0.141, 0.386, 0.206, 0.332, 0.308), strict=True)),
    "uniprotqa": dict(
        zip(CAPTION_METRICS, (0.571, 0.535, 0.743, 0.759, 0.622, 0.754), strict=True)
    ),
}
CAPTION_TABLES = {"chebi20": "Table 3: ChEBI-20 molecule QA", "uniprotqa": "Table 4: UniProtQA"}
