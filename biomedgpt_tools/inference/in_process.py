"""The in-process backend: one BioMedGPT in this process, loaded on first use, shared by all tools.

Loading is guarded by a lock so concurrent first calls load the weights once. Generation is
serialised by a second lock: the tools call it from worker threads (their async path), and one
model answering one batch at a time keeps memory bounded. A failed load is remembered and
reported as ModelUnavailableError (with the cause) instead of being retried on every call.
`answer_streaming` passes the answer's text on as the model generates it: `BioMedGPT.stream`
already gives deltas of the answer the tools store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from biomedgpt_tools.inference.backend import ModelBackend, ModelUnavailableError, TextSink
from biomedgpt_tools.model.requests import GenerationRequest, GenerationResult, ModelIdentity


class InProcessBackend(ModelBackend):
    """A `BioMedGPT` (model/api.py) held in this process."""

    kind = "in-process"

    def __init__(
        self,
        *,
        model: Any = None,
        model_path: Path | None = None,
        device: str | None = None,
        dtype: str | None = None,
    ):
        if model is None and model_path is None:
            raise ValueError("InProcessBackend needs model= (a loaded BioMedGPT) or model_path=")
        self._model = model
        self.model_path = Path(model_path) if model_path is not None else None
        self.device = device
        self.dtype = dtype
        self._load_lock = threading.Lock()
        self._generate_lock = threading.Lock()
        self._load_error: str | None = None
        self._answer_calls = 0
        self.load_seconds: float | None = None

    @property
    def configured(self) -> bool:
        return True

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def loading(self) -> bool:
        """Whether the weights are being loaded right now (for progress reports)."""
        return self._model is None and self._load_lock.locked()

    @property
    def model_name(self) -> str | None:
        if self._model is not None:
            return self._model.model_id
        return self.model_path.name if self.model_path is not None else None

    @property
    def answer_calls(self) -> int:
        return self._answer_calls

    def model(self):
        """The BioMedGPT, loading it on the first call (thread-safe, at most once)."""
        if self._model is not None:
            return self._model
        with self._load_lock:
            if self._model is None:
                if self._load_error is not None:
                    raise ModelUnavailableError(self._load_error)
                started = time.perf_counter()
                try:
                    from biomedgpt_tools.model.api import BioMedGPT

                    self._model = BioMedGPT.from_pretrained(
                        self.model_path, device=self.device, dtype=self.dtype
                    )
                except (OSError, ValueError, ImportError, RuntimeError) as error:
                    self._load_error = (
                        f"the BioMedGPT model in {self.model_path} could not be loaded "
                        f"({type(error).__name__}: {error}); check BIOMEDGPT_MODEL"
                    )
                    raise ModelUnavailableError(self._load_error) from error
                self.load_seconds = time.perf_counter() - started
        return self._model

    def identity(self) -> ModelIdentity:
        """Who answers; read from the folder when it records its revision, so a memory hit
        needs no model load."""
        if self._model is None and self.model_path is not None:
            from biomedgpt_tools.model.api import saved_revision

            revision = saved_revision(self.model_path)
            if revision is not None:
                return ModelIdentity(model_id=self.model_path.name, revision=revision)
        model = self.model()
        return ModelIdentity(model_id=model.model_id, revision=model.revision)

    def answer(self, questions: Sequence[GenerationRequest]) -> list[GenerationResult]:
        if not questions:
            return []
        model = self.model()
        identity = self.identity()
        with self._generate_lock:
            started = time.perf_counter()
            results = model.generate(list(questions))  # each request carries its own limit
            seconds = time.perf_counter() - started
            self._answer_calls += len(questions)
        return [replace(result, identity=identity, seconds=seconds) for result in results]

    def answer_streaming(self, question: GenerationRequest, sink: TextSink) -> GenerationResult:
        """One answer, generated token by token; its text goes to `sink` as it grows."""
        model = self.model()
        identity = self.identity()
        with self._generate_lock:
            started = time.perf_counter()
            streamed = model.stream(question)
            try:
                for delta in streamed:
                    sink(delta)
            except BaseException:
                # a failing sink (e.g. a cancelled MCP call) stops decoding now; close() returns
                # once the model is free, so nothing generates outside the lock
                streamed.close()
                raise
            seconds = time.perf_counter() - started
            self._answer_calls += 1
        return replace(streamed.result, identity=identity, seconds=seconds)

    def stream(self, question: GenerationRequest) -> Iterator[str]:
        model = self.model()
        with self._generate_lock:
            self._answer_calls += 1
            streamed = model.stream(question)
            try:
                yield from streamed
            finally:  # a reader that stops early must not leave the model generating
                streamed.close()

    def encode_protein(self, sequence: str) -> list[float] | None:
        model = self.model()
        with self._generate_lock:
            return [float(value) for value in model.encode_protein(sequence)]
