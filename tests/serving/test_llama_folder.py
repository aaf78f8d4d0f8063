"""The LM folder vLLM loads is derived from a BioMedGPT folder with links, not copies."""

from __future__ import annotations

import json

import pytest
from safetensors import safe_open

from biomedgpt_tools.serving.llama_folder import derive_llama_folder
from biomedgpt_tools.serving.vllm_plugin import VLLM_ARCHITECTURE


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    from biomedgpt_tools.model.tiny import build_tiny_biomedgpt

    root = tmp_path_factory.mktemp("llama-folder")
    model = build_tiny_biomedgpt(root / "assets", lm_head_dim=32)
    return model.save_pretrained(root / "model", max_shard_size="200KB")  # several shards


def test_the_lm_folder_links_to_the_shards_and_holds_the_lm_config(model_dir, tmp_path):
    lm_dir = derive_llama_folder(model_dir, tmp_path / "lm")
    config = json.loads((lm_dir / "config.json").read_text())
    source = json.loads((model_dir / "config.json").read_text())["text_config"]
    assert config["architectures"] == [VLLM_ARCHITECTURE]
    assert config["model_type"] == "llama"
    for key in (
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "vocab_size",
        "head_dim",
    ):
        assert config[key] == source[key]
    shards = sorted(model_dir.glob("*.safetensors"))
    assert len(shards) > 1
    for shard in shards:
        link = lm_dir / shard.name
        assert link.is_symlink() and link.resolve() == shard.resolve()
    assert (lm_dir / "model.safetensors.index.json").resolve() == (
        model_dir / "model.safetensors.index.json"
    ).resolve()
    written = [path for path in lm_dir.iterdir() if not path.is_symlink()]
    assert [path.name for path in written] == ["config.json"]  # nothing of the weights copied
    names = set()
    for shard in lm_dir.glob("*.safetensors"):
        with safe_open(str(shard), framework="pt") as handle:
            names |= set(handle.keys())
    assert "llm.lm_head.weight" in names  # the prefix vllm_llama.py strips


def test_deriving_again_drops_links_to_shards_that_are_gone(model_dir, tmp_path):
    lm_dir = tmp_path / "lm"
    lm_dir.mkdir()
    (lm_dir / "model-00009-of-00009.safetensors").symlink_to(tmp_path / "old-shard")
    derive_llama_folder(model_dir, lm_dir)
    assert not (lm_dir / "model-00009-of-00009.safetensors").is_symlink()
    assert derive_llama_folder(model_dir, lm_dir) == lm_dir  # idempotent


def test_the_default_place_is_under_biomedgpt_home(model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("BIOMEDGPT_HOME", str(tmp_path / "home"))
    lm_dir = derive_llama_folder(model_dir)
    assert lm_dir.parent == tmp_path / "home" / "vllm-lm"
    assert lm_dir.name.startswith(model_dir.name + "-")


def test_a_folder_that_is_not_biomedgpt_is_refused_plainly(tmp_path):
    with pytest.raises(ValueError, match="no config.json"):
        derive_llama_folder(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(ValueError, match="not a BioMedGPT config"):
        derive_llama_folder(tmp_path)


def test_a_loaded_model_writes_its_lm_once_per_revision(tmp_path):
    from safetensors.torch import load_file

    from biomedgpt_tools.model.tiny import build_tiny_biomedgpt
    from biomedgpt_tools.serving.llama_folder import write_llama_folder

    model = build_tiny_biomedgpt(tmp_path / "assets", lm_head_dim=32)
    folder = write_llama_folder(model, tmp_path / "lm")
    assert folder.name == f"{model.model_id}-{model.revision}"
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"]
    weights = {}
    for shard in folder.glob("*.safetensors"):
        weights |= load_file(shard)
    expected = model.model.llm.state_dict()
    assert set(weights) == set(expected)  # Llama's own names, no llm. prefix
    assert all((weights[name] == expected[name]).all() for name in expected)
    stamp = (folder / "config.json").stat().st_mtime_ns
    assert write_llama_folder(model, tmp_path / "lm") == folder
    assert (folder / "config.json").stat().st_mtime_ns == stamp  # reused, not written again
    assert [path.name for path in (tmp_path / "lm").iterdir()] == [folder.name]


def test_a_folder_cut_short_is_written_again(tmp_path):
    """A folder holding config.json but no .complete marker (a writer killed mid-save) is redone."""
    from safetensors.torch import load_file

    from biomedgpt_tools.model.tiny import build_tiny_biomedgpt
    from biomedgpt_tools.serving.llama_folder import COMPLETE_MARKER, write_llama_folder

    model = build_tiny_biomedgpt(tmp_path / "assets", lm_head_dim=32)
    folder = tmp_path / "lm" / f"{model.model_id}-{model.revision}"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"]}))
    assert write_llama_folder(model, tmp_path / "lm") == folder
    assert (folder / COMPLETE_MARKER).is_file()
    weights = {}
    for shard in folder.glob("*.safetensors"):
        weights |= load_file(shard)
    assert set(weights) == set(model.model.llm.state_dict())
