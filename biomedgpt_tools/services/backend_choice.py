"""The model backend the settings ask for: in process, a `biomedgpt serve` server, or none."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from biomedgpt_tools.inference.backend import ModelBackend, NoModelBackend
from biomedgpt_tools.services.settings import ToolkitSettings

if TYPE_CHECKING:
    from biomedgpt_tools.model.api import BioMedGPT


def build_backend(settings: ToolkitSettings, model: BioMedGPT | None = None) -> ModelBackend:
    """The backend the settings ask for; `model` (a loaded BioMedGPT) skips loading from disk.

    Nothing is loaded here: an in-process backend loads its weights on the first question.
    """
    if model is not None:
        from biomedgpt_tools.inference.in_process import InProcessBackend

        return InProcessBackend(model=model)
    if settings.backend_kind == "none":
        return NoModelBackend()
    if settings.backend_kind == "remote":
        if not settings.server_url:
            raise ValueError(
                'backend "remote" needs a server: set BIOMEDGPT_SERVER_URL or pass server_url='
            )
        from biomedgpt_tools.inference.remote import RemoteBackend

        return RemoteBackend(settings.server_url, concurrency=settings.server_concurrency)
    if settings.model_path is None:
        raise ValueError(
            'backend "in-process" needs a model folder: set BIOMEDGPT_MODEL or pass model_path='
        )
    from biomedgpt_tools.inference.in_process import InProcessBackend

    return InProcessBackend(model_path=Path(settings.model_path), device=settings.device)
