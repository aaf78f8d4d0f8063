"""Amino-acid sequences as the ESM-2 protein encoder of BioMedGPT-10B reads them.

The reference hands raw text to `EsmTokenizer`, which does not upper-case (a lowercase run
becomes a single `<unk>`) and silently truncates to 1022 residues. Here every sequence is
cleaned and validated first, so the encoder sees one token per residue or the caller gets an
error that says what to fix.

Pure Python on purpose: the CLI and the LangChain tools validate input without importing
torch or transformers.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Literal

# ESM-2 vocabulary, in id order (facebook/esm2_* vocab.txt; fair-esm's "ESM-1b" alphabet).
ESM_VOCAB: tuple[str, ...] = (
    "<cls>", "<pad>", "<eos>", "<unk>",
    "L", "A", "G", "V", "S", "E", "R", "T", "I", "D", "P", "K", "Q", "N", "F", "Y", "M", "H",
    "W", "C", "X", "B", "U", "Z", "O",
    ".", "-", "<null_1>", "<mask>",
)  # fmt: skip
ESM_TOKEN_ID: dict[str, int] = {token: index for index, token in enumerate(ESM_VOCAB)}
CLS_TOKEN_ID = ESM_TOKEN_ID["<cls>"]
PAD_TOKEN_ID = ESM_TOKEN_ID["<pad>"]
EOS_TOKEN_ID = ESM_TOKEN_ID["<eos>"]
UNK_TOKEN_ID = ESM_TOKEN_ID["<unk>"]
MASK_TOKEN_ID = ESM_TOKEN_ID["<mask>"]

# The 20 standard residues plus X (any), B (D/N), U (selenocysteine), Z (E/Q), O (pyrrolysine).
# '.' and '-' are alignment gaps in the vocabulary, not residues, so they are rejected.
AMINO_ACID_LETTERS: frozenset[str] = frozenset(
    token for token in ESM_VOCAB if len(token) == 1 and token.isalpha()
)

ESM_MAX_RESIDUES = 1022
"""Residues ESM-2 reads in BioMedGPT-10B: 1024 tokens minus <cls> and <eos>."""

# A sequence this long made only of nucleotide letters is DNA/RNA, not a protein: all of
# A, C, G, T, U, N are also residue letters, so it would otherwise pass as garbage.
_NUCLEOTIDE_LETTERS = frozenset("ACGTUN")
_MIN_NUCLEOTIDE_RUN = 30
_MAX_REPORTED = 10  # offending characters listed in an error before "and N more"


class InvalidProteinError(ValueError):
    """A protein sequence that the ESM-2 encoder cannot read; the message says what to fix."""


class ProteinTruncatedWarning(UserWarning):
    """A sequence longer than the limit was cut because the caller asked for truncation."""


def truncation_note(length: int, which: str = "the sequence") -> str:
    """What an answer says when its protein was cut to the residues ESM-2 reads (ProteinQA,
    bulk annotation, `generate --on-too-long truncate`): one wording everywhere."""
    return (
        f"{which} has {length} residues; BioMedGPT read the first {ESM_MAX_RESIDUES}, as the "
        "released model did (its ESM-2 encoder reads 1024 tokens with <cls> and <eos>)"
    )


def normalize_protein_sequence(
    sequence: str,
    *,
    max_residues: int = ESM_MAX_RESIDUES,
    on_too_long: Literal["error", "truncate"] = "error",
) -> str:
    """Clean text into the residue string ESM-2 should see, or raise `InvalidProteinError`.

    - accepts one FASTA record: a first line starting with '>' is dropped, a second is an error;
    - removes all whitespace (line breaks, the spaces of blocked sequence formats);
    - drops one trailing '*' (stop codon); upper-cases;
    - every character must be one of ESM-2's residue letters (``AMINO_ACID_LETTERS``); the
      error lists the offending characters with their 1-based positions in the cleaned text;
    - more than ``max_residues`` residues: an error by default (ESM-2 was trained on at most
      1022); with ``on_too_long="truncate"`` the first ``max_residues`` are kept and a
      `ProteinTruncatedWarning` says how many were dropped;
    - 30 or more letters drawn only from A, C, G, T, U, N (at least three of them) are taken
      for DNA/RNA and rejected.
    """
    if on_too_long not in ("error", "truncate"):
        raise ValueError(f"on_too_long must be 'error' or 'truncate', not {on_too_long!r}")
    if not isinstance(max_residues, int) or isinstance(max_residues, bool) or max_residues < 1:
        raise ValueError(f"max_residues must be a positive integer, not {max_residues!r}")
    if not isinstance(sequence, str):
        raise InvalidProteinError(
            f"expected a protein sequence string, got {type(sequence).__name__} {sequence!r}"
        )

    residues = "".join(_drop_fasta_header(sequence).split())
    if residues.endswith("*"):
        residues = residues[:-1]
    residues = residues.upper()
    if not residues:
        raise InvalidProteinError(
            f"protein sequence is empty ({_shorten(sequence)!r}); give amino-acid letters such "
            f"as 'MKTAYIAKQR' or a FASTA record"
        )

    offenders = [
        (pos, char) for pos, char in enumerate(residues, 1) if char not in AMINO_ACID_LETTERS
    ]
    if offenders:
        raise InvalidProteinError(_describe_offenders(residues, offenders))

    if len(residues) >= _MIN_NUCLEOTIDE_RUN and _looks_like_nucleotides(residues):
        raise InvalidProteinError(
            f"protein sequence {_shorten(residues)!r} uses only the letters A, C, G, T, U, N: "
            f"it looks like DNA or RNA. Translate it to amino acids first."
        )

    if len(residues) > max_residues:
        if on_too_long == "error":
            raise InvalidProteinError(
                f"protein sequence has {len(residues)} residues, more than the {max_residues} "
                f"the ESM-2 encoder reads (1024 tokens including <cls> and <eos>). Pass "
                f"on_too_long='truncate' to keep the first {max_residues} residues, or split "
                f"the protein into domains."
            )
        warnings.warn(
            f"protein sequence has {len(residues)} residues; kept the first {max_residues} and "
            f"dropped {len(residues) - max_residues}",
            ProteinTruncatedWarning,
            stacklevel=2,
        )
        residues = residues[:max_residues]
    return residues


def protein_token_ids(
    sequence: str,
    *,
    max_residues: int = ESM_MAX_RESIDUES,
    on_too_long: Literal["error", "truncate"] = "error",
) -> list[int]:
    """ESM-2 input ids: <cls>, one id per residue, <eos> (what `EsmTokenizer` gives for clean text)."""
    residues = normalize_protein_sequence(
        sequence, max_residues=max_residues, on_too_long=on_too_long
    )
    return [CLS_TOKEN_ID, *(ESM_TOKEN_ID[residue] for residue in residues), EOS_TOKEN_ID]


def write_esm_vocab(directory: str | Path) -> Path:
    """Write ESM-2's vocab.txt (and a tokenizer_config.json if none exists) into `directory`.

    Lets tests and tiny presets build an ESM folder that `EsmTokenizer` / `AutoTokenizer`
    load offline. Returns the path of vocab.txt.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    vocab_path = directory / "vocab.txt"
    vocab_path.write_text("\n".join(ESM_VOCAB) + "\n", encoding="utf-8")
    config_path = directory / "tokenizer_config.json"
    if not config_path.exists():
        config = {"tokenizer_class": "EsmTokenizer", "model_max_length": ESM_MAX_RESIDUES + 2}
        config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return vocab_path


