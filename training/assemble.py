"""`python -m training assemble`: a stage-2 starting folder from the released parts.

BioMedGPT-10B's stage 2 starts from three separately trained parts: the LM (stage 1's
output or BioMedGPT-LM-7B, a Hugging Face Llama folder), the GraphMVP GIN (a
pretrain-gnns state dict) and ESM-2 (a Hugging Face `EsmModel` folder or fair-esm's `.pt`).
This joins them with fresh projections into a `BioMedGPT.save_pretrained` folder, the
`model.path` that `align_paper.yaml` (and every align config) starts from.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from training.config import ConfigError

# The GIN of BioMedGPT-10B (GraphMVP): 5 layers of width 300.
PAPER_GIN_LAYERS = 5
PAPER_GIN_HIDDEN = 300
# How a fresh GIN's atom and bond embeddings start: the model's own init (normal, std 0.02),
# or Xavier-uniform as pretrain-gnns initialises them, which makes the soft tokens ~30x larger.
GIN_INITS = ("model", "xavier")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lm",
        required=True,
        type=Path,
        help="Hugging Face Llama folder with its tokenizer (stage 1's final_model, BioMedGPT-LM-7B)",
    )
    gin = parser.add_mutually_exclusive_group(required=True)
    gin.add_argument(
        "--gin",
        type=Path,
        help="pretrain-gnns / GraphMVP GIN state dict (.pth, read with weights_only)",
    )
    gin.add_argument("--fresh-gin", action="store_true", help="a randomly initialised GIN")
    parser.add_argument(
        "--gin-layers", type=int, default=PAPER_GIN_LAYERS, help="fresh GIN: layers (default 5)"
    )
    parser.add_argument(
        "--gin-hidden", type=int, default=PAPER_GIN_HIDDEN, help="fresh GIN: width (default 300)"
    )
    esm = parser.add_mutually_exclusive_group(required=True)
    esm.add_argument(
        "--esm", type=Path, help="Hugging Face EsmModel folder (config.json, weights, vocab.txt)"
    )
    esm.add_argument(
        "--fair-esm", type=Path, help="fair-esm ESM-2 checkpoint (.pt, e.g. esm2_t36_3B_UR50D.pt)"
    )
    esm.add_argument(
        "--fresh-esm",
        action="store_true",
        help="a tiny random ESM-2 (hidden 16, 2 layers): for molecule-only runs",
    )
    parser.add_argument(
        "--gin-init",
        choices=GIN_INITS,
        default="model",
        help="fresh GIN's atom/bond embeddings: 'model' (default: the model's normal init, std 0.02) or "
        "'xavier' (pretrain-gnns' init: soft tokens start near word-embedding scale)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the fresh weights")
    parser.add_argument(
        "--out",
        required=True,
        type=Path,
        help="the folder to write (BioMedGPT.save_pretrained layout)",
    )


@dataclass
class Parts:
    """Where each part comes from; `None` means freshly initialised."""

    lm: Path
    gin: Path | None = None
    gin_layers: int = PAPER_GIN_LAYERS
    gin_hidden: int = PAPER_GIN_HIDDEN
    esm: Path | None = None
    fair_esm: Path | None = None
    seed: int = 0
    gin_init: str = "model"  # a fresh GIN only: one of GIN_INITS


def load_gin_state(path: Path) -> dict[str, torch.Tensor]:
    """A GIN state dict from a `.pth` (bare, or under 'model' / 'state_dict'), tensors only."""
    if not path.is_file():
        raise ConfigError(f"--gin {path} does not exist")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # pickle errors, truncated files: one line, not a traceback
        raise ConfigError(
            f"--gin {path} is not a weights-only torch file ({type(error).__name__}); "
            "save the GIN's state dict alone: torch.save(gin.state_dict(), path)"
        ) from None
    for key in ("model", "state_dict"):
        if isinstance(data, dict) and isinstance(data.get(key), dict):
            data = data[key]
    if not isinstance(data, dict) or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise ConfigError(f"--gin {path}: expected a state dict of tensors")
    # GraphMVP saves the GIN alone; a whole-model dump may prefix it.
    for prefix in ("mol_structure_encoder.", "molecule_model.", "gnn.", "module."):
        if data and all(k.startswith(prefix) for k in data):
            data = {k.removeprefix(prefix): v for k, v in data.items()}
    return data


def gin_shape(state: dict[str, torch.Tensor], source: Path) -> tuple[int, int]:
    """(layers, width) read from the state dict's keys and the atom embedding."""
    if "x_embedding1.weight" not in state:
        raise ConfigError(
            f"--gin {source}: no 'x_embedding1.weight'; is it a pretrain-gnns GIN state dict?"
        )
    layers = {int(k.split(".")[1]) for k in state if k.startswith("gnns.")}
    if not layers:
        raise ConfigError(
            f"--gin {source}: no 'gnns.{{layer}}...' keys; is it a pretrain-gnns GIN state dict?"
        )
    return max(layers) + 1, int(state["x_embedding1.weight"].shape[1])


