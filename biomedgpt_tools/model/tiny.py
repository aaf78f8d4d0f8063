"""Tiny BioMedGPT models for tests and benchmarks, built offline in well under two seconds.

The LM tokenizer is a SentencePiece BPE model trained here, on text written below, with
the settings of the Llama tokenizer that matter for segment tokenization (byte fallback,
dummy prefix, no whitespace normalisation, unk/bos/eos = 0/1/2, split digits). Training
takes a few milliseconds and is deterministic, so nothing binary is committed.
"""

from __future__ import annotations

import io
from pathlib import Path

from .configuration_biomedgpt import BioMedGPTConfig, PresetName

TINY_TOKENIZER_VOCAB_SIZE = 700

# Text for the tiny tokenizer: the prompt template and the kind of questions and answers
# the model sees, so that prompts tokenize into realistic multi-character pieces.
TINY_CORPUS = """\
You are working as an excellent assistant in chemistry and molecule discovery. Below a human expert gives the representation of a molecule or a protein. Answer questions about it.
You are working as an excellent assistant in biology. Below a human gives the representation of a molecule or a protein. Answer some questions about it.
### Human: <molecule><moleculeHere></molecule> Please describe the molecule. ### Assistant: The molecule is an aromatic carboxylic acid.
### Human: <protein><proteinHere></protein> What is the function of this protein? ### Assistant: It binds ATP and catalyzes the phosphorylation of serine residues.
### Human: <molecule><moleculeHere></molecule> ### Human: <protein><proteinHere></protein> Does this molecule bind to this protein? ### Assistant: Yes, it is an inhibitor.
What is the official name of this protein? What is the protein family that this protein belongs to? What is the subcellular location of this protein?
The molecule is a member of the class of benzoic acids that is salicylic acid in which the hydroxy group has been acetylated.
It has a role as a non-steroidal anti-inflammatory drug, a cyclooxygenase inhibitor, a platelet aggregation inhibitor and an antipyretic.
The protein is located in the cytoplasm, the nucleus, the mitochondrion and the cell membrane. It belongs to the kinase family.
Catalytic activity: ATP + L-seryl-[protein] = ADP + H(+) + O-phospho-L-seryl-[protein]. Requires magnesium as a cofactor.
This compound is an alpha-amino acid, a conjugate base of an ammonium, and a tautomer of a zwitterion found in water at pH 7.3.
Caffeine is a trimethylxanthine in which the three methyl groups are located at positions 1, 3, and 7. It is a stimulant of the central nervous system.
Ethanol is a primary alcohol that is ethane in which one of the hydrogens is substituted by a hydroxy group; it is a solvent and an antiseptic.
Hemoglobin carries oxygen from the lungs to the tissues; its subunits bind heme and form a tetramer in red blood cells.
Insulin decreases blood glucose concentration and increases cell permeability to monosaccharides, amino acids and fatty acids.
Transcription factor that binds DNA in a sequence-specific manner and regulates genes involved in development and differentiation.
Which enzymes metabolize this drug? Is the compound toxic to the liver? How soluble is it in water? Describe its mechanism of action.
Sodium chloride is an inorganic chloride salt having sodium(1+) as the counterion. Benzene is a six-carbon aromatic annulene.
The answer is no. The answer is yes. Maybe; more data is needed. The binding affinity is 12.5 nM and the half-life is 4 hours.
Methane, ethane, propane, butane, pentane, hexane, acetone, glycine, alanine, serine, tyrosine, tryptophan, histidine, cysteine.
Membrane protein with seven transmembrane helices; a G-protein coupled receptor for dopamine, serotonin, adrenaline and histamine.
Zinc finger protein; ribosomal protein; heat shock protein; ubiquitin ligase; DNA polymerase; RNA helicase; ion channel.
"""


def train_tiny_sentencepiece(vocab_size: int = TINY_TOKENIZER_VOCAB_SIZE) -> bytes:
    """A serialized SentencePiece model (Llama-style BPE settings) trained on TINY_CORPUS."""
    return train_llama_style_sentencepiece(TINY_CORPUS.splitlines(), vocab_size)


