"""Suite-wide settings: offline hub, no network but loopback (pytest-socket, see pyproject)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# One intra-op thread (read by torch at import, inherited by subprocesses and torchrun ranks):
# tiny models gain nothing from two, and two threads per process oversubscribe 2 cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# One torch thread for the MiniLM embedder: on 2 shared cores, 2 threads ran 10-50x slower.
os.environ.setdefault("BIOMEDGPT_EMBED_THREADS", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("BIOMEDGPT_SHARED_DIR", REPO_ROOT.parent / "shared")).resolve()
SHARED_DATA = SHARED_DIR / "data"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own cache/store home so no test reads another's state or the user's."""
    home = tmp_path_factory.mktemp("biomedgpt-home")
    monkeypatch.setenv("BIOMEDGPT_HOME", str(home))
    monkeypatch.setenv("BIOMEDGPT_CACHE_DIR", str(home / "cache"))
    # a developer's model server must not answer for the tests (tests/serving sets its own)
    monkeypatch.delenv("BIOMEDGPT_SERVER_URL", raising=False)
    monkeypatch.delenv("BIOMEDGPT_API_KEY", raising=False)
    yield


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, or a skip that says why (a fresh clone has no shared/)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}; CI provides ../shared/data")
    return SHARED_DATA


# The resolvers' local server and a saved tiny model, shared by the tool and assistant tests.
pytest_plugins = ["tests.local_services"]
