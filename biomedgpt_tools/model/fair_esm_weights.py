"""ESM-2 weights from fair-esm's checkpoint format, renamed for transformers' `EsmModel`.

fair-esm (``esm.pretrained.esm2_t36_3B_UR50D()``) keeps its downloads in the torch hub
cache, ``<torch hub dir>/checkpoints/esm2_<...>.pt``, with the contact-regression weights
next to it in ``esm2_<...>-contact-regression.pt``. Each file is a dict:

- ``"model"``: the state dict, keys prefixed ``encoder.sentence_encoder.`` (body) or
  ``encoder.`` (LM head), the way fairseq saved them; in the regression file just
  ``contact_head.regression.{weight,bias}``;
- ``"cfg"``: ``{"model": argparse.Namespace(encoder_layers=..., encoder_embed_dim=...,
  encoder_attention_heads=..., token_dropout=..., ...)}`` (ESM-1 files have ``"args"``).

BioMedGPT-10B's protein encoder is an `EsmModel`; reading this format lets alignment start
from a fresh ESM-2 without the Hugging Face hub. Files are read with
``torch.load(weights_only=True)``: the only non-tensor class allowed is
``argparse.Namespace`` (plain attributes, no code). Anything else is refused.

Name mapping (fair-esm -> `EsmModel`), per layer ``i``::

    embed_tokens                         -> embeddings.word_embeddings
    layers.i.self_attn.{q,k,v}_proj      -> encoder.layer.i.attention.self.{query,key,value}
    layers.i.self_attn.out_proj          -> encoder.layer.i.attention.output.dense
    layers.i.self_attn_layer_norm        -> encoder.layer.i.attention.LayerNorm
    layers.i.fc1 / fc2                   -> encoder.layer.i.intermediate.dense / output.dense
    layers.i.final_layer_norm            -> encoder.layer.i.LayerNorm
    emb_layer_norm_after                 -> encoder.emb_layer_norm_after
    layers.i.self_attn.rot_emb.inv_freq  -> rotary_embeddings.inv_freq (shared; all equal)
    contact_head.regression              -> contact_head.regression
    lm_head.*                            -> not used (EsmModel has no LM head)

`EsmModel`'s pooler has no fair-esm counterpart and keeps its initial values (as with
``EsmModel.from_pretrained("facebook/esm2_...")``); BioMedGPT-10B never uses it.
"""

from __future__ import annotations

import argparse
import pickle
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from biomedgpt_tools.model.protein_sequence import (
    ESM_MAX_RESIDUES,
    ESM_VOCAB,
    MASK_TOKEN_ID,
    PAD_TOKEN_ID,
)

# Non-tensor classes the format needs; the weights-only unpickler refuses everything else.
SAFE_CHECKPOINT_CLASSES = (argparse.Namespace,)

_FAIRSEQ_PREFIX = re.compile(r"^(encoder\.sentence_encoder\.|encoder\.)")
_LAYER_KEY = re.compile(r"^layers\.(\d+)\.(.+)$")
_LAYER_RENAMES = {
    "self_attn.q_proj.": "attention.self.query.",
    "self_attn.k_proj.": "attention.self.key.",
    "self_attn.v_proj.": "attention.self.value.",
    "self_attn.out_proj.": "attention.output.dense.",
    "self_attn_layer_norm.": "attention.LayerNorm.",
    "fc1.": "intermediate.dense.",
    "fc2.": "output.dense.",
    "final_layer_norm.": "LayerNorm.",
}
_TOP_RENAMES = {
    "embed_tokens.weight": "embeddings.word_embeddings.weight",
    "emb_layer_norm_after.weight": "encoder.emb_layer_norm_after.weight",
    "emb_layer_norm_after.bias": "encoder.emb_layer_norm_after.bias",
    "contact_head.regression.weight": "contact_head.regression.weight",
    "contact_head.regression.bias": "contact_head.regression.bias",
}
_ROTARY_SUFFIX = "self_attn.rot_emb.inv_freq"
_ROTARY_TARGET = "rotary_embeddings.inv_freq"
_LM_HEAD_PREFIX = "lm_head."
_NOT_IN_FAIR_ESM = ("pooler.",)  # EsmModel parameters fair-esm never had


