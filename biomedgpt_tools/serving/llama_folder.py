"""The plain Llama folder vLLM loads, derived from a BioMedGPT folder without copying weights.

vLLM wants a Hugging Face LM folder: a Llama config.json and safetensors shards. A BioMedGPT
folder (`save_pretrained` / `biomedgpt convert`) already holds the LM's tensors, under `llm.`,
in its shards. So the derived folder is small: the LM's config (the folder's `text_config`)
naming BioMedGPTLlamaForCausalLM (vllm_llama.py, which strips `llm.` and passes over the
encoders' tensors), and symlinks to the folder's shards and index. Nothing of the 13.5 GB LM
is written twice; deriving again is instant, so the folder is rebuilt on every start and
always matches the weights it points at. The official `.pth` is a pickle vLLM cannot read:
`biomedgpt serve --official` writes the LM once per weights revision instead (write_llama_folder).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from biomedgpt_tools.environment import biomedgpt_home

from .vllm_plugin import VLLM_ARCHITECTURE

DERIVED_DIRNAME = "vllm-lm"
COMPLETE_MARKER = ".complete"  # written last into a folder written whole
# Files of the BioMedGPT folder the LM folder links to (the tokenizer is for people and
# vLLM's optional checks; the engine is fed embeddings and decodes no text).
_LINKED_FILES = (
    "tokenizer.model",
    "tokenizer_config.json",
    "tokenizer.json",
    "special_tokens_map.json",
)


def derived_llama_root() -> Path:
    """$BIOMEDGPT_HOME/vllm-lm, else the platform's user data folder (small files only)."""
    return biomedgpt_home() / DERIVED_DIRNAME


def llama_config(model_dir: Path) -> dict:
    """The LM part of a BioMedGPT config.json, as a Llama config that vLLM loads."""
    config_file = model_dir / "config.json"
    if not config_file.is_file():
        raise ValueError(
            f"{model_dir} has no config.json; convert the official checkpoint first (biomedgpt convert)"
        )
    config = json.loads(config_file.read_text())
    if config.get("model_type") != "biomedgpt" or not isinstance(config.get("text_config"), dict):
        raise ValueError(
            f"{config_file} is not a BioMedGPT config (model_type 'biomedgpt' with a text_config)"
        )
    text = dict(config["text_config"])
    text["model_type"] = "llama"
    text["architectures"] = [VLLM_ARCHITECTURE]
    text.setdefault("dtype", config.get("dtype") or config.get("torch_dtype") or "float32")
    return text


def derive_llama_folder(model_dir: str | Path, out_dir: str | Path | None = None) -> Path:
    """Write (or refresh) the LM folder for `model_dir`; returns it.

    Default place: one folder per BioMedGPT folder under `derived_llama_root()`, named after
    it and a hash of its resolved path, so two models never share one and servers of one
    model do.
    """
    model_dir = Path(model_dir).expanduser().resolve()
    config = llama_config(model_dir)
    shards = sorted(model_dir.glob("*.safetensors"))
    if not shards:
        raise ValueError(
            f"{model_dir} has no safetensors shards; vLLM reads safetensors only (biomedgpt convert writes them)"
        )
    if out_dir is None:
        key = hashlib.blake2b(str(model_dir).encode(), digest_size=6).hexdigest()
        out_dir = derived_llama_root() / f"{model_dir.name}-{key}"
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _replace_text(out_dir / "config.json", json.dumps(config, indent=2, sort_keys=True) + "\n")
    linked = [*shards, model_dir / "model.safetensors.index.json"]
    linked += [model_dir / name for name in _LINKED_FILES]
    wanted = {path.name for path in linked if path.is_file()}
    for stale in out_dir.iterdir():  # shards of an earlier save with another sharding
        if stale.is_symlink() and stale.name not in wanted:
            stale.unlink()
    for path in linked:
        if path.is_file():
            _replace_symlink(out_dir / path.name, path)
    return out_dir


def _replace_text(path: Path, text: str) -> None:
    """Atomic, so a second server starting on the same model never reads half a file."""
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(text)
    os.replace(partial, path)


def _replace_symlink(link: Path, target: Path) -> None:
    partial = link.with_name(f".{link.name}.{os.getpid()}")
    partial.unlink(missing_ok=True)
    partial.symlink_to(target)
    os.replace(partial, link)


def write_llama_folder(biomedgpt, root: str | Path | None = None) -> Path:
    """The LM of a loaded model (e.g. from the official .pth) as a Llama folder, written once.

    Keyed by model id and weights revision: a second start on the same weights reuses the
    folder, other weights get their own. vLLM loads it with its own Llama class (plain names).
    """
    import shutil

    root = Path(root) if root is not None else derived_llama_root()
    folder = root / f"{biomedgpt.model_id}-{biomedgpt.revision}"
    if (folder / COMPLETE_MARKER).is_file():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    partial = root / f".{folder.name}.{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    biomedgpt.model.llm.save_pretrained(str(partial), safe_serialization=True)
    (partial / COMPLETE_MARKER).write_text("")  # last: a folder without it was cut short
    if folder.exists() and not (folder / COMPLETE_MARKER).is_file():
        shutil.rmtree(folder, ignore_errors=True)  # left by an interrupted or older writer
    try:
        os.replace(partial, folder)  # whole or not at all
    except OSError:  # another server wrote it meanwhile
        shutil.rmtree(partial, ignore_errors=True)
    return folder
