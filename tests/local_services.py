"""Fixtures shared by the tool and assistant tests: the resolvers' local server, a tiny model.

Everything is offline: PubChem/UniProt are biomedgpt_tools/testing/resolver_server on a loopback port, and the
model is the tiny preset built from configs and saved as a model folder (what
BIOMEDGPT_MODEL points at). Import the fixtures into a conftest to use them.
"""

from __future__ import annotations

import pytest

from biomedgpt_tools.resolvers.settings import RatePolicy, ResolverSettings
from biomedgpt_tools.testing.resolver_server import ResolverTestServer


@pytest.fixture(scope="session")
def resolver_server():
    with ResolverTestServer() as server:
        yield server


@pytest.fixture
def resolver_env(resolver_server, monkeypatch):
    """Point the resolvers (as configured from the environment) at the local server."""
    monkeypatch.setenv("BIOMEDGPT_PUBCHEM_URL", resolver_server.pubchem_url)
    monkeypatch.setenv("BIOMEDGPT_UNIPROT_URL", resolver_server.uniprot_url)
    # names are verified within a per-question time budget (6 s by default): generous here, so
    # that on a loaded machine only the test about the budget depends on it
    monkeypatch.setenv("BIOMEDGPT_VERIFY_TIME_BUDGET_S", "120")
    for name in (
        "BIOMEDGPT_OFFLINE",
        "BIOMEDGPT_MODEL",
        "BIOMEDGPT_CHROMA_URL",
        "BIOMEDGPT_ROUTER",
    ):
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


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A tiny BioMedGPT saved as a model folder."""
    from biomedgpt_tools.model.tiny import build_tiny_biomedgpt

    root = tmp_path_factory.mktemp("tiny-biomedgpt")
    build_tiny_biomedgpt(root / "assets", seed=0).save_pretrained(root / "model")
    return root / "model"


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir):
    """The tiny model loaded once for the session; each toolkit wraps it in its own backend."""
    from biomedgpt_tools.model.api import BioMedGPT

    return BioMedGPT.from_pretrained(tiny_model_dir)


# The tiny model's answers are random tokens; a short cap keeps every test fast.
TEST_MAX_NEW_TOKENS = 12


def make_toolkit(model=None, store=None, **settings_changes):
    """A toolkit on the local server and this test's home: `model` in process, or no model;
    `store`, an open store to use instead of the one under the home."""
    from biomedgpt_tools.services.biomedgpt_services import BioMedGPTServices
    from biomedgpt_tools.services.settings import ToolkitSettings
    from biomedgpt_tools.tools.toolkit import BioMedGPTToolkit

    changes = {"resolver": local_resolver_settings(), "max_new_tokens": TEST_MAX_NEW_TOKENS}
    settings = ToolkitSettings.from_env().with_changes(**{**changes, **settings_changes})
    return BioMedGPTToolkit(services=BioMedGPTServices.build(settings, model=model, store=store))


@pytest.fixture
def toolkit_factory():
    """How `toolkit` and `no_model_toolkit` are built; a conftest may override it."""
    return make_toolkit


@pytest.fixture
def toolkit(resolver_env, tiny_model, toolkit_factory):
    """Tiny model in process, resolvers on the local server, a fresh store in this test's home."""
    toolkit = toolkit_factory(tiny_model)
    yield toolkit
    toolkit.close()


@pytest.fixture
def no_model_toolkit(resolver_env, toolkit_factory):
    toolkit = toolkit_factory(None)
    yield toolkit
    toolkit.close()
