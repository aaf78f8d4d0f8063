"""The LM tokenizer a preparation step uses: a tokenizer folder, or `tiny`.

`tiny` is the offline SentencePiece tokenizer of `biomedgpt_tools.model.tiny`, the one every
test and the demo model use. Folders are loaded the way the model loads them (Llama class,
`[PAD]` added), so token ids agree with training and inference.
"""

from __future__ import annotations

import tempfile
from pathlib import Path


def load_text_tokenizer(spec: str):
    from biomedgpt_tools.model.prompt import load_text_tokenizer as load_llm_tokenizer

    if spec == "tiny":
        from biomedgpt_tools.model.tiny import write_tiny_tokenizer

        return load_llm_tokenizer(
            write_tiny_tokenizer(tempfile.mkdtemp(prefix="biomedgpt-tiny-tokenizer-"))
        )
    path = Path(spec)
    if not path.is_dir():
        raise FileNotFoundError(
            f"tokenizer {spec!r} is neither `tiny` nor a folder; pass the LM folder that holds "
            "tokenizer.model / tokenizer.json (e.g. BioMedGPT-LM-7B)"
        )
    return load_llm_tokenizer(path)
