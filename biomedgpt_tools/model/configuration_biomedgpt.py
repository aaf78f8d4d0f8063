"""Configuration of BioMedGPT-10B: a Llama LM, an ESM-2 protein encoder, a GIN molecule encoder.

`BioMedGPTConfig` follows the transformers composite-config convention (as LLaVA does):
one sub-config per part, serialised together in one config.json. Presets:

- `real`:  the released BioMedGPT-10B sizes (Llama-2-7B with 32001 tokens, ESM-2 3B, GIN 5x300).
- `small`: hidden 256, 4 layers in each part; used by the generation benchmark.
- `tiny`:  builds in well under 2 s on a CPU; used by every test.

`text_vocab_size` is the LM vocabulary *including* the added `[PAD]` token (32001 for the
real model); the pad id is the last id, as in the released checkpoint.
"""

from __future__ import annotations

from typing import Literal

from transformers import EsmConfig, LlamaConfig, PreTrainedConfig

PresetName = Literal["real", "small", "tiny"]

# The ESM-2 vocabulary (33 tokens); pad is 1, mask is 32 (facebook/esm2_t36_3B_UR50D).
ESM_VOCAB_SIZE = 33
ESM_PAD_TOKEN_ID = 1
ESM_MASK_TOKEN_ID = 32
# <cls> + at most 1022 residues + <eos>, as the reference's EsmTokenizer(max_length=1024).
ESM_MAX_POSITIONS = 1026


class MoleculeEncoderConfig(PreTrainedConfig):
    """The GraphMVP-pretrained GIN of BioMedGPT-10B (pretrain-gnns layout, "JK last").

    The embedding table sizes decide what the checkpoint's rows mean; they are fixed by
    the featurization in `molecule_graph.py` (119 atom types + 1 mask row, 3 chirality
    tags, 6 bond types incl. self loop and mask, 3 bond directions).
    """

    model_type = "biomedgpt_molecule_encoder"

    num_layers: int = 5
    hidden_size: int = 300
    num_atom_types: int = 120
    num_chirality_tags: int = 3
    num_bond_types: int = 6
    num_bond_directions: int = 3
    batch_norm_eps: float = 1e-5


class BioMedGPTConfig(PreTrainedConfig):
    """Composite config: `text_config` (Llama), `protein_config` (ESM), `molecule_config` (GIN)."""

    model_type = "biomedgpt"
    sub_configs_defaults = {
        "text_config": LlamaConfig,
        "protein_config": EsmConfig,
        "molecule_config": MoleculeEncoderConfig,
    }

    text_config: dict | PreTrainedConfig | None = None
    protein_config: dict | PreTrainedConfig | None = None
    molecule_config: dict | PreTrainedConfig | None = None
    tie_word_embeddings: bool = False

    def __post_init__(self, **kwargs):
        if not _TRANSFORMERS_BUILDS_PARTS:
            # transformers < 5.20 (the vLLM environment, whose vLLM pins it) ignores
            # sub_configs_defaults and would leave the parts of a read config.json as dicts.
            for key, part_class in self.sub_configs_defaults.items():
                part = getattr(self, key)
                if part is None or isinstance(part, dict):
                    setattr(self, key, part_class(**(part or {})))
        super().__post_init__(**kwargs)

    @property
    def llm_hidden_size(self) -> int:
        return int(self.text_config.hidden_size)

    @classmethod
    def from_preset(cls, name: PresetName, text_vocab_size: int | None = None) -> BioMedGPTConfig:
        """A config for one of the presets; `text_vocab_size` overrides the LM vocabulary.

        The tiny and small presets are meant to be used with the tiny tokenizer
        (`tiny.py`); pass `text_vocab_size=len(tokenizer)` when you have one.
        """
        builders = {"real": _real_parts, "small": _small_parts, "tiny": _tiny_parts}
        if name not in builders:
            raise ValueError(f"unknown BioMedGPT preset {name!r}; choose one of {sorted(builders)}")
        text, protein, molecule = builders[name]()
        if text_vocab_size is not None:
            text["vocab_size"] = int(text_vocab_size)
        text["pad_token_id"] = text["vocab_size"] - 1
        return cls(
            text_config=LlamaConfig(**text),
            protein_config=EsmConfig(**protein),
            molecule_config=MoleculeEncoderConfig(**molecule),
        )


# transformers 5.20+ builds the parts from `sub_configs_defaults`; older 5.x reads `sub_configs`.
_TRANSFORMERS_BUILDS_PARTS = hasattr(PreTrainedConfig, "sub_configs_defaults")
if not _TRANSFORMERS_BUILDS_PARTS:
    BioMedGPTConfig.sub_configs = dict(BioMedGPTConfig.sub_configs_defaults)


def _text_common() -> dict:
    return {
        "bos_token_id": 1,
        "eos_token_id": 2,
        "hidden_act": "silu",
        "rms_norm_eps": 1e-6,
        "tie_word_embeddings": False,
        "attention_bias": False,
    }


def _protein_common() -> dict:
    # ESM-2 traits the checkpoint depends on: rotary positions, token dropout scaling,
    # no layer norm before the encoder, pad 1 and mask 32.
    return {
        "vocab_size": ESM_VOCAB_SIZE,
        "pad_token_id": ESM_PAD_TOKEN_ID,
        "mask_token_id": ESM_MASK_TOKEN_ID,
        "position_embedding_type": "rotary",
        "token_dropout": True,
        "emb_layer_norm_before": False,
        "layer_norm_eps": 1e-5,
        "max_position_embeddings": ESM_MAX_POSITIONS,
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "is_folding_model": False,
    }


def _real_parts() -> tuple[dict, dict, dict]:
    text = _text_common() | {
        "vocab_size": 32001,
        "hidden_size": 4096,
        "intermediate_size": 11008,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 32,
        "max_position_embeddings": 4096,
    }
    protein = _protein_common() | {
        "hidden_size": 2560,
        "num_hidden_layers": 36,
        "num_attention_heads": 40,
        "intermediate_size": 10240,
    }
    return text, protein, {"num_layers": 5, "hidden_size": 300}


def _small_parts() -> tuple[dict, dict, dict]:
    text = _text_common() | {
        "initializer_range": 0.2,  # as in tiny: random outputs that depend on the input
        "vocab_size": 32001,
        "hidden_size": 256,
        "intermediate_size": 688,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
        "max_position_embeddings": 2048,
    }
    protein = _protein_common() | {
        "initializer_range": 0.2,
        "hidden_size": 256,
        "num_hidden_layers": 4,
        "num_attention_heads": 4,
        "intermediate_size": 1024,
    }
    return text, protein, {"num_layers": 4, "hidden_size": 256}


def _tiny_parts() -> tuple[dict, dict, dict]:
    text = _text_common() | {
        "vocab_size": 32001,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 4,
        # Room for a full 1022-residue protein (+ cls/eos) and a prompt, as in the real model.
        "max_position_embeddings": 2048,
        # Larger random weights than the real 0.02 so that a tiny random model's output
        # visibly depends on its soft tokens (tests compare outputs across inputs).
        "initializer_range": 0.2,
    }
    protein = _protein_common() | {
        "initializer_range": 0.2,
        "hidden_size": 16,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 32,
    }
    return text, protein, {"num_layers": 2, "hidden_size": 12}
