"""One real vLLM engine (CPU build) for the session, on a tiny model whose LM has head_dim 32.

These tests import vLLM in process, so they run in the vLLM environment (`make test-vllm`,
part of `make test`). Elsewhere they are left out of collection; with
BIOMEDGPT_REQUIRE_VLLM=1 (set by the Makefile) a missing vLLM is an error, never a skip.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from biomedgpt_tools.serving.vllm_engine import vllm_available

if not vllm_available():
    if os.environ.get("BIOMEDGPT_REQUIRE_VLLM") == "1":
        raise RuntimeError(
            "BIOMEDGPT_REQUIRE_VLLM=1 but vllm cannot be imported here; run `make vllm-env` "
            "and the tests with .venv-vllm/bin/python"
        )
    collect_ignore_glob = ["test_*.py"]

VLLM_SEED = 0
VLLM_HEAD_DIM = 32  # vLLM's CPU attention refuses the tiny preset's 8 (and 16)
KV_CACHE_BYTES = 256 << 20


class EngineThread:
    """A started engine on its own event loop in a thread, so every test of the session can use
    the one engine (vLLM takes 25-75 s to start on 2 cores) from plain synchronous tests."""

    def __init__(self, engine):
        self.engine = engine
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.run(engine.start())

    def run(self, coroutine, timeout: float = 600):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        try:
            self.run(self.engine.close(), timeout=60)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)


@pytest.fixture(scope="session")
def vllm_model_dir(tmp_path_factory) -> Path:
    """A tiny BioMedGPT folder (save_pretrained layout) whose LM vLLM's CPU kernels accept."""
    from biomedgpt_tools.model.tiny import build_tiny_biomedgpt

    root = tmp_path_factory.mktemp("vllm-biomedgpt")
    model = build_tiny_biomedgpt(root / "assets", seed=VLLM_SEED, lm_head_dim=VLLM_HEAD_DIM)
    return model.save_pretrained(root / "model")


@pytest.fixture(scope="session")
def vllm_biomedgpt(vllm_model_dir):
    """The same folder in this process: what in-process `biomedgpt generate` answers with."""
    from biomedgpt_tools.model.api import BioMedGPT

    return BioMedGPT.from_pretrained(vllm_model_dir, dtype="fp32", device="cpu")


@pytest.fixture(scope="session")
def vllm_engine(vllm_model_dir, tmp_path_factory):
    from biomedgpt_tools.serving.llama_folder import derive_llama_folder
    from biomedgpt_tools.serving.vllm_engine import VLLMEngine

    lm_dir = derive_llama_folder(vllm_model_dir, tmp_path_factory.mktemp("vllm-lm") / "lm")
    running = EngineThread(
        VLLMEngine(lm_dir, dtype="float32", max_num_seqs=16, kv_cache_memory_bytes=KV_CACHE_BYTES)
    )
    yield running
    running.stop()
