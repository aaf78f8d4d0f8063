"""An offline BioMedGPTToolkit for the memory and assistant evaluations.

Both runs must be repeatable anywhere: resolvers answer from the bundled snapshot (offline,
never the network), the annotation store and resolver cache live in a home folder the run
owns (a fresh temporary one by default), and the model is a folder given by the user, a tiny
model built on the fly, or none. Settings are passed explicitly, so the caller's environment
(BIOMEDGPT_HOME, BIOMEDGPT_MODEL, ...) is neither read for these nor changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def save_tiny_model(root: str | Path, seed: int = 0) -> Path:
    """A tiny BioMedGPT saved under `root` as a model folder (its name is the model id)."""
    from biomedgpt_tools.model.tiny import build_tiny_biomedgpt

    root = Path(root)
    folder = root / f"biomedgpt-tiny-seed{seed}"
    if not (folder / "config.json").is_file():
        build_tiny_biomedgpt(root / f"tiny-assets-seed{seed}", seed=seed).save_pretrained(folder)
    return folder


def check_model_folder(model_dir: str | Path | None) -> Path | None:
    """The folder as a Path, or a ValueError naming the flag and what a model folder holds."""
    if model_dir is None:
        return None
    folder = Path(model_dir)
    if not (folder / "config.json").is_file():
        raise ValueError(
            f"--model {model_dir}: no config.json there; pass a folder written by "
            "BioMedGPT.save_pretrained (or leave --model out)"
        )
    return folder


def open_offline_toolkit(
    home: str | Path,
    model_dir: str | Path | None,
    *,
    max_new_tokens: int = 32,
    embedder: Any = None,
    store: Any = None,
):
    """(toolkit, store): snapshot resolvers, the embedded store under `home`, the model folder.

    Pass `store` to share one open store between toolkits (the embedded store admits one
    writer per folder); otherwise one is opened under `home/annotations` with `embedder`
    (None: the store's default MiniLM). The caller closes the toolkit, then the store.
    """
    from biomedgpt_tools.resolvers.settings import ResolverSettings
    from biomedgpt_tools.services.settings import ToolkitSettings
    from biomedgpt_tools.store.store import AnnotationStore
    from biomedgpt_tools.tools.toolkit import BioMedGPTToolkit

    home = Path(home)
    resolver = ResolverSettings.from_env().with_changes(
        offline=True, use_snapshot=True, cache_dir=home / "resolver-cache"
    )
    settings = ToolkitSettings(
        model_path=Path(model_dir) if model_dir is not None else None,
        home=home,
        memory=True,
        max_new_tokens=max_new_tokens,
        protein_vectors=False,  # similarity vectors are not what these evaluations measure
        resolver=resolver,
    )
    if store is None:
        store = AnnotationStore.open(home / "annotations", embedder=embedder)
    toolkit = BioMedGPTToolkit(settings=settings, store=store)
    return toolkit, store