class FairEsmCheckpointError(ValueError):
    """A file that is not a readable ESM-2 checkpoint in fair-esm's format."""


@dataclass
class FairEsmWeights:
    """An ESM-2 checkpoint converted for transformers: config + `EsmModel` state dict."""

    config: Any  # transformers.EsmConfig
    state_dict: dict[str, torch.Tensor]  # EsmModel parameter names
    source: Path
    unused_keys: list[str] = field(default_factory=list)  # fair-esm keys EsmModel lacks (LM head)

    def load_into(self, model) -> list[str]:
        """Copy the weights into an `EsmModel` (e.g. BioMedGPT's ``prot_structure_encoder``).

        Strict except for parameters fair-esm cannot provide (the pooler; the contact head
        when no regression file was found): those keep their values and are returned.
        Any other missing, unexpected or mis-shaped key raises, naming the key.
        """
        expected = model.state_dict()
        state_dict = dict(self.state_dict)
        if _ROTARY_TARGET not in expected:  # a transformers version that does not save it
            state_dict.pop(_ROTARY_TARGET, None)
        problems = []
        for key, tensor in state_dict.items():
            if key not in expected:
                problems.append(f"unexpected key {key!r}")
            elif tuple(expected[key].shape) != tuple(tensor.shape):
                problems.append(
                    f"{key!r} has shape {tuple(tensor.shape)} in {self.source.name}, "
                    f"{tuple(expected[key].shape)} in the model"
                )
        not_provided = sorted(set(expected) - set(state_dict))
        allowed = _NOT_IN_FAIR_ESM + (() if self.has_contact_head else ("contact_head.",))
        missing = [key for key in not_provided if not key.startswith(allowed)]
        problems += [f"missing key {key!r}" for key in missing]
        if problems:
            raise FairEsmCheckpointError(
                f"ESM-2 weights from {self.source} do not fit this EsmModel "
                f"(hidden {model.config.hidden_size}, {model.config.num_hidden_layers} layers): "
                + "; ".join(problems[:10])
                + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
                + ". Build the model from FairEsmWeights.config."
            )
        model.load_state_dict(state_dict, strict=False)
        return not_provided

    @property
    def has_contact_head(self) -> bool:
        return "contact_head.regression.weight" in self.state_dict


def fair_esm_hub_checkpoint(model_name: str = "esm2_t36_3B_UR50D") -> Path:
    """Path of a fair-esm download in the torch hub cache, or a clear error if absent."""
    path = Path(torch.hub.get_dir()) / "checkpoints" / f"{model_name}.pt"
    if not path.is_file():
        raise FileNotFoundError(
            f"fair-esm checkpoint {model_name}.pt not found in the torch hub cache ({path.parent}). "
            f"Download it once with `python -c 'import esm; esm.pretrained.{model_name}()'` "
            f"(needs internet), or pass the path of the .pt file."
        )
    return path


def load_fair_esm_checkpoint(
    path: str | Path,
    *,
    contact_regression: str | Path | None = "auto",
    dtype: torch.dtype | None = None,
) -> FairEsmWeights:
    """Read a fair-esm ESM-2 ``.pt`` and return its `EsmConfig` and `EsmModel` state dict.

    ``contact_regression="auto"`` also reads ``<stem>-contact-regression.pt`` when it sits
    next to the checkpoint (fair-esm's layout); pass a path to choose one, or None to skip.
    ``dtype`` casts the weights (the file's own dtypes are kept by default); the rotary
    frequencies always keep the file's values, as transformers does for ESM checkpoints.
    Raises `FairEsmCheckpointError` naming the file and the problem if it is not ESM-2.
    """
    path = Path(path)
    data = _load_weights_only(path)
    if not isinstance(data, Mapping) or not isinstance(data.get("model"), Mapping):
        found = sorted(map(str, data)) if isinstance(data, Mapping) else type(data).__name__
        raise FairEsmCheckpointError(
            f"{path} is not a fair-esm checkpoint: expected a dict with 'model' (the state dict) "
            f"and 'cfg', found {found}"
        )
    model_cfg = _model_cfg(path, data)
    fair_state = {_FAIRSEQ_PREFIX.sub("", key): value for key, value in data["model"].items()}

    regression_path = _regression_path(path, contact_regression)
    if regression_path is not None:
        regression = _load_weights_only(regression_path)
        regression_state = regression.get("model") if isinstance(regression, Mapping) else None
        if not isinstance(regression_state, Mapping):
            raise FairEsmCheckpointError(
                f"{regression_path} is not a fair-esm contact-regression file (no 'model' dict)"
            )
        fair_state.update(regression_state)

    config = _esm_config(path, model_cfg, fair_state)
    state_dict, unused = _rename_for_esm_model(path, fair_state, config.num_hidden_layers)
    if dtype is not None:
        state_dict = {
            key: value.to(dtype) if value.is_floating_point() and key != _ROTARY_TARGET else value
            for key, value in state_dict.items()
        }
    return FairEsmWeights(config=config, state_dict=state_dict, source=path, unused_keys=unused)


