"""Stage 3 (`finetune`): molecule QA on ChEBI-20 (LM frozen, 50 epochs, lr 7e-5, batch 24)
or biomedical QA on PubMedQA PQA-A + MedMCQA (LM trained, 3 epochs, lr 2e-5, batch 512).
Which parts train is the config's `model.trainable`; the batches and loss are align's.
"""

from __future__ import annotations

from training.stages.multimodal import build_stage, export_final_model

__all__ = ["build_stage", "export_final_model"]
