"""BioMedGPT-10B: a GIN molecule encoder and an ESM-2 protein encoder whose states become
soft tokens of a Llama LM, read top to bottom:

1. `build_multimodal_row` lays one conversation out once: the prompt's text segments as
   token ids, and a slot (a soft-token position) for every atom of every molecule and
   every ESM position (cls + residues + eos) of every protein; `collate_rows` left-pads
   rows into one batch (`build_multimodal_batch` does both).
2. `BioMedGPTForConditionalGeneration.encode_soft_tokens` runs the encoders and the
   projections, and `embed_inputs` scatters those soft tokens into the slots of the
   LM's input embeddings (as LLaVA does with image features).
3. `forward` runs the LM on those embeddings (with labels: the causal-LM loss on the
   answer tokens only).

The submodules are named as in the official checkpoint (`mol_structure_encoder`,
`prot_structure_encoder`, `llm`, `proj_mol`, `proj_prot`), so `state_dict()` keys are the
official keys minus the documented version-dependent ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import torch
from torch import nn
from transformers import EsmModel, LlamaForCausalLM, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutputWithPast

from .configuration_biomedgpt import BioMedGPTConfig
from .molecule_encoder import GINMoleculeEncoder
from .molecule_graph import MoleculeGraph, collate_graphs, featurize_smiles
from .prompt import Conversation, Modality, Molecule, SegmentEncoder, render_prompt
from .protein_sequence import PAD_TOKEN_ID as ESM_PAD_TOKEN_ID
from .protein_sequence import protein_token_ids

IGNORE_INDEX = -100  # label of positions that do not count in the loss


@dataclass
class MultimodalBatch:
    """Everything the model needs for a batch of prompts, left padded.

    Soft-token slots hold `pad_token_id` in `input_ids`; `soft_token_mask` marks them. The
    molecules and proteins are listed in row-major prompt order through `modalities`,
    which says, for each slot block in turn, whether the next molecule or the next
    protein fills it.
    """

    input_ids: torch.Tensor  # (B, T) long
    attention_mask: torch.Tensor  # (B, T) long, 0 on left padding
    soft_token_mask: torch.Tensor  # (B, T) bool
    modalities: list[Modality]
    molecule_graph: MoleculeGraph | None = None  # all molecules, collated (atom_counts set)
    protein_input_ids: torch.Tensor | None = None  # (P, L) long, right padded with ESM pad
    protein_attention_mask: torch.Tensor | None = None  # (P, L) long
    labels: torch.Tensor | None = None  # (B, T) long, IGNORE_INDEX except answer tokens
    prompt_lengths: list[int] | None = None  # unpadded length of each row (answer included)

    def to(self, device: torch.device | str) -> MultimodalBatch:
        moved = {}
        for item in fields(self):
            value = getattr(self, item.name)
            moved[item.name] = value.to(device) if hasattr(value, "to") else value
        return MultimodalBatch(**moved)

    def model_inputs(self) -> dict:
        """Keyword arguments for `BioMedGPTForConditionalGeneration.forward`."""
        inputs = {item.name: getattr(self, item.name) for item in fields(self)}
        inputs.pop("prompt_lengths")
        return inputs


def position_ids_from_mask(attention_mask: torch.Tensor) -> torch.Tensor:
    """Rotary positions that start at 0 on each row's first real token (left padding)."""
    positions = attention_mask.long().cumsum(-1) - 1  # (B, T)
    return positions.clamp(min=0)


@dataclass
class MultimodalRow:
    """One conversation laid out for the model, before padding.

    Built once per request (`build_multimodal_row`): its length is what the facade checks
    against the context, and `collate_rows` pads rows into a `MultimodalBatch`, so nothing
    is rendered, tokenized or featurized twice.
    """

    prompt: str  # the rendered prompt (placeholders included)
    input_ids: list[int]  # text ids, pad_token_id in soft-token slots (answer appended in training)
    soft_token_mask: list[bool]  # True on soft-token slots
    labels: list[int]  # IGNORE_INDEX except answer tokens and eos
    modalities: list[Modality]  # the inputs' kinds, in prompt order
    molecule_graphs: list[MoleculeGraph]  # the molecules, in prompt order
    protein_token_ids: list[list[int]]  # the proteins' ESM ids (cls ... eos), in prompt order

    @property
    def length(self) -> int:
        """LM positions the row takes: text tokens, one per atom and one per ESM position."""
        return len(self.input_ids)