def _load_weights_only(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"fair-esm checkpoint {path} does not exist")
    failures = (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError)
    with torch.serialization.safe_globals(list(SAFE_CHECKPOINT_CLASSES)):
        try:
            return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except failures as error:
            # Legacy (pre-zip) files cannot be memory-mapped: read those into memory below.
            if not (isinstance(error, RuntimeError) and "mmap can only be used" in str(error)):
                raise FairEsmCheckpointError(_unpickling_message(path, error)) from None
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except failures as error:
            raise FairEsmCheckpointError(_unpickling_message(path, error)) from None


def _unpickling_message(path: Path, error: Exception) -> str:
    text = str(error)
    match = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
    if match:
        return (
            f"{path} needs the class {match.group(1)} to be unpickled, which is not among the "
            f"classes allowed for fair-esm checkpoints "
            f"({', '.join(c.__module__ + '.' + c.__qualname__ for c in SAFE_CHECKPOINT_CLASSES)}); "
            f"refusing to run pickle code. Is this an ESM-2 checkpoint from fair-esm?"
        )
    # torch's message starts with advice to retry with weights_only=False; keep only the reason.
    reason = text.split("WeightsUnpickler error:", 1)[-1].strip()
    reason = reason.splitlines()[0].strip() if reason else type(error).__name__
    if reason.startswith("Weights only load failed"):
        reason = type(error).__name__
    return f"cannot read {path} as a torch checkpoint ({reason}); is it a fair-esm .pt file?"


def _model_cfg(path: Path, data: Mapping) -> Any:
    cfg = data.get("cfg")
    model_cfg = cfg.get("model") if isinstance(cfg, Mapping) else None
    if model_cfg is None:
        args = data.get("args")
        arch = _field(args, "arch")
        if arch is not None:
            raise FairEsmCheckpointError(
                f"{path} is a fair-esm checkpoint of architecture {arch!r} (ESM-1/ESM-1b/MSA), "
                f"not ESM-2; BioMedGPT-10B's protein encoder is ESM-2"
            )
        model_cfg = args
    if model_cfg is None:
        raise FairEsmCheckpointError(
            f"{path} has no model configuration (neither cfg['model'] nor args); "
            f"cannot tell the number of attention heads of this ESM-2"
        )
    return model_cfg


def _field(obj: Any, name: str) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _regression_path(path: Path, contact_regression: str | Path | None) -> Path | None:
    if contact_regression is None:
        return None
    if isinstance(contact_regression, str) and contact_regression == "auto":
        candidate = path.with_name(f"{path.stem}-contact-regression.pt")
        return candidate if candidate.is_file() else None
    return Path(contact_regression)


