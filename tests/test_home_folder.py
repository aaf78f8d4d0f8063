"""One home folder: every default location the tools, server, training and assistant use sits
under `biomedgpt_home()`, with BIOMEDGPT_HOME set and without it (the copies used to differ)."""

from __future__ import annotations

import pytest

from biomedgpt_tools.environment import SettingsError, biomedgpt_home


def _default_folders():
    from agents.graph import default_threads_path
    from biomedgpt_tools.resolvers.settings import default_cache_dir
    from biomedgpt_tools.services.settings import ToolkitSettings
    from biomedgpt_tools.serving.llama_folder import derived_llama_root
    from biomedgpt_tools.store.connection import default_store_path
    from training.demo_model import default_demo_dir

    return {
        "store": default_store_path(),
        "toolkit store": ToolkitSettings.from_env().store_path,
        "resolver cache": default_cache_dir(),
        "vLLM LM folders": derived_llama_root(),
        "demo model": default_demo_dir(),
        "assistant threads": default_threads_path().parent,
    }


@pytest.mark.parametrize("home_set", [True, False], ids=["BIOMEDGPT_HOME", "platform default"])
def test_every_default_folder_is_under_the_one_home(home_set, tmp_path, monkeypatch):
    monkeypatch.delenv("BIOMEDGPT_CACHE_DIR", raising=False)
    monkeypatch.delenv("BIOMEDGPT_CHROMA_URL", raising=False)
    if home_set:
        monkeypatch.setenv("BIOMEDGPT_HOME", str(tmp_path / "home"))
    else:
        monkeypatch.delenv("BIOMEDGPT_HOME", raising=False)
    home = biomedgpt_home()
    if home_set:
        assert home == tmp_path / "home"
    else:
        assert home.name == "biomedgpt" and home.parent.name != "biomedgpt"  # no author level
    for what, folder in _default_folders().items():
        assert folder.parent == home, f"{what}: {folder} is not directly under {home}"


def test_a_file_as_home_is_a_settings_error_naming_it(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("BIOMEDGPT_HOME", str(tmp_path / "a-file"))
    with pytest.raises(SettingsError, match="BIOMEDGPT_HOME=.* is a file, not a folder"):
        biomedgpt_home()