def load_gin_into(encoder: torch.nn.Module, state: dict[str, torch.Tensor], source: Path) -> None:
    """Strict: every key must exist with the right shape, and every parameter must be given."""
    expected = encoder.state_dict()
    for key, tensor in state.items():
        if key not in expected:
            raise ConfigError(
                f"--gin {source}: key {key!r} does not fit the GIN (its keys: "
                "x_embedding1/2, gnns.L.mlp.0/2, gnns.L.edge_embedding1/2, batch_norms.L)"
            )
        if tuple(expected[key].shape) != tuple(tensor.shape):
            raise ConfigError(
                f"--gin {source}: key {key!r} has shape {tuple(tensor.shape)}, "
                f"the GIN expects {tuple(expected[key].shape)}"
            )
    missing = sorted(
        set(expected) - set(state) - {k for k in expected if k.endswith("num_batches_tracked")}
    )
    if missing:
        raise ConfigError(
            f"--gin {source}: key {missing[0]!r} is missing ({len(missing)} missing in all)"
        )
    encoder.load_state_dict(state, strict=False)


def xavier_gin_embeddings(encoder: torch.nn.Module) -> None:
    """pretrain-gnns' init of the atom (`x_embedding1/2`) and bond (`edge_embedding1/2`) tables."""
    with torch.no_grad():
        for name, module in encoder.named_modules():
            if isinstance(module, torch.nn.Embedding) and name.rsplit(".", 1)[-1] in (
                    "x_embedding1", "x_embedding2", "edge_embedding1", "edge_embedding2"):  # fmt: skip
                torch.nn.init.xavier_uniform_(module.weight)


def _lm_and_tokenizer(folder: Path):
    from transformers import LlamaForCausalLM

    from biomedgpt_tools.model.prompt import load_text_tokenizer

    if not (folder / "config.json").is_file():
        raise ConfigError(f"--lm {folder} is not a Hugging Face LM folder (no config.json)")
    try:
        tokenizer = load_text_tokenizer(folder)
    except ValueError as error:
        raise ConfigError(f"--lm {folder}: {error}") from None
    llm = LlamaForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
    rows = llm.get_input_embeddings().weight.shape[0]
    if rows == len(tokenizer) - 1:  # BioMedGPT-LM-7B: 32000 rows; the model adds [PAD] (32001)
        llm.resize_token_embeddings(len(tokenizer), mean_resizing=False)
        with (
            torch.no_grad()
        ):  # the [PAD] row: the mean of the others (deterministic, never a target)
            for weight in (llm.get_input_embeddings().weight, llm.get_output_embeddings().weight):
                weight[-1] = weight[:-1].mean(dim=0)
    elif rows != len(tokenizer):
        raise ConfigError(
            f"--lm {folder}: the LM has {rows} token rows but its tokenizer "
            f"{len(tokenizer)} tokens (with [PAD]); give the tokenizer it was trained with"
        )
    llm.config.pad_token_id = tokenizer.pad_token_id
    return llm, tokenizer


