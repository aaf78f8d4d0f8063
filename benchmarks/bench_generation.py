"""Batched generation against the reference's one-request-at-a-time loop, same weights.

The baseline does what the reference notebook does: for each conversation, build its
input embeddings and call `llm.generate(inputs_embeds=...)` with no attention mask, one
conversation at a time. The contender is `BioMedGPT.generate` (left-padded batches with a
mask and KV cache). Both must produce the same tokens; the script prints both timings
and the speedup (target: at least 4x). Small CPU config: hidden 256, 4 layers each.

    .venv/bin/python benchmarks/bench_generation.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

import torch

from biomedgpt_tools.model.api import BioMedGPT
from biomedgpt_tools.model.generation import trim_at_eos
from biomedgpt_tools.model.modeling_biomedgpt import build_multimodal_batch
from biomedgpt_tools.model.prompt import Molecule, Protein, Turn
from biomedgpt_tools.model.requests import GenerationRequest
from biomedgpt_tools.model.tiny import build_tiny_biomedgpt

MOLECULES = [
    "CC(=O)Oc1ccccc1C(=O)O",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
    "C[C@H](N)C(=O)O",
    "CCO",
    "c1ccc2ccccc2c1",
    "CC(C)Cc1ccc(cc1)[C@@H](C)C(=O)O",
    "[Na+].[Cl-]",
    "OC[C@H]1OC(O)[C@H](O)[C@@H](O)[C@@H]1O",
]
PROTEINS = [
    "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQ",
    "GSHMSLFDFFKNKGSAAATATSK",
    "MVLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHFDLSHGSAQVKGHGKKVADALTNAVAHV",
    "MALWMRLLPLLALLALWGPDPAAAFVNQHLCGSHLVEALYLVCGERGFFYTPKT",
]
QUESTIONS = [
    "Please describe the molecule.",
    "What is the function of this protein?",
    "Does this molecule bind to this protein?",
    "What is the subcellular location of this protein?",
]


def mixed_requests(count: int = 32) -> list[GenerationRequest]:
    """Molecules, proteins, both, text only and a two-turn conversation, of varied lengths."""
    requests = []
    for index in range(count):
        kind = index % 5
        molecule = Molecule(MOLECULES[index % len(MOLECULES)])
        protein = Protein(PROTEINS[index % len(PROTEINS)])
        if kind == 0:
            requests.append(GenerationRequest(QUESTIONS[0], [molecule]))
        elif kind == 1:
            requests.append(GenerationRequest(QUESTIONS[1 + index % 3 // 2 * 2], [protein]))
        elif kind == 2:
            requests.append(GenerationRequest(QUESTIONS[2], [molecule, protein]))
        elif kind == 3:
            requests.append(
                GenerationRequest("What is a kinase inhibitor?" + " Explain briefly." * (index % 4))
            )
        else:
            history = [Turn(QUESTIONS[0], [molecule], answer="It is a small organic molecule.")]
            requests.append(GenerationRequest("Is it soluble in water?", history=history))
    return requests


@torch.inference_mode()
def reference_loop(
    biomedgpt: BioMedGPT, requests: list[GenerationRequest], max_new_tokens: int
) -> list[list[int]]:
    """The reference's way: one conversation at a time, inputs_embeds only, no attention mask."""
    model = biomedgpt.model
    text = model.config.text_config
    outputs = []
    for request in requests:
        batch = build_multimodal_batch(
            [request.conversation()], biomedgpt.segments, text.pad_token_id
        )
        embeds = model.embed_batch(batch)  # (1, T, C)
        new = model.llm.generate(
            inputs_embeds=embeds,
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            repetition_penalty=1.0,
            eos_token_id=text.eos_token_id,
            pad_token_id=text.pad_token_id,
        )
        outputs.append(trim_at_eos(new[0].tolist(), text.eos_token_id).token_ids)
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer new tokens, for a smoke run")
    parser.add_argument("--requests", type=int, default=32)
    parser.add_argument(
        "--max-new-tokens", type=int, default=None, help="default 128 (32 with --quick)"
    )
    parser.add_argument(
        "--batch-size", type=int, default=32, help="default 32: the 32 requests in one batch"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads for both paths (default 1: on a shared 2-core machine two "
        "threads spin-wait and make small matrix products ~50x slower)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    max_new_tokens = args.max_new_tokens or (32 if args.quick else 128)

    with tempfile.TemporaryDirectory() as workdir:
        biomedgpt = build_tiny_biomedgpt(workdir, seed=0, preset="small")
    requests = mixed_requests(args.requests)
    config = biomedgpt.model.config
    print(
        f"model: small preset (LM hidden {config.text_config.hidden_size} x {config.text_config.num_hidden_layers} layers, "
        f"ESM {config.protein_config.hidden_size} x {config.protein_config.num_hidden_layers}, "
        f"GIN {config.molecule_config.hidden_size} x {config.molecule_config.num_layers}), fp32, "
        f"{torch.get_num_threads()} CPU threads"
    )
    print(f"{len(requests)} mixed requests, {max_new_tokens} new tokens max, greedy")

    # Warm up both paths once so neither pays first-call costs in the timing.
    reference_loop(biomedgpt, requests[:1], 2)
    biomedgpt.generate(requests[:2], max_new_tokens=2)

    # CPU time is reported next to wall time: on a shared machine the wall clock mostly
    # measures the neighbours, while CPU time (one thread) measures the work done.
    start, start_cpu = time.perf_counter(), time.process_time()
    baseline = reference_loop(biomedgpt, requests, max_new_tokens)
    baseline_s, baseline_cpu = time.perf_counter() - start, time.process_time() - start_cpu

    start, start_cpu = time.perf_counter(), time.process_time()
    results = biomedgpt.generate(
        requests, batch_size=args.batch_size, max_new_tokens=max_new_tokens
    )
    batched_s, batched_cpu = time.perf_counter() - start, time.process_time() - start_cpu

    same = [result.token_ids for result in results] == baseline
    tokens = sum(len(ids) for ids in baseline)
    print(f"{tokens} new tokens in all")
    print(
        f"reference loop (one at a time, no mask): wall {baseline_s:7.2f} s, CPU {baseline_cpu:7.2f} s "
        f"({tokens / baseline_s:7.1f} tokens/s wall)"
    )
    print(
        f"batched (batch size {args.batch_size}, mask, KV cache): wall {batched_s:7.2f} s, CPU {batched_cpu:7.2f} s "
        f"({tokens / batched_s:7.1f} tokens/s wall)"
    )
    print(
        f"speedup: {baseline_s / batched_s:.1f}x wall, {baseline_cpu / batched_cpu:.1f}x CPU time (target >= 4x)"
    )
    distinct = len({tuple(ids) for ids in baseline})
    print(f"same tokens for every request: {same} ({distinct} distinct outputs of {len(baseline)})")
    if not same:
        mismatched = [i for i, r in enumerate(results) if r.token_ids != baseline[i]]
        print(f"requests whose tokens differ: {mismatched}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
