"""Fixtures for training tests: a one-process gloo group that leaves no environment behind."""

from __future__ import annotations

import pytest

from biomedgpt_tools.testing.ports import free_port


@pytest.fixture
def single_process(monkeypatch):
    """RANK/WORLD_SIZE/... for a one-process group, restored after the test."""
    port = free_port()
    for key, value in {
        "RANK": "0",
        "WORLD_SIZE": "1",
        "LOCAL_RANK": "0",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
    }.items():
        monkeypatch.setenv(key, value)
