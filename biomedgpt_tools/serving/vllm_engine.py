"""The vLLM engine: BioMedGPT's LM on vLLM's async engine, fed with prompt embeddings.

The server embeds each conversation (text, atoms, residues) and hands vLLM one row of the
LM's input embeddings; vLLM schedules every row in flight together (continuous batching,
paged KV cache). Deliberately left out: repetition/presence penalties, which with prompt
embeddings of mixed lengths can kill vLLM's engine (vllm #57719), and LoRA, which does not
work with prompt embeddings (vllm #51121). vLLM starts its workers with spawn: a script
that builds this engine needs the `if __name__ == "__main__":` guard.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import torch

from .engine import EngineRequest, EngineStep

# vLLM's dtype names for ours; the LM folder is loaded in this dtype.
_VLLM_DTYPES = {
    "fp32": "float32",
    "float32": "float32",
    "bf16": "bfloat16",
    "bfloat16": "bfloat16",
    "fp16": "float16",
    "float16": "float16",
}
_TORCH_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def vllm_available() -> bool:
    """Whether vLLM can be imported here (the CPU build or the official one)."""
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


class VLLMEngine:
    """Engine (see engine.py) on `vllm.v1.engine.async_llm.AsyncLLM` with enable_prompt_embeds."""

    name = "vllm"

    def __init__(
        self,
        lm_dir: Path,
        *,
        dtype: str = "float32",
        tensor_parallel_size: int = 1,
        gpu_memory_utilization: float = 0.8,
        max_num_seqs: int = 64,
        max_model_len: int | None = None,
        kv_cache_memory_bytes: int | None = None,
        seed: int = 0,
    ):
        if dtype not in _VLLM_DTYPES:
            raise ValueError(f"unknown dtype {dtype!r}; use one of float32, bfloat16, float16")
        if not 0.0 < gpu_memory_utilization <= 1.0:
            raise ValueError(
                f"gpu_memory_utilization must be in (0, 1], not {gpu_memory_utilization}"
            )
        self.lm_dir = Path(lm_dir)
        self.dtype = _VLLM_DTYPES[dtype]
        self.tensor_parallel_size = tensor_parallel_size
        self.gpu_memory_utilization = gpu_memory_utilization
        self.max_num_seqs = max_num_seqs
        self.max_model_len = max_model_len
        self.kv_cache_memory_bytes = kv_cache_memory_bytes  # None: vLLM's default share
        self.seed = seed
        self._llm = None
        self._in_flight = 0
        self._ids = itertools.count()

    async def start(self) -> None:
        """Start vLLM's engine process and load the LM (25 s on a quiet 2-core CPU, 140 s on a busy one)."""
        if self._llm is not None:
            return
        from vllm import AsyncEngineArgs
        from vllm.v1.engine.async_llm import AsyncLLM

        from .vllm_plugin import register

        register()  # this process; vLLM's own processes run the plugin entry point
        args = AsyncEngineArgs(
            model=str(self.lm_dir),
            dtype=self.dtype,
            enable_prompt_embeds=True,
            skip_tokenizer_init=True,  # the server tokenizes and detokenizes; vLLM sees ids
            generation_config="vllm",  # no sampling defaults read from the model folder
            tensor_parallel_size=self.tensor_parallel_size,
            gpu_memory_utilization=self.gpu_memory_utilization,
            max_num_seqs=self.max_num_seqs,
            max_model_len=self.max_model_len,
            kv_cache_memory_bytes=self.kv_cache_memory_bytes,
            enable_lora=False,
            seed=self.seed,
            disable_log_stats=True,
        )
        self._llm = AsyncLLM.from_engine_args(args)

    async def stream(self, request: EngineRequest) -> AsyncIterator[EngineStep]:
        """New tokens as vLLM produces them; closing this iterator aborts the request in vLLM."""
        llm = self._require_started()
        from vllm import SamplingParams
        from vllm.sampling_params import RequestOutputKind

        params = SamplingParams(
            temperature=request.temperature,  # 0: greedy
            top_p=request.top_p,
            seed=request.seed,
            max_tokens=request.max_new_tokens,
            stop_token_ids=list(request.stop_token_ids),
            detokenize=False,
            output_kind=RequestOutputKind.DELTA,  # each output carries only the new tokens
        )
        embeds = request.prompt_embeds.detach().to("cpu", _TORCH_DTYPES[self.dtype])  # (T, C)
        request_id = f"{request.request_id}-{next(self._ids)}"  # unique even if callers reuse ids
        outputs = llm.generate({"prompt_embeds": embeds}, params, request_id)
        self._in_flight += 1
        try:
            # aclosing: an early close of this stream closes vLLM's generator, which aborts.
            async with contextlib.aclosing(outputs):
                async for output in outputs:
                    completion = output.outputs[0]
                    yield EngineStep(
                        token_ids=tuple(completion.token_ids),
                        finished=output.finished,
                        finish_reason=_finish_reason(completion.finish_reason)
                        if output.finished
                        else None,
                    )
        finally:
            self._in_flight -= 1

    def queue_depth(self) -> int:
        return self._in_flight

    def has_unfinished(self) -> bool:
        """Whether vLLM still holds requests: an aborted stream leaves it asynchronously."""
        return self._llm is not None and self._llm.output_processor.has_unfinished_requests()

    async def close(self) -> None:
        """Abort what is in flight and stop vLLM's engine process."""
        if self._llm is not None:
            llm, self._llm = self._llm, None
            llm.shutdown()

    def _require_started(self):
        if self._llm is None:
            raise RuntimeError("the vLLM engine is not started; await engine.start() first")
        return self._llm


def _finish_reason(reason: str | None) -> str:
    """vLLM says "stop" for a stop token and "length" at max_tokens, as the contract does."""
    return "length" if reason == "length" else "stop"
