"""Tiny BioMedGPT fixtures shared by the model tests (built once per session, offline)."""

from __future__ import annotations

import pytest

from biomedgpt_tools.model.prompt import SegmentEncoder, load_text_tokenizer
from biomedgpt_tools.model.tiny import build_tiny_model, write_tiny_assets


@pytest.fixture(scope="session")
def tiny_assets(tmp_path_factory):
    """(llm_dir, esm_dir): the tiny SentencePiece tokenizer and the ESM-2 vocabulary."""
    return write_tiny_assets(tmp_path_factory.mktemp("tiny-assets"))


@pytest.fixture(scope="session")
def text_tokenizer(tiny_assets):
    return load_text_tokenizer(tiny_assets[0])


@pytest.fixture(scope="session")
def segment_encoder(text_tokenizer):
    return SegmentEncoder(text_tokenizer)


@pytest.fixture(scope="session")
def tiny_model():
    """A tiny fp32 model; tests must not modify it (build their own for that)."""
    return build_tiny_model(seed=0)


@pytest.fixture(scope="session")
def tiny_biomedgpt(tiny_model, tiny_assets):
    from biomedgpt_tools.model.api import BioMedGPT

    return BioMedGPT.from_components(tiny_model, *tiny_assets, model_id="tiny-test")
