"""A writer process for the durability tests: writes N annotations in batches, reporting each.

Run as `python -m tests.store.writer_process --count N --batch B --prefix P [--path DIR | --url URL]`.
Prints "opened" once the store is open, then "batch <first> <last>" after each add_many call
has RETURNED (so every reported index must survive a SIGKILL), then "done". If the embedded
store is held by another process it prints "busy: <message>" and exits 3.
Optional --go FILE waits for FILE to exist before opening (to start two writers together);
--hold FILE waits, after opening, until FILE exists (to keep the store busy on purpose).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from biomedgpt_tools.store import AnnotationRecord, AnnotationStore, StoreBusyError
from tests.store.hashing_embedder import HashingTextEmbedder

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def molecule_key(prefix: str, index: int) -> str:
    """A well-formed, distinct InChIKey-shaped key for (prefix, index)."""
    digits = []
    for _ in range(10):
        index, remainder = divmod(index, 26)
        digits.append(LETTERS[remainder])
    return f"{(prefix * 14)[:4]}{'A' * 10}-{''.join(digits)}-N"


def make_record(prefix: str, index: int) -> AnnotationRecord:
    return AnnotationRecord(
        kind="molecule",
        key=molecule_key(prefix, index),
        question=f"What does compound {prefix}{index} do?",
        answer=f"Compound {prefix}{index} is test molecule number {index} written by writer {prefix}.",
        model_id="writer-test",
        model_revision="r1",
        display_name=f"{prefix}{index}",
    )


def _wait_for(path: str | None) -> None:
    if path:
        while not Path(path).exists():
            time.sleep(0.02)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--path")
    parser.add_argument("--url")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--go")
    parser.add_argument("--hold")
    args = parser.parse_args()

    _wait_for(args.go)
    try:
        store = AnnotationStore.open(path=args.path, url=args.url, embedder=HashingTextEmbedder())
    except StoreBusyError as error:
        print(f"busy: {error}", flush=True)
        return 3
    print("opened", flush=True)
    _wait_for(args.hold)
    with store:
        for start in range(0, args.count, args.batch):
            stop = min(start + args.batch, args.count)
            store.add_many([make_record(args.prefix, index) for index in range(start, stop)])
            print(f"batch {start} {stop - 1}", flush=True)
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
