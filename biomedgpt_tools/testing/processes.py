"""Child processes for tests and benchmarks: run a command and keep its output, start a
one- or many-process training command, and stop a server without leaving it behind."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from biomedgpt_tools.testing.ports import free_port


def run_captured(
    command: Sequence[str],
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run to the end with stdout and stderr kept as text (the caller asserts on returncode)."""
    return subprocess.run(
        list(command),
        cwd=cwd,
        env=None if env is None else dict(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def python_command(module_args: Sequence[str], processes: int = 1) -> list[str]:
    """`python ARGS`, or the same under torchrun with `processes` ranks on a free port."""
    if processes == 1:
        return [sys.executable, *module_args]
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        str(processes),
        "--master-port",
        str(free_port()),
        *module_args,
    ]


def stop_process(process: subprocess.Popen, timeout: float = 20) -> None:
    """Terminate, wait, and kill if it ignores that; a process already gone is left as it is."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until_healthy(
    process: subprocess.Popen, url: str, log_path: Path, timeout_s: float = 120
) -> float:
    """Poll `url`/health until it answers 200; returns the seconds that took.

    RuntimeError with the end of the server's log if it exits first or is not ready in time
    (the process is then left to the caller to stop).
    """
    import httpx

    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not become ready: {log_path.read_text()[-2000:]}")
