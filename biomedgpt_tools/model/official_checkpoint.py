"""Strict loading of the official `biomedgpt_10b.pth` (plus the BioMedGPT-LM-7B and ESM-2 folders).

The released file is one flat state dict saved with transformers 4.31 (see
../shared/reference/biomedgpt-10b.md). Current transformers modules differ from it in a
few documented, version-dependent keys, and only those are reconciled here:

- `llm.model.layers.{i}.self_attn.rotary_emb.inv_freq`: a persistent buffer in 4.31, gone
  now (Llama recomputes it). Dropped after checking it equals the LM config's rotary
  frequencies (fp16 tolerance).
- `prot_structure_encoder.embeddings.position_embeddings.weight`: created but unused by
  4.31's rotary ESM, absent now. Dropped.
- `prot_structure_encoder.encoder.layer.{i}.attention.self.rotary_embeddings.inv_freq`:
  one copy per layer in 4.31, one shared `prot_structure_encoder.rotary_embeddings.inv_freq`
  now. The copies must agree with each other and with the ESM config; the file's values
  are kept (as transformers' own remapping does: they may be fp16-rounded, as in training).
- `prot_structure_encoder.embeddings.position_ids`: absent from the file and non-persistent
  now; accepted and dropped if a re-saved file has it.

Every other difference (a missing or unexpected key, a shape that disagrees with the
configs) is an error that names the keys. The file is read with
`torch.load(weights_only=True, mmap=True)`: no pickle code runs and tensors are paged in
lazily. The model is never materialised with random weights: transformers builds it on
the meta device and fills it from the state dict, directly in the target dtype and device.

Dtype and device are chosen as for every load (placement.py): one dtype for the whole
model, by default fp32 on CPU (the GIN and projections are fp32 in the file) and fp16 on
CUDA (the LM and ESM are fp16 in the file, the authors ran in fp16; about 20 GB).

Writing a file in this layout (for tests, or to check a setup without the 20 GB download)
is `biomedgpt_tools.testing.official_layout`.
"""

from __future__ import annotations

import json
import pickle
import re
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch

from .configuration_biomedgpt import BioMedGPTConfig, MoleculeEncoderConfig
from .modeling_biomedgpt import BioMedGPTForConditionalGeneration
from .placement import choose_placement

TOP_LEVEL_MODULES = (
    "mol_structure_encoder",
    "prot_structure_encoder",
    "llm",
    "proj_mol",
    "proj_prot",
)
_WRAPPER_KEYS = ("state_dict", "model", "module", "model_state_dict", "params", "weights")

# The version-dependent keys of the 4.31-era file (see the module docstring).
LLAMA_LAYER_INV_FREQ = re.compile(r"^llm\.model\.layers\.(\d+)\.self_attn\.rotary_emb\.inv_freq$")
ESM_LAYER_INV_FREQ = re.compile(
    r"^prot_structure_encoder\.encoder\.layer\.(\d+)\.attention\.self\.rotary_embeddings\.inv_freq$"
)
ESM_SHARED_INV_FREQ = "prot_structure_encoder.rotary_embeddings.inv_freq"
ESM_POSITION_EMBEDDINGS = "prot_structure_encoder.embeddings.position_embeddings.weight"
ESM_POSITION_IDS = "prot_structure_encoder.embeddings.position_ids"

_LISTED_KEYS = 5  # keys named in an error before "and N more"
_INV_FREQ_RTOL = 2e-3  # fp16 rounding of the stored frequencies is ~5e-4 relative


class OfficialCheckpointError(ValueError):
    """The .pth or its side folders do not match BioMedGPT-10B; the message names what and why."""


# ---------------------------------------------------------------------------------------------
# Reading the file


