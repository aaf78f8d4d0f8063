"""`prepare-corpus`: S2ORC-format JSON lines -> packed token blocks for the `lm` stage.

Each input shard becomes one part; a part whose `.json` exists is finished and skipped on a
rerun, and papers it kept still count as seen, so duplicates across shards drop either way.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from training.config import ConfigError
from training.data.finished_outputs import is_finished, write_json, writing
from training.data.input_files import DataFormatError, count_lines, read_json_lines
from training.data.s2orc_papers import read_id_list, select_papers, split_sentences
from training.data.token_blocks import BlockPacker, sentence_chunks, token_dtype
from training.text_tokenizer import load_text_tokenizer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs", nargs="+", type=Path, help="S2ORC JSON-lines shards (.jsonl or .jsonl.gz)"
    )
    parser.add_argument("--out", type=Path, required=True, help="corpus folder to write")
    parser.add_argument("--tokenizer", required=True, help="LM tokenizer folder, or `tiny`")
    parser.add_argument(
        "--ids", type=Path, help="file of PMC/PubMed ids to keep (default: any paper with one)"
    )
    parser.add_argument(
        "--block-size", type=int, default=2048, help="tokens per block (paper: 2048)"
    )
    parser.add_argument(
        "--max-chunk-tokens", type=int, help="sentence-chunk size (default: block size)"
    )


def _part_names(index: int) -> tuple[str, str, str]:
    stem = f"part-{index:05d}"
    return f"{stem}.bin", f"{stem}.json", f"{stem}.ids.txt"


def run(args: argparse.Namespace) -> int:
    if args.block_size < 2:
        raise ConfigError(f"--block-size must be at least 2, got {args.block_size}")
    try:
        tokenizer = load_text_tokenizer(args.tokenizer)
    except ValueError as error:  # no tokenizer files there: a usage error, not a traceback
        raise ConfigError(f"--tokenizer {args.tokenizer}: {error}") from None
    dtype = token_dtype(len(tokenizer))
    wanted = read_id_list(args.ids.read_text().splitlines()) if args.ids else None
    max_chunk = args.max_chunk_tokens or args.block_size
    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    seen_ids: set[str] = set()
    parts = []
    for index, shard in enumerate(args.inputs):
        bin_name, json_name, ids_name = _part_names(index)
        if is_finished(out / json_name):
            stats = json.loads((out / json_name).read_text())
            if stats["source"] != str(shard):
                raise ConfigError(
                    f"{out / json_name} was made from {stats['source']}, not {shard}: pass the "
                    "shards in the same order as the first run, or use a new --out folder"
                )
            seen_ids.update((out / ids_name).read_text().split())
            parts.append(stats)
            print(f"{shard}: already done ({stats['n_blocks']} blocks), skipped")
            continue
        counts: Counter = Counter()
        packer = BlockPacker(args.block_size)
        kept_ids: list[str] = []
        n_blocks = 0
        records = (record for _, record in read_json_lines(shard))
        progress = tqdm(total=count_lines(shard), desc=shard.name, unit="paper")
        with writing(out / bin_name, "wb") as handle:
            for paper in select_papers(_progress(records, progress), wanted, seen_ids, counts):
                kept_ids.extend(paper.ids)
                sentences = (
                    tokenizer.encode(sentence, add_special_tokens=False)
                    for paragraph in paper.paragraphs
                    for sentence in split_sentences(paragraph)
                )
                chunks = list(sentence_chunks(sentences, max_chunk - 1))
                for position, chunk in enumerate(chunks):
                    tokens = [bos] + chunk + ([eos] if position == len(chunks) - 1 else [])
                    counts["tokens"] += len(tokens)
                    for block in packer.add(tokens):
                        block.astype(dtype).tofile(handle)
                        n_blocks += 1
        progress.close()
        with writing(out / ids_name) as handle:
            handle.write("\n".join(kept_ids) + "\n")
        stats = {
            "file": bin_name,
            "source": str(shard),
            "n_blocks": n_blocks,
            "tokens_dropped_at_end": packer.leftover,
            **counts,
        }
        write_json(out / json_name, stats)
        parts.append(stats)
        print(f"{shard}: kept {counts['kept']} of {counts['read']} papers, {n_blocks} blocks")
    if not sum(p["n_blocks"] for p in parts):  # a corpus of nothing would only fail in training
        read = sum(p.get("read", 0) for p in parts)
        raise DataFormatError(
            f"{', '.join(map(str, args.inputs))}: no token blocks ({read} paper(s) read, none with "
            "enough text); give S2ORC JSON lines with title/abstract/body text"
        )
    write_json(
        out / "index.json",
        {
            "block_size": args.block_size,
            "dtype": dtype.str,
            "tokenizer": args.tokenizer,
            "n_blocks": sum(p["n_blocks"] for p in parts),
            "parts": parts,
        },
    )
    print(f"{out}: {sum(p['n_blocks'] for p in parts)} blocks of {args.block_size} tokens")
    return 0


def _progress(records, progress):
    for record in records:
        progress.update(1)
        yield record
