"""Fixtures for the assistant and bulk-annotation tests: resolvers' test server, tiny model.

Offline throughout: PubChem/UniProt are biomedgpt_tools/testing/resolver_server on loopback, the model is the
tiny preset built from configs, and every test has its own BIOMEDGPT_HOME (tests/conftest.py)
so its own annotation store and thread database.
"""

from __future__ import annotations

import pytest

from tests import local_services

MAX_NEW_TOKENS = 8  # the tiny model's answers are random tokens; short keeps tests fast


def make_toolkit(model=None, **settings_changes):
    """The shared test toolkit with shorter answers and no protein vectors (not measured here)."""
    changes = {"max_new_tokens": MAX_NEW_TOKENS, "protein_vectors": False, **settings_changes}
    return local_services.make_toolkit(model, **changes)


@pytest.fixture
def toolkit_factory():
    return make_toolkit


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One intra-op thread: on a shared 2-core machine more threads make the tiny model ~20x slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
