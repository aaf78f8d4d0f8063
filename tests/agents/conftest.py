"""Fixtures for the assistant and bulk-annotation tests: resolvers' test server, tiny model.

Offline throughout: PubChem/UniProt are tests/resolver_server on loopback, the model is the
tiny preset built from configs, and every test has its own BIOMEDGPT_HOME (tests/conftest.py)
so its own annotation store and thread database.
"""

from __future__ import annotations

import pytest

from biomedgpt_tools.tools.settings import ToolkitSettings
from biomedgpt_tools.tools.toolkit import BioMedGPTToolkit, build_backend
from tests.local_services import local_resolver_settings

MAX_NEW_TOKENS = 8  # the tiny model's answers are random tokens; short keeps tests fast


def make_toolkit(model=None) -> BioMedGPTToolkit:
    settings = ToolkitSettings.from_env().with_changes(
        resolver=local_resolver_settings(), max_new_tokens=MAX_NEW_TOKENS, protein_vectors=False
    )
    return BioMedGPTToolkit(settings=settings, backend=build_backend(settings, model))


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