def train_llama_style_sentencepiece(sentences, vocab_size: int) -> bytes:
    """A serialized SentencePiece BPE model with the Llama tokenizer's settings, from `sentences`.

    Also used by `python -m training reproduce-mini` for its from-scratch LM, so that its
    tokenizer segments prompts the way the model code expects.
    """
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=model,
        model_type="bpe",
        vocab_size=vocab_size,
        hard_vocab_limit=False,
        character_coverage=1.0,
        byte_fallback=True,
        split_digits=True,
        add_dummy_prefix=True,
        remove_extra_whitespaces=False,
        normalization_rule_name="identity",
        allow_whitespace_only_pieces=True,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        num_threads=1,
        minloglevel=2,
    )
    return model.getvalue()


def write_tiny_tokenizer(folder: str | Path) -> Path:
    """Write `tokenizer.model` for the tiny LM tokenizer into `folder`; returns the folder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tokenizer.model").write_bytes(train_tiny_sentencepiece())
    return folder


def write_tiny_assets(folder: str | Path) -> tuple[Path, Path]:
    """The two side folders a model needs: LM tokenizer (`llm/`) and ESM vocab (`esm/`)."""
    from .protein_sequence import write_esm_vocab

    folder = Path(folder)
    llm_dir = write_tiny_tokenizer(folder / "llm")
    esm_dir = folder / "esm"
    esm_dir.mkdir(parents=True, exist_ok=True)
    write_esm_vocab(esm_dir)
    return llm_dir, esm_dir


def tiny_text_vocab_size() -> int:
    """len(tokenizer) of the tiny LM tokenizer: its pieces plus the added `[PAD]`."""
    import sentencepiece

    processor = sentencepiece.SentencePieceProcessor(model_proto=train_tiny_sentencepiece())
    return processor.get_piece_size() + 1


def tiny_config(preset: PresetName = "tiny", lm_head_dim: int | None = None) -> BioMedGPTConfig:
    """The `tiny` (or `small`) preset sized for the tiny tokenizer.

    `lm_head_dim` regroups the LM's attention into heads of that width (same hidden size):
    vLLM's CPU attention kernel refuses the tiny preset's head_dim 8 and takes 32 or more.
    """
    config = BioMedGPTConfig.from_preset(preset, text_vocab_size=tiny_text_vocab_size())
    if lm_head_dim is not None:
        hidden = int(config.text_config.hidden_size)
        if lm_head_dim < 1 or hidden % lm_head_dim:
            raise ValueError(f"lm_head_dim {lm_head_dim} must divide the LM hidden size {hidden}")
        config.text_config.num_attention_heads = hidden // lm_head_dim
        config.text_config.num_key_value_heads = hidden // lm_head_dim
        config.text_config.head_dim = lm_head_dim
    return config


def build_tiny_model(
    seed: int = 0, preset: PresetName = "tiny", dtype=None, lm_head_dim: int | None = None
):
    """A randomly initialised BioMedGPT model (eval mode, on the CPU) for the tiny tokenizer.

    Batch-norm running statistics are randomised too, so a test notices if they are
    ignored or misnamed. `dtype` takes the names `placement.resolve_dtype` does.
    """
    import torch

    from .modeling_biomedgpt import BioMedGPTForConditionalGeneration
    from .placement import resolve_dtype

    config = tiny_config(preset, lm_head_dim=lm_head_dim)
    torch.manual_seed(seed)
    model = BioMedGPTForConditionalGeneration(config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for norm in model.mol_structure_encoder.batch_norms:
            norm.running_mean.copy_(torch.randn(norm.running_mean.shape, generator=generator) * 0.1)
            norm.running_var.copy_(torch.rand(norm.running_var.shape, generator=generator) + 0.5)
            norm.weight.copy_(1.0 + 0.1 * torch.randn(norm.weight.shape, generator=generator))
    if dtype is not None:
        model = model.to(resolve_dtype(dtype))
    return model.eval()


def build_tiny_biomedgpt(
    folder: str | Path,
    seed: int = 0,
    preset: PresetName = "tiny",
    dtype=None,
    lm_head_dim: int | None = None,
):
    """A ready `BioMedGPT` facade on a tiny model; side files are written under `folder`."""
    from .api import BioMedGPT

    llm_dir, esm_dir = write_tiny_assets(folder)
    model = build_tiny_model(seed=seed, preset=preset, dtype=dtype, lm_head_dim=lm_head_dim)
    return BioMedGPT.from_components(
        model, llm_dir, esm_dir, model_id=f"biomedgpt-{preset}-seed{seed}"
    )
