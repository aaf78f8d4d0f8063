"""Fixed-length token blocks in memory-mapped arrays: the stage-1 training format.

A corpus folder holds `part-NNNNN.bin` (raw little-endian uint16/uint32 tokens, row-major
`[n_blocks, block_size]`), one `part-NNNNN.json` per part (its block count and statistics)
and `index.json` (block size, dtype, parts). Readers map the parts without loading them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np


def token_dtype(vocab_size: int) -> np.dtype:
    return np.dtype("<u2") if vocab_size <= 2**16 else np.dtype("<u4")


def sentence_chunks(sentences: Iterable[list[int]], max_tokens: int) -> Iterator[list[int]]:
    """Group tokenized sentences into chunks of at most `max_tokens`, breaking between sentences.

    A sentence longer than `max_tokens` on its own is cut into `max_tokens` pieces.
    """
    chunk: list[int] = []
    for tokens in sentences:
        while len(tokens) > max_tokens:
            if chunk:
                yield chunk
                chunk = []
            yield tokens[:max_tokens]
            tokens = tokens[max_tokens:]
        if chunk and len(chunk) + len(tokens) > max_tokens:
            yield chunk
            chunk = []
        chunk = chunk + tokens
    if chunk:
        yield chunk


class BlockPacker:
    """Concatenates token runs and emits full `[block_size]` rows; the tail stays pending."""

    def __init__(self, block_size: int):
        self.block_size = block_size
        self._pending: list[int] = []

    def add(self, tokens: list[int]) -> Iterator[np.ndarray]:
        self._pending.extend(tokens)
        while len(self._pending) >= self.block_size:
            yield np.asarray(self._pending[: self.block_size], dtype=np.int64)
            del self._pending[: self.block_size]

    @property
    def leftover(self) -> int:
        return len(self._pending)


class TokenBlocks:
    """Read-only view of a prepared corpus: `len()` blocks, `[i]` -> int64 array `(block_size,)`."""

    def __init__(self, folder: Path):
        folder = Path(folder)
        index_path = folder / "index.json"
        if not index_path.is_file():
            raise FileNotFoundError(
                f"{folder} has no index.json: it is not a finished corpus; run "
                "`python -m training prepare-corpus` (it resumes) to finish it"
            )
        index = json.loads(index_path.read_text())
        self.block_size = int(index["block_size"])
        dtype = np.dtype(index["dtype"])
        self._parts = []
        self._starts = []
        total = 0
        for part in index["parts"]:
            n_blocks = int(part["n_blocks"])
            if n_blocks == 0:
                continue
            array = np.memmap(
                folder / part["file"], dtype=dtype, mode="r", shape=(n_blocks, self.block_size)
            )
            self._parts.append(array)
            self._starts.append(total)
            total += n_blocks
        self._length = total

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> np.ndarray:
        if not 0 <= index < self._length:
            raise IndexError(f"block {index} out of range for {self._length} blocks")
        part = int(np.searchsorted(self._starts, index, side="right")) - 1
        return np.asarray(self._parts[part][index - self._starts[part]], dtype=np.int64)


def write_token_blocks(folder: Path, rows: np.ndarray) -> Path:
    """A one-part corpus in this layout from `rows` (n_blocks, block_size) of token ids, for
    tests and benchmarks that need a corpus without running prepare-corpus."""
    folder.mkdir(parents=True)
    n_blocks, block_size = rows.shape
    rows.astype("<u2").tofile(folder / "part-00000.bin")
    index = {
        "block_size": block_size,
        "dtype": "<u2",
        "parts": [{"file": "part-00000.bin", "n_blocks": n_blocks}],
    }
    (folder / "index.json").write_text(json.dumps(index))
    return folder
