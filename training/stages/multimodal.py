"""What `align` and `finetune` share: QA records -> multimodal batches -> loss on answers.

Batches come from `biomedgpt_tools.model.modeling_biomedgpt.build_multimodal_batch`, the
same code inference uses, so training sees exactly the prompt, splicing and tokenization
that `BioMedGPT.generate` will: labels are -100 on the prompt, on soft-token slots and on
padding, and the answer tokens plus `</s>` are the targets.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from training.config import ConfigError, StageConfig
from training.data.input_files import DataFormatError
from training.data.qa_records import QARecord, read_qa_records
from training.objectives import count_targets, summed_next_token_loss


@dataclass
class LoadedModel:
    """The model and the side folders (LM tokenizer, ESM vocab) a saved model carries."""

    model: nn.Module  # BioMedGPTForConditionalGeneration
    tokenizer: object
    llm_dir: Path
    esm_dir: Path


def load_model(config: StageConfig) -> LoadedModel:
    from biomedgpt_tools.model.prompt import load_text_tokenizer

    if config.model.init == "tiny":
        from biomedgpt_tools.model.tiny import write_tiny_assets

        assets = Path(tempfile.mkdtemp(prefix="biomedgpt-tiny-assets-"))
        llm_dir, esm_dir = write_tiny_assets(assets)
        model = build_sized_tiny_model(config.model.preset, config.model.sizes, config.model.seed)
        return LoadedModel(model, load_text_tokenizer(llm_dir), llm_dir, esm_dir)
    from biomedgpt_tools.model.api import BioMedGPT

    path = Path(config.model.path)
    if not path.is_dir():
        raise ConfigError(
            f"model.path {path} is not a folder; give a BioMedGPT.save_pretrained folder"
        )
    loaded = BioMedGPT.from_pretrained(
        path, dtype="fp32"
    )  # fp32 master weights; FSDP casts for compute
    return LoadedModel(loaded.model, loaded.text_tokenizer, path, path / "esm")


def build_sized_tiny_model(preset: str, sizes: dict, seed: int) -> nn.Module:
    """A random model of the tiny/small preset with some sub-config fields changed."""
    from biomedgpt_tools.model.configuration_biomedgpt import BioMedGPTConfig
    from biomedgpt_tools.model.modeling_biomedgpt import BioMedGPTForConditionalGeneration
    from biomedgpt_tools.model.tiny import tiny_config

    base = tiny_config(preset)
    parts = {}
    for name in ("text_config", "protein_config", "molecule_config"):
        sub = getattr(base, name)
        changes = sizes.get(name, {})
        values = sub.to_dict()
        if "hidden_size" in changes or "num_attention_heads" in changes:
            values.pop("head_dim", None)  # derived from the new sizes
        unknown = sorted(set(changes) - set(values) - {"head_dim"})
        if unknown:
            raise ConfigError(
                f"model.sizes.{name}.{unknown[0]} is not a field of {type(sub).__name__}"
            )
        parts[name] = type(sub)(**{**values, **changes})
    torch.manual_seed(seed)
    return BioMedGPTForConditionalGeneration(BioMedGPTConfig(**parts))


class QAData:
    """Prepared QA records -> `MultimodalBatch`es with answer-only labels."""

    def __init__(self, paths: list[str], tokenizer, max_length: int):
        from biomedgpt_tools.model.prompt import SegmentEncoder

        self.records: list[QARecord] = [r for path in paths for r in read_qa_records(Path(path))]
        self.segment_encoder = SegmentEncoder(tokenizer)
        self.pad_token_id = int(tokenizer.pad_token_id)
        self.eos_token_id = int(tokenizer.eos_token_id)
        self.max_length = max_length

    def __len__(self) -> int:
        return len(self.records)

    @staticmethod
    def conversation(record: QARecord):
        from biomedgpt_tools.model.prompt import Conversation, Molecule, Protein, Turn

        inputs = [Molecule(s) for s in record.molecules] + [Protein(p) for p in record.proteins]
        return Conversation(
            turns=[Turn(question=record.question, inputs=inputs)], system=record.system
        )

    def collate(self, indices: list[int]):
        from biomedgpt_tools.model.modeling_biomedgpt import build_multimodal_batch

        records = [self.records[i] for i in indices]
        batch = build_multimodal_batch(
            [self.conversation(r) for r in records],
            self.segment_encoder,
            self.pad_token_id,
            answers=[r.answer for r in records],
            eos_token_id=self.eos_token_id,
        )
        for record, length in zip(records, batch.prompt_lengths, strict=True):
            if length > self.max_length:
                raise DataFormatError(
                    f"record {record.id} is {length} tokens long (prompt, soft tokens and answer), "
                    f"over data.max_length {self.max_length}; raise data.max_length or drop the record"
                )
        return batch

    def target_count(self, batch) -> int:
        return count_targets(batch.labels)

    def token_count(self, batch) -> int:
        return int(batch.attention_mask.sum())


class MultimodalObjective(nn.Module):
    """Root module for FSDP: forward(batch) -> summed loss on the answer tokens + `</s>`.

    Frozen encoders stay in eval mode while training (dropout off), as they are in the
    released model. The GIN's batch norms always use their running statistics, also when
    the GIN trains: micro-batches are a few molecules (one molecule of one atom makes
    train-mode batch norm fail), and statistics would differ across ranks. Their affine
    weights still train.
    """

    def __init__(self, model: nn.Module, frozen_in_eval: list[str]):
        super().__init__()
        self.model = model
        self.frozen_in_eval = frozen_in_eval

    @property
    def llm(self) -> nn.Module:
        return self.model.llm

    def train(self, mode: bool = True):
        super().train(mode)
        for name in self.frozen_in_eval:
            getattr(self.model, name).eval()
        for module in self.model.mol_structure_encoder.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()
        return self

    def forward(self, batch) -> torch.Tensor:
        inputs = batch.model_inputs()
        labels = inputs.pop("labels")
        logits = self.model(**inputs, use_cache=False).logits  # (B, T, V)
        loss = summed_next_token_loss(logits, labels.to(logits.device))
        return loss + self._zero_touching_encoder_side()

    def _zero_touching_encoder_side(self) -> torch.Tensor:
        """0 x (one element of each trainable encoder-side parameter).

        A micro-batch without proteins leaves proj_prot (and ESM) without a gradient on this
        rank while another rank has one; FSDP's gradient reduce-scatter must see the same
        parameters on every rank, so each gets at least a zero gradient.
        """
        total = torch.zeros((), device=self.model.proj_mol.weight.device)
        for name in ("proj_mol", "proj_prot", "mol_structure_encoder", "prot_structure_encoder"):
            for parameter in getattr(self.model, name).parameters():
                if parameter.requires_grad:
                    total = total + parameter.reshape(-1)[0].float() * 0.0
        return total


def apply_trainable(model: nn.Module, config: StageConfig) -> list[str]:
    """Freeze everything, then unfreeze the configured parts; returns modules kept in eval."""
    trainable = config.model.trainable
    model.requires_grad_(False)
    parts = {
        "llm": trainable.llm,
        "proj_mol": trainable.proj_mol,
        "proj_prot": trainable.proj_prot,
        "mol_structure_encoder": trainable.mol_encoder,
        "prot_structure_encoder": trainable.prot_encoder,
    }
    for name, enabled in parts.items():
        if enabled:
            getattr(model, name).requires_grad_(True)
    if trainable.prot_lora.enabled:
        from peft import LoraConfig, inject_adapter_in_model

        lora = trainable.prot_lora
        inject_adapter_in_model(
            LoraConfig(
                r=lora.r,
                lora_alpha=lora.alpha,
                lora_dropout=lora.dropout,
                target_modules=list(lora.target_modules),
                bias="none",
            ),
            model.prot_structure_encoder,
        )
        for name, parameter in model.prot_structure_encoder.named_parameters():
            parameter.requires_grad_("lora_" in name)
    frozen = [
        name for name in ("mol_structure_encoder", "prot_structure_encoder") if not parts[name]
    ]
    return frozen


def merge_lora(model: nn.Module) -> None:
    """Fold LoRA updates into the ESM weights so the saved model has the official layout."""
    for parent in list(model.modules()):
        for child_name, child in list(parent.named_children()):
            if hasattr(child, "merge") and hasattr(child, "get_base_layer"):
                child.merge()
                setattr(parent, child_name, child.get_base_layer())


@dataclass
class MultimodalStage:
    objective: MultimodalObjective
    train_data: QAData
    valid_data: QAData | None
    loaded: LoadedModel

    @property
    def llm(self) -> nn.Module:
        return self.objective.llm


def build_stage(config: StageConfig) -> MultimodalStage:
    loaded = load_model(config)
    loaded.model.config.text_config._attn_implementation = config.runtime.attention
    loaded.model.llm.config._attn_implementation = config.runtime.attention
    frozen = apply_trainable(loaded.model, config)
    train = QAData(config.data.train, loaded.tokenizer, config.data.max_length)
    if len(train) == 0:
        raise ConfigError(f"data.train: {config.data.train} hold no QA records")
    valid = (
        QAData(config.data.valid, loaded.tokenizer, config.data.max_length)
        if config.data.valid
        else None
    )
    return MultimodalStage(MultimodalObjective(loaded.model, frozen), train, valid, loaded)


def export_final_model(
    stage: MultimodalStage, full_state: dict, config: StageConfig, out: Path
) -> None:
    """Rank 0: a `BioMedGPT.save_pretrained` folder (what `biomedgpt generate --model` loads)."""
    from biomedgpt_tools.model.api import BioMedGPT
    from biomedgpt_tools.model.modeling_biomedgpt import BioMedGPTForConditionalGeneration

    trained = stage.objective.model
    fresh = BioMedGPTForConditionalGeneration(trained.config)
    if config.model.trainable.prot_lora.enabled:
        apply_trainable(fresh, config)  # same LoRA layout, so the state dict fits
    state = {k.removeprefix("model."): v for k, v in full_state.items()}
    fresh.load_state_dict(state, strict=True)
    merge_lora(fresh)
    fresh.requires_grad_(True)
    fresh.eval()
    facade = BioMedGPT.from_components(
        fresh,
        stage.loaded.llm_dir,
        stage.loaded.esm_dir,
        model_id=f"biomedgpt-{config.stage}-{Path(config.output.run_dir).name}",
    )
    facade.save_pretrained(out)