def load_official_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The flat `{key: tensor}` dict of the official .pth, memory-mapped (nothing copied yet).

    Safe: `weights_only=True` refuses pickled code. Raises `OfficialCheckpointError` for a
    missing file, a file torch cannot read this way, a wrapper dict (`{"model": {...}}`),
    or anything that is not a flat dict of tensors.
    """
    path = Path(path)
    if not path.exists():
        raise OfficialCheckpointError(
            f"checkpoint {path} does not exist; give the path of biomedgpt_10b.pth"
        )
    if not path.is_file():
        raise OfficialCheckpointError(
            f"checkpoint {path} is not a file; give the path of biomedgpt_10b.pth"
        )
    if not zipfile.is_zipfile(path):
        raise OfficialCheckpointError(
            f"{path} is not a torch checkpoint in the zip format torch.save writes (legacy or "
            f"foreign format, or a truncated download); re-download biomedgpt_10b.pth"
        )
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except pickle.UnpicklingError as error:
        raise OfficialCheckpointError(
            f"{path} holds objects other than tensors, which are not loaded for safety "
            f"(weights_only=True): {_first_line(error)}"
        ) from error
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile) as error:
        raise OfficialCheckpointError(
            f"cannot read {path} as a torch checkpoint: {_first_line(error)}"
        ) from error

    if not isinstance(loaded, Mapping):
        raise OfficialCheckpointError(
            f"{path} holds a {type(loaded).__name__}, not a state dict; give the official biomedgpt_10b.pth"
        )
    for key in _WRAPPER_KEYS:
        if key in loaded and isinstance(loaded[key], Mapping):
            raise OfficialCheckpointError(
                f"{path} wraps its weights under the key {key!r} (a training checkpoint?); the official "
                f"file is a flat state dict. Save checkpoint[{key!r}] on its own with torch.save, or use "
                f"the released biomedgpt_10b.pth"
            )
    not_tensors = [str(key) for key, value in loaded.items() if not isinstance(value, torch.Tensor)]
    if not_tensors:
        raise OfficialCheckpointError(
            f"{path} is not a flat dict of tensors: {_list_keys(not_tensors)} "
            f"{'is' if len(not_tensors) == 1 else 'are'} not tensors"
        )
    if all(str(key).startswith("module.") for key in loaded):
        raise OfficialCheckpointError(
            f"every key of {path} starts with 'module.' (saved from a DistributedDataParallel wrapper); "
            f"strip that prefix or use the released biomedgpt_10b.pth"
        )
    return dict(loaded)


# ---------------------------------------------------------------------------------------------
# Configuration from the side folders and the tensors


def official_config(
    state_dict: Mapping[str, torch.Tensor], llm_dir: str | Path, esm_dir: str | Path
) -> BioMedGPTConfig:
    """BioMedGPTConfig for the file: LM config.json (vocabulary from the embedding rows),
    ESM config.json, and the GIN depth and width read from the tensors."""
    from transformers import EsmConfig, LlamaConfig

    text = _read_config_json(Path(llm_dir), "llama", "the BioMedGPT-LM-7B folder (--llm-dir)")
    protein = _read_config_json(
        Path(esm_dir), "esm", "the ESM-2 3B folder, facebook/esm2_t36_3B_UR50D (--esm-dir)"
    )

    embed_key = "llm.model.embed_tokens.weight"
    if embed_key not in state_dict:
        raise OfficialCheckpointError(
            f"the checkpoint has no {embed_key}; it is not a BioMedGPT-10B state dict "
            f"(its keys start with {_list_keys(sorted({key.split('.')[0] for key in state_dict}))})"
        )
    # The file's LM vocabulary includes the added [PAD] (32001 rows); its config.json does not.
    vocab_size = int(state_dict[embed_key].shape[0])
    text["vocab_size"] = vocab_size
    text["pad_token_id"] = vocab_size - 1
    for key in ("architectures", "_name_or_path", "torch_dtype", "dtype", "transformers_version"):
        text.pop(key, None)
        protein.pop(key, None)

    gnn_layers = {
        int(match.group(1))
        for key in state_dict
        if (match := re.match(r"^mol_structure_encoder\.gnns\.(\d+)\.", key))
    }
    atom_table = state_dict.get("mol_structure_encoder.x_embedding1.weight")
    if atom_table is None or not gnn_layers:
        raise OfficialCheckpointError(
            "the checkpoint has no molecule encoder (mol_structure_encoder.x_embedding1.weight and "
            "mol_structure_encoder.gnns.*); it is not a BioMedGPT-10B state dict"
        )
    molecule = MoleculeEncoderConfig(
        num_layers=max(gnn_layers) + 1, hidden_size=int(atom_table.shape[1])
    )
    return BioMedGPTConfig(
        text_config=LlamaConfig(**text),
        protein_config=EsmConfig(**protein),
        molecule_config=molecule,
    )


def _read_config_json(folder: Path, model_type: str, what: str) -> dict:
    config_file = folder / "config.json"
    if not folder.is_dir():
        raise OfficialCheckpointError(f"{folder} is not a folder; give {what}")
    if not config_file.is_file():
        raise OfficialCheckpointError(f"no config.json in {folder}; give {what}")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise OfficialCheckpointError(f"{config_file} is not valid JSON: {error}") from error
    if not isinstance(config, dict):
        raise OfficialCheckpointError(f"{config_file} is not a JSON object; give {what}")
    found = config.get("model_type")
    if found != model_type:
        raise OfficialCheckpointError(
            f"{config_file} has model_type {found!r}, expected {model_type!r}; give {what}"
        )
    return config


# ---------------------------------------------------------------------------------------------
# Reconciling the keys


def expected_state_dict_shapes(config: BioMedGPTConfig) -> dict[str, torch.Size]:
    """Key -> shape of the current model's state dict, from a meta-device build (no memory)."""
    with torch.device("meta"):
        model = BioMedGPTForConditionalGeneration(config)
    return {key: tensor.shape for key, tensor in model.state_dict().items()}


