"""The BioMedGPT-10B conversation template, its split at soft-token placeholders, and tokenization.

The released weights were aligned on exactly this text, so it is reproduced to the
character (see ../shared/reference/biomedgpt-10b.md):

    {system}### Human: <molecule><moleculeHere></molecule> ### Human: <protein><proteinHere></protein> {question} ### Assistant: ⏎

(⏎ marks the end: the prompt ends with a space after `Assistant:`.)

`<moleculeHere>` / `<proteinHere>` are split points, never tokenized: the LM sees
`E(segment 0), soft tokens of input 0, E(segment 1), ...`. Segment 0 starts with BOS; later
segments get no special tokens but, like SentencePiece, each still starts with its dummy
prefix `▁`. `<molecule>`, `</protein>` etc. are ordinary text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

# The system text used with the released weights (the default).
SYSTEM_TEXT = (
    "You are working as an excellent assistant in chemistry and molecule discovery. "
    "Below a human expert gives the representation of a molecule or a protein. "
    "Answer questions about it. "
)
# The second system text found in the reference code.
SYSTEM_TEXT_BIOLOGY = (
    "You are working as an excellent assistant in biology. "
    "Below a human gives the representation of a molecule or a protein. "
    "Answer some questions about it. "
)
# The per-modality system texts of the paper's training prompts (Table 1).
TRAINING_SYSTEM_TEXT_MOLECULE = (
    "You are working as an excellent assistant in chemistry and molecule discovery. "
    "Below a human gives the representation of a molecule. Answer a question about it."
)
TRAINING_SYSTEM_TEXT_PROTEIN = (
    "You are working as an excellent assistant in biology. "
    "Below a human gives the representation of a protein. Answer a question about it."
)

# How a molecule enters the prompt without the graph encoder: its SMILES written as text
# (the protocol of the paper's Llama2-7B-Chat row). Training and evaluation share it.
MOLECULE_INPUT_MODES = ("graph", "smiles-text", "none")


def question_with_smiles_text(smiles: str, question: str) -> str:
    """The question with the molecule's SMILES written before it, for a text-only LM."""
    return f"The molecule's SMILES is {smiles}. {question}"


MOLECULE_PLACEHOLDER = "<moleculeHere>"
PROTEIN_PLACEHOLDER = "<proteinHere>"
HUMAN_ROLE = "Human"
ASSISTANT_ROLE = "Assistant"
SEPARATOR = "###"
PAD_TOKEN = "[PAD]"

_PLACEHOLDER_PATTERN = re.compile(
    f"({re.escape(MOLECULE_PLACEHOLDER)}|{re.escape(PROTEIN_PLACEHOLDER)})"
)
Modality = Literal["molecule", "protein"]


@dataclass(frozen=True)
class Molecule:
    """A molecule given as SMILES; it becomes one soft token per heavy atom."""

    smiles: str

    @property
    def modality(self) -> Modality:
        return "molecule"


@dataclass(frozen=True)
class Protein:
    """A protein given as its amino-acid sequence; it becomes L + 2 soft tokens (with cls/eos)."""

    sequence: str

    @property
    def modality(self) -> Modality:
        return "protein"


ModalInput = Molecule | Protein


def structure_input(kind: str, value: str) -> ModalInput:
    """A `Molecule` (SMILES) or `Protein` (sequence) from its kind's name."""
    if kind == "molecule":
        return Molecule(value)
    if kind == "protein":
        return Protein(value)
    raise ValueError(f"unknown structure kind {kind!r}; use 'molecule' or 'protein'")


def structure_value(item: ModalInput) -> str:
    """The SMILES of a molecule, the sequence of a protein."""
    return item.smiles if isinstance(item, Molecule) else item.sequence


@dataclass
class Turn:
    """One Human message (its attached inputs, in order, then the question) and the answer, if any."""

    question: str
    inputs: list[ModalInput] = field(default_factory=list)
    answer: str | None = None