def build_multimodal_row(
    conversation: Conversation,
    segment_encoder: SegmentEncoder,
    pad_token_id: int,
    answer: str | None = None,
    eos_token_id: int | None = None,
    index: int = 0,
) -> MultimodalRow:
    """Render, tokenize and featurize one conversation (each once).

    With an `answer` (training), the row is prompt + answer tokens (no BOS, SentencePiece
    dummy prefix) + eos, and `labels` keep only the answer tokens and eos. Bad molecules or
    proteins raise ValueError naming them; `index` names the conversation in a batch.
    """
    prompt = render_prompt(conversation)
    tokenized = segment_encoder.tokenize_prompt(prompt)
    inputs = conversation.inputs
    if [item.modality for item in inputs] != tokenized.modalities:
        raise ValueError(
            f"conversation {index} has {len(tokenized.modalities)} placeholders but "
            f"{len(inputs)} molecule/protein inputs; attach one input per placeholder"
        )
    graphs: list[MoleculeGraph] = []
    proteins: list[list[int]] = []
    first = tokenized.segment_ids[0]
    ids, soft = list(first), [False] * len(first)
    for item, segment in zip(inputs, tokenized.segment_ids[1:], strict=True):
        if isinstance(item, Molecule):
            graph = featurize_smiles(item.smiles)
            graphs.append(graph)
            slots = graph.num_atoms
        else:
            token_ids = protein_token_ids(item.sequence)
            proteins.append(token_ids)
            slots = len(token_ids)
        ids += [pad_token_id] * slots + list(segment)
        soft += [True] * slots + [False] * len(segment)
    labels = [IGNORE_INDEX] * len(ids)
    if answer is not None:
        if eos_token_id is None:
            raise ValueError("training batches need eos_token_id to end each answer")
        answer_ids = segment_encoder.encode(answer) + [eos_token_id]
        ids += answer_ids
        soft += [False] * len(answer_ids)
        labels += answer_ids
    return MultimodalRow(
        prompt=prompt,
        input_ids=ids,
        soft_token_mask=soft,
        labels=labels,
        modalities=[item.modality for item in inputs],
        molecule_graphs=graphs,
        protein_token_ids=proteins,
    )


def collate_rows(
    rows: Sequence[MultimodalRow],
    pad_token_id: int,
    *,
    with_labels: bool = False,
    esm_pad_token_id: int = ESM_PAD_TOKEN_ID,
) -> MultimodalBatch:
    """Left-pad rows into one batch; molecules and proteins listed in row-major prompt order."""
    if not rows:
        raise ValueError("no conversations to batch; give at least one")
    width = max(row.length for row in rows)
    input_ids = torch.full((len(rows), width), pad_token_id, dtype=torch.long)  # (B, T)
    attention_mask = torch.zeros((len(rows), width), dtype=torch.long)  # (B, T)
    soft_token_mask = torch.zeros((len(rows), width), dtype=torch.bool)  # (B, T)
    label_tensor = torch.full((len(rows), width), IGNORE_INDEX, dtype=torch.long)  # (B, T)
    for index, row in enumerate(rows):
        start = width - row.length  # left padding
        input_ids[index, start:] = torch.tensor(row.input_ids)
        attention_mask[index, start:] = 1
        soft_token_mask[index, start:] = torch.tensor(row.soft_token_mask)
        label_tensor[index, start:] = torch.tensor(row.labels)

    graphs = [graph for row in rows for graph in row.molecule_graphs]
    proteins = [ids for row in rows for ids in row.protein_token_ids]
    protein_input_ids = protein_attention_mask = None
    if proteins:
        longest = max(len(ids) for ids in proteins)
        protein_input_ids = torch.full((len(proteins), longest), esm_pad_token_id, dtype=torch.long)
        protein_attention_mask = torch.zeros((len(proteins), longest), dtype=torch.long)
        for index, ids in enumerate(proteins):
            protein_input_ids[index, : len(ids)] = torch.tensor(ids)
            protein_attention_mask[index, : len(ids)] = 1

    return MultimodalBatch(
        input_ids=input_ids,
        attention_mask=attention_mask,
        soft_token_mask=soft_token_mask,
        modalities=[kind for row in rows for kind in row.modalities],
        molecule_graph=collate_graphs(graphs) if graphs else None,
        protein_input_ids=protein_input_ids,
        protein_attention_mask=protein_attention_mask,
        labels=label_tensor if with_labels else None,
        prompt_lengths=[row.length for row in rows],
    )


