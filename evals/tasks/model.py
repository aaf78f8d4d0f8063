"""What a task needs from a model, and the adapter that gives it from BioMedGPT.

Runners only call `generate` (answers to requests, batched) and
`option_log_likelihoods`; anything with these two methods can be evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

from evals.tasks.option_likelihood import option_log_likelihoods


class TaskModel(Protocol):
    name: str  # recorded in run.json: a run directory belongs to one model

    def generate(self, requests: Sequence, max_new_tokens: int) -> list[str]: ...

    def option_log_likelihoods(
        self, requests: Sequence, options: Sequence[Sequence[str]], batch_size: int
    ) -> list[list[float]]: ...


class BioMedGPTTaskModel:
    """A `biomedgpt_tools.model.api.BioMedGPT` seen as a TaskModel (greedy decoding)."""

    def __init__(self, biomedgpt, batch_size: int = 8):
        self.biomedgpt = biomedgpt
        self.batch_size = batch_size
        # The weights' fingerprint, so a run directory is never resumed with other weights.
        self.name = f"{biomedgpt.model_id}@{biomedgpt.revision}"

    def generate(self, requests: Sequence, max_new_tokens: int) -> list[str]:
        """Greedy answers; identical requests are generated once (greedy decoding is
        deterministic), which makes a run without inputs (every prompt the same) cheap."""
        keys = [(self.biomedgpt.prompt(r), tuple(r.inputs)) for r in requests]
        unique = list(dict.fromkeys(keys))
        first = {key: requests[keys.index(key)] for key in unique}
        results = self.biomedgpt.generate(
            [first[key] for key in unique],
            batch_size=self.batch_size,
            max_new_tokens=max_new_tokens,
        )
        text = {key: result.text for key, result in zip(unique, results, strict=True)}
        return [text[key] for key in keys]

    def option_log_likelihoods(
        self, requests: Sequence, options: Sequence[Sequence[str]], batch_size: int
    ) -> list[list[float]]:
        tokenizer = self.biomedgpt.text_tokenizer
        return option_log_likelihoods(
            self.biomedgpt.model,
            self.biomedgpt.segments,
            int(self.biomedgpt.model.config.text_config.pad_token_id),
            int(tokenizer.eos_token_id),
            [request.conversation() for request in requests],
            options,
            batch_size=batch_size,
        )


class RemoteTaskModel:
    """A `biomedgpt serve` server seen as a TaskModel: requests sent concurrently, greedy.

    Its name is the in-process one (`model_id@revision` from the server), so a run directory
    made through the server and one made in process with the same weights are the same run.
    """

    def __init__(self, server_url: str, concurrency: int = 8):
        from biomedgpt_tools.inference.remote import RemoteBackend

        self.backend = RemoteBackend(server_url, concurrency=concurrency)
        identity = self.backend.identity()
        self.name = f"{identity.model_id}@{identity.revision}"

    def generate(self, requests: Sequence, max_new_tokens: int) -> list[str]:
        questions = [replace(request, max_new_tokens=max_new_tokens) for request in requests]
        return [answer.text for answer in self.backend.answer(questions)]

    def option_log_likelihoods(
        self, requests: Sequence, options: Sequence[Sequence[str]], batch_size: int
    ) -> list[list[float]]:
        raise ValueError(
            "--scoring loglik needs the model's logits, which the server does not return; use "
            "--scoring generate with --server, or --model DIR"
        )


def load_task_model(model_dir: str, batch_size: int = 8, dtype: str | None = None,
                    device: str | None = None) -> BioMedGPTTaskModel:  # fmt: skip
    """BioMedGPT.from_pretrained(model_dir) wrapped for the runners."""
    from biomedgpt_tools.model.api import BioMedGPT

    return BioMedGPTTaskModel(
        BioMedGPT.from_pretrained(model_dir, dtype=dtype, device=device), batch_size=batch_size
    )