def translate_official_state_dict(
    state_dict: Mapping[str, torch.Tensor],
    config: BioMedGPTConfig,
    expected: Mapping[str, torch.Size] | None = None,
    source: str = "the checkpoint",
) -> dict[str, torch.Tensor]:
    """The official keys made into the current model's keys, or `OfficialCheckpointError`.

    Drops / maps only the documented version-dependent keys (module docstring); then the
    key sets must be equal and every shape must match.
    """
    expected = expected_state_dict_shapes(config) if expected is None else expected
    translated = dict(state_dict)

    llm_layers = int(config.text_config.num_hidden_layers)
    llama_inv_freq = [  # keys of layers the config does not have stay, to be reported as unexpected
        key
        for key in translated
        if LLAMA_LAYER_INV_FREQ.match(key) and _layer_number(key) < llm_layers
    ]
    if llama_inv_freq and llama_inv_freq[0] not in expected:
        _require_every_layer(llama_inv_freq, llm_layers, llama_inv_freq_key, "LM", source)
        reference = llama_rotary_frequencies(config)
        for key in llama_inv_freq:
            _check_inv_freq(key, translated.pop(key), reference, "the LM config.json (--llm-dir)")

    esm_layers = int(config.protein_config.num_hidden_layers)
    esm_inv_freq = sorted(
        (
            key
            for key in translated
            if ESM_LAYER_INV_FREQ.match(key) and _layer_number(key) < esm_layers
        ),
        key=_layer_number,
    )
    if esm_inv_freq and esm_inv_freq[0] not in expected and ESM_SHARED_INV_FREQ in expected:
        _require_every_layer(esm_inv_freq, esm_layers, esm_inv_freq_key, "ESM", source)
        shared = translated[esm_inv_freq[0]]
        reference = esm_rotary_frequencies(config)
        for key in esm_inv_freq:
            value = translated.pop(key)
            if value.shape != shared.shape or not torch.equal(value.float(), shared.float()):
                raise OfficialCheckpointError(
                    f"{key} differs from {esm_inv_freq[0]}: the per-layer ESM rotary frequencies of "
                    f"{source} must agree to be mapped to the shared {ESM_SHARED_INV_FREQ}"
                )
            _check_inv_freq(key, value, reference, "the ESM config.json (--esm-dir)")
        if ESM_SHARED_INV_FREQ in translated:
            raise OfficialCheckpointError(
                f"{source} has both per-layer ESM rotary frequencies and {ESM_SHARED_INV_FREQ}; "
                f"it mixes two transformers versions' layouts"
            )
        # fp32 like the module's own buffer; the values are the file's (fp16-rounded as trained).
        translated[ESM_SHARED_INV_FREQ] = shared.float()

    if ESM_POSITION_EMBEDDINGS in translated and ESM_POSITION_EMBEDDINGS not in expected:
        translated.pop(ESM_POSITION_EMBEDDINGS)  # unused by rotary ESM
    if ESM_POSITION_IDS in translated and ESM_POSITION_IDS not in expected:
        position_ids = translated.pop(ESM_POSITION_IDS)
        if not torch.equal(position_ids.reshape(-1).long(), torch.arange(position_ids.numel())):
            raise OfficialCheckpointError(
                f"{ESM_POSITION_IDS} in {source} is not 0, 1, 2, ...; the file is damaged"
            )

    missing = sorted(set(expected) - set(translated))
    unexpected = sorted(set(translated) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing key(s): {_list_keys(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s): {_list_keys(unexpected)}")
        raise OfficialCheckpointError(
            f"{source} does not match BioMedGPT-10B: {'; '.join(parts)}. Only the documented "
            f"version-dependent keys are dropped (docs/model.md); check that the file is the released "
            f"biomedgpt_10b.pth and is not damaged"
        )
    mismatched = [
        f"{key} {tuple(translated[key].shape)} in the file, {tuple(shape)} from the configs"
        for key, shape in expected.items()
        if translated[key].shape != shape
    ]
    if mismatched:
        raise OfficialCheckpointError(
            f"{len(mismatched)} tensor shape(s) of {source} disagree with the configs in --llm-dir / "
            f"--esm-dir: {_list_keys(mismatched)}. Use the BioMedGPT-LM-7B and ESM-2 3B config.json "
            f"files that belong to this checkpoint"
        )
    return translated


def llama_rotary_frequencies(config: BioMedGPTConfig) -> torch.Tensor | None:
    """The LM's rotary inverse frequencies from its config (None for non-default rope types)."""
    text = config.text_config
    parameters = getattr(text, "rope_parameters", None) or {}
    if parameters.get("rope_type", "default") != "default":
        return None
    theta = float(parameters.get("rope_theta", getattr(text, "rope_theta", 10000.0)))
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // text.num_attention_heads
    return 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)


def esm_rotary_frequencies(config: BioMedGPTConfig) -> torch.Tensor:
    protein = config.protein_config
    theta = float(getattr(protein, "rope_theta", None) or 10000.0)
    head_dim = protein.hidden_size // protein.num_attention_heads
    return 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)