def build_multimodal_batch(
    conversations: Sequence[Conversation],
    segment_encoder: SegmentEncoder,
    pad_token_id: int,
    answers: Sequence[str] | None = None,
    eos_token_id: int | None = None,
    esm_pad_token_id: int = ESM_PAD_TOKEN_ID,
) -> MultimodalBatch:
    """Tokenize, featurize and lay out conversations as one left-padded batch.

    `build_multimodal_row` for each conversation, then `collate_rows`. With `answers`
    (training), `labels` keep only the answer tokens and eos: prompt, soft tokens and
    padding get -100.
    """
    if not conversations:
        raise ValueError("no conversations to batch; give at least one")
    if answers is not None and len(answers) != len(conversations):
        raise ValueError(f"got {len(answers)} answers for {len(conversations)} conversations")
    rows = [
        build_multimodal_row(
            conversation,
            segment_encoder,
            pad_token_id,
            answer=None if answers is None else answers[index],
            eos_token_id=eos_token_id,
            index=index,
        )
        for index, conversation in enumerate(conversations)
    ]
    return collate_rows(
        rows, pad_token_id, with_labels=answers is not None, esm_pad_token_id=esm_pad_token_id
    )


class BioMedGPTForConditionalGeneration(PreTrainedModel):
    """GIN + ESM-2 encoders, linear projections into the LM's embedding space, and Llama."""

    config_class = BioMedGPTConfig
    config: BioMedGPTConfig
    base_model_prefix = ""
    main_input_name = "input_ids"
    _no_split_modules = ["LlamaDecoderLayer", "EsmLayer", "GINMoleculeEncoder"]
    _supports_sdpa = True
    supports_gradient_checkpointing = True

    def __init__(self, config: BioMedGPTConfig):
        super().__init__(config)
        self.mol_structure_encoder = GINMoleculeEncoder(config.molecule_config)
        self.prot_structure_encoder = EsmModel(config.protein_config, add_pooling_layer=True)
        self.llm = LlamaForCausalLM(config.text_config)
        llm_width = config.text_config.hidden_size
        self.proj_mol = nn.Linear(config.molecule_config.hidden_size, llm_width)
        self.proj_prot = nn.Linear(config.protein_config.hidden_size, llm_width)
        self.post_init()

    def get_input_embeddings(self) -> nn.Module:
        return self.llm.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.llm.set_input_embeddings(value)

    # -- encoders -----------------------------------------------------------------------

    def encode_molecules(self, graph: MoleculeGraph) -> list[torch.Tensor]:
        """One (atoms, llm_hidden) block of soft tokens per molecule in the collated graph."""
        graph = graph.to(self.proj_mol.weight.device)
        atom_states = self.mol_structure_encoder(graph)  # (N_total, mol_hidden)
        soft = self.proj_mol(atom_states.to(self.proj_mol.weight.dtype))  # (N_total, C)
        counts = graph.atom_counts if graph.atom_counts is not None else [graph.num_atoms]
        return list(torch.split(soft, counts, dim=0))

    def encode_proteins(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> list[torch.Tensor]:
        """One (L + 2, llm_hidden) block per protein: every ESM position, cls and eos included."""
        states = self.protein_states(input_ids, attention_mask)  # (P, L, prot_hidden)
        soft = self.proj_prot(states.to(self.proj_prot.weight.dtype))  # (P, L, C)
        lengths = attention_mask.sum(-1).tolist()
        return [soft[row, : int(length)] for row, length in enumerate(lengths)]

    def protein_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Final ESM states, (P, L, prot_hidden); padded positions are meaningless."""
        device = self.prot_structure_encoder.embeddings.word_embeddings.weight.device
        output = self.prot_structure_encoder(
            input_ids=input_ids.to(device), attention_mask=attention_mask.to(device)
        )
        return output.last_hidden_state

    def encode_soft_tokens(
        self,
        modalities: Sequence[Modality],
        molecule_graph: MoleculeGraph | None,
        protein_input_ids: torch.Tensor | None,
        protein_attention_mask: torch.Tensor | None,
    ) -> torch.Tensor:
        """All soft tokens of the batch in row-major prompt order, (S, llm_hidden)."""
        molecules = self.encode_molecules(molecule_graph) if molecule_graph is not None else []
        proteins = (
            self.encode_proteins(protein_input_ids, protein_attention_mask)
            if protein_input_ids is not None
            else []
        )
        wanted = {kind: sum(1 for m in modalities if m == kind) for kind in ("molecule", "protein")}
        if wanted["molecule"] != len(molecules) or wanted["protein"] != len(proteins):
            raise ValueError(
                f"the prompts have {wanted['molecule']} molecule and {wanted['protein']} protein "
                f"placeholders but {len(molecules)} molecules and {len(proteins)} proteins were given"
            )
        next_molecule, next_protein = iter(molecules), iter(proteins)
        blocks = [
            next(next_molecule) if kind == "molecule" else next(next_protein) for kind in modalities
        ]
        if not blocks:
            width = self.config.text_config.hidden_size
            return self.proj_mol.weight.new_zeros((0, width))
        embed_device = self.get_input_embeddings().weight.device
        return torch.cat([block.to(embed_device) for block in blocks], dim=0)  # (S, C)

    def embed_inputs(
        self,
        input_ids: torch.Tensor,  # (B, T)
        soft_token_mask: torch.Tensor | None = None,  # (B, T) bool
        modalities: Sequence[Modality] = (),
        molecule_graph: MoleculeGraph | None = None,
        protein_input_ids: torch.Tensor | None = None,
        protein_attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The LM's input embeddings with soft tokens in their slots, (B, T, C)."""
        embedding = self.get_input_embeddings()
        input_ids = input_ids.to(embedding.weight.device)
        embeds = embedding(input_ids)  # (B, T, C)
        if soft_token_mask is None:
            if modalities:
                raise ValueError("soft tokens were given without soft_token_mask to place them")
            return embeds
        soft_token_mask = soft_token_mask.to(embeds.device)
        soft = self.encode_soft_tokens(
            modalities, molecule_graph, protein_input_ids, protein_attention_mask
        )
        slots = int(soft_token_mask.sum())
        if slots != soft.shape[0]:
            raise ValueError(
                f"the batch has {slots} soft-token slots but the molecules and proteins give "
                f"{soft.shape[0]} soft tokens; build batches with build_multimodal_batch"
            )
        mask = soft_token_mask.unsqueeze(-1).expand_as(embeds)  # (B, T, C)
        return embeds.masked_scatter(mask, soft.to(embeds.dtype))

    def embed_batch(self, batch: MultimodalBatch) -> torch.Tensor:
        """`embed_inputs` on a batch from build_multimodal_batch, (B, T, C)."""
        return self.embed_inputs(
            batch.input_ids,
            batch.soft_token_mask,
            batch.modalities,
            batch.molecule_graph,
            batch.protein_input_ids,
            batch.protein_attention_mask,
        )

    # -- language model -------------------------------------------------------------------

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        soft_token_mask: torch.Tensor | None = None,
        modalities: Sequence[Modality] = (),
        molecule_graph: MoleculeGraph | None = None,
        protein_input_ids: torch.Tensor | None = None,
        protein_attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        past_key_values=None,
        use_cache: bool | None = None,
        **kwargs,
    ) -> CausalLMOutputWithPast:
        """Logits (and the loss on labelled positions) for a batch from `build_multimodal_batch`."""
        if inputs_embeds is None:
            if input_ids is None:
                raise ValueError("give input_ids (with soft-token inputs) or inputs_embeds")
            inputs_embeds = self.embed_inputs(
                input_ids,
                soft_token_mask,
                modalities,
                molecule_graph,
                protein_input_ids,
                protein_attention_mask,
            )  # (B, T, C)
        if attention_mask is None:
            attention_mask = torch.ones(
                inputs_embeds.shape[:2], dtype=torch.long, device=inputs_embeds.device
            )
        attention_mask = attention_mask.to(inputs_embeds.device)
        if position_ids is None and past_key_values is None:
            position_ids = position_ids_from_mask(attention_mask)
        if labels is not None:
            labels = labels.to(inputs_embeds.device)
        return self.llm(
            inputs_embeds=inputs_embeds,
            attention_mask=attention_mask,
            position_ids=position_ids,
            labels=labels,
            past_key_values=past_key_values,
            use_cache=use_cache,
            **kwargs,
        )
