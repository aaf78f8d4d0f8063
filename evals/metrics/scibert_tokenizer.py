"""The SciBERT uncased WordPiece tokenizer the MolT5 caption metrics are defined with.

Two traps, both silent: transformers 5 builds an all-[UNK] tokenizer from a bare
`vocab_file=` path, and `AutoTokenizer` cannot infer the class from a folder that has no
config.json. So we load the folder with `BertTokenizerFast.from_pretrained` and check that
a known sentence does not come out as [UNK].
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

SCIBERT_HUB_NAME = "allenai/scibert_scivocab_uncased"
REPO_ROOT = Path(__file__).resolve().parents[2]


class TokenizerUnavailableError(RuntimeError):
    """The SciBERT vocabulary could not be loaded, or loads into an unusable tokenizer."""


def default_vocab() -> str:
    """../shared/data/scibert_scivocab_uncased when present, else the Hugging Face name."""
    shared = Path(os.environ.get("BIOMEDGPT_SHARED_DIR", REPO_ROOT.parent / "shared"))
    folder = shared / "data" / "scibert_scivocab_uncased"
    if (folder / "vocab.txt").is_file():
        return str(folder)
    return SCIBERT_HUB_NAME


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0") not in ("", "0", "false", "False")


@functools.cache
def load_scibert_tokenizer(vocab: str):
    """Load a SciBERT tokenizer from a folder (vocab.txt inside) or a Hub name."""
    from transformers import BertTokenizerFast

    path = Path(vocab)
    if path.is_file():
        raise TokenizerUnavailableError(
            f"--vocab {vocab} is a file; pass the folder that holds vocab.txt (loading a bare "
            "vocab file in transformers 5 gives an all-[UNK] tokenizer)"
        )
    if not path.is_dir() and (vocab != SCIBERT_HUB_NAME or _offline()):
        where = "folder not found" if vocab != SCIBERT_HUB_NAME else "the hub is offline"
        raise TokenizerUnavailableError(
            f"SciBERT vocabulary {vocab}: {where}; pass --vocab DIR with a folder holding "
            "vocab.txt (e.g. ../shared/data/scibert_scivocab_uncased), or go online to use "
            f"{SCIBERT_HUB_NAME}"
        )
    try:
        tokenizer = BertTokenizerFast.from_pretrained(vocab, do_lower_case=True)
    except (OSError, ValueError) as error:
        raise TokenizerUnavailableError(
            f"could not load the SciBERT tokenizer from {vocab}: {str(error).splitlines()[0]}"
        ) from None
    probe = tokenizer.tokenize("The molecule is a carboxylic acid.")
    if not probe or all(token == tokenizer.unk_token for token in probe):
        raise TokenizerUnavailableError(
            f"the tokenizer loaded from {vocab} maps every word to {tokenizer.unk_token}; "
            "check that the folder holds SciBERT's vocab.txt"
        )
    return tokenizer
