"""One `biomedgpt serve` subprocess per test session (transformers engine) on the serving model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from biomedgpt_tools.testing.ports import free_port
from biomedgpt_tools.testing.processes import stop_process, wait_until_healthy
from tests.serving.models import write_serving_model

STARTUP_TIMEOUT_S = 120.0


class ServerProcess:
    """A real `biomedgpt serve` on a free loopback port; `url` once /health says ok."""

    def __init__(
        self, model_dir: Path, log_path: Path, *extra: str, engine: str = "transformers",
        startup_timeout_s: float = STARTUP_TIMEOUT_S,
    ):  # fmt: skip
        self.port = free_port()
        self.startup_timeout_s = startup_timeout_s
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "biomedgpt_tools", "serve", "--model", str(model_dir),
             "--engine", engine, "--port", str(self.port), *extra],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "BIOMEDGPT_API_KEY": ""},
        )  # fmt: skip
        self._wait_ready()

    def _wait_ready(self) -> None:
        try:
            wait_until_healthy(self.process, self.url, self.log_path, self.startup_timeout_s)
        except RuntimeError:
            self.stop()
            raise

    def metric(self, name: str) -> float:
        """The sum of a metric's samples whose name and labels start with `name`."""
        text = httpx.get(f"{self.url}/metrics", timeout=5).text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(name) and not line.startswith("#")
        )

    def stop(self) -> None:
        stop_process(self.process)
        self._log.close()


@pytest.fixture(scope="session")
def serving_model_dir(tmp_path_factory) -> Path:
    return write_serving_model(tmp_path_factory.mktemp("serving-model"))


@pytest.fixture(scope="session")
def serving_biomedgpt(serving_model_dir):
    """The same folder loaded in this process: what in-process `biomedgpt generate` answers with."""
    from biomedgpt_tools.model.api import BioMedGPT

    return BioMedGPT.from_pretrained(serving_model_dir, dtype="fp32", device="cpu")


@pytest.fixture(scope="session")
def model_server(serving_model_dir, tmp_path_factory):
    server = ServerProcess(
        serving_model_dir, tmp_path_factory.mktemp("serve-log") / "serve.log",
        "--max-batch-size", "8",
    )  # fmt: skip
    yield server
    server.stop()