def _esm_config(path: Path, model_cfg: Any, fair_state: Mapping[str, torch.Tensor]):
    from transformers import EsmConfig

    values = {}
    for name in ("encoder_layers", "encoder_embed_dim", "encoder_attention_heads", "token_dropout"):
        values[name] = _field(model_cfg, name)
        if values[name] is None:
            raise FairEsmCheckpointError(
                f"{path} lacks the ESM-2 setting {name!r} in its configuration; "
                f"is it an ESM-2 checkpoint from fair-esm?"
            )
    if "embed_positions.weight" in fair_state or not any(
        key.endswith(_ROTARY_SUFFIX) for key in fair_state
    ):
        raise FairEsmCheckpointError(
            f"{path} has no rotary position embeddings (or has learned ones): it is not ESM-2"
        )
    embed = fair_state.get("embed_tokens.weight")
    if embed is None:
        raise FairEsmCheckpointError(
            f"{path} has no 'embed_tokens.weight': not an ESM-2 checkpoint"
        )
    vocab_size, hidden = embed.shape
    if vocab_size != len(ESM_VOCAB) or hidden != values["encoder_embed_dim"]:
        raise FairEsmCheckpointError(
            f"{path}: embed_tokens.weight has shape {tuple(embed.shape)}, expected "
            f"({len(ESM_VOCAB)}, {values['encoder_embed_dim']}) for ESM-2's vocabulary"
        )
    fc1 = fair_state.get("layers.0.fc1.weight")
    if fc1 is None:
        raise FairEsmCheckpointError(
            f"{path} has no 'layers.0.fc1.weight': not an ESM-2 checkpoint"
        )
    return EsmConfig(
        vocab_size=vocab_size,
        mask_token_id=MASK_TOKEN_ID,
        pad_token_id=PAD_TOKEN_ID,
        hidden_size=int(hidden),
        num_hidden_layers=int(values["encoder_layers"]),
        num_attention_heads=int(values["encoder_attention_heads"]),
        intermediate_size=int(fc1.shape[0]),
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        max_position_embeddings=ESM_MAX_RESIDUES + 4,  # 1026, as facebook/esm2_* configs
        position_embedding_type="rotary",
        layer_norm_eps=1e-5,  # torch.nn.LayerNorm's default, which fair-esm uses
        emb_layer_norm_before=False,
        token_dropout=bool(values["token_dropout"]),
        rope_theta=10000.0,
        architectures=["EsmModel"],
    )


def _rename_for_esm_model(
    path: Path, fair_state: Mapping[str, torch.Tensor], num_layers: int
) -> tuple[dict[str, torch.Tensor], list[str]]:
    state_dict: dict[str, torch.Tensor] = {}
    unused: list[str] = []
    unknown: list[str] = []
    inv_freqs: dict[int, torch.Tensor] = {}
    for key, value in fair_state.items():
        if key in _TOP_RENAMES:
            state_dict[_TOP_RENAMES[key]] = value
            continue
        if key.startswith(_LM_HEAD_PREFIX):
            unused.append(key)
            continue
        layer = _LAYER_KEY.match(key)
        if layer is None or int(layer.group(1)) >= num_layers:
            unknown.append(key)
            continue
        index, rest = int(layer.group(1)), layer.group(2)
        if rest == _ROTARY_SUFFIX:
            inv_freqs[index] = value
            continue
        for old, new in _LAYER_RENAMES.items():
            if rest.startswith(old):
                state_dict[f"encoder.layer.{index}.{new}{rest[len(old) :]}"] = value
                break
        else:
            unknown.append(key)
    if unknown:
        raise FairEsmCheckpointError(
            f"{path} has keys that ESM-2 does not have: {', '.join(sorted(unknown)[:10])}"
            + (f" (and {len(unknown) - 10} more)" if len(unknown) > 10 else "")
        )

    expected = _expected_fair_esm_keys(num_layers)
    missing = sorted(expected - set(fair_state))
    if missing:
        raise FairEsmCheckpointError(
            f"{path} is missing ESM-2 weights: {', '.join(missing[:10])}"
            + (f" (and {len(missing) - 10} more)" if len(missing) > 10 else "")
        )
    # Every layer of fair-esm keeps its own copy of the rotary frequencies; EsmModel shares one.
    first = inv_freqs[0]
    for index, inv_freq in inv_freqs.items():
        if inv_freq.shape != first.shape or not torch.equal(inv_freq, first):
            raise FairEsmCheckpointError(
                f"{path}: rotary frequencies of layer {index} differ from layer 0; "
                f"EsmModel shares one set across layers"
            )
    state_dict[_ROTARY_TARGET] = first
    return state_dict, sorted(unused)


def _expected_fair_esm_keys(num_layers: int) -> set[str]:
    keys = {"embed_tokens.weight", "emb_layer_norm_after.weight", "emb_layer_norm_after.bias"}
    for index in range(num_layers):
        keys.add(f"layers.{index}.{_ROTARY_SUFFIX}")
        for old in _LAYER_RENAMES:
            keys.add(f"layers.{index}.{old}weight")
            keys.add(f"layers.{index}.{old}bias")
    return keys
