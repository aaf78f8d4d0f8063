"""LangChain's standard tool suites, run on all three tools.

Unit suites build each tool the way a user would with nothing configured (from the
environment); the integration suites run each tool for real: the tiny model in process and
the resolvers' local PubChem/UniProt server.
"""

from __future__ import annotations

import pytest
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from biomedgpt_tools.tools.biomed_qa import BiomedQA
from biomedgpt_tools.tools.molecule_qa import MoleculeQA
from biomedgpt_tools.tools.protein_qa import ProteinQA

MOLECULE_EXAMPLE = {
    "molecule": "aspirin",
    "question": "What is the mechanism of action of this molecule?",
}
PROTEIN_EXAMPLE = {"protein": "P04637", "question": "What is the function of this protein?"}
BIOMED_EXAMPLE = {
    "question": "Which enzyme does aspirin irreversibly inhibit?",
    "options": ["cyclooxygenase", "lipoxygenase", "thrombin", "plasmin"],
}
MODEL_ENV = (
    {"BIOMEDGPT_MODEL": "/models/biomedgpt-10b"},
    {},
    {"model_path": "/models/biomedgpt-10b", "backend_kind": "in-process"},
)


class TestMoleculeQAUnit(ToolsUnitTests):
    @property
    def tool_constructor(self):
        return MoleculeQA

    @property
    def tool_invoke_params_example(self):
        return MOLECULE_EXAMPLE

    @property
    def init_from_env_params(self):
        return MODEL_ENV


class TestProteinQAUnit(ToolsUnitTests):
    @property
    def tool_constructor(self):
        return ProteinQA

    @property
    def tool_invoke_params_example(self):
        return PROTEIN_EXAMPLE

    @property
    def init_from_env_params(self):
        return MODEL_ENV


class TestBiomedQAUnit(ToolsUnitTests):
    @property
    def tool_constructor(self):
        return BiomedQA

    @property
    def tool_invoke_params_example(self):
        return BIOMED_EXAMPLE

    @property
    def init_from_env_params(self):
        return MODEL_ENV


class _OnTinyModel:
    """Integration suites: the tool comes from a toolkit on the tiny model and the local server."""

    tool_class: type

    @property
    def tool_constructor(self):
        return self.tool_class

    @pytest.fixture
    def tool(self, toolkit):
        return self.tool_class(services=toolkit.services)


class TestMoleculeQAIntegration(_OnTinyModel, ToolsIntegrationTests):
    tool_class = MoleculeQA

    @property
    def tool_invoke_params_example(self):
        return MOLECULE_EXAMPLE


class TestProteinQAIntegration(_OnTinyModel, ToolsIntegrationTests):
    tool_class = ProteinQA

    @property
    def tool_invoke_params_example(self):
        return PROTEIN_EXAMPLE


class TestBiomedQAIntegration(_OnTinyModel, ToolsIntegrationTests):
    tool_class = BiomedQA

    @property
    def tool_invoke_params_example(self):
        return BIOMED_EXAMPLE
