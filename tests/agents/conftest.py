"""Fixtures for the assistant and bulk-annotation tests: resolvers' test server, tiny model.

Offline throughout: PubChem/UniProt are tests/resolver_server on loopback, the model is the
tiny preset built from configs, and every test has its own BIOMEDGPT_HOME (tests/conftest.py)
so its own annotation store and thread database.
"""

from __future__ import annotations

import pytest

from biomedgpt_tools.resolvers.settings import RatePolicy, ResolverSettings
from biomedgpt_tools.tools.settings import ToolkitSettings
from biomedgpt_tools.tools.toolkit import BioMedGPTToolkit, build_backend
from tests.resolver_server import ResolverTestServer

MAX_NEW_TOKENS = 8  # the tiny model's answers are random tokens; short keeps tests fast


@pytest.fixture(scope="session")
def resolver_server():
    with ResolverTestServer() as server:
        yield server


@pytest.fixture
def resolver_env(resolver_server, monkeypatch):
    monkeypatch.setenv("BIOMEDGPT_PUBCHEM_URL", resolver_server.pubchem_url)
    monkeypatch.setenv("BIOMEDGPT_UNIPROT_URL", resolver_server.uniprot_url)
    for name in ("BIOMEDGPT_OFFLINE", "BIOMEDGPT_MODEL", "BIOMEDGPT_CHROMA_URL", "BIOMEDGPT_ROUTER"):
        monkeypatch.delenv(name, raising=False)
    return resolver_server


def local_resolver_settings() -> ResolverSettings:
    """Environment settings without the public services' politeness limits (a local server)."""
    return ResolverSettings.from_env().with_changes(
        pubchem_rate=RatePolicy(1000, 100000),
        uniprot_rate=RatePolicy(1000, 100000),
        max_retries=1,
        backoff_base_s=0.01,
        backoff_max_s=0.05,
    )


def make_toolkit(model=None) -> BioMedGPTToolkit:
    settings = ToolkitSettings.from_env().with_changes(
        resolver=local_resolver_settings(), max_new_tokens=MAX_NEW_TOKENS, protein_vectors=False
    )
    return BioMedGPTToolkit(settings=settings, backend=build_backend(settings, model))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    from biomedgpt_tools.model.tiny import build_tiny_biomedgpt

    root = tmp_path_factory.mktemp("tiny-biomedgpt")
    build_tiny_biomedgpt(root / "assets", seed=0).save_pretrained(root / "model")
    return root / "model"


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir):
    from biomedgpt_tools.model.api import BioMedGPT

    return BioMedGPT.from_pretrained(tiny_model_dir)


@pytest.fixture
def toolkit(resolver_env, tiny_model):
    toolkit = make_toolkit(tiny_model)
    yield toolkit
    toolkit.close()


@pytest.fixture
def no_model_toolkit(resolver_env):
    toolkit = make_toolkit(None)
    yield toolkit
    toolkit.close()


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One intra-op thread: on a shared 2-core machine more threads make the tiny model ~20x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
