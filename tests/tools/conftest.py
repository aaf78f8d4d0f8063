"""Fixtures for the tool tests: the tiny model, the resolvers' local server, a toolkit on both.

Everything is offline: the model is the tiny preset built from configs, PubChem/UniProt are
tests/resolver_server on a loopback port, and each test has its own BIOMEDGPT_HOME (so its
own annotation store and resolver cache, see tests/conftest.py).
"""

from __future__ import annotations

import pytest

from biomedgpt_tools.tools.settings import ToolkitSettings
from biomedgpt_tools.tools.toolkit import BioMedGPTToolkit
from tests.local_services import local_resolver_settings

# The tiny model's answers are random tokens; a short cap keeps every test fast.
TEST_MAX_NEW_TOKENS = 12


def make_toolkit(model=None, **settings_changes) -> BioMedGPTToolkit:
    from biomedgpt_tools.tools.toolkit import build_backend

    changes = {"resolver": local_resolver_settings(), "max_new_tokens": TEST_MAX_NEW_TOKENS}
    settings = ToolkitSettings.from_env().with_changes(**{**changes, **settings_changes})
    return BioMedGPTToolkit(settings=settings, backend=build_backend(settings, model))


@pytest.fixture
def toolkit(resolver_env, tiny_model):
    """Tiny model in process, resolvers on the local server, a fresh store in this test's home."""
    toolkit = make_toolkit(tiny_model)
    yield toolkit
    toolkit.close()


@pytest.fixture
def no_model_toolkit(resolver_env):
    toolkit = make_toolkit(None)
    yield toolkit
    toolkit.close()