def _looks_like_nucleotides(residues: str) -> bool:
    letters = set(residues)
    return letters <= _NUCLEOTIDE_LETTERS and len(letters) >= 3  # poly-A is a peptide


def _drop_fasta_header(text: str) -> str:
    lines = text.strip().splitlines()
    if lines and lines[0].lstrip().startswith(">"):
        lines = lines[1:]
    headers = [line for line in lines if line.lstrip().startswith(">")]
    if headers:
        raise InvalidProteinError(
            f"protein input holds more than one FASTA record (another header: "
            f"{_shorten(headers[0].strip())!r}); pass one sequence at a time"
        )
    return "\n".join(lines)


def _describe_offenders(residues: str, offenders: list[tuple[int, str]]) -> str:
    listed = ", ".join(f"{char!r} at {pos}" for pos, char in offenders[:_MAX_REPORTED])
    more = len(offenders) - _MAX_REPORTED
    if more > 0:
        listed += f" (and {more} more)"
    chars = {char for _, char in offenders}
    hints = []
    if chars & {"-", "."}:
        hints.append("remove alignment gaps ('-', '.')")
    if "*" in chars:
        hints.append("'*' is a stop codon and is only accepted at the end")
    if any(char.isdigit() for char in chars):
        hints.append("remove position numbers")
    hint = "; ".join(hints) + ". " if hints else ""
    hint = hint[:1].upper() + hint[1:]
    return (
        f"protein sequence {_shorten(residues)!r} has characters that are not amino-acid "
        f"letters: {listed} (positions count residues after removing whitespace and the "
        f"FASTA header). {hint}Allowed letters: {''.join(sorted(AMINO_ACID_LETTERS))}."
    )


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