def _check_inv_freq(
    key: str, value: torch.Tensor, reference: torch.Tensor | None, origin: str
) -> None:
    if reference is None:
        return
    if value.shape != reference.shape or not torch.allclose(
        value.double(), reference, rtol=_INV_FREQ_RTOL, atol=0.0
    ):
        raise OfficialCheckpointError(
            f"{key} does not match the rotary frequencies computed from {origin} (rope_theta, head "
            f"size); use the config.json that belongs to this checkpoint"
        )


def _layer_number(key: str) -> int:
    return int(re.search(r"\.(\d+)\.", key).group(1))


def _require_every_layer(keys: list[str], layers: int, key_of, part: str, source: str) -> None:
    """The 4.31 file has one rotary buffer per layer: some but not all means a damaged file."""
    found = {_layer_number(key) for key in keys}
    absent = [key_of(layer) for layer in range(layers) if layer not in found]
    if absent:
        raise OfficialCheckpointError(
            f"{source} has the per-layer {part} rotary frequencies of only {len(found)} of {layers} "
            f"layers; {len(absent)} missing key(s): {_list_keys(absent)}"
        )


def llama_inv_freq_key(layer: int) -> str:
    return f"llm.model.layers.{layer}.self_attn.rotary_emb.inv_freq"


def esm_inv_freq_key(layer: int) -> str:
    return f"prot_structure_encoder.encoder.layer.{layer}.attention.self.rotary_embeddings.inv_freq"


def _list_keys(keys: Iterable[str]) -> str:
    keys = list(keys)
    listed = ", ".join(keys[:_LISTED_KEYS])
    return listed + (f" (and {len(keys) - _LISTED_KEYS} more)" if len(keys) > _LISTED_KEYS else "")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# ---------------------------------------------------------------------------------------------
# Building the model


def check_official_files(checkpoint: str | Path, llm_dir: str | Path, esm_dir: str | Path) -> None:
    """The released files are where they were said to be (cheap: for a command to fail before
    it validates its requests and loads; `load_official_model` checks the same as it reads)."""
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise OfficialCheckpointError(
            f"checkpoint {checkpoint} does not exist; give the path of biomedgpt_10b.pth"
        )
    for flag, folder in (("--llm-dir", Path(llm_dir)), ("--esm-dir", Path(esm_dir))):
        if not folder.is_dir():
            raise OfficialCheckpointError(f"{flag} {folder} is not a folder")


def load_official_model(
    checkpoint: str | Path,
    *,
    llm_dir: str | Path,
    esm_dir: str | Path,
    dtype: torch.dtype | str | None = None,
    device: str | torch.device | None = None,
    device_map: str | dict | None = None,
) -> BioMedGPTForConditionalGeneration:
    """`BioMedGPTForConditionalGeneration` (eval mode) from the official .pth and side folders.

    `device`, `dtype` and `device_map` are decided by `placement.choose_placement` (None:
    this process's GPU in fp16, else the CPU in fp32), as for every other load.
    """
    placement = choose_placement(device=device, dtype=dtype, device_map=device_map)

    checkpoint = Path(checkpoint)
    state_dict = load_official_state_dict(checkpoint)
    config = official_config(state_dict, llm_dir, esm_dir)
    translated = translate_official_state_dict(state_dict, config, source=str(checkpoint))
    del state_dict
    model, info = BioMedGPTForConditionalGeneration.from_pretrained(
        None,
        config=config,
        state_dict=translated,
        dtype=placement.dtype,
        device_map=placement.device_map,
        output_loading_info=True,
    )
    leftovers = {name: sorted(keys) for name, keys in info.items() if keys and name != "error_msgs"}
    if leftovers or info.get("error_msgs"):
        raise OfficialCheckpointError(
            f"transformers did not load {checkpoint} cleanly: {leftovers or info['error_msgs']}"
        )
    # With device_map="auto", accelerate may offload modules (their tensors stay on meta).
    still_meta = [name for name, tensor in model.state_dict().items() if tensor.is_meta]
    if placement.on_one_device and still_meta:
        raise OfficialCheckpointError(
            f"tensors left without weights after loading {checkpoint}: {_list_keys(still_meta)}"
        )
    return model.eval()