@dataclass
class Conversation:
    """A whole prompt: the system text and the turns; only the last turn may lack an answer."""

    turns: list[Turn]
    system: str = SYSTEM_TEXT

    @property
    def inputs(self) -> list[ModalInput]:
        """All molecules and proteins in prompt order (the order their soft tokens are spliced)."""
        return [item for turn in self.turns for item in turn.inputs]


def human_messages(turn: Turn) -> list[str]:
    """Each attached input opens its own Human message; the question joins the last one."""
    messages = [
        f"<molecule>{MOLECULE_PLACEHOLDER}</molecule>"
        if isinstance(item, Molecule)
        else f"<protein>{PROTEIN_PLACEHOLDER}</protein>"
        for item in turn.inputs
    ]
    if messages:
        messages[-1] = f"{messages[-1]} {turn.question}"
    else:
        messages.append(turn.question)
    return messages


def render_prompt(conversation: Conversation) -> str:
    """The exact prompt string of the reference, ending with `### Assistant: `."""
    _check_conversation(conversation)
    parts = [conversation.system]
    for turn in conversation.turns:
        for message in human_messages(turn):
            parts.append(f"{SEPARATOR} {HUMAN_ROLE}: {message} ")
        if turn.answer is not None:
            parts.append(f"{SEPARATOR} {ASSISTANT_ROLE}: {turn.answer} ")
    parts.append(f"{SEPARATOR} {ASSISTANT_ROLE}: ")
    return "".join(parts)


def split_prompt(prompt: str) -> tuple[list[str], list[Modality]]:
    """Split at the placeholders: n placeholders give n + 1 text segments (some may be empty)."""
    pieces = _PLACEHOLDER_PATTERN.split(prompt)
    segments = pieces[0::2]
    modalities: list[Modality] = [
        "molecule" if marker == MOLECULE_PLACEHOLDER else "protein" for marker in pieces[1::2]
    ]
    return segments, modalities


def _check_conversation(conversation: Conversation) -> None:
    if not conversation.turns:
        raise ValueError("a conversation needs at least one turn with a question")
    for index, turn in enumerate(conversation.turns):
        if not isinstance(turn.question, str) or not turn.question.strip():
            raise ValueError(f"turn {index} has no question; give the question text to ask")
        last = index == len(conversation.turns) - 1
        if turn.answer is not None and last:
            raise ValueError(
                "the last turn must not have an answer: it is the one the model answers"
            )
        if turn.answer is None and not last:
            raise ValueError(f"turn {index} has no answer; only the last turn may be unanswered")
        for item in turn.inputs:
            if not isinstance(item, Molecule | Protein):
                raise ValueError(
                    f"turn {index} has an input of type {type(item).__name__}; use Molecule or Protein"
                )
    for text in [conversation.system] + [
        t for turn in conversation.turns for t in (turn.question, turn.answer or "")
    ]:
        if _PLACEHOLDER_PATTERN.search(text):
            raise ValueError(
                f"the text {text[:60]!r} contains {MOLECULE_PLACEHOLDER} or {PROTEIN_PLACEHOLDER}; "
                "attach inputs as Molecule/Protein objects instead of writing placeholders"
            )


# ---------------------------------------------------------------------------------------------
# Tokenization


def load_text_tokenizer(folder: str | Path):
    """The LM tokenizer from a folder with `tokenizer.model` (and/or `tokenizer.json`).

    `[PAD]` is added when missing, as in the released model, so it takes the last id
    (32000 for the real tokenizer); the model's vocabulary is len(tokenizer).
    """
    from transformers import LlamaTokenizer

    folder = Path(folder)
    if not (folder / "tokenizer.model").is_file() and not (folder / "tokenizer.json").is_file():
        raise ValueError(
            f"no tokenizer.model or tokenizer.json in {folder}; point at the BioMedGPT-LM-7B folder"
        )
    # Always the Llama class: AutoTokenizer on a folder without tokenizer_config.json
    # builds a generic tokenizer without the SentencePiece dummy prefix.
    tokenizer = LlamaTokenizer.from_pretrained(str(folder))
    if tokenizer.pad_token is None or tokenizer.pad_token != PAD_TOKEN:
        if PAD_TOKEN not in tokenizer.get_vocab():
            tokenizer.add_special_tokens({"pad_token": PAD_TOKEN})
        else:
            tokenizer.pad_token = PAD_TOKEN
    tokenizer.padding_side = "left"
    return tokenizer


