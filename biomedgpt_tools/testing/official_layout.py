"""Write a model in the layout of the released BioMedGPT-10B files, for tests and benchmarks.

`write_official_checkpoint` writes the flat `biomedgpt_10b.pth` (4.31-era keys, LM and ESM
fp16, GIN and projections fp32), a BioMedGPT-LM-7B-style folder (4.31 config.json without
`[PAD]`, tokenizer.model) and an ESM-2-style folder (config.json, vocab.txt), so that the
strict loader in model/official_checkpoint.py, `biomedgpt convert` and `--official` can be
exercised on a tiny model, or a setup checked without the 20 GB download.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch

from biomedgpt_tools.model.official_checkpoint import (
    ESM_LAYER_INV_FREQ,
    ESM_POSITION_EMBEDDINGS,
    ESM_SHARED_INV_FREQ,
    LLAMA_LAYER_INV_FREQ,
    esm_inv_freq_key,
    esm_rotary_frequencies,
    llama_inv_freq_key,
    llama_rotary_frequencies,
)
from biomedgpt_tools.model.protein_sequence import write_esm_vocab
from biomedgpt_tools.model.tiny import train_tiny_sentencepiece


def official_state_dict(model) -> dict[str, torch.Tensor]:
    """`model`'s weights in the layout of biomedgpt_10b.pth: the 4.31-era keys included,
    LM and ESM tensors fp16, GIN and projections fp32 (as in the released file).

    A meta-device model gives meta tensors (real rotary buffers): the real-size layout
    can be checked without memory."""
    config = model.config
    esm_layers = int(config.protein_config.num_hidden_layers)
    llm_layers = int(config.text_config.num_hidden_layers)
    esm_inv_freq = _buffer_or(
        model.prot_structure_encoder.rotary_embeddings.inv_freq, esm_rotary_frequencies(config)
    )
    llm_inv_freq = _buffer_or(model.llm.model.rotary_emb.inv_freq, llama_rotary_frequencies(config))
    protein = config.protein_config
    generator = torch.Generator().manual_seed(0)
    position_embeddings = 0.02 * torch.randn(
        protein.max_position_embeddings, protein.hidden_size, generator=generator
    )
    position_embeddings[protein.pad_token_id] = 0  # padding_idx row, as nn.Embedding leaves it

    written: dict[str, torch.Tensor] = {}
    for key, tensor in model.state_dict().items():
        if key == ESM_SHARED_INV_FREQ:
            continue
        tensor = tensor.detach() if tensor.is_meta else tensor.detach().to("cpu").clone()
        if tensor.is_floating_point():
            half = key.startswith(("llm.", "prot_structure_encoder."))
            tensor = tensor.to(torch.float16 if half else torch.float32)
        if key == "prot_structure_encoder.encoder.layer.0.attention.self.query.weight":
            written[ESM_POSITION_EMBEDDINGS] = position_embeddings.to(torch.float16)
        written[key] = tensor
        if match := re.match(
            r"^prot_structure_encoder\.encoder\.layer\.(\d+)\.attention\.self\.value\.bias$", key
        ):
            written[esm_inv_freq_key(int(match.group(1)))] = esm_inv_freq.clone()
        if match := re.match(r"^llm\.model\.layers\.(\d+)\.self_attn\.o_proj\.weight$", key):
            written[llama_inv_freq_key(int(match.group(1)))] = llm_inv_freq.clone()
    per_layer = sum(
        1 for key in written if ESM_LAYER_INV_FREQ.match(key) or LLAMA_LAYER_INV_FREQ.match(key)
    )
    if per_layer != esm_layers + llm_layers:  # a layout change in the model would break the copy
        raise RuntimeError(
            f"wrote {per_layer} per-layer rotary buffers for {esm_layers} + {llm_layers} layers"
        )
    return written


def _buffer_or(buffer: torch.Tensor, computed: torch.Tensor | None) -> torch.Tensor:
    """A rotary buffer as fp16 (as the file stores it); from the config on a meta-device model."""
    if buffer.is_meta:
        if computed is None:
            raise ValueError(
                "a meta-device model with a non-default rope type has no rotary values to write"
            )
        return computed.to(torch.float16)
    return buffer.detach().to("cpu", torch.float16)


def write_official_checkpoint(
    model,
    path: str | Path,
    llm_dir: str | Path,
    esm_dir: str | Path,
    tokenizer_model: str | Path | None = None,
) -> Path:
    """Write `model` as the official release is laid out: the .pth, the LM folder and the ESM folder.

    The LM folder gets a 4.31-style Llama config.json whose vocabulary does not count
    `[PAD]` (as BioMedGPT-LM-7B's) and `tokenizer.model`: `tokenizer_model` if given, the
    one already in `llm_dir` if any, else the tiny tokenizer (for tiny models). The ESM
    folder gets config.json and vocab.txt. Use it to test a setup without the 20 GB file.
    """
    path, llm_dir, esm_dir = Path(path), Path(llm_dir), Path(esm_dir)
    for folder in (path.parent, llm_dir, esm_dir):
        folder.mkdir(parents=True, exist_ok=True)

    spm_file = llm_dir / "tokenizer.model"
    if tokenizer_model is not None:
        spm_file.write_bytes(Path(tokenizer_model).read_bytes())
    elif not spm_file.is_file():
        spm_file.write_bytes(train_tiny_sentencepiece())
    pieces = _sentencepiece_size(spm_file)
    vocab_size = int(model.config.text_config.vocab_size)
    if pieces + 1 != vocab_size:
        raise ValueError(
            f"{spm_file} has {pieces} pieces but the model's vocabulary is {vocab_size} (pieces + [PAD] "
            f"expected); pass the tokenizer the model was built for"
        )

    text = model.config.text_config
    rope = getattr(text, "rope_parameters", None) or {}
    llm_config = {
        "architectures": ["LlamaForCausalLM"],
        "bos_token_id": int(text.bos_token_id),
        "eos_token_id": int(text.eos_token_id),
        "hidden_act": text.hidden_act,
        "hidden_size": int(text.hidden_size),
        "initializer_range": float(text.initializer_range),
        "intermediate_size": int(text.intermediate_size),
        "max_position_embeddings": int(text.max_position_embeddings),
        "model_type": "llama",
        "num_attention_heads": int(text.num_attention_heads),
        "num_hidden_layers": int(text.num_hidden_layers),
        "num_key_value_heads": int(text.num_key_value_heads),
        "pad_token_id": 0,
        "pretraining_tp": 1,
        "rms_norm_eps": float(text.rms_norm_eps),
        "rope_scaling": None,
        "rope_theta": float(rope.get("rope_theta", 10000.0)),
        "tie_word_embeddings": False,
        "torch_dtype": "float16",
        "transformers_version": "4.31.0",
        "use_cache": True,
        "vocab_size": vocab_size - 1,  # without [PAD]
    }
    (llm_dir / "config.json").write_text(json.dumps(llm_config, indent=2) + "\n", encoding="utf-8")

    protein = model.config.protein_config.to_dict()
    for key in ("dtype", "torch_dtype", "transformers_version", "_name_or_path"):
        protein.pop(key, None)
    protein |= {"architectures": ["EsmForMaskedLM"], "model_type": "esm", "torch_dtype": "float32"}
    (esm_dir / "config.json").write_text(
        json.dumps(protein, indent=2, default=str) + "\n", encoding="utf-8"
    )
    write_esm_vocab(esm_dir)

    torch.save(official_state_dict(model), path)
    return path


def _sentencepiece_size(spm_file: Path) -> int:
    import sentencepiece

    return sentencepiece.SentencePieceProcessor(model_file=str(spm_file)).get_piece_size()
