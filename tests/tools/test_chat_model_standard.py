"""LangChain's standard chat-model suites on ChatBioMedGPT (the tiny model in process)."""

from __future__ import annotations

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from biomedgpt_tools.inference.in_process import InProcessBackend
from biomedgpt_tools.tools.chat_model import ChatBioMedGPT


class _Capabilities:
    """What BioMedGPT-LM can do: text in, text out; no tool calling, no structured output."""

    @property
    def chat_model_class(self):
        return ChatBioMedGPT

    @property
    def chat_model_params(self):
        return {"max_new_tokens": 8}

    @property
    def has_tool_calling(self):
        return False

    @property
    def has_structured_output(self):
        return False

    @property
    def returns_usage_metadata(self):
        return False

    @property
    def supports_image_inputs(self):
        return False

    @property
    def supports_model_override(self):
        return False  # one model per process; a per-call `model=` cannot switch it


class TestChatBioMedGPTUnit(_Capabilities, ChatModelUnitTests):
    @property
    def init_from_env_params(self):
        return (
            {"BIOMEDGPT_MODEL": "/models/biomedgpt-10b"},
            {},
            {"model_path": "/models/biomedgpt-10b"},
        )


class TestChatBioMedGPTIntegration(_Capabilities, ChatModelIntegrationTests):
    @pytest.fixture(autouse=True)
    def _on_tiny_model(self, tiny_model):
        self.backend = InProcessBackend(model=tiny_model)

    @property
    def chat_model_params(self):
        return {"backend": self.backend, "max_new_tokens": 8}