def _esm_part(parts: Parts):
    """(EsmConfig, state dict or None, vocab folder or None)."""
    from transformers import EsmConfig

    if parts.fair_esm is not None:
        from biomedgpt_tools.model.fair_esm_weights import load_fair_esm_checkpoint

        try:
            weights = load_fair_esm_checkpoint(parts.fair_esm, dtype=torch.float32)
        except (ValueError, FileNotFoundError) as error:
            raise ConfigError(f"--fair-esm {parts.fair_esm}: {error}") from None
        return weights.config, weights, None
    if parts.esm is not None:
        from transformers import EsmModel

        if not (parts.esm / "config.json").is_file():
            raise ConfigError(
                f"--esm {parts.esm} is not a Hugging Face EsmModel folder (no config.json)"
            )
        model = EsmModel.from_pretrained(
            str(parts.esm), dtype=torch.float32, add_pooling_layer=True
        )
        return model.config, model.state_dict(), parts.esm
    from biomedgpt_tools.model.configuration_biomedgpt import _protein_common

    return (
        EsmConfig(
            **_protein_common(),
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=32,
        ),
        None,
        None,
    )


def assemble(parts: Parts, out: Path) -> Path:
    """Build the model from the parts and write it with `BioMedGPT.save_pretrained`."""
    from biomedgpt_tools.model.api import BioMedGPT
    from biomedgpt_tools.model.configuration_biomedgpt import BioMedGPTConfig, MoleculeEncoderConfig
    from biomedgpt_tools.model.modeling_biomedgpt import BioMedGPTForConditionalGeneration
    from biomedgpt_tools.model.protein_sequence import write_esm_vocab

    if parts.gin_init not in GIN_INITS:
        raise ConfigError(f"gin_init {parts.gin_init!r}: expected one of {', '.join(GIN_INITS)}")
    if parts.gin is not None and parts.gin_init != "model":
        raise ConfigError("gin_init applies to a fresh GIN only; --gin gives its own weights")
    gin_state = load_gin_state(parts.gin) if parts.gin is not None else None  # cheap checks first
    llm, _ = _lm_and_tokenizer(parts.lm)
    layers, hidden = (
        gin_shape(gin_state, parts.gin)
        if gin_state is not None
        else (parts.gin_layers, parts.gin_hidden)
    )
    esm_config, esm_weights, esm_vocab = _esm_part(parts)
    config = BioMedGPTConfig(
        text_config=llm.config,
        protein_config=esm_config,
        molecule_config=MoleculeEncoderConfig(num_layers=layers, hidden_size=hidden),
    )
    torch.manual_seed(parts.seed)
    model = BioMedGPTForConditionalGeneration(config)
    model.llm.load_state_dict(llm.state_dict(), strict=True)
    if gin_state is not None:
        load_gin_into(model.mol_structure_encoder, gin_state, parts.gin)
    elif parts.gin_init == "xavier":
        xavier_gin_embeddings(model.mol_structure_encoder)
    if isinstance(esm_weights, dict):
        model.prot_structure_encoder.load_state_dict(esm_weights, strict=True)
    elif esm_weights is not None:
        esm_weights.load_into(model.prot_structure_encoder)
    model.eval()
    with tempfile.TemporaryDirectory(prefix="biomedgpt-assemble-esm-") as scratch:
        if esm_vocab is None:
            esm_vocab = write_esm_vocab(Path(scratch) / "esm").parent
        facade = BioMedGPT.from_components(model, parts.lm, esm_vocab, model_id=out.name)
        facade.save_pretrained(out)
    sources = {
        "lm": str(parts.lm),
        "gin": str(parts.gin)
        if parts.gin
        else f"fresh ({layers} layers x {hidden}, {parts.gin_init} init, seed {parts.seed})",
        "esm": str(parts.esm or parts.fair_esm or f"fresh tiny (seed {parts.seed})"),
        "projections": f"fresh (seed {parts.seed})",
    }
    (out / "assembled_from.json").write_text(json.dumps(sources, indent=2) + "\n")
    return out


def run(args: argparse.Namespace) -> int:
    parts = Parts(
        lm=args.lm,
        gin=args.gin,
        gin_layers=args.gin_layers,
        gin_hidden=args.gin_hidden,
        esm=args.esm,
        fair_esm=args.fair_esm,
        seed=args.seed,
        gin_init=args.gin_init,
    )
    assemble(parts, args.out)
    print(f"assembled {args.out}: start stage 2 with model.path={args.out}")
    return 0