@dataclass
class TokenizedPrompt:
    """Token ids of each text segment and the modality that follows each segment but the last."""

    segment_ids: list[list[int]]
    modalities: list[Modality]

    @property
    def num_text_tokens(self) -> int:
        return sum(len(ids) for ids in self.segment_ids)


class SegmentEncoder:
    """Encodes prompt segments exactly as SentencePiece does (BOS on segment 0 only).

    transformers 5 rebuilds Llama tokenizers as `tokenizers` BPE with a Metaspace
    pre-tokenizer whose dummy prefix depends on configuration: with the default
    (`prepend_scheme="first"`) it is *skipped* when the text already starts with a
    space, and `add_prefix_space=False` drops it altogether. SentencePiece always adds it.
    The behaviour is probed once and corrected, so every segment gets SentencePiece's ids.
    Special-token strings inside the text (`</s>`, `[PAD]`) stay text, as in SentencePiece,
    so data cannot inject an end of sequence.
    """

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.bos_token_id = int(tokenizer.bos_token_id)
        plain = self._raw("a")
        spaced = self._raw(" a")
        pieces = tokenizer.convert_ids_to_tokens(plain)
        self._always_prefix = not pieces or not pieces[0].startswith("\u2581")
        self._prefix_leading_space = not self._always_prefix and plain == spaced

    @property
    def byte_fallback_ids(self) -> frozenset[int]:
        """Ids of SentencePiece's byte pieces `<0x00>`..`<0xFF>`: a run of them decodes only
        once it is closed, so streaming holds text back while one is last."""
        if not hasattr(self, "_byte_fallback_ids"):
            self._byte_fallback_ids = frozenset(
                index
                for piece, index in self.tokenizer.get_vocab().items()
                if re.fullmatch(r"<0x[0-9A-Fa-f]{2}>", piece)
            )
        return self._byte_fallback_ids

    def _raw(self, text: str) -> list[int]:
        return list(
            self.tokenizer(text, add_special_tokens=False, split_special_tokens=True)["input_ids"]
        )

    def encode(self, text: str, add_bos: bool = False) -> list[int]:
        if text == "":
            body: list[int] = []
        elif self._always_prefix or (self._prefix_leading_space and text.startswith(" ")):
            body = self._raw(" " + text)
        else:
            body = self._raw(text)
        return ([self.bos_token_id] if add_bos else []) + body

    def tokenize_prompt(self, prompt: str) -> TokenizedPrompt:
        """Split at placeholders; BOS + segment 0, then each later segment without specials."""
        segments, modalities = split_prompt(prompt)
        segment_ids = [self.encode(text, add_bos=index == 0) for index, text in enumerate(segments)]
        return TokenizedPrompt(segment_ids=segment_ids, modalities=modalities)

    def decode(self, token_ids: Iterable[int]) -> str:
        return self.tokenizer.decode(list(token_ids), skip_special_tokens=True)


def conversation_from_inputs(
    question: str,
    inputs: Sequence[ModalInput] = (),
    system: str | None = None,
    history: Sequence[Turn] = (),
) -> Conversation:
    """A conversation whose last turn asks `question` about `inputs` after `history`."""
    turns = list(history) + [Turn(question=question, inputs=list(inputs))]
    return Conversation(turns=turns, system=SYSTEM_TEXT if system is None else system)
